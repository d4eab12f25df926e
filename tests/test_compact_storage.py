"""A screening stored compactly (migration m017): finding texts once behind the ``findings`` view, the latest
declaration by reference, items written by the store, worksheets deflated against a preset dictionary; and a
database written before it upgrades with every row reading as it did."""

import json
import zlib

import fba_jp.migrations as migrations
from fba_jp.maintenance import check_database
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store, pack_input, to_json, unpack_worksheet
from fba_jp.testing import make_declaration

AMAZON = {"name": "Amazon Japan G.K."}


def declarations():
    return [make_declaration(shipment_id=f"FBA15UP{n:03d}", **({"importer_of_record": AMAZON} if n % 2 else {}))
            for n in range(4)]


def write_as_before_m017(conn, result, declaration, plugins):
    """The rows fba-jp wrote for a screening until m017 (store.record_screening of main before it)."""
    conn.execute("insert or ignore into declarations (sha256, body, stored_at) values (?, ?, ?)",
                 [result.input_sha256, pack_input(declaration.canonical_json()), "2026-12-01T00:00:00+00:00"])
    screening_id = conn.execute(
        "insert into screenings (shipment_id, inbound_plan_id, account, source, verdict, input_sha256, screened_at,"
        " plugins, errors, fba_jp_version) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [result.shipment_id, None, None, result.source, result.verdict, result.input_sha256,
         "2026-12-01T00:00:00+00:00", plugins, "[]", "0.1.0"]).lastrowid
    conn.executemany(
        "insert into findings (screening_id, code, severity, plugin, sku, message, remedy, reference, evidence,"
        " waived, waiver_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(screening_id, f.code, f.severity, f.plugin, f.sku, f.message, f.remedy, f.reference, f.evidence, 0, None)
         for f in result.findings])
    conn.execute("insert into valuations (screening_id, currency, customs_value_jpy, complete, worksheet)"
                 " values (?, ?, ?, ?, ?)", [screening_id, result.valuation.currency, result.valuation.customs_value_jpy,
                                             int(result.valuation.complete),
                                             zlib.compress(result.valuation.model_dump_json().encode(), 1)])
    conn.execute(  # the m007 trigger fills items from this JSON copy
        "insert into shipments (shipment_id, source, input_sha256, declaration, latest_screening_id, latest_verdict,"
        " first_seen_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [result.shipment_id, result.source, result.input_sha256,
         declaration.model_dump_json(by_alias=True, exclude_none=True), screening_id, result.verdict,
         "2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"])


def test_a_database_written_before_m017_upgrades_and_reads_as_it_did(tmp_path, monkeypatch):
    names = [name for name, _ in migrations.MIGRATIONS]
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:names.index("m017_compact_screenings")])
    db = tmp_path / "before.db"
    plugins = get_plugins(load_entrypoints=False)
    with Store(db) as store:
        with store.write():
            for declaration in declarations():
                result = Screener(plugins).screen(declaration, "file.json")
                write_as_before_m017(store.conn, result, declaration, to_json(sorted(plugins.names())))
        findings_before = store.conn.execute("select * from findings order by id").fetchall()
        items_before = store.conn.execute("select * from items order by shipment_id, msku").fetchall()
        results_before = [r.model_dump_json() for r in store.latest_results()]
    monkeypatch.undo()

    with Store(db) as store:  # the upgrade
        assert store.conn.execute("select * from findings order by id").fetchall() == findings_before
        assert store.conn.execute("select * from items order by shipment_id, msku").fetchall() == items_before
        assert [r.model_dump_json() for r in store.latest_results()] == results_before  # worksheets too
        texts = store.conn.execute("select count(*) from texts").fetchone()[0]
        assert texts < len(findings_before) * 2  # each remedy and reference once, not once a finding
        for row, declaration in zip(store.rows("select * from shipments order by shipment_id"), declarations()):
            assert row["declaration"] is None and row["declaration_sha256"] == row["input_sha256"]
            assert json.loads(store.latest_declaration(row))["shipment_id"] == declaration.shipment_id
        # screening goes on as before, against the upgraded schema
        again = Screener(plugins, store=store).screen(declarations()[1], "file.json")
        assert [f.code for f in again.findings] == [f.code for f in store.load_result(
            store.rows("select * from screenings where id = ?", [again.screening_id])[0]).findings]
    assert check_database(db).ok


def test_the_store_writes_compactly_and_reads_back_what_it_screened(tmp_path):
    with Store(tmp_path / "a.db") as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        results = [screener.screen(d, "file.json") for d in declarations() * 2]  # each shipment twice
        findings = sum(len(r.findings) for r in results)
        rows = store.conn.execute("select count(*) from finding_rows").fetchone()[0]
        texts = store.conn.execute("select count(*) from texts").fetchone()[0]
        assert rows == findings and texts < findings  # the second screening of each added no text
        loaded = {r.screening_id: r for r in store.latest_results()}
        for result in results[4:]:
            assert loaded[result.screening_id].model_dump_json() == result.model_dump_json()
        # the worksheet names its dictionary, which the database holds
        [(sheet,)] = store.conn.execute("select worksheet from valuations where screening_id = ?",
                                        [results[-1].screening_id]).fetchall()
        [(dictionary,)] = store.conn.execute("select body from zdicts where id = ?",
                                             [int.from_bytes(sheet[2:6], "big")]).fetchall()
        inflate = zlib.decompressobj(zdict=dictionary)
        assert (inflate.decompress(sheet) + inflate.flush()).decode() == unpack_worksheet(sheet) \
            == results[-1].valuation.model_dump_json()
        # items: the SKUs of each shipment's latest declaration, replaced when it is screened again
        assert store.conn.execute("select count(*) from items").fetchone()[0] == sum(
            len(d.items) for d in declarations())
        # nothing written twice: the shipment's row refers to its input
        assert store.conn.execute("select count(*) from shipments where declaration is not null").fetchone()[0] == 0
