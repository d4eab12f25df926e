"""``fba-jp db check`` and ``fba-jp db backup``: a consistent copy while another connection writes, and a check
that finds damage, tampering and a newer schema without changing anything."""

import sqlite3
import threading

from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store, pack_input, unpack_input
from fba_jp.testing import make_declaration


def screen(db, count, start=0):
    with Store(db) as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        for n in range(start, start + count):
            screener.screen(make_declaration(shipment_id=f"FBA{n:05}"), "x.json")


def test_a_backup_taken_while_another_process_writes_is_one_consistent_snapshot(run_cli, tmp_path):
    db = tmp_path / "live.db"
    screen(db, 5)
    stop, written = threading.Event(), []

    def writer():  # the daemon, as far as the database can tell: its own connection, one screening per transaction
        with Store(db) as store:
            screener = Screener(get_plugins(load_entrypoints=False), store=store)
            while not stop.is_set():
                written.append(screener.screen(make_declaration(shipment_id=f"LIVE{len(written):05}"), "x.json"))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 3:  # writing for real before the backup starts
            stop.wait(0.01)
        result = run_cli("db", "backup", tmp_path / "copy.db", "--db", db)
        while len(written) < 3 + 3:  # and still writing after it
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"backed up {db} to {tmp_path / 'copy.db'}: ")
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("pragma journal_mode").fetchone() == ("delete",)  # one file, no -wal to carry along
    copied = copy.execute("select count(*) from screenings").fetchone()[0]
    assert 5 + 3 <= copied < 5 + len(written)
    # every screening in the copy is whole: its findings, valuation and input are all there
    source = sqlite3.connect(db)
    for screening_id, sha in copy.execute("select id, input_sha256 from screenings"):
        for table in ("findings", "valuations"):
            sql = f"select count(*) from {table} where screening_id = ?"
            assert copy.execute(sql, [screening_id]).fetchone() == source.execute(sql, [screening_id]).fetchone()
        assert copy.execute("select 1 from declarations where sha256 = ?", [sha]).fetchone()
    checked = run_cli("db", "check", "--db", tmp_path / "copy.db")
    assert checked.exit_code == 0 and checked.stdout.splitlines()[-1] == f"{tmp_path / 'copy.db'}: ok"


def test_db_check_finds_tampered_inputs_and_a_newer_schema_and_changes_nothing(run_cli, tmp_path):
    db = tmp_path / "c.db"
    screen(db, 2)
    with sqlite3.connect(db) as conn:  # someone rewrites a stored input after the fact
        [body] = conn.execute("select body from declarations where rowid = 1").fetchone()
        forged = unpack_input(body).replace('"quantity":40', '"quantity":4')
        conn.execute("update declarations set body = ? where rowid = 1", [pack_input(forged)])
        conn.execute("insert into _migrations (name, applied_at) values ('m999_future', 'then')")
    with sqlite3.connect(db) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    before = db.read_bytes()
    result = run_cli("db", "check", "--db", db)
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert any(line.startswith("problem: declarations: the input stored under ") for line in lines), lines
    assert "problem: schema: written by a newer fba-jp (migrations unknown here: m999_future)" in lines
    assert lines[-1].startswith(f"{db}: 2 problem(s)")
    assert db.read_bytes() == before


def test_db_check_finds_a_worksheet_that_no_longer_reads_back(run_cli, tmp_path):
    """A flipped byte inside a stored worksheet: the pages are sound (integrity_check passes) but its checksum is not."""
    db = tmp_path / "w.db"
    screen(db, 3)
    assert run_cli("db", "check", "--db", db).exit_code == 0
    with sqlite3.connect(db) as conn:
        [(sid, sheet)] = conn.execute("select screening_id, worksheet from valuations order by screening_id limit 1 offset 1")
        damaged = bytearray(sheet)
        damaged[len(damaged) // 2] ^= 0xFF
        conn.execute("update valuations set worksheet = ? where screening_id = ?", [bytes(damaged), sid])
    result = run_cli("db", "check", "--db", db)
    assert result.exit_code == 3
    [problem] = [line for line in result.stdout.splitlines() if line.startswith("problem:")]
    assert problem.startswith(f"problem: valuations: the worksheet of screening {sid} does not read back (")


def test_db_check_and_backup_name_what_is_wrong_in_one_line(run_cli, tmp_path):
    missing = run_cli("db", "check", "--db", tmp_path / "nope.db")
    assert missing.exit_code == 3 and missing.stderr == f"fba-jp: {tmp_path / 'nope.db'}: no database there (nothing was created)\n"
    assert not (tmp_path / "nope.db").exists()
    db = tmp_path / "d.db"
    screen(db, 1)
    itself = run_cli("db", "backup", db, "--db", db)
    assert itself.exit_code == 3 and "is the database itself" in itself.stderr
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(db.read_bytes()[:4096] + b"\x00garbage" * 2000)
    result = run_cli("db", "check", "--db", damaged)
    assert result.exit_code == 3
    assert result.stdout.startswith("problem: integrity") or "malformed" in result.stderr
