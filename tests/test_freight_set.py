"""``fba-jp freight set``: the actual invoice of a synced shipment, audited (append-only), screened again."""

import json

import pytest

from fba_jp.app import App

CONFIG = """[[accounts]]
name = "acme"
seller = { name = "Acme Trading K.K.", country = "JP", japan_resident = true }
importer_of_record = { name = "Acme Trading K.K." }
products = "products.csv"
currency = "JPY"
[accounts.freight]
method = "invoice"
[accounts.valuation]
method = "fallback"
reference = "TKC-2026-0400"
agreed_on = 2026-10-01
basis = "the manufacturer's price plus the actual freight and insurance to Narita"
"""


@pytest.fixture
def synced(tmp_path):
    """One synced shipment of an account whose freight is known only from the actual invoice."""
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "products.csv").write_text("msku,title,hs_code,unit_value,currency,origin_country,duty_rate\n"
                                           "TENT,Tent,6306.22,5800,JPY,CN,4.5\n", encoding="utf-8")
    app = App(str(tmp_path / "config.toml"), str(tmp_path / "fba_jp.db"))
    shipment = {"shipmentId": "sh1", "shipmentConfirmationId": "FBA15INV", "status": "READY_TO_SHIP"}
    with app.store.write():
        app.store.db["spapi_shipments"].insert({
            "spapi_shipment_id": "sh1", "shipment_id": "FBA15INV", "inbound_plan_id": "wf1", "account": "acme",
            "status": "READY_TO_SHIP", "shipment": json.dumps(shipment), "boxes": "[]",
            "items": json.dumps([{"msku": "TENT", "quantity": 10}]),
            "first_seen_at": "2026-12-01T00:00:00+00:00", "fetched_at": "2026-12-01T00:00:00+00:00"})
    app.store.close()
    return ("--config", tmp_path / "config.toml", "--db", tmp_path / "fba_jp.db")


def test_the_actual_invoice_values_the_freight_is_audited_and_screened_again(synced, run_cli):
    before = run_cli("screen", *synced, "--output", "json")
    [first] = json.loads(before.stdout)["results"]
    assert first["verdict"] == "annotated" and "VAL_FREIGHT_UNKNOWN" in [f["code"] for f in first["findings"]]
    assert first["valuation"]["customs_value_jpy"] == 58_000 and not first["valuation"]["complete"]

    result = run_cli("freight", "set", "FBA15INV", "--amount", "12,400", "--currency", "JPY", "--insurance", "310",
                     "--invoice", "SAC-2026-1188", "--date", "2026-11-28", "--by", "kenji@acme.example",
                     *synced, "--output", "json")
    assert result.exit_code == 0, result.stderr
    assert "recorded freight invoice SAC-2026-1188 for FBA15INV" in result.stderr
    [after] = json.loads(result.stdout)["results"]
    assert after["verdict"] == "cleared" and after["valuation"]["complete"]
    assert after["valuation"]["customs_value_jpy"] == 58_000 + 12_400 + 310
    freight, insurance = after["valuation"]["costs"]
    assert freight["basis"] == "actual freight invoice SAC-2026-1188 of 2026-11-28" and freight["yen"] == "12400"
    assert "`fba-jp freight set` by kenji@acme.example" in freight["source"] and insurance["yen"] == "310"
    assert after["screening_id"] != first["screening_id"]  # a new screening, the old one kept

    # a corrected invoice is a new row: the audit trail keeps both, the last one counts
    again = run_cli("freight", "set", "FBA15INV", "--amount", "12900", "--currency", "JPY", "--invoice", "SAC-2026-1188R",
                    "--date", "2026-11-30", "--by", "kenji@acme.example", "--note", "re-weighed at Narita", *synced,
                    "--output", "json")
    assert json.loads(again.stdout)["results"][0]["valuation"]["customs_value_jpy"] == 58_000 + 12_900
    history = json.loads(run_cli("freight", "list", "FBA15INV", *synced).stdout)
    assert [(h["invoice"], h["freight"], h["insurance"], h["by"]) for h in history] == [
        ("SAC-2026-1188", "12400", "310", "kenji@acme.example"),
        ("SAC-2026-1188R", "12900", None, "kenji@acme.example")]
    assert history[1]["note"] == "re-weighed at Narita"


@pytest.mark.parametrize("args, line", [
    (["NOPE", "--amount", "1", "--currency", "JPY"], "NOPE: no shipment synced from SP-API has this id"),
    (["FBA15INV", "--amount", "-5", "--currency", "JPY"], "--amount: must be an amount of 0 or more"),
    (["FBA15INV", "--amount", "5", "--currency", "YEN"], "--currency: must be an ISO 4217 currency code"),
    (["FBA15INV", "--amount", "5"], "--currency: required with the amount"),
    (["FBA15INV"], "freight set: give --amount (the freight) and/or --insurance"),
])
def test_bad_input_is_one_line_exit_3_and_nothing_is_recorded(synced, run_cli, args, line):
    result = run_cli("freight", "set", *args, "--invoice", "X-1", "--date", "2026-11-28", "--by", "kenji", *synced)
    assert result.exit_code == 3
    assert result.stderr.strip().startswith(line)
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(run_cli("freight", "list", "FBA15INV", *synced).stdout) == []
