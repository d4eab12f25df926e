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
from secrets_canary import assert_nothing_leaks, canary_config, database_text, set_canaries, write_leaky_plugin

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


def test_canaries_in_every_secret_setting_reach_no_output_database_report_or_log(
        run_cli, tmp_path, write_declaration, monkeypatch, caplog):
    """A plugin that puts its resolved token, a URL carrying it, ``repr(context.config)`` (a webhook URL with
    a token in its path) and the environment (every other secret's canary) into its exception, with --debug."""
    secrets = set_canaries(monkeypatch)
    config = tmp_path / "config.toml"
    config.write_text(canary_config())
    caplog.set_level(logging.DEBUG)
    common = ("--config", config, "--plugins-dir", write_leaky_plugin(tmp_path), "--db", tmp_path / "t.db")
    gate = run_cli("--debug", "gate", write_declaration(declaration_data()), *common, "-o", "json")
    assert gate.exit_code == 3 and "PLUGIN_ERROR" in gate.stdout  # the careless check really ran and raised
    report = run_cli("report", "--html", tmp_path / "r.html", "--config", config, "--db", tmp_path / "t.db", "-o", "json")
    assert report.exit_code == 0, report.stderr
    haystacks = {"stdout": gate.stdout + report.stdout, "stderr": gate.stderr + report.stderr, "log": caplog.text,
                 "report": (tmp_path / "r.html").read_text(), "database": database_text(tmp_path / "t.db")}
    assert "careless" in haystacks["database"]  # the unpacked screening, with its PLUGIN_ERROR, is in there
    assert_nothing_leaks(secrets, haystacks)


def test_a_webhook_url_without_a_scheme_is_not_echoed(run_cli, tmp_path, write_declaration):
    config = tmp_path / "config.toml"
    config.write_text(f'[actions.webhook]\nurl = "hooks.example.test/services/T0/B0/{TOKEN}"\n')
    result = run_cli("config", "check", "--config", config)
    assert result.exit_code == 3 and "actions.webhook.url" in result.stderr and TOKEN not in result.stderr


def test_an_sp_api_that_echoes_the_request_in_its_errors_leaks_no_credential_or_access_token(
        tmp_path, monkeypatch, caplog):
    """The token endpoint echoes the form (refresh token, client id and secret, URL-encoded) into a 401 for
    one seller, the API echoes the request headers (the access token) into 500s, 400s and an off-model
    payload for the others: nothing reaches the sync runs, the logs at DEBUG or the errors."""
    import json

    from sp_api.auth.access_token_client import cache as token_cache

    from fba_jp.app import App
    from fba_jp.demo import demo_credentials, write_demo_config
    from fba_jp.sandbox import Sandbox
    from fba_jp.sandbox import server as sandbox_server
    from fba_jp.spapi import RetryPolicy
    from fba_jp.sync import sync_accounts

    class EchoingSandbox(Sandbox):
        def handle(self, method, path, query, headers, body):
            seller = self.access_tokens.get(headers.get("x-amz-access-token", ""))
            echo = body.decode() + json.dumps(dict(headers.items()))
            if path == sandbox_server.TOKEN_PATH and self.refresh_tokens.get(parse_form(body)) == "maple":
                return sandbox_server._json(401, {"error": f"invalid_client {echo}", "error_description": echo})
            if seller == "hinode":
                return sandbox_server._error(500, "InternalFailure", f"echo {echo}")
            if seller == "northwind":
                status = 400 if "/inboundPlans/" in path else 200
                if status == 200:
                    return 200, {"content-type": "application/json"}, json.dumps({"inboundPlans": echo}).encode()
                return sandbox_server._error(400, "BadRequest", f"echo {echo}")
            return super().handle(method, path, query, headers, body)

    def parse_form(body):
        from urllib.parse import parse_qs
        return parse_qs(body.decode()).get("refresh_token", [""])[0]

    token_cache.clear()
    caplog.set_level(logging.DEBUG)
    for name in ("sp_api", "sp_api.base.client", "httpx", "httpcore"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    with EchoingSandbox(seed=1) as sandbox:
        config = write_demo_config(tmp_path, sandbox)
        credentials = demo_credentials(sandbox)
        for name, value in credentials.items():
            monkeypatch.setenv(name, value)
        app = App(str(config), str(tmp_path / "t.db"))
        reports = sync_accounts(app, lookback_days=3650, concurrency=1,
                                api_options={"retry": RetryPolicy(tries=2, base_delay=0.001, max_delay=0.001)})
        app.store.close()
        access_tokens = list(sandbox.access_tokens)
    token_cache.clear()
    assert {r.account for r in reports} == {"maple", "hinode", "northwind"} and len(access_tokens) == 2
    from urllib.parse import quote
    secrets = [*credentials.values(), *access_tokens]
    secrets += [quote(s, safe="") for s in secrets]
    haystacks = {"log": caplog.text, "reports": repr(reports), "database": database_text(tmp_path / "t.db")}
    assert "echo" in haystacks["database"]  # the servers' messages were stored
    assert_nothing_leaks(secrets, haystacks)


def test_an_echoed_token_in_a_malformed_payload_is_hidden_before_the_excerpt_is_cut():
    """A 200 whose ids Amazon filled with the caller's access token: the one-line problem quotes 40 characters of
    the value, which must not be the first 40 of the token (cut first, the secret would pass the redaction)."""
    from fba_jp.redact import remember_secret
    from fba_jp.sync import PlanUnavailable, _check_plan, _check_shipment

    token = remember_secret("Atza|" + "IwEBIExampleAccessToken0123456789abcdefghijklmnop" * 3)
    for check, payload in ((_check_plan, {"inboundPlanId": token}), (_check_plan, {"inboundPlanId": "wf1",
                           "shipments": [{"shipmentId": 7, "echo": token}]}), (_check_shipment, {"shipmentId": token})):
        with pytest.raises(PlanUnavailable) as caught:
            check(payload, "wf1")
        assert token[:12] not in str(caught.value) and "[secret]" in str(caught.value)
