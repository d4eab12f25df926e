"""Nothing leaks: a mistyped key's value, a token in a webhook URL (query, userinfo or path), and files other
users could read."""

import logging
import stat

import httpx
import pytest
import respx

import fba_jp.plugins.notify_webhook as webhook_plugin
from fba_jp.actions import act_on
from fba_jp.config import Config
from fba_jp.plugin_manager import get_plugins
from fba_jp.redact import redact
from fba_jp.runner import Screener
from fba_jp.store import Store
from fba_jp.testing import declaration_data, make_declaration

TOKEN = "xoxb-1234-SECRET-TOKEN"
SECRET_URLS = [
    f"https://hooks.example.test/hook?token={TOKEN}",
    f"https://ops:{TOKEN}@hooks.example.test/hook",
    f"https://hooks.example.test/services/T000/B000/{TOKEN}",
]


@pytest.mark.parametrize("key", ["refresh_tokn", "lwa_secret", "webhook_url"])
def test_a_mistyped_key_never_has_its_value_echoed(run_cli, tmp_path, write_declaration, key):
    config = tmp_path / "config.toml"
    config.write_text(f'[[accounts]]\nname = "a"\nseller = {{name = "A"}}\n{key} = "Atzr|{TOKEN}"\n')
    result = run_cli("gate", write_declaration(declaration_data()), "--config", config)
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert f"accounts[0].{key}: unknown field" in line and TOKEN not in line


@pytest.mark.parametrize("url", SECRET_URLS)
def test_a_webhook_url_token_reaches_no_message_log_or_stored_error(tmp_path, caplog, monkeypatch, url):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(webhook_plugin, "BACKOFF_S", 0)
    config = Config.model_validate({"actions": {"log": False, "webhook": {"url": url, "retries": 1}}})
    plugins = get_plugins(load_entrypoints=False)
    with Store(tmp_path / "hook.db") as store, respx.mock() as mock:
        route = mock.post(url).mock(side_effect=[httpx.ConnectError(f"cannot reach {url}"), httpx.Response(500)])
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        counts = act_on(store, plugins, config, [result])
        [error] = store.db.execute("select last_error from notifications where action = 'notify_webhook'").fetchone()
        stored = "\n".join(str(v) for row in store.db.execute("select * from notifications") for v in row)
    assert counts["failed"] == 1 and route.call_count == 2  # it was really used
    assert error.startswith("RuntimeError: webhook https://hooks.example.test/… failed after 2 attempt(s)")
    assert 'HTTP Request: POST https://hooks.example.test/… "HTTP/1.1 500' in caplog.text  # httpx's own log line
    for where in (error, stored, caplog.text):
        assert TOKEN not in where


def test_a_webhook_url_may_be_an_env_reference(tmp_path, monkeypatch):
    url = SECRET_URLS[0]
    monkeypatch.setenv("FBA_JP_TEST_HOOK_URL", url)
    config = Config.model_validate({"actions": {"log": False, "webhook": {"url": "env:FBA_JP_TEST_HOOK_URL"}}})
    plugins = get_plugins(load_entrypoints=False)
    with Store(tmp_path / "env.db") as store, respx.mock() as mock:
        route = mock.post(url).mock(return_value=httpx.Response(204))
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        assert act_on(store, plugins, config, [result])["sent"] == 1
    assert route.call_count == 1 and route.calls.last.request.headers["Idempotency-Key"]
    monkeypatch.delenv("FBA_JP_TEST_HOOK_URL")
    with Store(tmp_path / "unset.db") as store:
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        assert act_on(store, plugins, config, [result])["failed"] == 1
        [error] = store.db.execute("select last_error from notifications where action = 'notify_webhook'").fetchone()
    assert "env:FBA_JP_TEST_HOOK_URL is not set" in error


def test_a_bad_webhook_url_in_the_config_is_shown_redacted(run_cli, tmp_path, write_declaration):
    config = tmp_path / "config.toml"
    config.write_text(f'[actions.webhook]\nurl = "ftp://ops:{TOKEN}@hooks.example.test/x?token={TOKEN}"\n')
    result = run_cli("gate", write_declaration(declaration_data()), "--config", config)
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert "actions.webhook.url" in line and "ftp://hooks.example.test/…" in line and TOKEN not in line


def test_redact_keeps_scheme_and_host_only():
    assert redact(f"POST {SECRET_URLS[1]} failed") == "POST https://hooks.example.test/… failed"
    assert redact("see https://example.test and http://127.0.0.1:8080/") == "see https://example.test and http://127.0.0.1:8080/"


def test_reports_are_private_to_their_owner(run_cli, write_declaration, tmp_path):
    run_cli("gate", write_declaration(declaration_data()), "-o", "json")
    old = tmp_path / "old.html"
    old.write_text("previous")
    old.chmod(0o644)
    for path in (tmp_path / "new.html", old):
        assert run_cli("report", "--html", path, "-o", "json").exit_code == 0
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "fba-jp" in path.read_text()
