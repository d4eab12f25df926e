"""A screening stored compactly (migrations m017, m018): finding texts once behind the ``findings`` view, the
latest declaration by reference, items written by the store, worksheets compressed against a dictionary the
database holds (Zstandard; zlib with a preset dictionary before m018); and a database written before either
upgrades with every row reading as it did."""

import json
import zlib
from importlib import resources

import pytest
import zstandard

import fba_jp.migrations as migrations
from fba_jp.maintenance import check_database
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.errors import StoreError
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
        # the worksheet is a Zstandard frame that names its dictionary, which the database holds
        [(sheet,)] = store.conn.execute("select worksheet from valuations where screening_id = ?",
                                        [results[-1].screening_id]).fetchall()
        assert sheet[:4] == b"\x28\xb5\x2f\xfd"
        dict_id = zstandard.get_frame_parameters(sheet).dict_id
        [(dictionary, file)] = store.conn.execute("select body, file from zdicts where id = ?",
                                                  [2**32 + dict_id]).fetchall()
        assert file == "fba_jp/data/worksheet.zstd-dict"
        assert zstandard.ZstdCompressionDict(dictionary).dict_id() == dict_id != 0
        plain = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary)).decompress(sheet)
        assert plain.decode() == unpack_worksheet(sheet) == results[-1].valuation.model_dump_json()
        # items: the SKUs of each shipment's latest declaration, replaced when it is screened again
        assert store.conn.execute("select count(*) from items").fetchone()[0] == sum(
            len(d.items) for d in declarations())
        # nothing written twice: the shipment's row refers to its input
        assert store.conn.execute("select count(*) from shipments where declaration is not null").fetchone()[0] == 0


def zlib_worksheet(json_bytes: bytes) -> bytes:
    """A worksheet as fba-jp stored it until m018: deflated at level 6 with the preset dictionary."""
    dictionary = resources.files("fba_jp.data").joinpath("worksheet.zdict").read_bytes()
    compressor = zlib.compressobj(6, zdict=dictionary)
    return compressor.compress(json_bytes) + compressor.flush()


def test_worksheets_written_with_zlib_read_as_they_did_next_to_zstd_ones(tmp_path, monkeypatch):
    names = [name for name, _ in migrations.MIGRATIONS]
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:names.index("m018_zstd_worksheet_dict")])
    monkeypatch.setattr("fba_jp.store.pack_worksheet", zlib_worksheet)
    db = tmp_path / "zlib.db"
    plugins = get_plugins(load_entrypoints=False)
    with Store(db) as store:
        screener = Screener(plugins, store=store)
        for declaration in declarations():
            screener.screen(declaration, "file.json")
        # and the older forms still about: deflated without a dictionary, and JSON text
        sheets = dict(store.conn.execute("select screening_id, worksheet from valuations order by screening_id"))
        first, second = list(sheets)[:2]
        with store.write():
            store.conn.execute("update valuations set worksheet = ? where screening_id = ?",
                               [zlib.compress(zlib_inflate(sheets[first])), first])
            store.conn.execute("update valuations set worksheet = ? where screening_id = ?",
                               [zlib_inflate(sheets[second]).decode(), second])
        stored_before = store.conn.execute("select screening_id, worksheet from valuations").fetchall()
        results_before = [r.model_dump_json() for r in store.latest_results()]
    assert {type(w) for _, w in stored_before} == {bytes, str} and all(
        w[:4] != b"\x28\xb5\x2f\xfd" for _, w in stored_before)
    monkeypatch.undo()

    with Store(db) as store:  # the upgrade: m018 adds the Zstandard dictionary next to the zlib one
        assert store.conn.execute("select file from zdicts order by id").fetchall() == [
            ("fba_jp/data/worksheet.zdict",), ("fba_jp/data/worksheet.zstd-dict",)]
        assert store.conn.execute("select screening_id, worksheet from valuations").fetchall() == stored_before
        assert [r.model_dump_json() for r in store.latest_results()] == results_before
        # a new screening of one shipment is stored as Zstandard; the others still read from their zlib rows
        again = Screener(plugins, store=store).screen(declarations()[3], "file.json")
        [(sheet,)] = store.conn.execute("select worksheet from valuations where screening_id = ?",
                                        [again.screening_id]).fetchall()
        assert sheet[:4] == b"\x28\xb5\x2f\xfd"
        latest = {r.shipment_id: r.model_dump_json() for r in store.latest_results()}
        assert latest[again.shipment_id] == again.model_dump_json()
        for before in results_before:
            shipment = json.loads(before)["shipment_id"]
            if shipment != again.shipment_id:
                assert latest[shipment] == before
        streamed = dict((r.shipment_id, w) for r, w in store.iter_latest_results(worksheets="json"))
        assert all(json.loads(latest[s])["valuation"] == json.loads(w) for s, w in streamed.items())
    assert check_database(db).ok


def zlib_inflate(sheet: bytes) -> bytes:
    inflate = zlib.decompressobj(zdict=resources.files("fba_jp.data").joinpath("worksheet.zdict").read_bytes())
    return inflate.decompress(sheet) + inflate.flush()


def with_dict_id(frame: bytes, dict_id: int) -> bytes:
    """The frame with another dict_id in its header (RFC 8878 §3.1.1.1: after the descriptor and, unless the
    frame is a single segment, the window descriptor; 1, 2 or 4 bytes as the descriptor says)."""
    descriptor = frame[4]
    start = 5 + (0 if descriptor & 0x20 else 1)
    size = (0, 1, 2, 4)[descriptor & 3]
    assert size == 4  # trained dictionaries have ids above 2**16
    return frame[:start] + dict_id.to_bytes(4, "little") + frame[start + size:]


@pytest.mark.parametrize("damage", ["checksum", "body", "cut short", "unknown dictionary", "no dictionary"])
def test_a_damaged_or_unreadable_zstd_worksheet_is_a_one_line_store_error(tmp_path, damage):
    with Store(tmp_path / "a.db") as store:
        Screener(get_plugins(load_entrypoints=False), store=store).screen(declarations()[0], "file.json")
        [(sheet,)] = store.conn.execute("select worksheet from valuations").fetchall()
    dict_id = zstandard.get_frame_parameters(sheet).dict_id
    broken = {
        "checksum": sheet[:-1] + bytes([sheet[-1] ^ 1]),
        "body": sheet[:40] + bytes([sheet[40] ^ 0x55]) + sheet[41:],
        "cut short": sheet[:-9],
        "unknown dictionary": with_dict_id(sheet, dict_id + 1),
        "no dictionary": with_dict_id(sheet, 0),  # the same data, read without the dictionary it needs
    }[damage]
    with pytest.raises(StoreError) as raised:
        unpack_worksheet(broken)
    message = str(raised.value)
    assert "\n" not in message
    if damage == "unknown dictionary":
        assert message.startswith("a worksheet was compressed with a Zstandard dictionary this fba-jp does not have"
                                  f" (dict_id {dict_id + 1})")
    else:
        assert message.startswith("a stored worksheet is damaged")


def test_a_zlib_worksheet_cut_short_is_an_error_not_part_of_a_worksheet():
    sheet = zlib_worksheet(make_declaration().model_dump_json().encode())
    assert unpack_worksheet(sheet) == make_declaration().model_dump_json()
    with pytest.raises(StoreError, match="^a stored worksheet is damaged"):
        unpack_worksheet(sheet[:-20])
