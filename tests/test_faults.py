"""Fault tests that need a real process: kill -9 during a webhook delivery, SIGTERM during a 429 storm, two
daemons on one database, a disk that fills up. Each waits on recorded state, never on time."""

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fba_jp.actions import deliver_pending
from fba_jp.config import Config
from fba_jp.plugin_manager import get_plugins
from fba_jp.store import Store
from recorded_state import query, wait_for


class Receiver(BaseHTTPRequestHandler):
    """Records each event id; holds the request open while ``hold`` is set."""

    events: list = []
    hold = threading.Event()
    release = threading.Event()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.events.append((self.headers["X-FBA-JP-Event"], self.headers["Idempotency-Key"]))
        if Receiver.hold.is_set():
            Receiver.release.wait(30)
        try:
            self.send_response(204)
            self.end_headers()
        except OSError:
            pass  # the client was killed

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    Receiver.events, Receiver.hold, Receiver.release = [], threading.Event(), threading.Event()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=s3cret"
    Receiver.release.set()
    server.shutdown()
    server.server_close()


SCREEN_AND_DELIVER = """
import sys
from fba_jp.actions import act_on
from fba_jp.config import Config
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store
from fba_jp.testing import make_declaration

config = Config.model_validate({"actions": {"log": False, "webhook": {"url": sys.argv[2], "retries": 0}}})
plugins = get_plugins(load_entrypoints=False)
with Store(sys.argv[1]) as store:
    result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
    act_on(store, plugins, config, [result])
"""


WEBHOOK_ROW = "select {} from notifications where action = 'notify_webhook'"


def test_a_webhook_killed_mid_delivery_is_delivered_again_with_the_same_event_id(receiver, tmp_path):
    db = tmp_path / "hook.db"
    Receiver.hold.set()
    process = subprocess.Popen([sys.executable, "-c", SCREEN_AND_DELIVER, str(db), receiver],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(Receiver.events) == 1, "the webhook request to arrive")
        assert query(db, WEBHOOK_ROW.format("status, attempts, claimed_by")) == [("sending", 1, process.pid)]
        process.kill()  # kill -9 while the receiver has the request and has not answered
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    Receiver.hold.clear()
    Receiver.release.set()
    # the next delivery run takes over the abandoned claim: at least once, with the same idempotency key
    config = Config.model_validate({"actions": {"log": False, "webhook": {"url": receiver, "retries": 0}}})
    with Store(db) as store:
        counts = deliver_pending(store, get_plugins(load_entrypoints=False), config)
    assert counts["sent"] == 1
    assert len(Receiver.events) == 2 and Receiver.events[0] == Receiver.events[1]
    assert Receiver.events[0][0] == Receiver.events[0][1]  # X-FBA-JP-Event is the Idempotency-Key
    assert query(db, WEBHOOK_ROW.format("status, attempts, lease_until, claimed_by")) == [("sent", 2, None, None)]


@pytest.fixture
def claimed(tmp_path, receiver):
    """A store with one webhook notification queued, a function that marks it ``sending`` under a claim
    (``lease_until``, ``claimed_by`` and optionally ``updated_at``), and a delivery run."""
    from fba_jp.actions import queue_changes
    from fba_jp.runner import Screener
    from fba_jp.testing import make_declaration

    config = Config.model_validate({"actions": {"log": False, "webhook": {"url": receiver, "retries": 0}}})
    plugins = get_plugins(load_entrypoints=False)
    with Store(tmp_path / "claims.db") as store:
        result = Screener(plugins, config, store).screen(make_declaration(acp=None), "x.json")
        queue_changes(store, [result], ["notify_webhook"])

        def claim(**columns):
            columns = {"status": "sending", "attempts": 1, **columns}
            store.db.execute(f"update notifications set {', '.join(f'{k} = ?' for k in columns)}", list(columns.values()))
            store.db.conn.commit()

        yield claim, lambda: deliver_pending(store, plugins, config)


def in_minutes(minutes: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def test_a_claim_held_by_a_live_process_is_left_alone_until_its_lease_runs_out(claimed):
    claim, deliver = claimed
    claim(lease_until=in_minutes(5), claimed_by=os.getppid())  # a live process (our parent) delivering it
    assert deliver() == {"sent": 0, "skipped": 0, "failed": 0}
    claim(lease_until="2000-01-01T00:00:00+00:00")  # it hangs past its lease
    assert deliver()["sent"] == 1
    assert len(Receiver.events) == 1


def test_a_claim_left_by_an_earlier_process_with_this_pid_is_delivered_now_not_after_its_lease(claimed):
    """A container restarts its daemon as pid 1 again: the claims the killed pid 1 left are not this one's."""
    claim, deliver = claimed
    claim(lease_until=in_minutes(25), claimed_by=os.getpid(), updated_at=in_minutes(0))  # another thread of ours
    assert deliver()["sent"] == 0
    claim(updated_at="2000-01-01T00:00:00+00:00")  # claimed before this process started
    assert deliver()["sent"] == 1
    assert len(Receiver.events) == 1


# --------------------------------------------------------------------------- the daemon: one per database, stops in 5 s


@pytest.fixture
def storm(tmp_path):
    """The sandbox in a 429 storm (every SP-API request throttled) and a one-account daemon config for it."""
    from fba_jp.demo import demo_credentials, loopback_without_proxy, write_demo_config
    from fba_jp.sandbox import Faults, Sandbox

    with Sandbox(faults=Faults(throttle_probability=1.0), seed=3) as sandbox:
        text = write_demo_config(tmp_path, sandbox).read_text()
        head, first = text.split("[[accounts]]")[:2]
        config = tmp_path / "storm.toml"
        config.write_text("[schedule]\ninterval_seconds = 3600\njitter_seconds = 0\n" + head + "[[accounts]]" + first)
        env = {**os.environ, **demo_credentials(sandbox), **loopback_without_proxy()}
        env.pop("SP_API_DEFAULT_MARKETPLACE", None)
        yield sandbox, config, env


def daemon(config, db, env, cwd, name):
    log = open(cwd / f"{name}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "fba_jp", "daemon", "--config", str(config), "--db", str(db)],
                               env=env, cwd=cwd, stdout=log, stderr=log)
    process.log = cwd / f"{name}.log"
    return process


def test_two_daemons_then_sigterm_in_a_429_storm(storm, tmp_path, run_cli):
    sandbox, config, env = storm
    db = tmp_path / "storm.db"
    first = daemon(config, db, env, tmp_path, "first")
    try:
        wait_for(lambda: sandbox.responses[429] >= 1, "the first daemon to be throttled")
        assert query(db, "select pid, state from heartbeat") == [(first.pid, "running")]
        # a second daemon on the same database refuses in one line, naming the first, and changes nothing
        second = subprocess.run([sys.executable, "-m", "fba_jp", "daemon", "--config", str(config), "--db", str(db)],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert second.returncode == 3, second.stderr
        [line] = second.stderr.splitlines()
        assert f"another fba-jp daemon (pid {first.pid}" in line and "already serves this database" in line
        assert query(db, "select pid, state from heartbeat") == [(first.pid, "running")]
        status = run_cli("status", "--db", db)
        assert status.stdout.startswith(f"daemon: running (pid {first.pid}"), status.stdout
        # SIGTERM while the client backs off from 429s: the backoff wakes, the run records that it stopped
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=5)
    finally:
        if first.poll() is None:
            first.kill()
    log = first.log.read_text()
    assert first.returncode == 0, log
    assert "Traceback" not in log
    assert query(db, "select outcome from daemon_accounts") == [("stopped",)]
    assert query(db, "select outcome from sync_runs") == [("interrupted",)]
    assert query(db, "select pid, state from heartbeat") == [(first.pid, "stopped")]


# --------------------------------------------------------------------------- a full disk


def test_a_full_disk_leaves_the_previous_report_and_says_so_in_one_line(tmp_path):
    import resource

    from fba_jp.report import render_html_report
    from fba_jp.runner import Screener
    from fba_jp.testing import make_declaration

    db = tmp_path / "full.db"
    with Store(db) as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        for n in range(20):
            screener.screen(make_declaration(shipment_id=f"FBA{n:04}", acp=None if n % 2 else {
                "name": "Example ACP K.K.", "status": "registered", "accepted_on": "2026-10-01"}), "x.json")
        limit = 64 * 1024  # room for SQLite's 32 KB -shm file, not for the report
        assert len(render_html_report(store.latest_results()).encode()) > 2 * limit
    report = tmp_path / "report.html"
    report.write_text("the previous report")

    def small_disk():  # RLIMIT_FSIZE: a write past 64 KB fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([sys.executable, "-m", "fba_jp", "report", "--db", str(db), "--html", str(report),
                             "-o", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=60, preexec_fn=small_disk)
    assert result.returncode == 3, result.stderr
    [line] = result.stderr.splitlines()
    assert line == f"fba-jp: {report}: cannot write: File too large; nothing was written; the previous file is unchanged"
    assert result.stdout == ""
    assert report.read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_sigterm_while_a_request_hangs_exits_within_5_s_and_leaves_nothing_half_written(tmp_path):
    import socket

    # Amazon accepts the connection and never answers: no event can wake a thread blocked in that read
    hole = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(hole.accept()), daemon=True).start()
    url = f"http://127.0.0.1:{hole.getsockname()[1]}"
    config = tmp_path / "hang.toml"
    config.write_text(
        '[schedule]\ninterval_seconds = 3600\njitter_seconds = 0\n[[accounts]]\nname = "shop"\n'
        f'endpoint = "{url}"\ntoken_url = "{url}/auth/o2/token"\nrefresh_token = "env:T_REFRESH"\n'
        'lwa_app_id = "env:T_APP"\nlwa_client_secret = "env:T_SECRET"\nseller = { name = "Shop LLC", country = "US" }\n'
    )
    env = {**os.environ, "T_REFRESH": "Atzr|x", "T_APP": "app-id", "T_SECRET": "secret", "NO_PROXY": "127.0.0.1"}
    db = tmp_path / "hang.db"
    process = daemon(config, db, env, tmp_path, "hang")
    try:
        wait_for(lambda: accepted, "the daemon's request to reach the silent server")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
        hole.close()
    log = process.log.read_text()
    assert process.returncode == 0, log
    assert "abandoned (nothing half-written" in log and "Traceback" not in log
    assert query(db, "select state from heartbeat") == [("stopped",)]
    assert query(db, "pragma integrity_check") == [("ok",)]
