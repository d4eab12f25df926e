"""The secrets canary on what tests/test_secrets.py does not run: a daemon cycle whose actions fail against
servers that echo the request, the e-mail action's refused logins, documents, db check/backup, config check,
plugins, the dashboard, and secrets too short to redact."""

import base64
import logging
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fba_jp.testing import declaration_data

from fake_smtp import FakeSMTP, fake_smtp_server
from recorded_state import query, wait_for
from secrets_canary import (CANARIES, LOGGING_LEAKY_PLUGIN, assert_nothing_leaks, canary_config, database_text,
                            install_leaky_plugin, set_canaries, write_leaky_plugin)

SMTP_PASSWORD = CANARIES["SMTP"]


def smtp_forms(user: str, password: str) -> list[str]:
    """How smtplib sends a login: AUTH PLAIN's ``\\0user\\0password`` and AUTH LOGIN's password, in base64."""
    return [base64.b64encode(f"\0{user}\0{password}".encode()).decode(), base64.b64encode(password.encode()).decode()]


class EchoingHook(BaseHTTPRequestHandler):
    """A webhook receiver that fails with a 500 quoting the request: URL (whole, and its path alone), headers
    and body, in its headers and its body."""

    requests = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        EchoingHook.requests += 1
        url = f"http://{self.headers['Host']}{self.path}"
        echo = f"{self.requestline} {url} {dict(self.headers.items())} {body.decode()}".encode()
        self.send_response(500)
        self.send_header("X-Echo-Url", url)
        self.send_header("X-Echo-Path", self.path)
        self.send_header("Content-Length", str(len(echo)))
        self.end_headers()
        self.wfile.write(echo)

    def log_message(self, *args):
        pass


@pytest.fixture
def echoing_hook():
    """The base URL of an :class:`EchoingHook` on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    EchoingHook.requests = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_daemon_cycle_whose_actions_fail_against_echoing_servers_leaks_nothing(tmp_path, monkeypatch, echoing_hook):
    """The daemon (subprocess, real scheduler, --log-level DEBUG) syncs the sandbox's sellers, screens, and
    delivers each verdict change to a webhook that answers 500 quoting the request, and by e-mail to a server
    that refuses the login quoting the base64 AUTH line; an installed plugin's check logs its token on its own
    logger and raises with every canary in its exception: no credential, access token, webhook token or key,
    SMTP password (as typed or as sent) reaches the log, the database or `status --json`."""
    from fba_jp.demo import demo_credentials, write_demo_config
    from fba_jp.sandbox import Sandbox

    secrets = set_canaries(monkeypatch) + smtp_forms("ops", SMTP_PASSWORD)
    with Sandbox(seed=7) as sandbox, fake_smtp_server() as smtp_port:
        FakeSMTP.refuse_auth = True
        demo = write_demo_config(tmp_path, sandbox).read_text()
        config = tmp_path / "config.toml"
        config.write_text("[schedule]\ninterval_seconds = 3600\njitter_seconds = 0\n"
                          + canary_config(hook_url=echoing_hook, smtp_port=smtp_port, account=demo))
        credentials = demo_credentials(sandbox)
        site = install_leaky_plugin(tmp_path / "site", LOGGING_LEAKY_PLUGIN)
        # the plugin dumps FBA_JP_TEST_*: there, the demo accounts' credentials (the canaries no account references)
        for name, demo_name in (("REFRESH", "MAPLE_REFRESH_TOKEN"), ("APP", "LWA_APP_ID"), ("CLIENT", "LWA_CLIENT_SECRET")):
            monkeypatch.setenv(f"FBA_JP_TEST_{name}", credentials[f"FBA_JP_DEMO_{demo_name}"])
            secrets.remove(CANARIES[name])
        path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, **credentials, "PYTHONPATH": path}
        env.pop("SP_API_DEFAULT_MARKETPLACE", None)
        db = tmp_path / "daemon.db"
        with open(tmp_path / "daemon.log", "w") as log:
            daemon = subprocess.Popen([sys.executable, "-m", "fba_jp", "daemon", "--config", str(config), "--db", str(db),
                                       "--log-level", "DEBUG"], env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            accounts = 3

            def cycle_done():
                finished = query(db, "select count(*) from daemon_accounts where last_finished_at is not null")[0][0]
                failed = {action for (action,) in query(
                    db, "select action from notifications where status = 'failed' and last_error is not null")}
                return finished == accounts and {"notify_webhook", "notify_email"} <= failed

            wait_for(lambda: db.exists() and _has_tables(db) and cycle_done(), "a daemon cycle with failed actions")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
        access_tokens = list(sandbox.access_tokens)
    assert daemon.returncode == 0 and access_tokens and EchoingHook.requests and FakeSMTP.logins
    status = subprocess.run([sys.executable, "-m", "fba_jp", "status", "--json", "--db", str(db)], env=env,
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    errors = [error for (error,) in query(db, "select last_error from notifications where status = 'failed'")]
    assert any("HTTP 500" in e for e in errors) and any("535" in e for e in errors)  # the servers' answers are kept
    log_text = (tmp_path / "daemon.log").read_text()
    assert "HTTP Request: POST" in log_text and "careless: upstream refused [secret]" in log_text  # DEBUG, every logger
    assert "PLUGIN_ERROR" in database_text(db)  # the installed check ran in the daemon and raised
    secrets += [*credentials.values(), *access_tokens]
    assert_nothing_leaks(secrets, {"log": log_text, "database": database_text(db), "status": status.stdout + status.stderr})


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _has_tables(db) -> bool:
    return bool(query(db, "select 1 from sqlite_master where name = 'notifications'"))


@pytest.mark.parametrize("mechanism", [b"PLAIN", b"LOGIN"])
def test_an_smtp_server_that_quotes_the_refused_login_reaches_no_stored_error_or_log(
        tmp_path, monkeypatch, caplog, mechanism):
    """smtplib sends the password in base64 (AUTH PLAIN's ``\\0user\\0password``, AUTH LOGIN's password line),
    which the plain value's redaction does not match; the server's reply itself is kept (it says why)."""
    from fba_jp.actions import act_on
    from fba_jp.config import Config
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener
    from fba_jp.store import Store
    from fba_jp.testing import make_declaration

    monkeypatch.setenv("FBA_JP_TEST_SMTP", SMTP_PASSWORD)
    caplog.set_level(logging.DEBUG)
    with fake_smtp_server() as port, Store(tmp_path / "mail.db") as store:
        FakeSMTP.auth, FakeSMTP.refuse_auth = mechanism, True
        config = Config.model_validate({"actions": {"log": False, "email": {
            "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False, "username": "ops",
            "password": "env:FBA_JP_TEST_SMTP", "sender": "a@example.test", "to": ["b@example.test"]}}})
        plugins = get_plugins(load_entrypoints=False)
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        assert act_on(store, plugins, config, [result])["failed"] == 1
        [error] = store.db.execute("select last_error from notifications where action = 'notify_email'").fetchone()
        logins = list(FakeSMTP.logins)
    assert len(logins) == 1 and any(form in logins[0] for form in smtp_forms("ops", SMTP_PASSWORD))  # really sent
    assert error.startswith("SMTPAuthenticationError: (535, b'5.7.8 authentication failed for AUTH " + mechanism.decode())
    assert_nothing_leaks([SMTP_PASSWORD, *smtp_forms("ops", SMTP_PASSWORD)],
                         {"error": error, "log": caplog.text, "database": database_text(tmp_path / "mail.db")})


def canary_setup(tmp_path, monkeypatch, caplog):
    """Canary secrets set, DEBUG captured, a config naming them and the leaky plugin: (secrets, config, plugins dir, db)."""
    secrets = set_canaries(monkeypatch)
    caplog.set_level(logging.DEBUG)
    config = tmp_path / "config.toml"
    config.write_text(canary_config())
    return secrets, config, write_leaky_plugin(tmp_path), tmp_path / "t.db"


def test_documents_db_config_and_plugins_commands_leak_no_canary(run_cli, tmp_path, write_declaration, monkeypatch, caplog):
    """After a gate whose plugin raised with every canary: draft documents in each format (PDF text extracted),
    `db check`, `db backup` (every cell of the copy), `config check`, `plugins --all` and `status --json`."""
    secrets, config, plugs, db = canary_setup(tmp_path, monkeypatch, caplog)
    declaration = write_declaration(declaration_data())
    common = ("--config", config, "--plugins-dir", plugs, "--db", db)
    results = [run_cli("--debug", "gate", declaration, *common, "-o", "json")]
    assert results[0].exit_code == 3 and "PLUGIN_ERROR" in results[0].stdout
    texts = {}
    for fmt in ("pdf", "html", "csv", "json"):
        out = tmp_path / f"docs-{fmt}"
        results.append(run_cli("--debug", "documents", "--file", declaration, "--format", fmt, "--draft", "--out", out, *common))
        assert results[-1].exit_code == 1, results[-1].stderr  # blocked (PLUGIN_ERROR): drafts only
        files = sorted(out.iterdir())
        assert files, f"no {fmt} drafts written"
        for path in files:
            texts[str(path)] = pdf_text(path.read_bytes()) if fmt == "pdf" else path.read_text(encoding="utf-8")
    assert any("PLUGIN_ERROR" in text for text in texts.values())  # the drafts list the blocking code
    backup = tmp_path / "backup.db"
    for args in (("db", "check", "--config", config, "--db", db), ("db", "backup", backup, "--config", config, "--db", db),
                 ("config", "check", *common[:4]), ("plugins", "--all", "--plugins-dir", plugs),
                 ("status", "--json", "--config", config, "--db", db)):
        results.append(run_cli("--debug", *args))
        assert results[-1].exit_code == 0, (args, results[-1].stderr)
    assert "careless" in results[-2].stdout and "careless" in database_text(backup)
    assert_nothing_leaks(secrets, {
        "stdout": "".join(r.stdout for r in results), "stderr": "".join(r.stderr for r in results),
        "log": caplog.text, "documents": "\n".join(texts.values()), "backup": database_text(backup),
        "database": database_text(db)})


def test_a_plugins_own_logger_leaks_no_canary_on_the_command_line(tmp_path, write_declaration, monkeypatch):
    """A plugin that logs its token on a logger of its own: `fba-jp gate` configures no logging, so Python prints
    the warning itself on stderr (a subprocess: under pytest its own log handler would take the record)."""
    secrets = set_canaries(monkeypatch)
    config = tmp_path / "config.toml"
    config.write_text(canary_config())
    plugs = write_leaky_plugin(tmp_path, LOGGING_LEAKY_PLUGIN)
    gate = subprocess.run([sys.executable, "-m", "fba_jp", "gate", str(write_declaration(declaration_data())), "--config",
                           str(config), "--plugins-dir", str(plugs), "--db", str(tmp_path / "t.db"), "-o", "json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert gate.returncode == 3 and "PLUGIN_ERROR" in gate.stdout
    assert "upstream refused [secret]" in gate.stderr  # the plugin's warning, redacted
    assert_nothing_leaks(secrets, {"stdout": gate.stdout, "stderr": gate.stderr})


def test_every_dashboard_page_its_json_twin_and_error_pages_leak_no_canary(
        run_cli, tmp_path, write_declaration, monkeypatch, caplog):
    """The dashboard over a database whose plugin raised with every canary, that plugin loaded (documents and
    "Screen again" run it): every page, its JSON twin, every link they hold, and a 500, a 400 and a 503 whose
    exceptions quote a secret."""
    import re
    import warnings

    from fba_jp.config import load_config
    from fba_jp.errors import FbaJpError, StoreError
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.web import queries
    from fba_jp.web.app import create_app
    from fba_jp.web.routes import ROUTES

    secrets, config, plugs, db = canary_setup(tmp_path, monkeypatch, caplog)
    assert run_cli("gate", write_declaration(declaration_data()), "--config", config, "--plugins-dir", plugs,
                   "--db", db, "-o", "json").exit_code == 3
    app = create_app(load_config(config), str(db))
    app.state.server.plugins = get_plugins((plugs,))
    with warnings.catch_warnings():  # Starlette 1.x would rather its test client ran on httpx2 (a UserWarning)
        warnings.simplefilter("ignore", UserWarning)
        from starlette.testclient import TestClient

        client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False, raise_server_exceptions=False)
    pages = {path for path, methods, _, _ in ROUTES if methods == ["GET"] and "{" not in path}
    pages |= {"/shipments/FBA15TEST001", "/shipments/FBA15TEST001.json", "/shipments/FBA15TEST001/result.json"}
    seen, answers = set(), {}
    while pages:
        path = pages.pop()
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 303), (path, response.status_code)
        answers[path] = pdf_text(response.content) if path.endswith(".pdf") else response.text
        twin = client.get(path, headers={"Accept": "application/json"})  # the JSON twin of every page
        answers[f"{path} as JSON"] = twin.text
        for link in re.findall(r'href="(/[^"#]*)"', response.text):
            if not link.startswith("/static") and link.replace("&amp;", "&") not in seen:
                pages.add(link.replace("&amp;", "&"))
    assert any("/documents/invoice.pdf" in p for p in seen) and "PLUGIN_ERROR" in answers["/shipments/FBA15TEST001.json"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/shipments/FBA15TEST001").text).group(1)
    rescreen = client.post("/shipments/FBA15TEST001/rescreen", data={"csrf": csrf})
    assert rescreen.status_code == 303
    answers["rescreen"] = client.get(rescreen.headers["location"]).text
    canary = CANARIES["PLUGIN"]
    for exc, status in ((RuntimeError(f"upstream refused {canary}"), 500), (FbaJpError(f"refused {canary}"), 400),
                        (StoreError(f"database is locked by {canary}"), 503)):
        def fail(*args, exc=exc, **kwargs):
            raise exc

        monkeypatch.setattr(queries, "status", fail)
        for path in ("/status", "/status.json"):
            response = client.get(path)
            assert response.status_code == status
            answers[f"{path} {status}"] = response.text
    assert "database is locked by [secret]" in answers["/status 503"] and "refused [secret]" in answers["/status.json 400"]
    assert_nothing_leaks(secrets, {**answers, "log": caplog.text, "database": database_text(db)})


@pytest.mark.parametrize("key, where", [("refresh_token", "accounts[0].refresh_token"),
                                        ("smtp", "actions.email.password"), ("plugin", "plugins.careless.api_token")])
def test_a_secret_too_short_to_redact_is_refused_naming_its_field(run_cli, tmp_path, write_declaration, monkeypatch,
                                                                    key, where):
    """Three characters cannot be hidden from text without garbling it (every "Q7z" in a message would go):
    such a credential is refused where the config is read, one line naming the field, never the value."""
    set_canaries(monkeypatch)
    monkeypatch.setenv({"refresh_token": "FBA_JP_TEST_REFRESH", "smtp": "FBA_JP_TEST_SMTP",
                        "plugin": "FBA_JP_TEST_PLUGIN"}[key], "Q7z")
    config = tmp_path / "config.toml"
    config.write_text(canary_config())
    plugs = write_leaky_plugin(tmp_path)
    for args in (("config", "check"), ("gate", write_declaration(declaration_data()), "-o", "json")):
        result = run_cli(*args, "--config", config, "--plugins-dir", plugs, "--db", tmp_path / "t.db")
        assert result.exit_code == 3, (args, result.stdout, result.stderr)
        [line] = result.stderr.splitlines()
        assert f"{config}: {where}: env:FBA_JP_TEST_" in line and "3 character(s)" in line and "Q7z" not in line


def test_a_short_secret_given_to_an_action_directly_fails_it_closed(tmp_path, monkeypatch):
    """A config built in code (not read from a file) meets the same rule where the secret is used: the webhook
    is not sent unsigned, its failure says why."""
    import respx

    from fba_jp.actions import act_on
    from fba_jp.config import Config
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener
    from fba_jp.store import Store
    from fba_jp.testing import make_declaration

    monkeypatch.setenv("FBA_JP_TEST_HOOKKEY", "Q7z")
    config = Config.model_validate({"actions": {"log": False, "webhook": {
        "url": "https://hooks.example.test/x", "secret": "env:FBA_JP_TEST_HOOKKEY", "retries": 0}}})
    plugins = get_plugins(load_entrypoints=False)
    with Store(tmp_path / "short.db") as store, respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://hooks.example.test/x")
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        assert act_on(store, plugins, config, [result])["failed"] == 1
        [error] = store.db.execute("select last_error from notifications where action = 'notify_webhook'").fetchone()
    assert route.call_count == 0 and "env:FBA_JP_TEST_HOOKKEY is set to 3 character(s)" in error and "Q7z" not in error
