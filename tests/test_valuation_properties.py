"""Properties of the valuation that must hold for every declaration, checked with hypothesis.

An independent oracle (``fractions.Fraction``, exact rational arithmetic) recomputes every line's
customs value, so the Decimal allocation is checked against plain arithmetic, not against itself.
"""

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fba_jp.testing import make_declaration
from fba_jp.valuation import valuate

HS_CODES = ["6306.22", "3304.99", "0902.10", "9503.00"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2)
rates = st.decimals(min_value=Decimal("0.0050"), max_value=Decimal("250"), places=4)
additions = st.decimals(min_value=Decimal(0), max_value=Decimal("800"), places=2)


@st.composite
def items(draw):
    deductive = draw(st.booleans())
    entry = {
        "quantity": draw(st.integers(1, 400)),
        "unit_value": str(draw(money)),
        "hs_code": draw(st.sampled_from(HS_CODES)),
        "duty_rate": draw(st.sampled_from([None, "0", "3.9", "4.5", "14", "30"])),
        "origin_country": "CN",
    }
    if deductive:
        deductions = draw(st.integers(0, 20_000))
        entry["valuation"] = {"domestic_unit_price_jpy": deductions + draw(st.integers(1, 50_000)),
                              "domestic_unit_deductions_jpy": deductions}
    return entry


@st.composite
def declarations(draw):
    entries = draw(st.lists(items(), min_size=1, max_size=5))
    for n, entry in enumerate(entries):
        entry["msku"] = f"SKU-{n}"
    return {
        "items": entries,
        "freight": str(draw(additions)),
        "insurance": str(draw(additions)),
        "other_additions": str(draw(st.sampled_from([Decimal(0), Decimal("12.5")]))),
        "rate": draw(rates),
    }


def run(data):
    shipment = make_declaration(items=data["items"], freight=data["freight"], insurance=data["insurance"],
                                other_additions=data["other_additions"])
    return valuate(shipment, exchange_rate=data["rate"], rate_source="test").valuation


def oracle_line_values(data):
    """Each line's exact customs value in yen, by rational arithmetic: {tuple(skus): Fraction}."""
    rate = Fraction(data["rate"])
    extra = sum(Fraction(Decimal(data[k])) for k in ("freight", "insurance", "other_additions"))
    weights = {i["msku"]: Fraction(Decimal(i["unit_value"])) * i["quantity"] for i in data["items"]}
    total_weight = sum(weights.values())
    values = {}
    for i in data["items"]:
        if "valuation" in i:
            v = i["valuation"]
            values[i["msku"]] = Fraction((v["domestic_unit_price_jpy"] - v["domestic_unit_deductions_jpy"]) * i["quantity"])
        else:
            values[i["msku"]] = (weights[i["msku"]] + extra * weights[i["msku"]] / total_weight) * rate
    return values


@FAST
@given(declarations())
def test_every_amount_is_rounded_as_customs_rounds_and_totals_follow_the_lines(data):
    v = run(data)
    exact = oracle_line_values(data)
    assert v.customs_value_jpy == sum(line.customs_value_jpy for line in v.lines)
    for line in v.lines:
        assert line.customs_value_jpy == math.floor(sum(exact[sku] for sku in line.skus))
        extra = line.model_extra
        assert extra["duty_base_jpy"] % 1000 == 0 and 0 <= extra["duty_base_jpy"] <= line.customs_value_jpy
        if line.duty_rate is None and not v.small_value_exemption:
            assert line.duty_jpy is line.consumption_tax_base_jpy is line.national_consumption_tax_jpy is None
            continue
        assert line.duty_jpy >= 0 and line.duty_jpy % 100 == 0
        assert line.consumption_tax_base_jpy >= 0 and line.consumption_tax_base_jpy % 1000 == 0
        assert line.national_consumption_tax_jpy >= 0 and line.national_consumption_tax_jpy % 100 == 0
        assert 0 <= line.local_consumption_tax_jpy == line.national_consumption_tax_jpy * 22 // 78
    if v.duty_jpy is None:
        assert v.total_tax_jpy is None and not v.complete
        assert any(line.duty_rate is None for line in v.lines)
        return
    for total in (v.duty_jpy, v.national_consumption_tax_jpy, v.local_consumption_tax_jpy, v.total_tax_jpy):
        assert total >= 0 and total % 100 == 0
    assert v.total_tax_jpy == v.duty_jpy + v.national_consumption_tax_jpy + v.local_consumption_tax_jpy
    assert v.local_consumption_tax_jpy == sum(line.local_consumption_tax_jpy for line in v.lines) // 100 * 100
    if v.small_value_exemption:
        assert v.customs_value_jpy <= 10_000 and v.total_tax_jpy == 0
        return
    unrounded = v.model_extra["totals_unrounded"]
    assert v.duty_jpy == int(Decimal(unrounded["duty_jpy"]) // 100 * 100)
    # the payable total is never below the sum of rounded lines, and at most ¥100 a line above it
    n = len(v.lines)
    for total, key in ((v.duty_jpy, "duty_jpy"), (v.national_consumption_tax_jpy, "national_consumption_tax_jpy")):
        rounded = sum(getattr(line, key) for line in v.lines)
        assert rounded <= total < rounded + 100 * n


@FAST
@given(declarations(), st.data())
def test_raising_an_items_value_never_lowers_the_customs_value(data, draw):
    before = run(data)
    index = draw.draw(st.integers(0, len(data["items"]) - 1))
    raised = {**data, "items": [dict(i) for i in data["items"]]}
    target = raised["items"][index]
    if "valuation" in target:  # a deductive item's value is its Japan price less deductions
        target["valuation"] = dict(target["valuation"])
        target["valuation"]["domestic_unit_price_jpy"] += draw.draw(st.integers(1, 10_000))
    else:
        target["unit_value"] = str(Decimal(target["unit_value"]) + draw.draw(money))
    after = run(raised)
    sku = target["msku"]

    def line_of(v):
        return next(line for line in v.lines if sku in line.skus)

    assert line_of(after).customs_value_jpy >= line_of(before).customs_value_jpy
    assert sum(oracle_line_values(raised).values()) > sum(oracle_line_values(data).values())
    if "valuation" in target or len(before.lines) == 1 or not any(Decimal(data[k]) for k in ("freight", "insurance", "other_additions")):
        assert after.customs_value_jpy >= before.customs_value_jpy
    else:
        # A bigger invoice value draws a bigger share of the freight, so every *other* line's share
        # shrinks; each line drops its fractions of a yen separately (DOMAIN §4 step 1), so the
        # declaration total can come out below the old one by less than ¥1 per other line.
        assert after.customs_value_jpy > before.customs_value_jpy - len(before.lines)
