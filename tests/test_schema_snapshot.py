"""A new database is created from the schema snapshot (fba_jp/data/schema.json): it must be exactly the
database that applying every migration in turn gives, and migrations newer than the snapshot still run."""

import sqlite3

import pytest

from fba_jp import migrations
from fba_jp.migrations import MIGRATIONS, NO_SNAPSHOT, load_snapshot, migrate, schema_statements
from fba_jp.store import Store

NAMES = [name for name, _ in MIGRATIONS]


def contents(conn: sqlite3.Connection):
    """Schema, every row, and the migrations recorded (their order; not when)."""
    master = sorted(conn.execute("select type, name, tbl_name, sql from sqlite_master").fetchall(), key=repr)
    tables = [name for type_, name, _, _ in master if type_ == "table" and name != "_migrations"]
    rows = {table: sorted(conn.execute(f"select * from [{table}]").fetchall(), key=repr) for table in tables}
    recorded = [name for (name,) in conn.execute("select name from _migrations order by rowid")]
    return master, rows, recorded


def migrated(path=":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    migrate(conn, snapshot=NO_SNAPSHOT)
    return conn


def test_the_snapshot_holds_every_migration():
    reference = migrated()
    snapshot = load_snapshot()
    assert snapshot["migrations"] == NAMES, "a migration was added: run python scripts/make_schema_snapshot.py"
    assert snapshot["statements"] == schema_statements(reference), (
        "the schema the migrations give changed: run python scripts/make_schema_snapshot.py")


def test_a_new_database_is_the_migrated_one(tmp_path):
    store = Store(tmp_path / "new.db")  # what every command does: WAL, foreign keys, the snapshot
    reference = migrated(tmp_path / "migrated.db")
    assert contents(store.conn) == contents(reference)
    assert len(contents(store.conn)[1]["zdicts"]) == 2  # the seed rows: both worksheet dictionaries
    store.close()
    assert Store(tmp_path / "new.db").conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_migrations_newer_than_the_snapshot_still_run(monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:-1])
    older = {"migrations": NAMES[:-1], "statements": schema_statements(migrated())}
    monkeypatch.undo()
    conn = sqlite3.connect(":memory:")
    assert migrate(conn, snapshot=older) == NAMES
    assert contents(conn) == contents(migrated())


@pytest.mark.parametrize("names", [["m001_renamed"], []], ids=["not a prefix", "empty"])
def test_a_snapshot_that_does_not_fit_is_not_used(names):
    conn = sqlite3.connect(":memory:")
    wrong = {"migrations": names, "statements": ["create table never_made (x)"]}
    assert migrate(conn, snapshot=wrong) == NAMES
    assert contents(conn) == contents(migrated())


def test_a_failed_snapshot_leaves_the_database_empty():
    conn = sqlite3.connect(":memory:")
    broken = {"migrations": NAMES[:1], "statements": ["create table a (x)", "this is not sql"]}
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, snapshot=broken)
    assert conn.execute("select count(*) from sqlite_master").fetchone() == (0,)
