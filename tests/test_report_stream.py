"""``fba-jp report`` streamed from the database: the same document and page as built in memory, an index
by account and verdict, and the worksheet stored deflated yet shown the same everywhere."""

import io
import json
import re

import pytest

from fba_jp import hookimpl
from fba_jp.errors import StoreError

from fba_jp.models import ResultDocument, Summary
from fba_jp.plugin_manager import get_plugins
from fba_jp.report import render_html_report, stream_json_report, write_html_report_from_store
from fba_jp.runner import Screener
from fba_jp.store import Store, unpack_worksheet, worksheet_bytes
from fba_jp.testing import make_declaration

AMAZON_IOR = {"name": "Amazon Japan G.K."}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "report.db") as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        for n in range(7):  # blocked, annotated, cleared-or-not, across two "accounts" (by source)
            overrides = {"shipment_id": f"FBA15R{n:04d}"}
            if n % 3 == 0:
                overrides["importer_of_record"] = AMAZON_IOR
            screener.screen(make_declaration(**overrides), f"file-{n}.json", account=None)
        store.add_waiver("FBA15R0000", "IOR_AMAZON", "checked with the broker", "kenji", None)
        screener.screen(make_declaration(shipment_id="FBA15R0000", importer_of_record=AMAZON_IOR), "file-0.json")
        # a second account, written as the sync path does
        store.conn.execute("update screenings set account = 'maple' where shipment_id in ('FBA15R0001', 'FBA15R0004')")
        store.conn.commit()
        yield store


def test_streamed_json_is_the_document_built_in_memory(store):
    results = store.latest_results()
    expected = json.loads(ResultDocument(results=results, summary=Summary.of(results)).model_dump_json(by_alias=True))
    out = io.BytesIO()
    stream_json_report(store.iter_latest_documents(chunk=3), out.write)  # several chunks
    assert json.loads(out.getvalue()) == expected
    assert out.getvalue().count(b"\n") == len(results) + 2  # one result a line


class FailingCheck:
    """A plugin whose check raises: its screenings carry an error (and the PLUGIN_ERROR finding)."""

    @hookimpl
    def register_checks(self, register):
        def broken(shipment):
            raise RuntimeError("the broken check")

        register(broken, name="broken", codes=["BROKEN"])


def test_each_streamed_result_is_the_bytes_of_its_model(store):
    # the plain data is written by the same encoder as the model: byte for byte, with a waiver, an error,
    # None and non-ASCII text among the values
    screener = Screener(get_plugins(load_entrypoints=False, extra=(FailingCheck(),)), store=store)
    screener.screen(make_declaration(shipment_id="FBA15R0099"), 'ファイル "9"\t\u2028\x7f.json')
    out = io.BytesIO()
    stream_json_report(store.iter_latest_documents(chunk=3), out.write)
    lines = out.getvalue().split(b"\n")[1:-2]
    pairs = list(store.iter_latest_results(worksheets="json"))
    assert len(lines) == len(pairs) == 8
    assert any(r.errors for r, _ in pairs) and any(f.waiver for r, _ in pairs for f in r.findings)
    for line, (result, worksheet) in zip(lines, pairs):
        expected = result.model_dump_json(by_alias=True).replace(',"valuation":null,', f',"valuation":{worksheet},', 1)
        assert line.removesuffix(b",") == expected.encode()


def test_a_damaged_worksheet_is_an_error_not_a_wrong_report(store):
    [(screening_id, stored)] = store.conn.execute("select screening_id, worksheet from valuations limit 1").fetchall()
    damaged = stored[:-1] + bytes([stored[-1] ^ 1])  # its checksum no longer matches
    with pytest.raises(StoreError, match="damaged"):
        worksheet_bytes(damaged)
    unknown = stored[:2] + b"\0\0\0\0" + stored[6:]  # names a preset dictionary fba-jp does not have
    with pytest.raises(StoreError, match="does not have"):
        worksheet_bytes(unknown)
    assert worksheet_bytes(stored).decode() == unpack_worksheet(stored)


def test_report_command_streams_json(run_cli, store):
    result = run_cli("report", "--db", store.path, "-o", "json")
    document = json.loads(result.stdout)
    assert document["summary"]["shipments"] == 7 and document["summary"]["waived"] >= 1
    assert {r["account"] for r in document["results"]} == {None, "maple"}
    assert all(r["valuation"]["lines_worksheet"] for r in document["results"])


def test_html_from_the_store_is_the_page_built_in_memory_with_an_index(store, tmp_path):
    [path] = write_html_report_from_store(store, tmp_path / "report.html")
    streamed = path.read_text(encoding="utf-8")
    in_memory = render_html_report(store.latest_results())
    generated = re.compile(r"Generated [^<]* by")
    assert generated.sub("", streamed) == generated.sub("", in_memory)
    # an index by account and verdict: counts link to their group of rows, rows link to the shipment
    for r in store.latest_results():
        group = f"{r.verdict}-{r.account or '—'}"
        assert f'id="{group}"' in streamed and f'<a href="#{r.shipment_id}">' in streamed
        if r.account:
            assert f'<a href="#{group}">' in streamed
    assert streamed.count('<details class="shipment-details') == 7  # each shipment's details, collapsed
    assert "<details open" not in streamed


def test_a_long_report_is_an_index_of_pages(run_cli, store, tmp_path):
    (tmp_path / "report-pages").mkdir()
    (tmp_path / "report-pages" / "9.html").write_text("a page of an earlier, longer report")
    result = run_cli("report", "--db", store.path, "--html", tmp_path / "report.html", "--per-page", "3", "-o", "json")
    assert "3 pages in" in result.stderr
    index = (tmp_path / "report.html").read_text(encoding="utf-8")
    pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "report-pages").iterdir()}
    assert sorted(pages) == ["1.html", "2.html", "3.html"]  # the earlier report's page is gone
    # every shipment's details once, in report order (blocked first), 3 a page; the index holds none
    order = [r.shipment_id for r, _ in store.iter_latest_results(report_order=True)]
    shown = [re.findall(r'<section class="shipment [^"]*" id="([^"]+)"', pages[f"{n}.html"]) for n in (1, 2, 3)]
    assert shown == [order[0:3], order[3:6], order[6:7]] and "<section" not in index
    assert all(pages[f"{n}.html"].count('<details class="shipment-details') == len(ids) for n, ids in zip((1, 2, 3), shown))
    # each link of the index opens a page at an anchor it has; each page leads back and on
    for href in set(re.findall(r'href="([^"]+)"', index)):
        name, _, anchor = href.partition("#")
        assert name.startswith("report-pages/") and (not anchor or f'id="{anchor}"' in pages[name.removeprefix("report-pages/")])
    assert 'href="../report.html"' in pages["2.html"] and 'href="1.html"' in pages["2.html"] and 'href="3.html"' in pages["2.html"]
    # the account table: maple's blocked shipments start on the page that holds the first of them
    first = next(r for r, _ in store.iter_latest_results(report_order=True) if r.account == "maple")
    page = next(n for n, ids in zip((1, 2, 3), shown) if first.shipment_id in ids)
    assert f'href="report-pages/{page}.html#{first.verdict}-maple"' in index
    # shorter again: one page, and the pages are removed with it
    run_cli("report", "--db", store.path, "--html", tmp_path / "report.html", "-o", "json")
    assert not (tmp_path / "report-pages").exists() and "<section" in (tmp_path / "report.html").read_text()


def test_a_report_never_replaces_someone_elses_directory(run_cli, store, tmp_path):
    (tmp_path / "report-pages").mkdir()
    (tmp_path / "report-pages" / "notes.txt").write_text("mine")
    result = run_cli("report", "--db", store.path, "--html", tmp_path / "report.html", "--per-page", "3", "-o", "json")
    assert result.exit_code == 3 and "not report pages" in result.stderr and (tmp_path / "report-pages" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "report.html").exists()


def test_the_worksheet_is_stored_deflated_and_read_back_the_same(store):
    [(screening_id, stored)] = store.conn.execute(
        "select v.screening_id, v.worksheet from valuations v join shipments s on s.latest_screening_id = v.screening_id"
        " where s.shipment_id = 'FBA15R0002'").fetchall()
    text = unpack_worksheet(stored)
    assert isinstance(stored, bytes) and len(stored) * 2 < len(text.encode())  # 10 items: 22 KB → 4 KB
    [result] = [r for r in store.latest_results() if r.screening_id == screening_id]
    assert result.valuation.model_dump_json() == text  # what every output shows


def test_worksheets_written_as_text_by_older_versions_still_read(store):
    [(screening_id, stored)] = store.conn.execute("select screening_id, worksheet from valuations limit 1").fetchall()
    store.conn.execute("update valuations set worksheet = ? where screening_id = ?", [unpack_worksheet(stored), screening_id])
    store.conn.commit()
    [result] = [r for r in store.latest_results() if r.screening_id == screening_id] or [
        store.load_result(store.rows("select * from screenings where id = ?", [screening_id])[0])]
    assert result.valuation.model_dump_json() == unpack_worksheet(stored)
