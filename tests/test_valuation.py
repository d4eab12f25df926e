"""Customs value, methods, duty and consumption tax: Japan Customs' own arithmetic, to the yen."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from fba_jp import hookimpl
from fba_jp.config import Config, ValuationConfig
from fba_jp.store import Store, unpack_worksheet
from fba_jp.testing import declaration_data, make_declaration, screen
from fba_jp.valuation import (
    choose_method,
    declaration_totals,
    food_by_hs,
    line_tax,
    valuate,
)


def item(msku="A", **fields):
    return {"msku": msku, "quantity": 1, "hs_code": "6306.22", "origin_country": "CN", "duty_rate": "4.5"} | fields


def usd(*items, **overrides):
    """A USD declaration at the customs rate 150.25 with these items."""
    return declaration_data(items=list(items), **overrides)


def jpy(*items, **overrides):
    return declaration_data(currency="JPY", fx_rates=None, items=list(items), **overrides)


# --------------------------------------------------------------------------- Customs Answer 1111


def test_customs_answer_1111_line_by_line():
    a = line_tax(534_795, Decimal("14"), reduced=False)
    assert (a.duty_base_jpy, a.duty_unrounded_jpy, a.duty_jpy) == (534_000, Decimal("74760"), 74_700)
    assert (a.consumption_tax_base_unrounded_jpy, a.consumption_tax_base_jpy) == (609_495, 609_000)
    assert (a.national_unrounded_jpy, a.national_jpy, a.local_jpy) == (Decimal("47502"), 47_500, 13_397)
    b = line_tax(126_258, Decimal("14"), reduced=True)
    assert (b.duty_base_jpy, b.duty_unrounded_jpy, b.duty_jpy) == (126_000, Decimal("17640"), 17_600)
    assert (b.consumption_tax_base_unrounded_jpy, b.consumption_tax_base_jpy) == (143_858, 143_000)
    assert (b.national_unrounded_jpy, b.national_jpy, b.local_jpy) == (Decimal("8923.2"), 8_900, 2_510)
    totals = declaration_totals([a, b])
    # national: 47,502 + 8,923.2 = 56,425.2 → 56,400 (adding the rounded 47,500 + 8,900 would also give
    # 56,400 here; the duty and the local tax are where the order of rounding shows)
    assert (totals.duty_jpy, totals.national_jpy, totals.local_jpy) == (92_400, 56_400, 15_900)
    assert totals.total_jpy == 164_700


def test_totals_add_unrounded_line_amounts_not_rounded_ones():
    # two lines each with ¥50 of duty after rounding down ¥80: Customs charges ¥100, not ¥0 + ¥0
    lines = [line_tax(2_000, Decimal("4"), reduced=False), line_tax(2_000, Decimal("4"), reduced=False)]
    assert [line.duty_jpy for line in lines] == [0, 0]
    assert declaration_totals(lines).duty_jpy == 100


def test_customs_answer_1111_through_a_full_screening_of_a_yen_declaration(tmp_path):
    data = jpy(
        item("BAG-1", unit_value=534795, hs_code="4202.21", duty_rate="14", origin_country="IT"),
        item("CHOC-1", unit_value=126258, hs_code="1806.90", duty_rate="14", origin_country="BE"),
    )
    store = Store(tmp_path / "fba_jp.db")
    result = screen(data, store=store)
    v = result.valuation
    assert [(line.hs_code, line.customs_value_jpy) for line in v.lines] == [("4202.21", 534_795), ("1806.90", 126_258)]
    assert [str(line.consumption_tax_rate) for line in v.lines] == ["7.8", "6.24"]
    assert [line.duty_jpy for line in v.lines] == [74_700, 17_600]
    assert [line.local_consumption_tax_jpy for line in v.lines] == [13_397, 2_510]
    assert (v.duty_jpy, v.national_consumption_tax_jpy, v.local_consumption_tax_jpy, v.total_tax_jpy) == (
        92_400, 56_400, 15_900, 164_700)
    assert v.complete and v.exchange_rate is None and v.rate_week_start is None
    assert "VAL_NO_EXCHANGE_RATE" not in result.codes
    # stored in the audit trail and read back identically, worksheet included
    stored = store.latest_results()[0].valuation
    assert stored.model_dump(mode="json") == v.model_dump(mode="json")
    row = next(store.db.query("select duty_jpy, total_tax_jpy, worksheet from valuations"))
    assert (row["duty_jpy"], row["total_tax_jpy"]) == (92_400, 164_700)
    sheet = json.loads(unpack_worksheet(row["worksheet"]))  # stored deflated
    steps = {s["label"]: s["amount"] for s in sheet["lines_worksheet"][1]["steps"]}
    assert steps["National consumption tax at 6.24%"] == "¥8,923.2"
    assert steps["Consumption-tax base, rounded down to ¥1,000"] == "¥143,000"
    total = {s["label"]: s["amount"] for s in sheet["lines_worksheet"][-1]["steps"]}
    assert total["Local consumption tax: sum of the line amounts"] == "¥15,907"
    assert total["Total payable"] == "¥164,700"


# --------------------------------------------------------------------------- research §4.4, worked example 2


def test_worked_example_2_single_line():
    line = line_tax(505_670, Decimal("4.6"), reduced=False)
    assert (line.duty_base_jpy, line.duty_jpy, line.consumption_tax_base_jpy) == (505_000, 23_200, 528_000)
    assert (line.national_jpy, line.local_jpy) == (41_100, 11_592)
    totals = declaration_totals([line])
    assert (totals.duty_jpy, totals.national_jpy, totals.local_jpy, totals.total_jpy) == (23_200, 41_100, 11_500, 75_800)


def test_worked_example_2_with_the_stored_customs_rate_of_its_week(tmp_path):
    store = Store(tmp_path / "fba_jp.db")
    store.import_rates([(date(2024, 7, 28), "USD", Decimal("157.51")), (date(2024, 8, 4), "USD", Decimal("155.45"))],
                       source="shikyo.biz")
    data = usd(item("TENT-2P", quantity=40, unit_value="80.26", duty_rate="4.6"),
               declaration_date="2024-07-31", fx_rates=None,
               acp={"name": "Example ACP K.K.", "status": "registered", "accepted_on": "2024-01-10"})
    v = screen(data, store=store).valuation
    assert (v.exchange_rate, v.rate_week_start) == (Decimal("157.51"), date(2024, 7, 28))
    assert v.lines[0].customs_value_before_truncation_jpy == "505670.104"  # 3,210.40 × 157.51
    assert (v.customs_value_jpy, v.duty_jpy, v.national_consumption_tax_jpy) == (505_670, 23_200, 41_100)
    assert (v.local_consumption_tax_jpy, v.total_tax_jpy) == (11_500, 75_800)
    assert "stored customs rate" in v.rate_source


# --------------------------------------------------------------------------- methods


def test_contract_example_deductive_serum_adds_no_freight():
    serum = item("SERUM-30", quantity=200, unit_value="4.20", hs_code="3304.99", duty_rate="0",
                 valuation={"domestic_unit_price_jpy": 2980, "domestic_unit_deductions_jpy": 1400})
    result = screen(usd(serum, freight="320.00", insurance="15.00"))
    v = result.valuation
    assert v.methods == {"SERUM-30": "deductive"}
    line = v.lines[0].model_dump(mode="json")
    assert {k: line[k] for k in ("customs_value_jpy", "duty_jpy", "consumption_tax_base_jpy",
                                 "national_consumption_tax_jpy", "local_consumption_tax_jpy")} == {
        "customs_value_jpy": 316_000, "duty_jpy": 0, "consumption_tax_base_jpy": 316_000,
        "national_consumption_tax_jpy": 24_600, "local_consumption_tax_jpy": 6_938}
    assert (v.local_consumption_tax_jpy, v.total_tax_jpy) == (6_900, 31_500)
    assert "VAL_FALLBACK" not in result.codes
    assert v.model_extra["additions"]["not_added_for"] == ["SERUM-30"]


def test_import_transaction_gives_transaction_value_with_freight():
    result = screen(usd(item(quantity=10, unit_value="100"), freight="50", insurance="10", import_transaction=True))
    v = result.valuation
    assert v.methods == {"A": "transaction_value"}
    assert v.customs_value_jpy == 159_265  # (1,000 + 50 + 10) × 150.25
    assert "VAL_FALLBACK" not in result.codes
    assert result.finding("VAL_METHOD").message.startswith("A: transaction value method")


def test_fba_stock_without_import_transaction_is_fallback_with_a_concrete_remedy():
    result = screen(usd(item(quantity=10, unit_value="100"), freight="50"))
    assert result.valuation.methods == {"A": "fallback"}
    warning = result.finding("VAL_FALLBACK")
    assert warning.severity == "warn" and "not a transaction value" in warning.message
    for evidence in ("ACP", "Amazon.co.jp selling prices", "domestic_unit_price_jpy", "warning goes away"):
        assert evidence in warning.remedy
    assert "VAL_TRANSACTION_VALUE_MISUSED" not in result.codes  # merged into VAL_FALLBACK
    method = result.finding("VAL_METHOD")
    assert method.sku == "A" and "no import transaction" in method.message
    assert result.verdict == "annotated"


def test_adding_deductive_data_removes_the_fallback_warning():
    with_data = item(quantity=10, unit_value="100",
                     valuation={"domestic_unit_price_jpy": 30000, "domestic_unit_deductions_jpy": 12000})
    result = screen(usd(with_data))
    assert result.valuation.methods == {"A": "deductive"} and "VAL_FALLBACK" not in result.codes
    assert result.valuation.customs_value_jpy == 180_000


BOTH = {"domestic_unit_price_jpy": 3000, "domestic_unit_deductions_jpy": 1000,
        "production_unit_cost": "8", "production_unit_profit_and_expenses": "2"}


def test_deductive_comes_before_computed_unless_computed_is_preferred():
    assert choose_method(make_declaration(items=[item(valuation=BOTH)]).items[0],
                         make_declaration(items=[item(valuation=BOTH)])).method == "deductive"
    on_item = make_declaration(items=[item(valuation=BOTH | {"prefer_computed": True})])
    choice = choose_method(on_item.items[0], on_item)
    assert choice.method == "computed" and "prefer_computed" in choice.reason
    # no deductive among the skipped: it was never tried
    assert [m for m, _ in choice.skipped] == ["transaction_value", "identical_or_similar_goods"]
    by_config = screen(usd(item(quantity=5, valuation=BOTH), freight="10"),
                       config=Config(valuation=ValuationConfig(prefer_computed=True)))
    assert by_config.valuation.methods == {"A": "computed"}
    assert by_config.valuation.customs_value_jpy == 9_015  # ((8 + 2) × 5 + 10 freight) × 150.25


def test_preferred_computed_without_cost_data_falls_to_deductive_and_says_why():
    shipment = make_declaration(items=[item(valuation={"domestic_unit_price_jpy": 3000,
                                                       "domestic_unit_deductions_jpy": 1000,
                                                       "prefer_computed": True})])
    choice = choose_method(shipment.items[0], shipment)
    assert choice.method == "deductive"
    assert dict(choice.skipped)["computed"] == "no production cost (valuation.production_unit_cost)"


def test_each_skipped_method_names_its_reason():
    shipment = make_declaration(items=[item(unit_value="5", valuation={
        "identical_goods_unit_value_jpy": 700, "identical_goods_origin": "CN",
        "domestic_unit_price_jpy": 3000, "production_unit_cost": "1"})])
    choice = choose_method(shipment.items[0], shipment)
    assert choice.method == "fallback"
    reasons = dict(choice.skipped)
    assert list(reasons) == ["transaction_value", "identical_or_similar_goods", "deductive", "computed"]
    assert "no import transaction" in reasons["transaction_value"]
    assert "identical_goods_export_date is missing" in reasons["identical_or_similar_goods"]
    assert "not the deductions" in reasons["deductive"]
    assert "not the profit and general expenses" in reasons["computed"]


def test_deductions_at_or_above_the_price_do_not_give_a_deductive_value():
    shipment = make_declaration(items=[item(unit_value="5", valuation={
        "domestic_unit_price_jpy": 1000, "domestic_unit_deductions_jpy": 1000})])
    choice = choose_method(shipment.items[0], shipment)
    assert choice.method == "fallback" and "not less than the Japan selling price" in dict(choice.skipped)["deductive"]


def identical(days, origin="CN", window=31, export_date="2026-12-01", method="transaction_value"):
    exported = date.fromisoformat(export_date) + timedelta(days=days)
    shipment = make_declaration(export_date=export_date, items=[item(quantity=3, unit_value="5", valuation={
        "identical_goods_unit_value_jpy": 700, "identical_goods_export_date": exported.isoformat(),
        "identical_goods_origin": origin, "identical_goods_method": method})])
    return choose_method(shipment.items[0], shipment, window_days=window)


@pytest.mark.parametrize("days", [-31, 0, 31])
def test_identical_goods_within_31_days_either_side_count(days):
    choice = identical(days)
    assert choice.method == "identical_or_similar_goods" and choice.yen == 2_100


@pytest.mark.parametrize("days", [-32, 32])
def test_identical_goods_on_day_32_do_not(days):
    choice = identical(days)
    assert choice.method == "fallback"
    assert "32 days" in dict(choice.skipped)["identical_or_similar_goods"]


@pytest.mark.parametrize("method", ["fallback", "deductive", "computed", "identical_or_similar_goods", None])
def test_identical_goods_valued_other_than_by_a_transaction_value_are_no_basis(method):
    # Art. 4-2: the seller's own earlier FBA import, itself valued by a fallback method, is no basis
    choice = identical(0, method=method)
    assert choice.method == "fallback"
    reason = dict(choice.skipped)["identical_or_similar_goods"]
    assert "Art. 4-2 needs the transaction value" in reason
    assert ("valuation.identical_goods_method" in reason) if method is None else ("method" in reason)


def test_identical_goods_from_another_country_do_not_count():
    choice = identical(0, origin="VN")
    assert choice.method == "fallback" and "same country of production" in dict(choice.skipped)["identical_or_similar_goods"]


def test_identical_goods_window_is_configurable_and_measured_from_the_ship_date():
    assert identical(10, window=9).method == "fallback"
    data = usd(item(quantity=3, unit_value="5", valuation={
        "identical_goods_unit_value_jpy": 700, "identical_goods_export_date": "2026-11-20",
        "identical_goods_origin": "CN", "identical_goods_method": "transaction_value"}), freight="100")
    # no export_date: the declaration date 2026-12-07 is the ship date, 17 days after 2026-11-20
    assert screen(data).valuation.methods == {"A": "identical_or_similar_goods"}
    narrow = screen(data, config=Config(valuation=ValuationConfig(identical_goods_window_days=16)))
    assert narrow.valuation.methods == {"A": "fallback"}
    v = screen(data).valuation
    assert v.customs_value_jpy == 2_100  # the accepted value; freight is not added to it


def test_no_unit_value_and_no_method_data_blocks_and_there_is_no_valuation():
    result = screen(usd(item(unit_value=None)))
    block = result.finding("VAL_NO_BASIS")
    assert block.severity == "block" and block.sku == "A" and "no import transaction" in block.message
    assert result.valuation is None and result.verdict == "blocked"


def test_one_item_without_basis_leaves_an_incomplete_valuation_of_the_others():
    result = screen(usd(item("A", unit_value="10"), item("B", unit_value=None, hs_code="9503.00")))
    v = result.valuation
    assert [f.sku for f in result.findings if f.code == "VAL_NO_BASIS"] == ["B"]
    assert v.methods == {"A": "fallback"} and v.model_extra["unvalued_skus"] == ["B"]
    assert v.customs_value_jpy == 1_502 and not v.complete
    assert v.duty_jpy is None and v.total_tax_jpy is None


# --------------------------------------------------------------------------- freight and insurance


def test_additions_are_shared_by_declared_value_and_dropped_for_deductive_items():
    data = jpy(
        item("A", unit_value=1000, hs_code="9503.00"),
        item("B", unit_value=2000, hs_code="3304.99",
             valuation={"domestic_unit_price_jpy": 5000, "domestic_unit_deductions_jpy": 1000}),
        freight=200, insurance=100,
    )
    v = screen(data).valuation
    # A carries its third of the ¥300, not all of it; B's two thirds are not added anywhere
    assert [(line.skus, line.customs_value_jpy) for line in v.lines] == [(["A"], 1_100), (["B"], 4_000)]
    sheets = {s["sku"]: s for s in v.model_extra["items"]}
    assert sheets["A"]["additions_share"] == "100" and sheets["B"]["additions_share"] is None


def test_allocation_is_exact_even_when_shares_are_thirds():
    # three $1 items on three lines share $1 freight: each line is (1 + 1/3) × 3 = exactly ¥4.
    # Dividing first in Decimal would give ¥3.999… and drop a yen on every line.
    data = usd(item("A", hs_code="9503.00"), item("B", hs_code="3304.99"), item("C", hs_code="8471.30"),
               freight="1", fx_rates={"USD": "3"})
    for sku in "ABC":
        data["items"]["ABC".index(sku)]["unit_value"] = "1"
    v = screen(data).valuation
    assert [line.customs_value_jpy for line in v.lines] == [4, 4, 4] and v.customs_value_jpy == 12


def test_a_bigger_invoice_value_can_cost_other_lines_a_yen_of_truncation():
    # Each line drops its own fractions of a yen (DOMAIN §4 step 1). Raising A from ¥1 to ¥1.01 moves
    # freight from B to A: A 51.2587 → ¥51, B 50.7512 → ¥50. The exact total rose by ¥0.01, the
    # declared total fell by ¥1. The property tests bound this at under ¥1 per other line.
    def lines(a_value):
        data = jpy(item("A", unit_value=a_value, hs_code="9503.00", duty_rate="0"),
                   item("B", unit_value="1", hs_code="3304.99", duty_rate="0"), freight="100")
        return [line.customs_value_jpy for line in screen(data).valuation.lines]

    assert lines("1") == [51, 51]
    assert lines("1.01") == [51, 50]


def test_without_declared_values_additions_are_shared_by_quantity():
    cost = {"production_unit_cost": "3", "production_unit_profit_and_expenses": "1"}
    data = jpy(item("A", quantity=1, hs_code="9503.00", valuation=cost),
               item("B", quantity=3, hs_code="3304.99", valuation=cost), freight=400)
    v = screen(data).valuation
    assert [line.customs_value_jpy for line in v.lines] == [104, 312]  # 4 + 100, 12 + 300
    assert v.model_extra["additions"]["allocated_by"] == "quantity (no declared values)"


# --------------------------------------------------------------------------- exchange rates


def test_missing_rate_blocks_and_is_never_guessed(tmp_path):
    store = Store(tmp_path / "fba_jp.db")
    store.import_rates([(date(2026, 11, 29), "USD", Decimal("150.12"))], source="test")  # the week before
    result = screen(usd(item(unit_value="10"), fx_rates=None), store=store)
    block = result.finding("VAL_NO_EXCHANGE_RATE")
    assert block.severity == "block" and "2026-12-06 to 2026-12-12" in block.message
    assert "fba-jp rates import" in block.remedy and "2026-12-06,USD,RATE" in block.remedy
    assert result.valuation is None and result.verdict == "blocked"


def test_no_store_and_no_fx_rates_blocks_too():
    assert "VAL_NO_EXCHANGE_RATE" in screen(usd(item(unit_value="10"), fx_rates=None)).codes


def test_declaration_fx_rates_override_the_store(tmp_path):
    store = Store(tmp_path / "fba_jp.db")
    store.import_rates([(date(2026, 12, 6), "USD", Decimal("150.25"))], source="test")
    stored = screen(usd(item(unit_value="10"), fx_rates=None), store=store).valuation
    assert (stored.exchange_rate, stored.customs_value_jpy) == (Decimal("150.25"), 1_502)
    override = screen(usd(item(unit_value="10"), fx_rates={"USD": "140"}), store=store).valuation
    assert (override.exchange_rate, override.customs_value_jpy) == (Decimal("140"), 1_400)
    assert "fx_rates" in override.model_extra["rate_source"]


@pytest.mark.parametrize("day, rate", [("2026-12-05", Decimal("150.12")), ("2026-12-06", Decimal("150.25")),
                                       ("2026-12-12", Decimal("150.25")), ("2026-12-13", Decimal("151.03"))])
def test_the_rate_week_runs_sunday_to_saturday(tmp_path, day, rate):
    store = Store(tmp_path / "fba_jp.db")
    store.import_rates([(date(2026, 11, 29), "USD", Decimal("150.12")), (date(2026, 12, 6), "USD", Decimal("150.25")),
                        (date(2026, 12, 13), "USD", Decimal("151.03"))], source="test")
    v = screen(usd(item(unit_value="10"), fx_rates=None, declaration_date=day), store=store).valuation
    assert v.exchange_rate == rate


def test_missing_rate_still_values_the_yen_items_but_the_estimate_is_incomplete():
    result = screen(usd(item("A", unit_value="10"),
                        item("B", hs_code="3304.99", valuation={"domestic_unit_price_jpy": 3000,
                                                                "domestic_unit_deductions_jpy": 1000}),
                        fx_rates=None))
    v = result.valuation
    assert "A" in result.finding("VAL_NO_EXCHANGE_RATE").evidence and result.verdict == "blocked"
    assert [line.skus for line in v.lines] == [["B"]] and v.model_extra["unvalued_skus"] == ["A"]
    assert v.customs_value_jpy == 2_000 and not v.complete and v.total_tax_jpy is None
    assert v.exchange_rate is None and v.rate_week_start == date(2026, 12, 6)


def test_yen_methods_need_no_rate_even_in_a_foreign_currency():
    data = usd(item(valuation={"domestic_unit_price_jpy": 3000, "domestic_unit_deductions_jpy": 1000}),
               fx_rates=None)
    result = screen(data)
    assert "VAL_NO_EXCHANGE_RATE" not in result.codes and result.valuation.customs_value_jpy == 2_000


# --------------------------------------------------------------------------- duty and tax rates


def test_unknown_duty_rate_is_unknown_not_zero():
    result = screen(usd(item(unit_value="1000", duty_rate=None)))  # 6306.22 is not in the default table
    v = result.valuation
    warn = result.finding("VAL_DUTY_RATE_UNKNOWN")
    assert warn.severity == "warn" and warn.sku == "A" and "6306.22" in warn.message
    assert v.lines[0].duty_jpy is None and v.lines[0].national_consumption_tax_jpy is None
    assert (v.duty_jpy, v.total_tax_jpy, v.complete) == (None, None, False)
    assert v.customs_value_jpy == 150_250


def test_default_duty_table_covers_common_free_headings():
    result = screen(usd(item("SERUM", unit_value="1000", hs_code="3304.99.000", duty_rate=None),
                        item("TOY", unit_value="1000", hs_code="9503.00", duty_rate=None)))
    v = result.valuation
    assert [line.duty_rate for line in v.lines] == [Decimal(0), Decimal(0)] and v.complete
    assert "duty_rates.toml" in v.lines[0].duty_rate_source
    assert "VAL_DUTY_RATE_UNKNOWN" not in result.codes


@pytest.mark.parametrize("hs, reduced", [("0902.10", True), ("2202.10", True), ("2204.21", False),
                                         ("2208.30", False), ("2309.10", False), ("2402.20", False),
                                         ("6306.22", False)])
def test_default_reduced_rate_is_food_and_drink_but_not_alcohol(hs, reduced):
    assert food_by_hs(make_declaration(items=[item(hs_code=hs)]).items[0]) is reduced


def test_reduced_rate_comes_from_the_declaration_then_the_hook():
    class NothingIsFood:
        @hookimpl
        def reduced_tax_rate(self, item, shipment):
            return False

    tea = item("TEA", unit_value="100", hs_code="0902.10", duty_rate="0")
    assert screen(usd(tea)).valuation.lines[0].consumption_tax_rate == Decimal("6.24")
    assert screen(usd(tea), plugins=[NothingIsFood()]).valuation.lines[0].consumption_tax_rate == Decimal("7.8")
    flagged = screen(usd(tea | {"reduced_tax_rate": True}), plugins=[NothingIsFood()]).valuation
    assert flagged.lines[0].consumption_tax_rate == Decimal("6.24")


def test_lines_group_by_hs_code_duty_rate_and_tax_rate():
    v = screen(usd(item("A", unit_value="10"), item("B", unit_value="20"),
                   item("C", unit_value="30", duty_rate="6"),
                   item("D", unit_value="40", reduced_tax_rate=True))).valuation
    assert [line.skus for line in v.lines] == [["A", "B"], ["C"], ["D"]]
    assert [str(line.duty_rate) for line in v.lines] == ["4.5", "6", "4.5"]


# --------------------------------------------------------------------------- small-value exemption


def test_small_value_exemption_at_10000_yen():
    result = screen(jpy(item(unit_value=10000, hs_code="9503.00", duty_rate=None)))
    v = result.valuation
    assert v.small_value_exemption and (v.duty_jpy, v.total_tax_jpy) == (0, 0) and v.complete
    assert result.finding("VAL_SMALL_VALUE_EXEMPT").severity == "info"
    over = screen(jpy(item(unit_value=10001, hs_code="9503.00", duty_rate="0"))).valuation
    # over the limit: no duty at 0 %, national 10,000 × 7.8 % = 780 → 700, local 700 × 22/78 = 197 → 100
    assert not over.small_value_exemption and over.total_tax_jpy == 800


def test_freight_counts_towards_the_10000_yen_limit():
    v = screen(jpy(item(unit_value=9500, hs_code="9503.00", duty_rate="0"), freight=600)).valuation
    assert v.customs_value_jpy == 10_100 and not v.small_value_exemption


def test_excluded_articles_are_never_exempt_and_the_list_is_configurable():
    shoes = jpy(item("SHOE", unit_value=5000, hs_code="6403.99", duty_rate="30"))
    toy = jpy(item("TOY", unit_value=5000, hs_code="9503.00", duty_rate="0"))
    default_shoes = screen(shoes).valuation
    assert not default_shoes.small_value_exemption and default_shoes.duty_jpy == 1_500
    assert "6403" not in default_shoes.model_extra["small_value"]["reason"]  # the prefix matched is "64"
    assert "Footwear" in default_shoes.model_extra["small_value"]["reason"]
    config = Config(valuation=ValuationConfig(small_value_excluded_hs=["9503"]))
    assert screen(shoes, config=config).valuation.small_value_exemption
    assert not screen(toy, config=config).valuation.small_value_exemption


# --------------------------------------------------------------------------- the worksheet


def test_worksheet_records_methods_reasons_rounding_and_documents():
    v = screen(usd(item("A", unit_value="100"),
                   item("B", valuation={"domestic_unit_price_jpy": 30000, "domestic_unit_deductions_jpy": 10000}))).valuation
    doc = json.loads(v.model_dump_json())
    assert set(doc["lines"][0]) >= {"hs_code", "skus", "customs_value_jpy", "duty_rate", "duty_jpy",
                                    "consumption_tax_rate", "consumption_tax_base_jpy",
                                    "national_consumption_tax_jpy", "local_consumption_tax_jpy",
                                    "duty_base_jpy", "duty_unrounded_jpy", "national_consumption_tax_unrounded_jpy"}
    items = {s["sku"]: s for s in doc["items"]}
    assert items["A"]["method"] == "fallback" and items["B"]["method"] == "deductive"
    assert [e["method"] for e in doc["earlier_methods"][items["B"]["earlier_methods"]]] == [
        "transaction_value", "identical_or_similar_goods"]
    assert any("Amazon.co.jp" in d for d in doc["documents_by_method"]["deductive"])
    assert any("agreed with Customs" in d for d in doc["documents_to_keep"])
    assert doc["record_keeping"]["books_years"] == 7 and doc["record_keeping"]["documents_years"] == 5
    labels = [s["label"] for s in doc["lines_worksheet"][0]["steps"]]
    assert labels[2:5] == ["Duty base, rounded down to ¥1,000", "Duty at 4.5%", "Duty, rounded down to ¥100"]


def test_worksheet_says_shared_reasons_and_documents_once():
    fba = [item(sku, unit_value="10", hs_code=hs) for sku, hs in (("A", "6306.22"), ("B", "9503.00"), ("C", "4202.92"))]
    deductive = item("D", valuation={"domestic_unit_price_jpy": 3000, "domestic_unit_deductions_jpy": 1000})
    doc = json.loads(screen(usd(*fba, deductive)).valuation.model_dump_json())
    items = {s["sku"]: s for s in doc["items"]}
    assert [items[sku]["earlier_methods"] for sku in "ABCD"] == [0, 0, 0, 1]
    assert [len(chain) for chain in doc["earlier_methods"]] == [4, 2]
    assert "no import transaction" in doc["earlier_methods"][0][0]["reason"]
    assert set(doc["documents_by_method"]) == {"fallback", "deductive"}
    assert all("documents" not in sheet for sheet in doc["items"])
    assert "¥2,000 × 1 = ¥2,000" in items["D"]["reason"]  # each item's own arithmetic stays with the item


def test_one_val_method_per_method_and_reasons_naming_every_sku():
    fba = [item(sku, unit_value="10", hs_code=hs) for sku, hs in (("A", "6306.22"), ("B", "9503.00"), ("C", "4202.92"))]
    deductive = item("D", valuation={"domestic_unit_price_jpy": 3000, "domestic_unit_deductions_jpy": 1000})
    methods = [f for f in screen(usd(*fba, deductive)).findings if f.code == "VAL_METHOD"]
    assert len(methods) == 2
    fallback, by_deduction = methods
    assert fallback.sku is None and fallback.message.startswith("A, B, C: fallback method: the declared unit value")
    assert "Earlier methods do not apply: transaction value: no import transaction" in fallback.message
    assert by_deduction.sku == "D" and by_deduction.message.startswith("D: deductive method")
    assert by_deduction.reference == "Customs Tariff Act Art. 4-3(1)"


def test_pure_valuate_without_plugins():
    outcome = valuate(make_declaration(), exchange_rate=Decimal("150.25"), rate_source="test")
    assert outcome.valuation.customs_value_jpy == 231_385  # 40 × 38.50 × 150.25
    assert [f.code for f in outcome.findings] == ["VAL_METHOD", "VAL_FALLBACK"]
    missing = valuate(make_declaration(), exchange_rate=None)
    assert missing.valuation is None and [f.code for f in missing.findings][0] == "VAL_NO_EXCHANGE_RATE"
