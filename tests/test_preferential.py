"""EPA preferential duty rates: charged only with the proof of origin the agreement requires; otherwise MFN, with
a warning naming the proof and the yen at stake. Bad product-master rows: one line, file row column, exit 3."""

import json
from decimal import Decimal

import pytest

from fba_jp.products import load_products
from fba_jp.testing import declaration_data, screen


def tee(**fields):
    # 1,000 × $10 × 150.25 = ¥1,502,500 → duty base ¥1,502,000
    return {"msku": "TEE", "quantity": 1000, "unit_value": "10", "hs_code": "6109.10", "origin_country": "CN",
            "duty_rate": "10.9", "preferential_agreement": "RCEP", "preferential_rate": "5.4"} | fields


PROOF = {"agreement": "RCEP", "kind": "certificate_of_origin", "number": "CO-2026-CN-0042", "issued_on": "2026-11-20"}


def duty_of(result):
    return {line.skus[0]: (str(line.duty_rate), line.duty_jpy) for line in result.valuation.lines}


def test_the_preferential_rate_applies_with_a_valid_proof_of_origin():
    result = screen(declaration_data(items=[tee()], origin_proofs=[PROOF]))
    assert duty_of(result) == {"TEE": ("5.4", 81_100)}  # ¥1,502,000 × 5.4 % = ¥81,108 → ¥81,100
    [sheet] = result.valuation.model_extra["preferential"]
    assert sheet["applied"] and sheet["proof"]["number"] == "CO-2026-CN-0042" and sheet["mfn_rate"] == "10.9"
    line = result.valuation.lines[0]
    assert line.model_extra["duty_rate_source"].startswith("Regional Comprehensive Economic Partnership (RCEP) "
                                                           "preferential rate, proof of origin CO-2026-CN-0042")
    assert "VAL_EPA_PROOF_MISSING" not in result.codes


@pytest.mark.parametrize("proofs, why", [
    ([], "none is held for this SKU"),
    ([PROOF | {"skus": ["OTHER"]}], "none is held for this SKU"),
    ([PROOF | {"kind": "statement_on_origin"}], "CO-2026-CN-0042 is a statement on origin, which RCEP does not accept"),
    ([PROOF | {"issued_on": "2025-11-01"}], "was issued on 2025-11-01, more than 12 months before 2026-12-07"),
    ([PROOF | {"valid_until": "2026-12-01"}], "CO-2026-CN-0042 expired on 2026-12-01"),
])
def test_without_a_valid_proof_the_mfn_rate_applies_and_the_warning_says_what_it_costs(proofs, why):
    result = screen(declaration_data(items=[tee()], origin_proofs=proofs))
    assert duty_of(result) == {"TEE": ("10.9", 163_700)}  # the MFN rate: ¥163,718 → ¥163,700
    warning = result.finding("VAL_EPA_PROOF_MISSING")
    assert warning.severity == "warn" and warning.sku == "TEE" and why in warning.message
    # ¥163,700 at 10.9 % less ¥81,100 at 5.4 %
    assert "the duty would be about ¥82,600 lower" in warning.message
    assert "a certificate of origin issued by the exporting country's authority" in warning.remedy
    assert result.verdict == "annotated"


@pytest.mark.parametrize("issued, declared, valid", [
    ("2027-03-01", "2028-03-01", True),   # 12 months to the day, across 29 February 2028 (366 days)
    ("2027-03-01", "2028-03-02", False),
    ("2028-02-29", "2029-02-28", True),   # no 29 February in 2029: the period ends with February
    ("2028-02-29", "2029-03-01", False),
])
def test_a_proof_is_valid_for_12_calendar_months_from_issue(issued, declared, valid):
    result = screen(declaration_data(items=[tee()], declaration_date=declared,
                                     origin_proofs=[PROOF | {"issued_on": issued}]))
    assert ("VAL_EPA_PROOF_MISSING" not in result.codes) is valid
    assert duty_of(result)["TEE"][0] == ("5.4" if valid else "10.9")


def test_proofs_held_by_the_account_reach_its_synced_declarations(tmp_path):
    from datetime import date

    from fba_jp.config import AccountConfig
    from fba_jp.declarations import SyncedShipment, build_declaration

    (tmp_path / "products.csv").write_text(PRODUCTS + "TEE,T-shirt,6109.10,10,USD,CN,10.9,,,RCEP,5.4\n", encoding="utf-8")
    account = AccountConfig.model_validate({"name": "a", "seller": {"name": "Acme Trading LLC"}, "currency": "USD",
                                            "origin_proofs": [PROOF]})
    synced = SyncedShipment("a", "wf1", "sh1", {"shipmentId": "sh1", "shipmentConfirmationId": "FBA15TEE"},
                            [{"msku": "TEE", "quantity": 1000}], date(2026, 12, 7))
    declaration = build_declaration(synced, account, load_products(tmp_path / "products.csv", "products.csv"), {})
    assert declaration.origin_proofs[0].number == "CO-2026-CN-0042"
    assert str(declaration.items[0].preferential_rate) == "5.4" and declaration.items[0].preferential_agreement == "RCEP"
    result = screen(declaration.model_copy(update={"fx_rates": {"USD": Decimal("150.25")}}))
    assert duty_of(result) == {"TEE": ("5.4", 81_100)}


def test_a_declared_preferential_rate_needs_a_known_agreement_and_cannot_exceed_mfn(write_declaration):
    from fba_jp.errors import InputError
    from fba_jp.inputs import read_declaration

    for fields, line in [
        ({"preferential_agreement": "ASEAN+99"}, "items[0].preferential_agreement: unknown agreement 'ASEAN+99'"),
        ({"preferential_agreement": None}, "items[0].preferential_rate: a preferential rate needs its agreement"),
        ({"preferential_rate": "20"}, "items[0].preferential_rate: 20% is above the MFN duty_rate 10.9%"),
    ]:
        item = {k: v for k, v in tee(**fields).items() if v is not None}
        path = write_declaration(declaration_data(items=[item]))
        with pytest.raises(InputError) as error:
            read_declaration(str(path))
        assert error.value.lines[0].startswith(f"{path}: {line}")


PRODUCTS = ("msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories,production_unit_cost,"
            "preferential_agreement,preferential_rate\n")


@pytest.mark.parametrize("row, line", [
    ("MAT,Mat,9506.91,11.50,USD,CN,0,,-3,,", "products.csv:2: production_unit_cost: input should be greater than or "
                                             "equal to 0 (got '-3')"),
    ("MAT,Mat,9506.91,11.50,XYZ,CN,0,,,,", "products.csv:2: currency: must be an ISO 4217 currency code such as USD, "
                                           "EUR or JPY (got 'XYZ')"),
    ("TEA,Tea,0902.10,10,USD,CN,17,,,,8.5", "products.csv:2: preferential_rate: a preferential rate needs its agreement"),
    ("TEA,Tea,0902.10,10,USD,CN,17,,,RCEP,20", "products.csv:2: preferential_rate: 20% is above the MFN duty_rate 17%"),
])
def test_bad_product_rows_are_one_line_naming_file_row_and_column(tmp_path, row, line):
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS + row + "\n", encoding="utf-8")
    master = load_products(path, name="products.csv")
    [errors] = master.errors.values()
    assert errors == [line] or errors[0].startswith(line)


def test_fba_jp_screen_exits_3_on_a_bad_product_row_and_still_screens_the_rest(tmp_path, run_cli):
    from fba_jp.app import App

    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "acme"\nseller = { name = "Acme" }\nproducts = "products.csv"\n'
                      'currency = "JPY"\n', encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS + "MAT,Mat,9506.91,11.50,XYZ,CN,0,,,,\n"
                                           "TENT,Tent,6306.22,5800,JPY,CN,4.5,,,,\n", encoding="utf-8")
    app = App(str(config), str(tmp_path / "fba_jp.db"))
    shipment = {"shipmentId": "sh1", "shipmentConfirmationId": "FBA15OK", "status": "WORKING"}
    with app.store.write():
        app.store.db["spapi_shipments"].insert({
            "spapi_shipment_id": "sh1", "shipment_id": "FBA15OK", "inbound_plan_id": "wf1", "account": "acme",
            "status": "WORKING", "shipment": json.dumps(shipment),
            "items": json.dumps([{"msku": "TENT", "quantity": 2}]), "boxes": "[]",
            "first_seen_at": "2026-12-01T00:00:00+00:00", "fetched_at": "2026-12-01T00:00:00+00:00"})
    app.store.close()
    result = run_cli("screen", "--config", config, "--db", tmp_path / "fba_jp.db", "--output", "json")
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if "products.csv" in line]
    assert lines == ["fba-jp: account 'acme': products.csv:2: currency: must be an ISO 4217 currency code such as "
                     "USD, EUR or JPY (got 'XYZ')"]
    [screened] = json.loads(result.stdout)["results"]
    assert screened["shipment_id"] == "FBA15OK" and screened["valuation"] is not None
