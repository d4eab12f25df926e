"""Freight to the Japanese port: chargeable weight from boxes, the account's freight terms, quotes, and how
a declaration's ``costs`` are converted and shared among the items — every figure checked by hand."""

from decimal import Decimal
from fractions import Fraction

import pytest

from fba_jp.config import AccountConfig, load_config
from fba_jp.errors import ConfigError
from fba_jp.freight import chargeable_weight, freight_cost, load_quotes
from fba_jp.models import Box
from fba_jp.testing import declaration_data, screen

ACCOUNT = {"name": "acme", "seller": {"name": "Acme Trading LLC"}}


def account(**freight):
    return AccountConfig.model_validate({**ACCOUNT, **({"freight": freight} if freight else {})})


def boxes(*specs):
    """(box id, count, gross kg, (l, w, h) cm, contents) → Box models."""
    return [Box.model_validate({"box_id": b, "count": n, "weight": {"value": kg, "unit": "KG"},
                                "dimensions": {"length": d[0], "width": d[1], "height": d[2], "unit": "CM"},
                                "contents": [{"msku": m, "quantity": q} for m, q in contents]})
            for b, n, kg, d, contents in specs]


HINODE = boxes(("U1", 5, "18.2", (45, 32, 30), [("NOTEBOOK", 100)]), ("U2", 1, "9.1", (40, 30, 30), [("PEN", 1000)]))


def test_chargeable_weight_is_the_greater_of_gross_and_volumetric_per_box_rounded_up():
    # U1: gross 18.2 → 18.5; 43,200 cm³ ÷ 5000 = 8.64 → 9; chargeable 18.5 × 5 = 92.5
    # U2: gross 9.1 → 9.5; 36,000 cm³ ÷ 5000 = 7.2 → 7.5; chargeable 9.5. Total 102 kg.
    kg, lines = chargeable_weight(HINODE, 5000, Decimal("0.5"))
    assert kg == Decimal("102")
    assert lines[0] == ("U1 × 5: gross 18.2 KG → 18.5 kg; 45 × 32 × 30 cm = 43,200 cm³ ÷ 5000 → 9 kg; "
                        "chargeable 18.5 kg × 5 = 92.5 kg")
    # a light, bulky carton is charged by volume: 60 × 50 × 50 = 150,000 cm³ ÷ 6000 = 25 kg > 4 kg
    bulky = boxes(("B", 1, "3.6", (60, 50, 50), []))
    assert chargeable_weight(bulky, 6000, Decimal("0.5"))[0] == Decimal("25")
    # pounds and inches convert exactly: 16.5 lb = 7.484274105 kg → 7.5; 1 in³ = 16.387064 cm³
    imperial = [Box.model_validate({"box_id": "I", "weight": {"value": "16.5", "unit": "LB"},
                                    "dimensions": {"length": 20, "width": 20, "height": 20, "unit": "IN"}})]
    kg, [line] = chargeable_weight(imperial, 5000, Decimal("0.5"))
    assert kg == Decimal("26.5")  # 8,000 in³ = 131,096.512 cm³ ÷ 5000 = 26.219… → 26.5
    assert "16.5 LB = 7.484274105 kg → 7.5 kg" in line and "131,096.512 cm³" in line


def test_rate_per_chargeable_kg_with_its_basis_source_and_date():
    cost = freight_cost(account(method="rate_per_kg", rate="450", currency="JPY", volumetric_divisor=5000,
                                source="courier contract", as_of="2026-10-01", allocation="weight"),
                        ("FBA15X",), HINODE, "boxes: listShipmentBoxes")
    assert cost["amount"] == Decimal("45900") and cost["currency"] == "JPY" and cost["allocation"] == "weight"
    assert cost["basis"].startswith("450 JPY per chargeable kg × 102 kg = 45,900 JPY")
    assert cost["source"] == "[accounts.freight] of account 'acme': courier contract; boxes: listShipmentBoxes"
    assert str(cost["as_of"]) == "2026-10-01" and len(cost["detail"]) == 2


def test_per_box_and_per_shipment():
    per_box = freight_cost(account(method="per_box", amount="38.00", currency="USD"), ("S",), HINODE, "b")
    assert per_box["amount"] == Decimal("228") and "38.00 USD per box × 6 boxes" in per_box["basis"]
    fixed = freight_cost(account(method="per_shipment", amount="500", currency="USD"), ("S",), [], "b")
    assert fixed["amount"] == Decimal("500") and fixed["basis"] == "500 USD per shipment"


@pytest.mark.parametrize("terms, boxes_given, missing", [
    ({}, HINODE, "account 'acme' does not say how freight to the Japanese port is known ([accounts.freight] is not set)"),
    ({"method": "rate_per_kg", "rate": "450", "currency": "JPY", "volumetric_divisor": 5000}, [],
     "Amazon has no box data for this shipment yet; set the box weights and dimensions in Seller Central"),
    ({"method": "rate_per_kg", "rate": "450", "currency": "JPY", "volumetric_divisor": 5000},
     [Box(box_id="U9", weight={"value": 2, "unit": "KG"})], "box U9 has no dimensions in Amazon's box data"),
    ({"method": "per_box", "amount": "10", "currency": "USD"}, [], "so the boxes cannot be counted"),
    ({"method": "invoice"}, HINODE, "none has been entered for this shipment yet; enter the freight invoice with "
                                    "`fba-jp freight set"),
])
def test_freight_that_cannot_be_known_says_what_is_missing(terms, boxes_given, missing):
    cost = freight_cost(account(**terms), ("FBA15X",), boxes_given, "b")
    assert "amount" not in cost and missing in cost["missing"]


def test_an_actual_invoice_overrides_the_configured_method():
    invoice = {"freight": Decimal("41000"), "freight_currency": "JPY", "invoice": "INV-7", "invoiced_on": "2026-11-30",
               "by": "kenji", "created_at": "2026-12-01T02:00:00+00:00"}
    cost = freight_cost(account(method="invoice"), ("FBA15X",), [], "b", invoice=invoice)
    assert cost["amount"] == Decimal("41000") and cost["basis"] == "actual freight invoice INV-7 of 2026-11-30"
    assert "kenji" in cost["source"] and cost["as_of"] == "2026-11-30"


def test_quotes_by_fba_id_or_amazon_shipment_id_and_bad_rows_named_by_file_row_and_column(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text("shipment_id,amount,currency,quoted_on,reference\n"
                    "FBA15AAA,612.00,USD,2026-11-18,HF-1183\n"
                    "sh-bbb,1200,JPY,2026-11-19,\n"
                    "FBA15CCC,-3,usd,2026-02-30,X\n", encoding="utf-8")
    quotes = load_quotes(path, "quotes.csv")
    assert quotes.errors == [
        "quotes.csv:4: amount: must be a decimal number of 0 or more (got '-3')",
        "quotes.csv:4: currency: must be written in capitals: USD (got 'usd')",
        "quotes.csv:4: quoted_on: must be a date YYYY-MM-DD (got '2026-02-30')",
    ]
    terms = account(method="quote_file", quotes="quotes.csv")
    first = freight_cost(terms, ("FBA15AAA", "sh-aaa"), [], "b", quotes=quotes)
    assert first["amount"] == Decimal("612.00") and first["basis"] == "forwarder's quote HF-1183 of 2026-11-18"
    assert first["source"].endswith("quotes.csv:2")
    assert freight_cost(terms, ("FBA15BBB", "sh-bbb"), [], "b", quotes=quotes)["amount"] == Decimal("1200")
    assert "is not valid" in freight_cost(terms, ("FBA15CCC",), [], "b", quotes=quotes)["missing"]
    assert "no quote for FBA15DDD in quotes.csv" in freight_cost(terms, ("FBA15DDD",), [], "b", quotes=quotes)["missing"]


# --------------------------------------------------------------------------- costs in the valuation


def item(msku, quantity, unit_value=None, **fields):
    data = {"msku": msku, "quantity": quantity, "hs_code": "9503.00", "origin_country": "CN", "duty_rate": "0"}
    return data | ({"unit_value": unit_value} if unit_value is not None else {}) | fields


def with_costs(items, costs, boxes_=(), **overrides):
    return declaration_data(items=items, costs=costs, boxes=list(boxes_), **overrides)


FREIGHT_JPY = {"kind": "freight", "amount": "30000", "currency": "JPY", "basis": "quote Q-1", "as_of": "2026-11-20"}
PACKED = [
    {"box_id": "U1", "weight": {"value": 30, "unit": "KG"}, "contents": [{"msku": "A", "quantity": 10}]},
    {"box_id": "U2", "weight": {"value": 10, "unit": "KG"}, "contents": [{"msku": "A", "quantity": 10},
                                                                          {"msku": "B", "quantity": 10}]},
]


@pytest.mark.parametrize("allocation, shares", [
    # A $200 and B $100 declared: two thirds and one third of ¥30,000
    ("value", {"A": Fraction(20000), "B": Fraction(10000)}),
    # A: U1 30 kg + half of U2's 10 kg = 35 kg; B: 5 kg → 7/8 and 1/8
    ("weight", {"A": Fraction(26250), "B": Fraction(3750)}),
    # A 20 units, B 10 units
    ("quantity", {"A": Fraction(20000), "B": Fraction(10000)}),
])
def test_yen_freight_is_shared_by_the_agreed_basis_and_added_at_yen(allocation, shares):
    data = with_costs([item("A", 20, "10"), item("B", 10, "10", hs_code="3304.99")],
                      [FREIGHT_JPY | {"allocation": allocation}], PACKED)
    v = screen(data).valuation
    # goods at $10 × 150.25; the yen freight is added as yen, not converted
    assert {line.skus[0]: line.customs_value_jpy for line in v.lines} == {
        "A": 30_050 + int(shares["A"]), "B": 15_025 + int(shares["B"])}
    sheet = v.model_extra["costs"][0]
    assert sheet["yen"] == "30000" and sheet["basis"] == "quote Q-1" and sheet["as_of"] == "2026-11-20"
    assert sheet["allocated_by"].startswith({"value": "declared value", "weight": "box weight",
                                             "quantity": "quantity"}[allocation])
    assert v.complete


def test_a_cost_in_the_shipment_currency_converts_at_the_customs_rate_exactly():
    # $1 freight shared by thirds over three $1 lines at 3 yen: each line exactly ¥4 (not ¥3.999…)
    costs = [{"kind": "freight", "amount": "1", "currency": "USD", "basis": "b"}]
    data = with_costs([item(m, 1, "1", hs_code=hs) for m, hs in (("A", "9503.00"), ("B", "3304.99"), ("C", "8471.30"))],
                      costs, fx_rates={"USD": "3"})
    assert [line.customs_value_jpy for line in screen(data).valuation.lines] == [4, 4, 4]


def test_deductive_items_carry_no_freight_and_weight_falls_back_to_value_without_box_weights():
    deductive = {"domestic_unit_price_jpy": 5000, "domestic_unit_deductions_jpy": 1000}
    data = with_costs([item("A", 1, "100"), item("B", 1, "100", hs_code="3304.99", valuation=deductive)],
                      [FREIGHT_JPY | {"allocation": "weight"}])
    v = screen(data).valuation
    sheet = v.model_extra["costs"][0]
    assert sheet["shares_jpy"] == {"A": "15000"} and sheet["not_added_for"] == ["B"]
    assert "by weight was asked, but a box lacks its weight or contents" in sheet["allocated_by"]
    assert {line.skus[0]: line.customs_value_jpy for line in v.lines} == {"A": 15_025 + 15_000, "B": 4_000}
    items = {i["sku"]: i for i in v.model_extra["items"]}
    assert items["A"]["costs_share_jpy"] == "15000" and "costs_share_jpy" not in items["B"]


@pytest.mark.parametrize("as_cost", [False, True])
def test_an_item_computed_without_a_unit_value_still_gets_its_share_of_freight(as_cost):
    # B is valued from its production cost ($120) and declares no unit value; A is deductive. The $50 of
    # freight belongs in B's CIF value; it used to be shared by declared value alone, all to A, and dropped.
    deductive = {"domestic_unit_price_jpy": 50000, "domestic_unit_deductions_jpy": 1000}
    computed = {"production_unit_cost": "100", "production_unit_profit_and_expenses": "20"}
    items = [item("A", 1, "100", valuation=deductive), item("B", 1, hs_code="3304.99", valuation=computed)]
    freight = {"kind": "freight", "amount": "50", "currency": "USD", "basis": "quote"}
    data = with_costs(items, [freight]) if as_cost else declaration_data(items=items, freight="50")
    v = screen(data).valuation
    # B: $120 × 150.25 = ¥18,030 + 120/220 of $50 × 150.25 = ¥4,097.72…
    assert {line.skus[0]: line.customs_value_jpy for line in v.lines} == {"A": 49_000, "B": 22_127}
    basis = v.model_extra["costs"][0]["allocated_by"] if as_cost else v.model_extra["additions"]["allocated_by"]
    assert basis == "declared value (the value by its method for an item that declares none)"


def test_unknown_freight_is_a_warning_and_an_incomplete_estimate_never_a_zero():
    unknown = {"kind": "freight", "basis": "unknown", "missing": "no quote for FBA15TEST001; add it to quotes.csv"}
    result = screen(with_costs([item("A", 1, "100")], [unknown]))
    finding = result.finding("VAL_FREIGHT_UNKNOWN")
    assert finding.severity == "warn" and "no quote for FBA15TEST001" in finding.message
    assert finding.remedy == "add it to quotes.csv" and result.verdict == "annotated"
    assert not result.valuation.complete and result.valuation.customs_value_jpy == 15_025


def test_unknown_freight_never_makes_a_small_shipment_exempt():
    # $50 of goods is ¥7,512, under the ¥10,000 limit; with its unknown freight it may not be
    unknown = {"kind": "freight", "basis": "unknown", "missing": "no quote for FBA15TEST001; add it to quotes.csv"}
    result = screen(with_costs([item("A", 1, "50")], [unknown]))
    v = result.valuation
    assert "VAL_SMALL_VALUE_EXEMPT" not in result.codes and not v.small_value_exemption
    assert "cost to the Japanese port is not known" in v.model_extra["small_value"]["reason"]
    assert not v.complete


def test_an_unknown_cost_no_item_adds_leaves_the_estimate_complete():
    # a deductive value stands at the Japanese port: the unknown freight is not part of it
    deductive = {"domestic_unit_price_jpy": 50000, "domestic_unit_deductions_jpy": 1000}
    unknown = {"kind": "freight", "basis": "unknown", "missing": "no quote for FBA15TEST001; add it to quotes.csv"}
    usd_freight = {"kind": "freight", "amount": "50", "currency": "USD", "basis": "quote"}
    for costs, rates in (([unknown], None), ([usd_freight], {})):
        result = screen(with_costs([item("A", 1, "100", valuation=deductive)], costs,
                                   **({"fx_rates": rates} if rates is not None else {})))
        assert result.valuation.complete and result.valuation.total_tax_jpy == 4_800
        assert not {"VAL_FREIGHT_UNKNOWN", "VAL_NO_EXCHANGE_RATE"} & set(result.codes)


def test_a_cost_in_a_third_currency_needs_its_own_customs_rate():
    costs = [{"kind": "freight", "amount": "100", "currency": "EUR", "basis": "invoice"}]
    blocked = screen(with_costs([item("A", 1, "100")], costs))
    assert "EUR" in blocked.finding("VAL_NO_EXCHANGE_RATE").message and not blocked.valuation.complete
    priced = screen(with_costs([item("A", 1, "100")], costs, fx_rates={"USD": "150.25", "EUR": "160.5"}))
    assert priced.valuation.customs_value_jpy == 15_025 + 16_050


@pytest.mark.parametrize("cost, line", [
    ({"kind": "freight", "basis": "b"}, "costs[0]: give exactly one of amount"),
    ({"kind": "freight", "amount": "5", "basis": "b"}, "costs[0]: amount needs its currency"),
    ({"kind": "freight", "amount": "5", "currency": "US$", "basis": "b"}, "costs[0].currency: must be an ISO 4217"),
    ({"kind": "freight", "rate_percent": "0.3", "basis": "b"}, "costs[0]: rate_percent is for insurance premiums only"),
])
def test_costs_off_the_format_are_one_line_each(write_declaration, cost, line):
    from fba_jp.errors import InputError
    from fba_jp.inputs import read_declaration

    path = write_declaration(with_costs([item("A", 1, "1")], [cost]))
    with pytest.raises(InputError) as error:
        read_declaration(str(path))
    assert len(error.value.lines) == 1 and error.value.lines[0].startswith(f"{path}: {line}")



# --------------------------------------------------------------------------- insurance


def test_insurance_at_a_premium_rate_is_worked_out_in_yen_on_goods_plus_freight():
    # goods $200 × 150.25 = ¥30,050; freight ¥30,000; premium 0.3 % of 110 % of ¥60,050 = ¥198.165
    insurance = {"kind": "insurance", "rate_percent": "0.3", "basis": "open policy OC-1", "as_of": "2026-01-01"}
    v = screen(with_costs([item("A", 20, "10")], [FREIGHT_JPY, insurance])).valuation
    assert v.customs_value_jpy == 60_248  # 30,050 + 30,000 + 198.165, fractions dropped
    premium = v.model_extra["costs"][1]
    assert premium["yen"] == "198.165" and premium["basis_jpy"] == "60050"
    assert premium["rate_percent"] == "0.3" and premium["insured_value_percent"] == "110"


def test_without_insurance_terms_the_screening_says_none_was_added():
    result = screen(with_costs([item("A", 20, "10")], [FREIGHT_JPY]))
    note = result.finding("VAL_INSURANCE_NOT_ADDED")
    assert note.severity == "info" and "only when it is actually paid" in note.message
    assert result.valuation.model_extra["costs"][-1]["basis"].startswith("none added")
    assert "VAL_INSURANCE_NOT_ADDED" not in screen(declaration_data()).codes  # a plain file states its own insurance


def test_insurance_terms_from_the_account_and_from_the_actual_invoice():
    from fba_jp.freight import insurance_cost

    by_rate = insurance_cost(account(), None)
    assert by_rate is None
    terms = AccountConfig.model_validate({**ACCOUNT, "insurance": {"rate_percent": "0.35", "policy": "OC-9"}})
    cost = insurance_cost(terms)
    assert cost["rate_percent"] == Decimal("0.35") and cost["insured_value_percent"] == Decimal(110)
    assert cost["basis"] == "premium 0.35% of 110% of the goods' invoice value plus freight under policy OC-9"
    invoice = {"insurance": Decimal("12.40"), "insurance_currency": "USD", "invoice": "INV-7",
               "invoiced_on": "2026-11-30", "by": "kenji", "created_at": "2026-12-01T02:00:00+00:00"}
    assert insurance_cost(terms, invoice)["amount"] == Decimal("12.40")


@pytest.mark.parametrize("section, table, wanted", [
    ("freight", 'method = "rate_per_kg"\nrate = "450"', "freight: method 'rate_per_kg' needs currency, volumetric_divisor"),
    ("insurance", 'policy = "OC-1"', "insurance: give the premium rate (rate_percent) or a premium per shipment"),
    ("insurance", 'premium = "25"', "insurance: premium needs its currency"),
    ("insurance", 'rate_percent = "0.3"\ninsured_value_percent = "90"',
     "insurance.insured_value_percent: input should be greater than or equal to 100"),
    ("valuation", 'method = "fallback"\nreference = "R"\nagreed_on = 2026-10-01', "valuation: a fallback agreement needs its basis"),
    ("valuation", 'method = "deductive"\nreference = "R"\nagreed_on = 2026-10-01',
     "valuation: a deductive agreement needs profit_and_expenses_percent"),
    ("valuation", 'method = "computed"\nreference = "R"', "valuation.agreed_on: required field is missing"),
])
def test_an_accounts_terms_in_config_say_what_they_lack(tmp_path, section, table, wanted):
    path = tmp_path / "config.toml"
    path.write_text(f'[[accounts]]\nname = "acme"\nseller = {{ name = "Acme" }}\n[accounts.{section}]\n{table}\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: accounts[0].{wanted}")
