"""The database is opened honestly: parallel first opens, newer or foreign schemas, read-only files, a schema
changed by hand, and permissions that keep the audit trail private."""

import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from fba_jp.errors import StoreError
from fba_jp.migrations import MIGRATIONS
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store
from fba_jp.testing import declaration_data, make_declaration

OPEN_AND_WRITE = """
import sys
from fba_jp.store import Store
sys.stdin.readline()  # start together
with Store(sys.argv[1]) as store:
    store.import_rates([], source="x")
print("ok")
"""


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    db = tmp_path / "new.db"
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, str(db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for process in processes:  # each is blocked on stdin until all are started
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [process.communicate(timeout=60) for process in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err for _, err in results]
    with Store(db) as store:
        assert [r["name"] for r in store.db["_migrations"].rows] == [name for name, _ in MIGRATIONS]


def test_a_database_from_a_newer_fba_jp_is_refused_and_left_untouched(run_cli, write_declaration, tmp_path):
    db = tmp_path / "newer.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("insert into _migrations (name, applied_at) values ('m999_from_the_future', 'then')")
    before = db.read_bytes()
    result = run_cli("gate", write_declaration(declaration_data()), "--db", db, "-o", "json")
    assert result.exit_code == 3 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line == (f"fba-jp: {db}: refusing to use this database: it was written by a newer fba-jp (schema "
                    "migrations unknown to this version: m999_from_the_future); nothing was changed")
    assert db.read_bytes() == before


def test_another_programs_database_is_refused(run_cli, tmp_path):
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table moz_places (id integer)")
    result = run_cli("report", "--db", db, "-o", "json")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert "refusing to use this database: it holds another program's tables (moz_places)" in line


def test_a_read_only_database_can_be_reported_on_and_a_write_says_what_is_wrong(run_cli, write_declaration, tmp_path):
    if os.geteuid() == 0:
        # root ignores file modes: open the file read-only through SQLite instead
        db = tmp_path / "ro.db"
        Store(db).close()
        store = Store(f"file:{db}?mode=ro")
    else:
        db = tmp_path / "ro.db"
        Store(db).close()
        os.chmod(db, 0o400)
        store = Store(db)
    with store:
        assert store.latest_results() == []  # reading needs no write
        with pytest.raises(StoreError) as error:
            Screener(get_plugins(load_entrypoints=False), store=store).screen(make_declaration(), "x.json")
    message = str(error.value)
    assert "readonly" in message and "nothing was saved" in message and "permissions" in message
    assert "other writer" not in message


def test_a_schema_changed_by_hand_is_named_as_such(tmp_path):
    db = tmp_path / "changed.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("alter table valuations drop column worksheet")
    with Store(db) as store, pytest.raises(StoreError) as error:
        Screener(get_plugins(load_entrypoints=False), store=store).screen(make_declaration(), "x.json")
    message = str(error.value)
    assert "worksheet" in message and "schema is not the one fba-jp made" in message and "fba-jp db check" in message
    assert "other writer" not in message


def test_database_and_wal_are_private_to_their_owner(tmp_path):
    old = os.umask(0o022)
    try:
        db = tmp_path / "private.db"
        with Store(db) as store:
            store.import_rates([], source="x")
            files = [db, tmp_path / "private.db-wal", tmp_path / "private.db-shm"]
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    finally:
        os.umask(old)
    assert modes == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}
