"""Shipping documents (fba_jp/documents): what a customs broker reads off the PDF, the drafts of blocked
shipments, the refusals, the CSV/JSON round trip through `fba-jp gate`, and `--verify`."""

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import EXAMPLES

from fba_jp.documents.labels import WATERMARK
from fba_jp.store import Store
from fba_jp.testing import declaration_data

FINAL = {
    "schema": "fba-jp/shipment/v1",
    "shipment_id": "FBA17KYOTO02",
    "inbound_plan_id": "wf0000kyoto-0002",
    "declaration_date": "2026-12-07",
    "export_date": "2026-11-27",
    "seller": {"name": "Kyoto Botanica Inc.", "country": "US", "japan_resident": False},
    "importer_of_record": {"name": "Kyoto Botanica Inc.", "address": "500 Market St, San Francisco CA 94105",
                           "country": "US"},
    "consignee": {"name": "Kyoto Botanica Inc."},
    "delivery_address": {"name": "Amazon.co.jp NRT5", "fc_code": "NRT5",
                         "address": "2-4-1 Kaihin, Ichikawa, Chiba 272-0013", "country": "JP"},
    "acp": {"name": "さくら通関アドバイザリー株式会社", "status": "registered", "accepted_on": "2026-09-15",
            "customs_office": "Osaka", "address": "大阪府大阪市中央区本町1-2-3"},
    "currency": "USD",
    "freight": "410.00", "insurance": "18.50",
    "fx_rates": {"USD": "150.25"},
    "licences": [
        {"kind": "cosmetics_mah", "number": "27C0X10999", "holder": "Hana Cosme Partners K.K.",
         "valid_until": "2029-03-31"},
        {"kind": "cosmetics_manufacturing", "number": "27CZ200888", "holder": "Hana Cosme Partners K.K."},
    ],
    "boxes": [
        {"box_id": "FBA17KYOTO02U000001", "count": 2, "contents": [{"msku": "RICE-SERUM-30", "quantity": 120}],
         "weight": {"value": "12.5", "unit": "KG"}, "dimensions": {"length": 60, "width": 40, "height": 35, "unit": "CM"}},
        {"box_id": "FBA17KYOTO02U000003", "contents": [{"msku": "HINOKI-COMB", "quantity": 100}],
         "weight": {"value": "8.2", "unit": "LB"}},
    ],
    "items": [
        {"msku": "RICE-SERUM-30", "asin": "B0KYOTO001", "title": "Kyoto rice water face serum 30 ml 化粧水",
         "quantity": 240, "unit_value": "5.10", "hs_code": "3304.99", "origin_country": "US", "duty_rate": "0",
         "categories": ["cosmetics"], "cosmetics_notification": "26-KY-000771"},
        {"msku": "HINOKI-COMB", "title": "Hinoki wood wide-tooth comb", "quantity": 100, "unit_value": "3.20",
         "hs_code": "9615.19", "origin_country": "CN", "duty_rate": "5.3"},
    ],
}


def pages_text(path: Path) -> list[str]:
    """Each page's text with all white space removed: where a table cell wraps is not the point."""
    return [squeeze(page.extract_text()) for page in PdfReader(path).pages]


def squeeze(text: str) -> str:
    return "".join(text.split())


def documents(run_cli, tmp_path, *args):
    return run_cli("documents", *args, "--db", tmp_path / "fba.db", "--out", tmp_path / "out")


@pytest.fixture
def final(run_cli, tmp_path, write_declaration):
    path = write_declaration(FINAL, "kyoto.json")
    result = documents(run_cli, tmp_path, "--file", path)
    assert result.exit_code == 0, result.stderr
    gate = run_cli("gate", path, "--output", "json")
    return tmp_path / "out", json.loads(gate.stdout)["results"][0]


def test_final_invoice_names_the_parties_lines_and_totals_to_the_yen(final):
    out, screening = final
    assert sorted(p.name for p in out.iterdir()) == [
        "FBA17KYOTO02-checklist.pdf", "FBA17KYOTO02-invoice.pdf", "FBA17KYOTO02-packing-list.pdf"]
    text = "\n".join(pages_text(out / "FBA17KYOTO02-invoice.pdf"))
    assert WATERMARK not in text
    for expected in ("Importer of record / 輸入者", "Kyoto Botanica Inc.", "500 Market St, San Francisco",
                     "さくら通関アドバイザリー株式会社", "大阪府大阪市中央区本町1-2-3",
                     "Delivery address only — not importer, not consignee", "Amazon.co.jp NRT5", "DDP Amazon FC NRT5",
                     "150.25 JPY per USD", "RICE-SERUM-30", "3304.99", "1,224.00", "HINOKI-COMB", "320.00",
                     "USD 1,544.00", "USD 410.00", "USD 18.50", "USD 1,972.50", "化粧水",
                     "Cosmetics MAH licence 化粧品製造販売業許可 27C0X10999", "26-KY-000771",
                     "Other reasonable means (Art. 4-4)", "No sale to a buyer in Japan"):
        assert squeeze(expected) in text, expected
    valuation = screening["valuation"]
    assert f"¥{valuation['customs_value_jpy']:,}" in text
    assert f"¥{valuation['total_tax_jpy']:,}" in text
    # Amazon's FC is only ever the labelled delivery address: the consignee is the importer
    consignee = text.split("Consignee/荷受人")[1].split("Deliveryaddressonly")[0]
    assert "KyotoBotanicaInc." in consignee and "Amazon" not in consignee
    # the comb is not a cosmetic: the MAH licence is not printed next to it
    comb = text.split("HINOKI-COMB")[1].split("Totals")[0]
    assert "27C0X10999" not in comb


def test_packing_list_and_checklist(final):
    out, _ = final
    packing = "\n".join(pages_text(out / "FBA17KYOTO02-packing-list.pdf"))
    assert "Packinglist/包装明細書" in packing and "340" in packing  # 240 + 100 units
    for expected in ("FBA17KYOTO02U000001 × 2 boxes", "RICE-SERUM-30 × 120", "12.5 KG each", "60 × 40 × 35 CM",
                     "FBA17KYOTO02U000003", "HINOKI-COMB × 100", "8.2 LB", "3 package(s)",
                     "total gross weight 総重量 28.72 KG"):
        assert squeeze(expected) in packing, expected
    checklist = "\n".join(pages_text(out / "FBA17KYOTO02-checklist.pdf"))
    for expected in ("Travels with the goods", "Form C-7500", "5 years", "7 years", "Customs Act Art. 94",
                     "Copy 写し: Cosmetics MAH licence"):
        assert squeeze(expected) in checklist, expected


def test_blocked_shipment_gets_only_drafts_watermarked_on_every_page(run_cli, tmp_path):
    blocked = documents(run_cli, tmp_path, "--file", EXAMPLES / "kyoto-cosmetics-blocked.json")
    assert blocked.exit_code == 3  # the example also lacks the importer's and the ACP's address
    assert "FBA17KYOTO01: importer_of_record.address: missing" in blocked.stderr
    assert "FBA17KYOTO01: blocked by the screening (LICENCE_EXPIRED, " in blocked.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    draft = documents(run_cli, tmp_path, "FBA17KYOTO01", "--draft")
    assert draft.exit_code == 1, draft.stderr
    invoice = tmp_path / "out" / "FBA17KYOTO01-invoice-DRAFT.pdf"
    pages = pages_text(invoice)
    assert len(pages) >= 2
    for page in pages:
        assert squeeze(WATERMARK) in page
        assert "COS_NO_NOTIFICATION" in page and "LICENCE_EXPIRED" in page


@pytest.mark.parametrize("change, field", [
    ({"acp": None}, "acp: missing"),
    ({"importer_of_record": {"name": "Kyoto Botanica Inc."}}, "importer_of_record.address: missing"),
])
def test_missing_acp_or_importer_address_is_one_line_exit_3_and_a_draft_with_draft(
        run_cli, tmp_path, write_declaration, change, field):
    data = {k: v for k, v in {**FINAL, **change}.items() if v is not None}
    path = write_declaration(data)
    refused = documents(run_cli, tmp_path, "--file", path)
    assert refused.exit_code == 3
    assert any(line.startswith(f"FBA17KYOTO02: {field}") for line in refused.stderr.splitlines())
    drafted = documents(run_cli, tmp_path, "--file", path, "--draft")
    assert drafted.exit_code == 1
    page = pages_text(tmp_path / "out" / "FBA17KYOTO02-invoice-DRAFT.pdf")[0]
    assert squeeze(WATERMARK) in page and field.split(":")[0] in page


def test_amazon_never_becomes_importer_or_consignee_even_when_waived(run_cli, tmp_path, write_declaration):
    path = write_declaration({**FINAL, "consignee": {"name": "Amazon Japan G.K."}})
    db = tmp_path / "fba.db"
    assert run_cli("gate", path, "--db", db).exit_code == 1
    run_cli("release", "FBA17KYOTO02", "--code", "CONSIGNEE_AMAZON", "--reason", "broker says fine", "--by", "x",
            "--db", db)
    refused = documents(run_cli, tmp_path, "--file", path)
    assert refused.exit_code == 3
    assert "FBA17KYOTO02: consignee.name: 'Amazon Japan G.K.' is Amazon" in refused.stderr
    draft = documents(run_cli, tmp_path, "--file", path, "--draft")
    text = "\n".join(pages_text(tmp_path / "out" / "FBA17KYOTO02-invoice-DRAFT.pdf"))
    consignee = text.split("Consignee/荷受人")[-1].split("Deliveryaddressonly")[0]
    assert draft.exit_code == 1 and "Amazon" not in consignee


def test_a_consignee_other_than_the_importer_is_refused(run_cli, tmp_path, write_declaration):
    # a name the Amazon list does not know still cannot stand as consignee: it is not the importer
    path = write_declaration({**FINAL, "consignee": {"name": "Amazon Japan G.K. 小田原フルフィルメントセンター"}})
    refused = documents(run_cli, tmp_path, "--file", path)
    assert refused.exit_code == 3
    assert "consignee.name: 'Amazon Japan G.K. 小田原フルフィルメントセンター' is not the importer of record" in refused.stderr


def test_a_waived_nominal_importer_is_printed_as_the_importer_on_the_final_invoice(run_cli, tmp_path, write_declaration):
    importer = {"name": "Hana Import Partners K.K.", "address": "1-2-3 Marunouchi, Chiyoda-ku, Tokyo", "country": "JP"}
    path = write_declaration({**FINAL, "importer_of_record": importer, "consignee": {"name": importer["name"]}})
    db = tmp_path / "fba.db"
    assert run_cli("gate", path, "--db", db).exit_code == 1  # IOR_NOMINAL: not the seller, no sale
    run_cli("release", "FBA17KYOTO02", "--code", "IOR_NOMINAL", "--reason", "broker confirmed", "--by", "x", "--db", db)
    final = documents(run_cli, tmp_path, "--file", path)
    assert final.exit_code == 0, final.stderr
    text = "\n".join(pages_text(tmp_path / "out" / "FBA17KYOTO02-invoice.pdf"))
    assert "NOTACCEPTABLE" not in text
    importer_box = text.split("Importerofrecord/輸入者")[1].split("Attorneyforcustoms")[0]
    consignee = text.split("Consignee/荷受人")[1].split("Deliveryaddressonly")[0]
    assert "HanaImportPartnersK.K.1-2-3Marunouchi" in importer_box and "HanaImportPartnersK.K." in consignee
    assert squeeze("Duty and tax paid by / 関税・消費税の納付者 Hana Import Partners K.K.") in text


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_invoice_data_reads_back_through_gate_with_the_same_verdict_and_values(run_cli, tmp_path, example, fmt):
    source = run_cli("gate", EXAMPLES / example, "--output", "json", "--db", tmp_path / "a.db")
    written = documents(run_cli, tmp_path, "--file", EXAMPLES / example, "--format", fmt, "--draft")
    assert written.exit_code in (0, 1), written.stderr
    [path] = [Path(p) for p in written.stdout.split()]
    back = run_cli("gate", path, "--output", "json", "--db", tmp_path / "b.db")
    assert back.exit_code == source.exit_code, back.stderr
    before, after = (json.loads(r.stdout)["results"][0] for r in (source, back))
    for key in ("shipment_id", "verdict", "input_sha256", "valuation"):
        assert after[key] == before[key], key
    assert [(f["code"], f["sku"]) for f in after["findings"]] == [(f["code"], f["sku"]) for f in before["findings"]]


def test_edited_invoice_csv_is_refused_naming_row_and_column(run_cli, tmp_path):
    written = documents(run_cli, tmp_path, "--file", EXAMPLES / "tokyo-tea-annotated.json", "--format", "csv", "--draft")
    path = Path(written.stdout.split()[0])
    rows = list(csv.reader(path.open(encoding="utf-8")))
    rows[1][rows[0].index("item.line_value")] = "1.00"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    result = run_cli("gate", path, "--db", tmp_path / "c.db")
    assert result.exit_code == 3
    assert f"{path}: row 2: item.line_value: 1.00 is not item.quantity × item.unit_value" in result.stderr


@pytest.mark.parametrize("edit, says", [
    # a line value that is not a number is an edit too, not a cell to skip
    (lambda header, row: row.__setitem__(header.index("item.line_value"), "abc"),
     "row 2: item.line_value: abc is not item.quantity × item.unit_value"),
    # a row cut short (a half-copied file) must not lose its last shipment columns silently
    (lambda header, row: row.__delitem__(slice(header.index("fx_rates"), None)),
     "row 2: fx_rates: fewer cells than header"),
])
def test_a_tampered_or_truncated_invoice_csv_row_is_refused(run_cli, tmp_path, write_declaration, edit, says):
    written = documents(run_cli, tmp_path, "--file", write_declaration(FINAL), "--format", "csv")
    assert written.exit_code == 0, written.stderr
    path = Path(written.stdout.split()[0])
    rows = list(csv.reader(path.open(encoding="utf-8")))
    edit(rows[0], rows[1])
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    result = run_cli("gate", path, "--db", tmp_path / "c.db")
    assert result.exit_code == 3, result.stdout
    assert says in result.stderr


def test_500_lines_long_descriptions_and_characters_outside_the_font(run_cli, tmp_path, write_declaration):
    items = [{"msku": f"SKU-{n:04d}", "title": f"Item {n} 木製の櫛 🍵 \u200bz\u0301", "quantity": n,
              "unit_value": "1.25", "hs_code": "9615.19", "origin_country": "CN", "duty_rate": "5.3"}
             for n in range(1, 501)]
    items[7]["title"] = "Very long description, " + "手作りの木製品 handmade wooden goods " * 400
    path = write_declaration({**FINAL, "licences": [], "boxes": [], "items": items}, "big.json")
    result = documents(run_cli, tmp_path, "--file", path)
    assert result.exit_code == 0, result.stderr
    pages = pages_text(tmp_path / "out" / "FBA17KYOTO02-invoice.pdf")
    assert len(pages) > 10
    text = "".join(pages)
    assert "SKU-0500" in text and "Item500木製の櫛〓" in text
    assert "🍵" not in text and "\u200b" not in text
    assert f"USD{sum(n for n in range(1, 501)) * 1.25:,.2f}" in text
    assert text.count("handmadewoodengoods") >= 400  # the whole description is printed, after the table
    packing = "".join(pages_text(tmp_path / "out" / "FBA17KYOTO02-packing-list.pdf"))
    assert "…(theinvoicehasitwhole#8)" in packing  # cut in the packing list, and it says so
    for number, page in enumerate(pages, 1):
        assert f"頁{number}/{len(pages)}" in page


def test_verify_says_issued_from_which_screening_and_whether_current(run_cli, tmp_path, write_declaration):
    path = write_declaration(FINAL)
    documents(run_cli, tmp_path, "--file", path)
    invoice = tmp_path / "out" / "FBA17KYOTO02-invoice.pdf"
    ok = run_cli("documents", "--verify", invoice, "--db", tmp_path / "fba.db")
    answer = json.loads(ok.stdout)
    assert ok.exit_code == 0 and answer["issued"] and answer["current"] and answer["kind"] == "invoice"
    assert "from screening #1, current" in ok.stderr
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(invoice.read_bytes() + b"\n")
    assert run_cli("documents", "--verify", tampered, "--db", tmp_path / "fba.db").exit_code == 3
    write_declaration({**FINAL, "freight": "999.00"})
    run_cli("gate", path, "--db", tmp_path / "fba.db")
    stale = run_cli("documents", "--verify", invoice, "--db", tmp_path / "fba.db")
    assert stale.exit_code == 1 and json.loads(stale.stdout)["input_changed"] is True
    assert "SUPERSEDED by screening #2 (the declaration changed)" in stale.stderr


def test_html_documents_are_bilingual_and_escaped(run_cli, tmp_path, write_declaration):
    data = json.loads(json.dumps(FINAL))
    data["items"][1]["title"] = "<script>alert(1)</script> comb"
    result = documents(run_cli, tmp_path, "--file", write_declaration(data), "--format", "html")
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "out" / "FBA17KYOTO02-invoice.html").read_text(encoding="utf-8")
    assert "Commercial invoice (for customs purposes) / 仕入書" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; comb" in html and "<script>" not in html


def test_the_fonts_cover_every_label():
    from fontTools.ttLib import TTFont

    from fba_jp.documents.labels import all_label_text
    from fba_jp.documents.pdf import font_characters, font_path

    with font_path("Bold").open("rb") as handle:
        bold = set(TTFont(handle, lazy=True).getBestCmap())
    assert {c for c in all_label_text() if ord(c) not in bold} == set()
    assert all(ord(c) in font_characters() for c in "株式会社㈱①ｱｲｳ髙﨑Äé€¥—「」")
    from fba_jp.documents.pdf import printable

    assert printable("Łódź Škoda İzmir ｶﾌﾞｼｷ 🍵\u200b") == "Lódz Skoda Izmir ｶﾌﾞｼｷ 〓"


def test_unknown_shipment_and_bad_usage(run_cli, tmp_path):
    from fba_jp.store import Store

    Store(tmp_path / "fba.db").close()
    unknown = documents(run_cli, tmp_path, "FBA-NOPE")
    assert unknown.exit_code == 3 and "FBA-NOPE: no screened shipment with this id" in unknown.stderr
    assert documents(run_cli, tmp_path).exit_code == 2


def test_a_stored_shipment_gets_documents_without_its_accounts_config_and_no_database_is_created(run_cli, tmp_path):
    """README: `fba-jp documents FBA15HD0001A --db fba-jp-demo.db` — the demo's accounts are in no config file."""
    from fba_jp.config import Config
    from fba_jp.models import Declaration
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener
    from fba_jp.store import Store

    config = Config.model_validate({"accounts": [{"name": "kyoto", "seller": FINAL["seller"]}]})
    with Store(tmp_path / "fba.db") as store:  # as the sync screens it: the profile is in the declaration
        Screener(get_plugins(), config, store).screen(Declaration.model_validate(FINAL), "spapi:kyoto/wf/sh", "kyoto")
    written = documents(run_cli, tmp_path, "FBA17KYOTO02")
    assert written.exit_code == 0, written.stderr
    text = "".join(pages_text(tmp_path / "out" / "FBA17KYOTO02-invoice.pdf"))
    assert "KyotoBotanicaInc." in text and "27C0X10999" in text  # the importer and the MAH licence
    missing = run_cli("documents", "FBA17KYOTO02", "--draft", "--db", tmp_path / "nope.db")
    assert missing.exit_code == 3 and "nope.db: no such database" in missing.stderr
    assert not (tmp_path / "nope.db").exists()


def test_synced_shipments_carry_amazons_fc_as_delivery_address_only():
    from fba_jp.declarations import delivery_address

    shipment = {"destination": {"warehouseId": "NRT5", "address": {
        "name": "Amazon.co.jp NRT5", "addressLine1": "2-4-1 Kaihin", "city": "Ichikawa", "countryCode": "JP",
        "postalCode": "272-0013", "stateOrProvinceCode": "Chiba"}}}
    assert delivery_address(shipment) == {"name": "Amazon.co.jp NRT5", "fc_code": "NRT5", "country": "JP",
                                          "address": "2-4-1 Kaihin, Ichikawa, Chiba 272-0013"}
    assert delivery_address({"destination": "NRT5"}) is None  # off the model: no address rather than a guess


def test_the_report_links_the_documents_issued_from_each_shipments_latest_screening(run_cli, tmp_path, write_declaration):
    path = write_declaration(FINAL)
    assert documents(run_cli, tmp_path, "--file", path, "--format", "html").exit_code == 0
    (tmp_path / "reports").mkdir()
    report = tmp_path / "reports" / "report.html"
    assert run_cli("report", "--html", report, "--db", tmp_path / "fba.db", "--output", "json").exit_code == 0
    html = report.read_text(encoding="utf-8")
    assert 'href="../out/FBA17KYOTO02-invoice.html" download>invoice (HTML)</a>' in html
    write_declaration({**FINAL, "freight": "999.00"})  # a new screening: the old paper is no longer its document
    run_cli("gate", path, "--db", tmp_path / "fba.db")
    run_cli("report", "--html", report, "--db", tmp_path / "fba.db", "--output", "json")
    assert "FBA17KYOTO02-invoice.html" not in report.read_text(encoding="utf-8")


def test_the_dashboard_offers_each_document_as_a_download_within_the_users_scope(run_cli, tmp_path, write_declaration):
    import re
    import warnings

    pytest.importorskip("starlette")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    from fba_jp.config import load_config
    from fba_jp.web.app import create_app
    from fba_jp.web.harness import serve_users

    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "kyoto"\nseller = { name = "Kyoto Botanica Inc.", country = "US" }\n'
                      '[[accounts]]\nname = "other"\nseller = { name = "Other Co.", country = "US" }\n'
                      + serve_users("pw-horse", {"vera": ("viewer", ["kyoto"]), "otto": ("viewer", ["other"])}),
                      encoding="utf-8")
    db = tmp_path / "fba.db"
    assert run_cli("gate", write_declaration(FINAL), "--config", config, "--db", db).exit_code == 0
    site = TestClient(create_app(load_config(config), str(db)), base_url="http://127.0.0.1", follow_redirects=False)

    def login(name):
        csrf = re.search(r'name="csrf" value="([^"]+)"', site.get("/login").text).group(1)
        site.post("/login", data={"name": name, "password": "pw-horse", "csrf": csrf, "next": "/shipments"})

    login("vera")
    page = site.get("/shipments/FBA17KYOTO02").text
    assert 'href="/shipments/FBA17KYOTO02/documents/invoice.pdf"' in page
    pdf = site.get("/shipments/FBA17KYOTO02/documents/invoice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="FBA17KYOTO02-invoice.pdf"' in pdf.headers["content-disposition"]
    (tmp_path / "got.pdf").write_bytes(pdf.content)
    assert "KyotoBotanicaInc." in "".join(pages_text(tmp_path / "got.pdf"))
    verified = run_cli("documents", "--verify", tmp_path / "got.pdf", "--db", db)
    assert verified.exit_code == 0, verified.stderr  # recorded like any issued document
    assert site.get("/shipments/FBA17KYOTO02/documents/nonsense.pdf").status_code == 404
    site.post("/logout", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})
    login("otto")
    assert site.get("/shipments/FBA17KYOTO02/documents/invoice.pdf").status_code == 404  # not their account


def test_a_premium_rate_not_yet_worked_out_is_not_printed_as_nothing_added():
    """Without a valuation (a draft of a shipment that could not be valued), insurance at a premium rate is
    a rate, not "0 (加算なし)", and the CIF total is not shown as if it were known."""
    from fba_jp.documents.build import _totals
    from fba_jp.testing import make_declaration

    insurance = {"kind": "insurance", "rate_percent": "0.35", "basis": "policy OC-2026-0415, 0.35 % of 110 %"}
    declaration = make_declaration(freight=None, insurance=None, costs=[insurance])
    rows = dict(_totals(declaration, [], None))
    assert rows["insurance"] == "0.35 % (amount not worked out 未算出) — policy OC-2026-0415, 0.35 % of 110 %"
    assert rows["cif_total"] == "see the customs value (costs in another currency or unknown)"


def _screened_with_a_registered_acp(run_cli, tmp_path, write_declaration, shipment_id):
    """A database where ``shipment_id`` was screened with ACP ``sak`` registered: it may ship."""
    data = declaration_data(acp=None, acp_id="sak", shipment_id=shipment_id)
    data["importer_of_record"]["address"] = "1 Main St, Springfield, US"
    db = tmp_path / "d.db"
    assert run_cli("acp", "add", "sak", "--name", "Sakura K.K.", "--status", "registered", "--accepted-on", "2026-09-01",
                   "--address", "Tokyo 1-1", "--customs-office", "Tokyo", "--db", db).exit_code == 0
    assert run_cli("gate", write_declaration(data), "--db", db, "-o", "json").exit_code == 0
    return db

def test_no_final_documents_from_a_stored_cleared_verdict_that_no_longer_holds(run_cli, tmp_path, write_declaration):
    """The stored screening said cleared, then the ACP's registration was revoked: screening the same
    declaration now blocks (ACP_REVOKED), so `documents SHIPMENT_ID` must not issue final papers from the
    stored verdict; the new screening is recorded."""
    db = _screened_with_a_registered_acp(run_cli, tmp_path, write_declaration, "FBA15DOC1")
    assert run_cli("documents", "FBA15DOC1", "--db", db, "--out", tmp_path / "before").exit_code == 0  # final, then
    assert run_cli("acp", "set-status", "sak", "revoked", "--db", db).exit_code == 0
    refused = run_cli("documents", "FBA15DOC1", "--db", db, "--out", tmp_path / "after")
    assert refused.exit_code == 1 and "ACP_REVOKED" in refused.stderr
    assert not (tmp_path / "after").exists() or not list((tmp_path / "after").iterdir())
    with Store(db) as store:
        assert [r["verdict"] for r in store.rows("select verdict from screenings order by id")] == ["annotated", "blocked"]


def test_the_dashboard_gives_no_final_documents_from_a_stored_cleared_verdict_that_no_longer_holds(
        run_cli, tmp_path, write_declaration):
    """As `documents SHIPMENT_ID`: the ACP was revoked after the screening let it ship, so the download is the
    watermarked draft listing ACP_REVOKED, and the new screening is recorded."""
    import re
    import warnings

    pytest.importorskip("starlette")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    from fba_jp.config import load_config
    from fba_jp.web.app import create_app
    from fba_jp.web.harness import serve_users

    config = tmp_path / "config.toml"
    config.write_text(serve_users("pw-horse", {"vera": ("viewer", None)}), encoding="utf-8")
    db = _screened_with_a_registered_acp(run_cli, tmp_path, write_declaration, "FBA15DOC2")
    site = TestClient(create_app(load_config(config), str(db)), base_url="http://127.0.0.1", follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', site.get("/login").text).group(1)
    site.post("/login", data={"name": "vera", "password": "pw-horse", "csrf": csrf, "next": "/shipments"})
    final = site.get("/shipments/FBA15DOC2/documents/invoice.pdf")
    assert final.status_code == 200 and "DRAFT" not in final.headers["content-disposition"]
    assert run_cli("acp", "set-status", "sak", "revoked", "--db", db).exit_code == 0
    draft = site.get("/shipments/FBA15DOC2/documents/invoice.pdf")
    assert draft.status_code == 200 and "DRAFT" in draft.headers["content-disposition"]
    (tmp_path / "draft.pdf").write_bytes(draft.content)
    assert "ACP_REVOKED" in "".join(pages_text(tmp_path / "draft.pdf"))
    with Store(db) as store:
        verdicts = [v for (v,) in store.conn.execute(
            "select verdict from screenings where shipment_id = 'FBA15DOC2' order by id")]
    assert verdicts == ["annotated", "blocked"]
