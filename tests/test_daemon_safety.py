"""The daemon's runs in-process: a locked database is one line in status (no traceback), a damaged database is
refused at start, a lease taken over stops the daemon that lost it."""

import logging
import os
import sqlite3
import threading

import pytest

import fba_jp.daemon as daemon_module
from fba_jp.app import App
from fba_jp.daemon import Unrecorded, acquire_lease, daemon_state, renew_lease, run_account, status_rows
from fba_jp.errors import LeaseError
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store
from fba_jp.testing import make_declaration

CONFIG = '[[accounts]]\nname = "shop"\nseller = { name = "Shop LLC", country = "US" }\n'


@pytest.fixture
def app_factory(tmp_path):
    (tmp_path / "config.toml").write_text(CONFIG)
    db = tmp_path / "d.db"
    Store(db).close()
    return lambda: App(str(tmp_path / "config.toml"), str(db))


def test_a_run_on_a_locked_database_is_one_line_in_status_once_the_lock_is_gone(app_factory, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("FBA_JP_BUSY_TIMEOUT", "0.1")
    db = app_factory().db_path
    blocker = sqlite3.connect(db)
    blocker.execute("BEGIN IMMEDIATE")
    unrecorded = Unrecorded()
    assert [run_account(app_factory, "shop", threading.Event(), unrecorded) for _ in range(3)] == ["error"] * 3
    failures = [r for r in caplog.records if r.name == "fba_jp.daemon" and r.levelno >= logging.INFO]
    assert len(failures) == 3 and not any(r.exc_info for r in caplog.records if r.levelno >= logging.INFO)
    assert all("database is locked" in r.getMessage() and "\n" not in r.getMessage() for r in failures)
    assert "shop" in unrecorded.rows  # kept: the database could not take it
    blocker.rollback()
    renew_lease(db, lambda: None, unrecorded)  # the next heartbeat writes what was kept
    with Store(db) as store:
        [row] = status_rows(store)["accounts"]
    assert row["outcome"] == "error" and "database is locked" in row["message"] and unrecorded.rows == {}


def test_a_damaged_database_is_refused_at_daemon_start(tmp_path, run_cli, monkeypatch):
    (tmp_path / "config.toml").write_text(CONFIG)
    db = tmp_path / "damaged.db"
    with Store(db) as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        for n in range(60):
            screener.screen(make_declaration(shipment_id=f"FBA{n:04}"), "x.json")
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        size = store.db.execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as file:  # garbage over a page in the middle of the file, as a bad sector would
        file.seek(size * (pages // 2))
        file.write(b"\xde\xad\xbe\xef" * (size // 4))
    monkeypatch.setattr(daemon_module, "acquire_lease", lambda store: pytest.fail("the damage went unnoticed"))
    result = run_cli("daemon", "--config", tmp_path / "config.toml", "--db", db)
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert str(db) in line and ("damaged" in line or "malformed" in line) and "fba-jp db check" in line


def test_the_lease_is_free_once_its_daemon_is_gone_and_a_daemon_that_lost_it_stops(app_factory):
    store = app_factory().store
    with store.write():  # a daemon that was killed: its pid no longer exists
        store.db["heartbeat"].upsert({"id": 1, "pid": 2**22 + 7, "at": "2026-01-01T00:00:00+00:00", "state": "running"},
                                     pk="id")
    assert daemon_state(status_rows(store)["heartbeat"]).startswith("not running: it ended without stopping cleanly")
    acquire_lease(store)  # taken over
    assert store.db.execute("select pid, state from heartbeat").fetchone() == (os.getpid(), "running")
    with store.write():  # another live daemon takes it (our parent process stands in for it)
        store.db.execute("update heartbeat set pid = ?, at = ?", [os.getppid(), daemon_module.utcnow()])
    with pytest.raises(LeaseError, match=f"another fba-jp daemon \\(pid {os.getppid()}"):
        acquire_lease(store)
    stopped = threading.Event()
    renew_lease(store.path, stopped.set, Unrecorded())
    assert stopped.is_set()
    assert store.db.execute("select pid from heartbeat").fetchone() == (os.getppid(),)  # not overwritten
    store.close()


def test_status_of_a_daemon_that_is_not_running_promises_no_next_run(app_factory, run_cli):
    """After `systemctl stop`, `fba-jp status` must not say when each account will next run."""
    store = app_factory().store
    with store.write():
        store.db["heartbeat"].upsert({"id": 1, "pid": os.getpid(), "at": daemon_module.utcnow(), "state": "running"}, pk="id")
        store.db["daemon_accounts"].upsert({"account": "maple", "outcome": "ok", "next_run_at": "2026-12-02T00:27:09+00:00"},
                                           pk="account")
    assert status_rows(store)["accounts"][0]["next_run_at"] == "2026-12-02T00:27:09+00:00"
    with store.write():
        store.db.execute("update heartbeat set state = 'stopped'")
    assert status_rows(store)["accounts"][0]["next_run_at"] is None
    printed = run_cli("status", "--db", store.path)
    assert printed.stdout.splitlines()[0].startswith("daemon: stopped") and "2026-12-02T00:27:09" not in printed.stdout
    store.close()
