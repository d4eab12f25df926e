"""The audit trail keeps what it wrote: every screening's exact input, content-addressed, and old shipment ids
resolved through aliases instead of rewritten."""

import hashlib
import json
from datetime import date

import pytest

import fba_jp.migrations as migrations
from fba_jp.models import Declaration
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store, record_alias
from fba_jp.testing import make_declaration


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "audit.db") as store:
        yield store


def test_every_screening_keeps_its_exact_input_once(store):
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    first = make_declaration(acp=None)
    second = make_declaration()
    results = [screener.screen(d, "x.json") for d in (first, second, first, first)]
    assert store.db["declarations"].count == 2  # the same input screened again adds nothing
    for result, declaration in zip(results, (first, second, first, first)):
        body = store.declaration(result.input_sha256)
        assert hashlib.sha256(body.encode()).hexdigest() == result.input_sha256  # checkable with sha256sum
        assert Declaration.model_validate(json.loads(body)) == declaration
        [raw] = store.conn.execute("select body from declarations where sha256 = ?", [result.input_sha256]).fetchone()
        assert isinstance(raw, bytes) and len(raw) < len(body)  # kept 5-7 years: compressed
    # the shipment's current row holds only the latest; the first screening still has its own input
    assert json.loads(store.latest_declaration(store.db["shipments"].get("FBA15TEST001"))).get("acp") is None
    assert "acp" in json.loads(store.declaration(results[1].input_sha256))


def test_an_alias_resolves_to_the_current_id_and_leaves_the_rows_it_was_written_under(store):
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    early = screener.screen(make_declaration(shipment_id="sh-0001", acp=None), "x.json")
    waiver = store.add_waiver("sh-0001", "ACP_MISSING", "accepted by phone", "kenji", None)
    with store.write():  # Amazon assigns ids twice (a re-placement): chains collapse onto the newest id
        record_alias(store.db, "sh-0001", "sh-0002", "shop")
        record_alias(store.db, "sh-0002", "FBA15LATE", "shop")
    assert store.resolve("sh-0001") == store.resolve("sh-0002") == "FBA15LATE"
    assert store.shipment_ids("sh-0002") == ["FBA15LATE", "sh-0001", "sh-0002"]
    assert store.latest_screening("FBA15LATE")["id"] == early.screening_id
    assert store.active_waivers("FBA15LATE", early.input_sha256, date(2026, 12, 7))["ACP_MISSING"]["id"] == waiver["id"]
    # the rows are as they were written
    assert store.db.execute("select shipment_id from screenings").fetchall() == [("sh-0001",)]
    assert store.db.execute("select shipment_id from waivers").fetchall() == [("sh-0001",)]
    # a waiver given under an old id now is recorded under the shipment's current id
    later = screener.screen(make_declaration(shipment_id="FBA15LATE", acp=None), "x.json")
    again = store.add_waiver("sh-0001", "ACP_MISSING", "accepted by phone", "kenji", None)
    assert again["shipment_id"] == "FBA15LATE" and again["input_sha256"] == later.input_sha256


def test_the_migration_copies_in_the_latest_declarations_that_still_hash_to_their_screening(tmp_path, monkeypatch):
    names = [name for name, _ in migrations.MIGRATIONS]
    before = migrations.MIGRATIONS[:names.index("m010_declarations_and_aliases")]
    monkeypatch.setattr(migrations, "MIGRATIONS", before)
    db = tmp_path / "old.db"
    with Store(db) as store:  # an older fba-jp: only the latest declaration, in shipments
        declaration = make_declaration()
        canonical = declaration.canonical_json()
        sha = hashlib.sha256(canonical.encode()).hexdigest()
        with store.write():
            for shipment_id, hashed in (("FBA1", sha), ("FBA2", "0" * 64)):
                store.db["shipments"].insert({"shipment_id": shipment_id, "input_sha256": hashed,
                                              "declaration": declaration.model_dump_json(by_alias=True, exclude_none=True)})
    monkeypatch.undo()
    with Store(db) as store:
        assert store.declaration(sha) == canonical
        assert store.db["declarations"].count == 1  # FBA2's stored declaration no longer matches its hash
        # m017: FBA1's latest declaration is now that row alone; FBA2 keeps the only copy it has
        rows = {r["shipment_id"]: r for r in store.rows("select * from shipments")}
        assert rows["FBA1"]["declaration"] is None and rows["FBA1"]["declaration_sha256"] == sha
        assert rows["FBA2"]["declaration_sha256"] is None
        for row in rows.values():
            assert Declaration.model_validate_json(store.latest_declaration(row)) == declaration
