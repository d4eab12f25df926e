"""The SQLite audit trail: migrations, WAL, append-only history, one transaction per screening."""

import sqlite3

import pytest

from fba_jp.errors import StoreError
from fba_jp.migrations import MIGRATIONS
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store
from fba_jp.testing import make_declaration


def test_schema_has_contract_tables_and_wal(tmp_path):
    store = Store(tmp_path / "a.db")
    tables = set(store.db.table_names()) | set(store.db.view_names())  # findings: a view of finding_rows + texts
    assert {"shipments", "items", "screenings", "findings", "valuations", "acps", "waivers", "exchange_rates",
            "sync_state", "sync_runs"} <= tables
    columns = [d[0] for d in store.conn.execute("select * from findings").description]
    assert {"screening_id", "code", "severity", "plugin", "sku", "message", "waived"} <= set(columns)  # CONTRACT §5
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    # reopening applies nothing twice
    again = Store(tmp_path / "a.db")
    assert [r["name"] for r in again.db["_migrations"].rows] == [name for name, _ in MIGRATIONS]


def test_rescreening_adds_history_and_keeps_the_old_rows(tmp_path):
    store = Store(tmp_path / "a.db")
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    first = screener.screen(make_declaration(acp=None), "v1.json")
    second = screener.screen(make_declaration(), "v2.json")
    assert (first.verdict, second.verdict) != (None, None)
    rows = list(store.db.query("select id, verdict, input_sha256 from screenings order by id"))
    assert len(rows) == 2 and rows[0]["input_sha256"] != rows[1]["input_sha256"]
    assert store.db["findings"].count_where("screening_id = ? and code = 'ACP_MISSING'", [first.screening_id]) == 1
    shipment = store.db["shipments"].get("FBA15TEST001")
    assert shipment["latest_screening_id"] == second.screening_id and shipment["source"] == "v2.json"
    assert [r.screening_id for r in store.latest_results()] == [second.screening_id]


def test_a_failed_write_leaves_no_half_screening(tmp_path, monkeypatch):
    store = Store(tmp_path / "a.db")
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    import fba_jp.store as store_module

    # the shipment's row, written after the input, screening, findings, texts and valuation, fails
    monkeypatch.setattr(store_module, "_UPSERT_SHIPMENT", "insert into a_table_that_is_not_there values (?)")
    with pytest.raises(StoreError, match="nothing was saved"):
        screener.screen(make_declaration(), "x.json")
    monkeypatch.undo()
    for table in ("declarations", "screenings", "finding_rows", "texts", "valuations", "shipments", "items"):
        assert store.db[table].count == 0, table
    screener.screen(make_declaration(), "x.json")  # the store still works afterwards
    assert store.db["screenings"].count == 1 and store.db["shipments"].count == 1
    # the texts the failed write had stored are stored again, not taken as already there
    findings = list(store.db.query("select message, remedy from findings"))
    assert findings and all(f["message"] and f["remedy"] is not None for f in findings)


def test_finding_texts_are_stored_once_whichever_connection_wrote_them(tmp_path):
    first, second = Store(tmp_path / "a.db"), Store(tmp_path / "a.db")  # as two processes would
    declaration = make_declaration(acp=None)
    results = [Screener(get_plugins(load_entrypoints=False), store=store).screen(declaration, f"{n}.json")
               for n, store in enumerate((first, second, first))]
    messages = [[(f.code, f.message, f.remedy) for f in r.findings] for r in results]
    assert messages[0] and messages[0] == messages[1] == messages[2]
    for result in results:
        stored = list(first.db.query("select code, message, remedy from findings where screening_id = ? order by id",
                                     [result.screening_id]))
        assert [(f["code"], f["message"], f["remedy"]) for f in stored] == messages[0]
    distinct = {t for f in results[0].findings for t in (f.message, f.remedy, f.reference, f.evidence) if t is not None}
    assert first.db["texts"].count == len(distinct)


def test_locked_database_waits_then_fails_with_a_clear_message(tmp_path, monkeypatch):
    import fba_jp.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "a.db"
    store = Store(path)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN IMMEDIATE")
    screener = Screener(get_plugins(load_entrypoints=False), store=Store(path))
    with pytest.raises(StoreError, match="database is locked.*nothing was saved.*other writer"):
        screener.screen(make_declaration(), "x.json")
    blocker.rollback()
    assert screener.screen(make_declaration(), "x.json").screening_id is not None
    assert store.db["screenings"].count == 1
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unopenable_database_is_a_store_error(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(bad)


@pytest.mark.parametrize("sql", [
    "select id, pid from sync_runs where account = ? and outcome = 'running'",  # interrupted-run check
    "select * from spapi_shipments where inbound_plan_id = ?",  # a plan's shipments
    "select title from catalog_items where asin = ?",  # a title by ASIN
])
def test_sync_look_ups_use_an_index_not_a_scan(sql):
    store = Store(":memory:")
    plan = " ".join(row[-1] for row in store.db.execute("explain query plan " + sql, ["x"] * sql.count("?")))
    assert "USING INDEX" in plan and "SCAN" not in plan, plan


def test_texts_of_a_screening_rolled_back_with_an_outer_transaction_are_stored_again(tmp_path):
    """Store._text_ids keeps the ids of texts only once the transaction that stored them committed: a
    screening recorded inside an outer write that then fails leaves no texts, and the next screening of
    the same findings must store them again, not point its findings at ids that are not there."""
    store = Store(tmp_path / "a.db")
    screener = Screener(get_plugins(load_entrypoints=False))
    result, canonical = screener.evaluate(make_declaration(acp=None), "x.json")
    with pytest.raises(RuntimeError):
        with store.write():
            store.record_screening(result, make_declaration(acp=None), screener.plugin_names, canonical)
            raise RuntimeError("the outer work failed")
    assert store.db["texts"].count == 0 and store.db["screenings"].count == 0
    store.record_screening(result, make_declaration(acp=None), screener.plugin_names, canonical)
    stored = list(store.db.query("select code, message, remedy from findings order by id"))
    assert [(f["code"], f["message"], f["remedy"]) for f in stored] == [(f.code, f.message, f.remedy) for f in result.findings]
