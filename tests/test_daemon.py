"""The daemon in a subprocess against the sandbox: screens, notifies once per change, survives faults, stops cleanly."""

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.sandbox import Sandbox
from recorded_state import query, wait_for


class Receiver(BaseHTTPRequestHandler):
    events: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.events.append((self.headers["X-FBA-JP-Event"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def world(tmp_path):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    Receiver.events = []
    with Sandbox(seed=7) as sandbox:
        config = write_demo_config(tmp_path, sandbox)
        bad = config.read_text().split("[[accounts]]")[1].replace('name = "northwind"', 'name = "badcreds"').replace(
            "FBA_JP_DEMO_NORTHWIND_REFRESH_TOKEN", "FBA_JP_DEMO_BAD_REFRESH_TOKEN")
        config.write_text(
            "[schedule]\ninterval_seconds = 2\njitter_seconds = 0\n"
            f"[actions]\nlog = true\n[actions.webhook]\nurl = \"http://127.0.0.1:{receiver.server_address[1]}/hook\"\n"
            "secret = \"env:FBA_JP_TEST_HOOK_SECRET\"\nretries = 1\n"
            + config.read_text() + "\n[[accounts]]" + bad
        )
        env = {**os.environ, **demo_credentials(sandbox), "FBA_JP_DEMO_BAD_REFRESH_TOKEN": "Atzr|revoked-token",
               "FBA_JP_TEST_HOOK_SECRET": "hook-secret"}
        env.pop("SP_API_DEFAULT_MARKETPLACE", None)
        yield sandbox, config, tmp_path / "daemon.db", env
    receiver.shutdown()
    receiver.server_close()


def import_rates(config, db, env, cwd):
    subprocess.run([sys.executable, "-m", "fba_jp", "rates", "import", str(config.parent / "demo_rates.csv"),
                    "--db", str(db)], env=env, cwd=cwd, check=True, capture_output=True)


def start_daemon(config, db, env, cwd):
    # the log goes to a file: an unread pipe would fill up and block the daemon
    log = open(cwd / "daemon.log", "a")
    process = subprocess.Popen(
        [sys.executable, "-m", "fba_jp", "daemon", "--config", str(config), "--db", str(db)],
        env=env, cwd=cwd, stdout=log, stderr=log, text=True,
    )
    process.log_path = cwd / "daemon.log"
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return process.returncode, "", process.log_path.read_text()


def sync_runs(db, account):
    return query(db, "select count(*) from sync_runs where account = ?", account)[0][0]


def wait_for_complete_runs(db, accounts, what):
    """Wait until each account has had a whole run that started after this call.

    Runs of one account never overlap (``max_instances=1``) and each begins with a sync run row, so
    once two more rows exist the run that wrote the first of them has finished, actions included.
    """
    before = {a: sync_runs(db, a) for a in accounts}
    for account in accounts:
        wait_for(lambda: sync_runs(db, account) >= before[account] + 2, what=f"a complete {account} run {what}")


GOOD = ("northwind", "maple", "hinode")


def test_daemon_end_to_end(world, tmp_path):
    sandbox, config, db, env = world
    import_rates(config, db, env, tmp_path)
    process = start_daemon(config, db, env, tmp_path)
    try:
        # every shipment of the three good accounts is announced exactly once
        wait_for(lambda: len(Receiver.events) >= 6, what="6 webhook events")
        wait_for(lambda: query(db, "select outcome from daemon_accounts where account = 'badcreds'") == [("failed",)],
                 what="the bad account to be recorded as failed")
        ids = {e[1]["shipment_id"] for e in Receiver.events}
        assert len(ids) == 6 and {e[1]["verdict"] for e in Receiver.events} == {"blocked", "annotated", "cleared"}
        assert all(e[1]["schema"] == "fba-jp/verdict-change/v1" for e in Receiver.events)
        # Amazon has a 5xx burst while a new shipment appears: it is still picked up, once
        sandbox.faults.fail_next = 4
        sandbox.add_synthetic_plans("northwind", 1, start=datetime.now(timezone.utc))
        wait_for(lambda: len(Receiver.events) >= 7, what="the new shipment's event")
        # more complete runs of every good account: nothing is announced twice, they keep running
        wait_for_complete_runs(db, GOOD, "after the new shipment's event")
        assert len(Receiver.events) == 7
        assert len({e[0] for e in Receiver.events}) == 7
        bad = query(db, "select consecutive_failures, backoff_until, message from daemon_accounts where account = 'badcreds'")[0]
        assert bad[0] >= 1 and bad[1] and "badcreds" in bad[2]
        # status shows each account's last run, outcome and next run (while the daemon runs: once it is
        # stopping, an account caught mid-run is rightly shown as stopped, with no next run)
        wait_for(lambda: query(db, "select outcome, next_run_at is not null from daemon_accounts where account = 'maple'")
                 == [("ok", 1)], what="maple's next run to be recorded")
        status = subprocess.run([sys.executable, "-m", "fba_jp", "status", "--db", str(db), "--json"],
                                capture_output=True, text=True, env=env, cwd=tmp_path)
        accounts = {a["account"]: a for a in json.loads(status.stdout)["accounts"]}
        assert set(accounts) == {"northwind", "maple", "hinode", "badcreds"}
        assert accounts["maple"]["outcome"] == "ok" and accounts["maple"]["next_run_at"]
        assert accounts["badcreds"]["outcome"] == "failed"
    finally:
        code, out, err = stop(process)
    assert code == 0, err[-2000:]
    assert "Traceback" not in err
    assert "Atzr|" not in err and "hook-secret" not in err  # no secrets in the logs
    # nothing half-written: every sync run and every account run has finished
    assert query(db, "select count(*) from sync_runs where finished_at is null") == [(0,)]
    assert query(db, "pragma integrity_check") == [("ok",)]
    assert query(db, "select state from heartbeat") == [("stopped",)]
    assert {row[0] for row in query(db, "select outcome from daemon_accounts where account != 'badcreds'")} <= {"ok", "partial", "stopped"}

    # restart: no job duplicated, no notification repeated
    process = start_daemon(config, db, env, tmp_path)
    try:
        wait_for_complete_runs(db, ("hinode", "northwind"), "after the restart")
        assert len(Receiver.events) == 7
    finally:
        code, _, err = stop(process)
    assert code == 0, err[-2000:]


def test_schedule_triggers():
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from fba_jp.config import Config
    from fba_jp.daemon import trigger_for

    cron = trigger_for(Config.model_validate({"schedule": {"cron": "*/30 * * * *", "jitter_seconds": 20}}))
    assert isinstance(cron, CronTrigger) and cron.jitter == 20
    every = trigger_for(Config.model_validate({"schedule": {"interval_minutes": 15}}))
    assert isinstance(every, IntervalTrigger) and every.interval.total_seconds() == 900 and every.jitter == 30
