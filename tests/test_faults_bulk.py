"""The database failing in the middle of a bulk screening (``fba-jp screen``, a daemon cycle) or of a gate: each
screening is stored whole or not at all, the error is one line that says what was kept, and nothing is reported,
cleared or announced that was not stored. Faults are real SQLite refusals on real files: an authorizer that
refuses a write at a chosen batch, another connection holding the write lock, a file size limit at COMMIT."""

import collections
import json
import sqlite3
import subprocess
import sys
import threading

import pytest

import fba_jp.daemon
import fba_jp.sync
from fba_jp import hookimpl
from fba_jp.app import App
from fba_jp.daemon import Unrecorded, run_account
from fba_jp.plugin_manager import get_plugins
from fba_jp.store import Store
from fba_jp.testing import make_declaration

CONFIG = """[[accounts]]
name = "acme"
seller = { name = "Acme Trading K.K.", country = "JP", japan_resident = true }
importer_of_record = { name = "Acme Trading K.K." }
products = "products.csv"
currency = "JPY"
"""
SHIPMENTS = 5
BATCH = 2  # screenings a transaction in these tests (SCREEN_BATCH): 5 shipments are 3 writes


def add_synced(db, count):
    """``count`` synced shipments of account acme, one product each."""
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "insert into spapi_shipments (spapi_shipment_id, shipment_id, inbound_plan_id, account, status, shipment,"
            " boxes, items, first_seen_at, fetched_at) values (?, ?, 'wf1', 'acme', 'READY_TO_SHIP', ?, '[]', ?,"
            " '2026-12-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00')",
            [(f"sh{n}", f"FBA15AC{n:04}", json.dumps({"shipmentId": f"sh{n}", "shipmentConfirmationId": f"FBA15AC{n:04}"}),
              json.dumps([{"msku": "TENT", "quantity": 10 + n}])) for n in range(count)])
    conn.close()


@pytest.fixture
def synced(tmp_path, monkeypatch):
    """A config, its products.csv and a database holding SHIPMENTS synced shipments; screened BATCH a transaction."""
    monkeypatch.setattr("fba_jp.runner.SCREEN_BATCH", BATCH)
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "products.csv").write_text("msku,title,hs_code,unit_value,currency,origin_country,duty_rate\n"
                                           "TENT,Tent,6306.22,5800,JPY,CN,4.5\n", encoding="utf-8")
    db = tmp_path / "fba_jp.db"
    Store(db).close()
    add_synced(db, SHIPMENTS)
    return tmp_path / "config.toml", db


def refuse_write(monkeypatch, at_call: int, table: str = "valuations"):
    """From the ``at_call``-th ``record_screenings`` on, SQLite refuses to insert into ``table`` (an authorizer):
    the write fails after the screening's own row went in, in the middle of its transaction."""
    calls = collections.Counter()
    record = Store.record_screenings

    def refusing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= at_call:
            self.conn.set_authorizer(lambda action, name, *_: sqlite3.SQLITE_DENY
                                     if action == sqlite3.SQLITE_INSERT and name == table else sqlite3.SQLITE_OK)
        return record(self, *args, **kwargs)

    monkeypatch.setattr(Store, "record_screenings", refusing)
    return lambda: monkeypatch.setattr(Store, "record_screenings", record)


def stored(db):
    """Per shipment: (screenings, screenings with a valuation, items rows, shipments row's latest screening)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select s.shipment_id, count(*), count(v.screening_id),"
            " (select count(*) from items i where i.shipment_id = s.shipment_id),"
            " (select latest_screening_id = max(s.id) from shipments sh where sh.shipment_id = s.shipment_id)"
            " from screenings s left join valuations v on v.screening_id = s.id group by s.shipment_id").fetchall()
    conn.close()
    return {shipment: rest for shipment, *rest in rows}


def test_a_write_refused_mid_run_keeps_the_batches_before_whole_and_says_so(synced, run_cli, monkeypatch):
    config, db = synced
    restore = refuse_write(monkeypatch, at_call=2)
    result = run_cli("screen", "--config", config, "--db", db, "-o", "json")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(f"fba-jp: {db}: write failed (not authorized)")
    # the batch that failed is not all there was: the first one is recorded, and the line says so
    assert "2 screenings recorded before it in this run are kept" in line
    assert "the other shipments were not recorded: run `fba-jp screen` again" in line
    assert result.stdout == ""  # no verdict shown for anything, stored or not
    # each screening whole: its row, valuation, items and the shipment's current state; nothing of batch 2
    assert stored(db) == {"FBA15AC0000": [1, 1, 1, 1], "FBA15AC0001": [1, 1, 1, 1]}

    restore()
    again = run_cli("screen", "--config", config, "--db", db, "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert "screened 3 shipment(s); 2 unchanged since their last screening" in again.stderr
    assert stored(db) == {f"FBA15AC{n:04}": [1, 1, 1, 1] for n in range(SHIPMENTS)}


class Announced:
    """An action that counts the verdict changes delivered to it, per shipment."""

    def __init__(self):
        self.changes = collections.Counter()

    @hookimpl
    def on_verdict_change(self, change, context):
        self.changes[change.shipment_id] += 1
        return True


def test_a_daemon_cycle_that_cannot_write_announces_nothing_and_the_next_announces_each_change_once(synced, monkeypatch):
    config, db = synced
    action = Announced()
    plugins = get_plugins(load_entrypoints=False, extra=(("announced", action),))
    # the sync is not under test here: it finds nothing new (no SP-API)
    monkeypatch.setattr(fba_jp.sync, "sync_accounts", lambda app, names, **_: [fba_jp.sync.SyncReport(names[0])])
    factory = lambda: App(str(config), str(db), plugins=plugins)  # noqa: E731
    restore = refuse_write(monkeypatch, at_call=2)
    unrecorded = Unrecorded()
    assert run_account(factory, "acme", threading.Event(), unrecorded) == "error"
    with Store(db) as store:
        [(outcome, message)] = store.conn.execute("select outcome, message from daemon_accounts").fetchall()
        assert store.conn.execute("select count(*) from notifications").fetchone()[0] == 0
    assert outcome == "error" and "write failed (not authorized)" in message and "2 screenings recorded before" in message
    assert action.changes == {}  # no announcement of any screening of the failed cycle, stored or not

    restore()
    assert run_account(factory, "acme", threading.Event(), unrecorded) == "ok"
    assert stored(db) == {f"FBA15AC{n:04}": [1, 1, 1, 1] for n in range(SHIPMENTS)}  # no shipment skipped as unchanged
    assert action.changes == {f"FBA15AC{n:04}": 1 for n in range(SHIPMENTS)}  # each new verdict announced once
    assert run_account(factory, "acme", threading.Event(), unrecorded) == "ok"
    assert sum(action.changes.values()) == SHIPMENTS  # and never again


def test_a_gate_that_cannot_take_the_write_lock_exits_3_and_shows_no_verdict(tmp_path, run_cli, write_declaration,
                                                                            monkeypatch):
    db = tmp_path / "gate.db"
    Store(db).close()
    declaration = write_declaration(json.loads(make_declaration(shipment_id="FBA15GATE1").model_dump_json()))
    monkeypatch.setenv("FBA_JP_BUSY_TIMEOUT", "0.1")
    blocker = sqlite3.connect(db)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = run_cli("gate", declaration, "--db", db, "-o", "json")
    finally:
        blocker.rollback()
        blocker.close()
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["results"] == [] and document["summary"]["cleared"] == 0
    [error] = document["errors"]
    assert f"{db}: write failed (database is locked); nothing was saved" in error["message"]
    assert "another process holds the database's write lock" in result.stderr
    with Store(db) as store:
        assert store.conn.execute("select count(*) from screenings").fetchone()[0] == 0


def test_a_gate_whose_commit_fails_on_a_full_disk_exits_3_and_stores_nothing(tmp_path):
    import resource

    db = tmp_path / "gate.db"
    Store(db).close()  # closed: the WAL is checkpointed away, so the gate's commit is what writes it
    declaration = tmp_path / "s.json"
    declaration.write_text(make_declaration(shipment_id="FBA15GATE2").model_dump_json(), encoding="utf-8")
    limit = 40 * 1024  # room for SQLite's 32 KB -shm file, not for the screening's pages in the WAL

    def small_disk():  # RLIMIT_FSIZE: a write past 40 KB fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([sys.executable, "-m", "fba_jp", "gate", str(declaration), "--db", str(db), "-o", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, preexec_fn=small_disk)
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["results"] == []
    [line] = result.stderr.splitlines()
    # SQLite names EFBIG "disk I/O error" or "database or disk is full", depending on where the write failed
    assert line.startswith(f"{declaration}: could not be screened: {db}: write failed (") and "); nothing was saved" in line
    with Store(db) as store:
        assert store.conn.execute("select count(*) from screenings").fetchone()[0] == 0


def test_verdict_changes_the_database_refused_to_queue_are_announced_once_by_the_next_cycle(synced, monkeypatch):
    """The screenings are committed, then queueing their announcements fails: the next cycle finds them unchanged
    and still announces each, once (what announces is the state last announced, not what this cycle screened)."""
    config, db = synced
    action = Announced()
    plugins = get_plugins(load_entrypoints=False, extra=(("announced", action),))
    monkeypatch.setattr(fba_jp.sync, "sync_accounts", lambda app, names, **_: [fba_jp.sync.SyncReport(names[0])])
    factory = lambda: App(str(config), str(db), plugins=plugins)  # noqa: E731
    queue = fba_jp.daemon.act_on

    def refused(store, *args, **kwargs):
        store.conn.set_authorizer(lambda action, table, *_: sqlite3.SQLITE_DENY
                                  if action == sqlite3.SQLITE_INSERT and table == "notifications" else sqlite3.SQLITE_OK)
        return queue(store, *args, **kwargs)

    monkeypatch.setattr(fba_jp.daemon, "act_on", refused)
    assert run_account(factory, "acme", threading.Event(), Unrecorded()) == "error"
    assert len(stored(db)) == SHIPMENTS and action.changes == {}
    monkeypatch.setattr(fba_jp.daemon, "act_on", queue)
    assert run_account(factory, "acme", threading.Event(), Unrecorded()) == "ok"
    assert stored(db) == {f"FBA15AC{n:04}": [1, 1, 1, 1] for n in range(SHIPMENTS)}  # nothing screened twice
    assert action.changes == {f"FBA15AC{n:04}": 1 for n in range(SHIPMENTS)}
