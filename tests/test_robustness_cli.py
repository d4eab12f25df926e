"""Robustness at the command line: a database held by another writer, bad configuration values, and
secrets that must not reach the database, logs, reports, JSON outputs or error messages."""

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sp_api.auth.access_token_client import cache as token_cache

from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.rates import import_rates_csv
from fba_jp.sandbox import Sandbox
from fba_jp.store import Store
from fba_jp.testing import declaration_data


def screenings(db):
    with Store(db) as store:
        assert store.db.execute("pragma integrity_check").fetchone()[0] == "ok"
        return store.db["screenings"].count


# --------------------------------------------------------------------------- a database held by another writer


@pytest.fixture
def held(tmp_path):
    """A migrated database and a second connection holding its write lock (``BEGIN IMMEDIATE``)."""
    db = tmp_path / "held.db"
    Store(db).close()
    blocker = sqlite3.connect(db, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("insert into _migrations (name, applied_at) values ('held-by-the-test', 'now')")
    yield db, blocker
    blocker.close()


def test_a_gate_run_waits_for_another_writer_and_saves_once_it_lets_go(held, run_cli, write_declaration):
    db, blocker = held
    release = threading.Timer(0.8, blocker.rollback)
    release.start()
    started = time.monotonic()
    result = run_cli("gate", write_declaration(declaration_data()), "--db", db, "--output", "json")
    waited = time.monotonic() - started
    release.join()
    assert result.exit_code == 0, result.stderr
    assert waited >= 0.7  # it waited in SQLite's busy handler instead of failing at once
    assert json.loads(result.stdout)["summary"]["shipments"] == 1
    assert screenings(db) == 1


def test_a_gate_run_against_a_database_locked_too_long_fails_in_one_line_and_saves_nothing(held, run_cli,
                                                                                           write_declaration, tmp_path):
    db, blocker = held
    declaration = write_declaration(declaration_data())
    # another process, as in real life (the daemon holds the database); FBA_JP_BUSY_TIMEOUT shortens the wait
    command = [sys.executable, "-m", "fba_jp", "gate", str(declaration), "--db", str(db), "--output", "json"]
    env = {**os.environ, "FBA_JP_BUSY_TIMEOUT": "0.3"}
    started = time.monotonic()
    locked = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 20
    assert locked.returncode == 3
    [line] = locked.stderr.splitlines()
    assert "database is locked" in line and "nothing was saved" in line and str(db) in line
    # no verdict printed for a screening that was not stored; the file is an error entry of the output
    document = json.loads(locked.stdout)
    assert document["results"] == [] and "database is locked" in document["errors"][0]["message"]
    # readers are not blocked by the writer (WAL)
    report = run_cli("report", "--db", db, "--output", "json")
    assert report.exit_code == 0 and json.loads(report.stdout)["results"] == []
    blocker.rollback()
    assert screenings(db) == 0
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert screenings(db) == 1


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_busy_timeout_is_named(run_cli, write_declaration, tmp_path, monkeypatch, value):
    monkeypatch.setenv("FBA_JP_BUSY_TIMEOUT", value)
    result = run_cli("gate", write_declaration(declaration_data()), "--db", tmp_path / "x.db")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert "FBA_JP_BUSY_TIMEOUT must be a number of seconds" in line


# --------------------------------------------------------------------------- bad configuration values

ACCOUNT = '[[accounts]]\nname = "shop"\nseller = { name = "Shop LLC", country = "US" }\n'
EMAIL = '[actions.email]\nsmtp_host = "mail.test"\nsender = "gate@shop.test"\nto = ["ops@shop.test"]\n'

# (case, config.toml, command, exit code, text the one-line message must hold)
CONFIG_CASES = [
    ("interval not a number", '[schedule]\ninterval_minutes = "ten"\n' + ACCOUNT, ["sync"], 3,
     "schedule.interval_minutes: input should be a valid integer"),
    ("negative interval", '[schedule]\ninterval_minutes = -5\n' + ACCOUNT, ["sync"], 3,
     "schedule.interval_minutes: input should be greater than 0 (got -5)"),
    ("zero interval seconds", '[schedule]\ninterval_seconds = 0\n' + ACCOUNT, ["daemon"], 3, "schedule.interval_seconds"),
    ("negative jitter", '[schedule]\njitter_seconds = -1\n' + ACCOUNT, ["daemon"], 3, "schedule.jitter_seconds"),
    ("cron and interval", '[schedule]\ncron = "*/5 * * * *"\ninterval_minutes = 5\n' + ACCOUNT, ["daemon"], 3,
     "schedule: give interval_minutes or cron, not both"),
    ("cron not a string", '[schedule]\ncron = 5\n' + ACCOUNT, ["daemon"], 3, "schedule.cron"),
    ("transit days not a number", ACCOUNT + 'transit_days = "ten"\n', ["sync"], 3, "accounts[0].transit_days"),
    ("transit days negative", ACCOUNT + 'transit_days = -2\n', ["sync"], 3, "accounts[0].transit_days"),
    ("currency lower case", ACCOUNT + 'currency = "usd"\n', ["screen"], 3, "accounts[0].currency"),
    ("account name with spaces", ACCOUNT.replace('"shop"', '"my shop"'), ["sync"], 3, "accounts[0].name"),
    ("marketplace not JP", ACCOUNT + 'marketplace = "US"\n', ["sync"], 3, "accounts[0].marketplace"),
    ("env reference malformed", ACCOUNT + 'refresh_token = "env:1BAD"\n', ["sync"], 3, "accounts[0].refresh_token"),
    ("annotate not a boolean", ACCOUNT + 'annotate = "sometimes"\n', ["sync"], 3, "accounts[0].annotate"),
    ("duplicate accounts", ACCOUNT + ACCOUNT, ["sync"], 3, "duplicate account name(s) ['shop']"),
    ("webhook url not http", '[actions.webhook]\nurl = "ftp://hooks.test"\n' + ACCOUNT, ["sync"], 3, "actions.webhook.url"),
    ("webhook retries not a number", '[actions.webhook]\nurl = "https://hooks.test"\nretries = "many"\n' + ACCOUNT,
     ["sync"], 3, "actions.webhook.retries"),
    ("smtp port out of range", EMAIL + "smtp_port = 70000\n" + ACCOUNT, ["sync"], 3, "actions.email.smtp_port"),
    ("storage path not a string", '[storage]\npath = ["a.db"]\n' + ACCOUNT, ["sync"], 3, "storage.path"),
    ("severity unknown", '[policy.severity]\nACP_MISSING = "fatal"\n' + ACCOUNT, ["sync"], 3, "policy.severity.ACP_MISSING"),
    ("window days too long", '[valuation]\nidentical_goods_window_days = 1000\n' + ACCOUNT, ["sync"], 3,
     "valuation.identical_goods_window_days"),
    ("unknown account for sync", ACCOUNT, ["sync", "--account", "nosuch"], 3, "no account named 'nosuch'"),
    ("unknown account for run", ACCOUNT, ["run", "--account", "nosuch"], 3, "no account named 'nosuch'"),
    ("unknown account for gate --plan", ACCOUNT, ["gate", "--plan", "wf1", "--account", "nosuch"], 3,
     "no account named 'nosuch'"),
    ("products.csv missing", ACCOUNT + 'products = "nope.csv"\n', ["screen"], 3, "nope.csv: product master not found"),
    ("products.csv without msku column", ACCOUNT + 'products = "products.csv"\n', ["screen"], 3,
     "the header has no msku column (got sku, title)"),
    ("products.csv not UTF-8", ACCOUNT + 'products = "latin1.csv"\n', ["screen"], 3, "line 2: not UTF-8 text"),
    ("products.csv is a directory", ACCOUNT + 'products = "folder"\n', ["screen"], 3, "cannot read the product master"),
    ("no accounts for the daemon", "", ["daemon"], 3, "the daemon needs at least one [[accounts]]"),
    ("lookback days zero", ACCOUNT, ["sync", "--lookback-days", "0"], 2, "Invalid value for '--lookback-days'"),
    ("log level unknown", ACCOUNT, ["daemon", "--log-level", "LOUD"], 2, "Invalid value for '--log-level'"),
]


@pytest.mark.parametrize("text, command, code, wanted", [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_bad_configuration_values_are_one_line_naming_the_field(run_cli, tmp_path, text, command, code, wanted):
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    (tmp_path / "products.csv").write_text("sku,title\nA,B\n", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("msku,title\nTÉ-1,Thé vert\n".encode("latin-1"))
    (tmp_path / "folder").mkdir()
    result = run_cli(*command, "--config", tmp_path / "config.toml", "--db", tmp_path / "x.db")
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    assert "Traceback" not in output and "internal error" not in output
    errors = [line for line in result.stderr.splitlines() if line.startswith(("fba-jp:", "Error:"))]
    assert len(errors) == 1 and wanted in errors[0], result.stderr


@pytest.mark.parametrize("cron", ["every tuesday", "*/5 * * *"])
def test_a_daemon_cron_that_is_not_a_crontab_is_named(run_cli, tmp_path, cron):
    (tmp_path / "config.toml").write_text(f'[schedule]\ncron = "{cron}"\n' + ACCOUNT, encoding="utf-8")
    result = run_cli("daemon", "--config", tmp_path / "config.toml", "--db", tmp_path / "x.db")
    assert "internal error" not in result.stderr
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("fba-jp: schedule.cron:") and repr(cron) in line


# --------------------------------------------------------------------------- secrets


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_secrets_never_reach_the_database_logs_reports_json_or_error_output(run_cli, tmp_path, monkeypatch, caplog):
    token_cache.clear()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    Hook.received = []
    caplog.set_level(logging.DEBUG)
    for name in ("sp_api", "sp_api.base.client", "httpx", "httpcore", "fba_jp"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    webhook_secret = "whsec-" + secrets.token_urlsafe(24)
    wrong_token, wrong_secret = "Atzr|revoked-" + secrets.token_urlsafe(24), "wrong-secret-" + secrets.token_urlsafe(16)
    outputs = {}
    try:
        with Sandbox(seed=4) as sandbox:
            config = write_demo_config(tmp_path, sandbox)
            config.write_text(
                f'[actions.webhook]\nurl = "http://127.0.0.1:{hook.server_address[1]}/hook"\n'
                'secret = "env:FBA_JP_TEST_WEBHOOK_SECRET"\nretries = 0\n' + config.read_text(encoding="utf-8"),
                encoding="utf-8",
            )
            credentials = demo_credentials(sandbox)
            for name, value in {**credentials, "FBA_JP_TEST_WEBHOOK_SECRET": webhook_secret}.items():
                monkeypatch.setenv(name, value)
            db = tmp_path / "secrets.db"
            with Store(db) as store:
                import_rates_csv(store, tmp_path / "demo_rates.csv")
            common = ("--config", config, "--db", db)

            outputs["run"] = run_cli("--debug", "run", *common, "--lookback-days", "3650", "--output", "json")
            # 3: northwind's shipment with an unknown SKU could not be screened (INPUT_INVALID); nothing broke
            assert outputs["run"].exit_code == 3, outputs["run"].stderr
            outputs["report"] = run_cli("--debug", "report", *common, "--html", tmp_path / "report.html", "--output", "json")
            outputs["status"] = run_cli("--debug", "status", *common, "--json")
            outputs["screen"] = run_cli("--debug", "screen", *common, "--all", "--output", "sarif")

            # wrong credentials: the refresh token is refused, and the client secret is not Amazon's either
            monkeypatch.setenv("FBA_JP_DEMO_MAPLE_REFRESH_TOKEN", wrong_token)
            monkeypatch.setenv("FBA_JP_DEMO_LWA_CLIENT_SECRET", wrong_secret)
            token_cache.clear()
            plan = sandbox.plans("maple")[0]["plan"]["inboundPlanId"]
            outputs["wrong sync"] = run_cli("--debug", "sync", "--account", "maple", *common)
            outputs["wrong gate"] = run_cli("--debug", "gate", "--plan", plan, "--account", "maple", *common, "--output", "json")
            access_tokens = list(sandbox.access_tokens)
    finally:
        hook.shutdown()
        hook.server_close()
        token_cache.clear()

    for name in ("wrong sync", "wrong gate"):
        assert outputs[name].exit_code == 3
        assert "Login with Amazon refused the credentials" in outputs[name].stderr
    assert "Traceback" in outputs["wrong gate"].stderr  # --debug really was on
    assert "HTTP Request" in caplog.text  # and DEBUG logging too
    # the webhook secret was in use: every delivery is signed with it
    assert len(Hook.received) == 6  # one per demo shipment
    for headers, body in Hook.received:
        assert headers["X-FBA-JP-Signature"] == "sha256=" + hmac.new(webhook_secret.encode(), body, hashlib.sha256).hexdigest()

    values = [v for k, v in credentials.items() if "APP_ID" not in k]
    values += [webhook_secret, wrong_token, wrong_secret] + access_tokens
    assert len(values) == 3 + 1 + 3 + len(access_tokens) and len(access_tokens) >= 3
    haystacks = {"logs": caplog.text, "report.html": (tmp_path / "report.html").read_text(encoding="utf-8")}
    for name, result in outputs.items():
        haystacks[f"{name} stdout"], haystacks[f"{name} stderr"] = result.stdout, result.stderr
    for n, (headers, body) in enumerate(Hook.received):
        haystacks[f"webhook {n}"] = json.dumps(headers) + body.decode()
    db_files = sorted(tmp_path.glob("secrets.db*"))
    assert db_files[0].name == "secrets.db"
    for path in db_files:  # with -wal and -shm when they are there
        haystacks[path.name] = path.read_bytes().decode("latin-1")
    with Store(db) as store:  # and what the rows say after a checkpoint
        haystacks["rows"] = json.dumps([list(store.db[t].rows) for t in store.db.table_names()], default=str)
    for secret in values:
        for where, text in haystacks.items():
            assert secret not in text, f"a secret reached {where}"


# --------------------------------------------------------------------------- every command, wrong files and values


def _huge_rates(tmp):
    (tmp / "huge.csv").write_text("week_start,currency,rate\n2026-12-06,USD," + "9" * 200_000 + "\n", encoding="utf-8")


def _bad_rates(tmp):
    (tmp / "bad.csv").write_text("week_start,currency,rate\n2026-12-06,USD,abc\n", encoding="utf-8")


def _a_database_and_a_csv(tmp):
    Store(tmp / "x.db").close()
    (tmp / "keep.csv").write_text("week_start,currency,rate\n", encoding="utf-8")


def _a_file_where_a_directory_should_be(tmp):
    (tmp / "file").write_text("not a directory", encoding="utf-8")


def _a_crontab_with_four_fields(tmp):
    (tmp / "config.toml").write_text('[schedule]\ncron = "*/5 * * *"\n' + ACCOUNT, encoding="utf-8")


# (case, setup, arguments ({tmp} is the test's directory), stdin, exit code, the line stderr (or stdout) must hold,
#  files that must be left as they were: absent stays absent, a file keeps its bytes)
COMMAND_CASES = [
    ("rates CSV with a field over csv's limit", _huge_rates, ["rates", "import", "{tmp}/huge.csv", "--db", "{tmp}/x.db"],
     None, 3, "huge.csv:2: not a rates CSV", ["x.db"]),
    ("rates CSV with a bad row creates no database", _bad_rates,
     ["rates", "import", "{tmp}/bad.csv", "--db", "{tmp}/x.db"], None, 3, "bad.csv:2: rate: must be a positive", ["x.db"]),
    ("acp add with an empty name", None, ["acp", "add", "sakura", "--name", "", "--db", "{tmp}/x.db"], None, 2,
     "fba-jp: acp add: --name: string should have at least 1 character", ["x.db"]),
    ("db backup over a file that is not a database", _a_database_and_a_csv,
     ["db", "backup", "{tmp}/keep.csv", "--db", "{tmp}/x.db"], None, 2,
     "keep.csv: exists and is not an SQLite database; nothing was written", ["keep.csv"]),
    ("init into a path under a file", _a_file_where_a_directory_should_be, ["init", "{tmp}/file/sub"], None, 3,
     "file/sub/config.toml: cannot write", ["file"]),
    ("config check with a crontab the daemon refuses", _a_crontab_with_four_fields,
     ["config", "check", "--config", "{tmp}/config.toml", "--db", "{tmp}/x.db"], None, 3,
     "config.toml: schedule.cron: Wrong number of fields; got 4, expected 5", ["x.db"]),
    ("config check opens no database", lambda tmp: (tmp / "config.toml").write_text(ACCOUNT, encoding="utf-8"),
     ["config", "check", "--config", "{tmp}/config.toml", "--db", "{tmp}/x.db"], None, 0, "config.toml: valid", ["x.db"]),
    ("acp set-status with --db where there is none", None, ["acp", "set-status", "sakura", "revoked", "--db", "{tmp}/x.db"],
     None, 3, "x.db: no such database", ["x.db"]),
    ("freight set with --db where there is none", None,
     ["freight", "set", "FBA1", "--amount", "10", "--currency", "USD", "--invoice", "I-1", "--date", "2026-12-01",
      "--by", "kenji", "--db", "{tmp}/x.db"], None, 3, "x.db: no such database", ["x.db"]),
    ("freight list with --db where there is none", None, ["freight", "list", "FBA1", "--db", "{tmp}/x.db"], None, 3,
     "x.db: no such database", ["x.db"]),
    ("gate with a mistyped --output screens and stores nothing",
     lambda tmp: (tmp / "s.json").write_text(json.dumps(declaration_data()), encoding="utf-8"),
     ["gate", "{tmp}/s.json", "--output", "jsno", "--db", "{tmp}/x.db"], None, 2,
     "fba-jp: --output: unknown format 'jsno'; choose from github, json, junit, sarif, table", ["x.db"]),
    ("gate with stdin that is not UTF-8", None, ["gate", "-", "--db", "{tmp}/x.db", "-o", "json"], b"\xff\xfe{}", 3,
     "<stdin>: not UTF-8 text", []),
]


@pytest.mark.parametrize("setup, args, stdin, code, wanted, untouched", [c[1:] for c in COMMAND_CASES],
                         ids=[c[0] for c in COMMAND_CASES])
def test_wrong_files_and_values_are_one_line_and_leave_nothing_half_done(run_cli, tmp_path, setup, args, stdin, code,
                                                                         wanted, untouched):
    if setup:
        setup(tmp_path)
    before = {name: (tmp_path / name).read_bytes() if (tmp_path / name).exists() else None for name in untouched}
    result = run_cli(*[a.format(tmp=tmp_path) for a in args], input=stdin)
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    [line] = [line for line in (result.stderr + result.stdout).splitlines() if wanted in line]
    assert len(result.stderr.splitlines()) <= 2, result.stderr  # the problem (and "nothing imported")
    for name, content in before.items():
        now = (tmp_path / name).read_bytes() if (tmp_path / name).exists() else None
        assert now == content, f"{name} was changed"


def test_gate_with_stdin_closed_says_so_in_one_line(tmp_path):
    # a CI step that runs `fba-jp gate -` with no stdin at all (`<&-`): Python then has no sys.stdin
    command = [sys.executable, "-m", "fba_jp", "gate", "-", "--db", str(tmp_path / "x.db"), "-o", "json"]
    closed = subprocess.run(command, cwd=tmp_path, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, timeout=60, preexec_fn=lambda: os.close(0))
    assert closed.returncode == 3
    assert closed.stderr.splitlines() == ["<stdin>: stdin is closed; pipe the declaration in, or pass its file name"]
