"""Customs value, duty and import consumption tax of one declaration, to the yen (DOMAIN §2–4).

Plain functions over the validated :class:`~fba_jp.models.Declaration`: foreign amounts and rates are
``Decimal``, yen are ``int``, nothing is a float. The ``valuation`` plugin gathers what these functions
cannot know themselves (the customs exchange rate, each item's consumption-tax rate, the config) and
calls :func:`valuate`.

1. :func:`choose_method` picks each item's valuation method in the legal order (transaction value →
   identical or similar goods → deductive ⇄ computed → fallback) and records why each earlier one
   did not apply.
2. Freight, insurance and other additions are shared among the items pro rata by declared value (an
   item that declares none: the value its method gives it) and added only for the methods that build a
   CIF value (transaction, computed, fallback).
3. Items are grouped into declaration lines by (HS code, duty rate, consumption-tax rate);
   :func:`line_tax` rounds exactly as Japan Customs does and :func:`declaration_totals` adds the lines
   the way Customs Answer 1111 does.

``VAL_TRANSACTION_VALUE_MISUSED`` is merged into ``VAL_FALLBACK``: an item valued at its invoice value
without an import transaction is exactly the case both codes describe, so fba-jp reports it once, as
``VAL_FALLBACK`` (warn), and never emits ``VAL_TRANSACTION_VALUE_MISUSED``.

``VAL_METHOD`` (info) is one finding per group of items valued by the same method for the same
reasons, naming every SKU of the group; each item's own arithmetic is in the worksheet.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence

from .agreement import agreed_findings, agreed_items, agreement_sheet, evidence_documents, prefers_computed, with_notes
from .costs import VALUE_STANDS_IN, allocate_costs, no_insurance, unknown_costs
from .preferential import preferential_rates, proof_missing
from .models import Declaration, Finding, Item, Valuation
from .names import same_party
from .regimes import load_regime
from .rates import week_end, week_start

METHODS = ("transaction_value", "identical_or_similar_goods", "deductive", "computed", "fallback")
# The methods whose value is CIF built up from a price or cost: freight, insurance and other costs to
# the Japanese port are added. Identical-goods values and deductive values already stand at that level.
ADDS_COSTS = frozenset({"transaction_value", "computed", "fallback"})
METHOD_LABEL = {
    "transaction_value": "transaction value",
    "identical_or_similar_goods": "identical or similar goods",
    "deductive": "deductive",
    "computed": "computed",
    "fallback": "fallback",
}
METHOD_RULE = {
    "transaction_value": "Customs Tariff Act Art. 4(1)",
    "identical_or_similar_goods": "Customs Tariff Act Art. 4-2",
    "deductive": "Customs Tariff Act Art. 4-3(1)",
    "computed": "Customs Tariff Act Art. 4-3(2)",
    "fallback": "Customs Tariff Act Art. 4-4",
}
STANDARD_RATE = Decimal("7.8")  # national consumption tax; with 2.2 % local tax, 10 %
REDUCED_RATE = Decimal("6.24")  # food and drink except alcohol; with 1.76 % local tax, 8 %
_STANDARD_TEXT, _REDUCED_TEXT = str(STANDARD_RATE), str(REDUCED_RATE)
SMALL_VALUE_LIMIT_JPY = 10_000
RECORD_KEEPING = {
    "books_years": 7,
    "documents_years": 5,
    "electronic_records_years": 5,
    "counted_from": "the day after import permission",
    "reference": "Customs Act Art. 94; Customs Answer 1117",
}
COMMON_DOCUMENTS = (
    "Commercial invoice and packing list",
    "Freight and insurance statements (costs to the Japanese port)",
    "Import permit and the import declaration",
)
METHOD_DOCUMENTS = {
    "transaction_value": (
        "Sales contract or purchase order with the buyer in Japan, and proof of payment",
        "Statements of commissions, packing, containers, assists and royalties not included in the price",
    ),
    "identical_or_similar_goods": (
        "Import permit and declaration of the identical or similar goods showing the customs value Customs accepted",
        "Evidence that the goods are identical or similar and from the same country of production (specifications, catalogue)",
    ),
    "deductive": (
        "Japan selling-price records for the goods (Amazon.co.jp order, settlement and price-history reports)",
        "Breakdown of the deductions: referral and FBA fees, profit and general expenses, domestic transport "
        "and insurance, Japanese duty and consumption tax",
        "The deductive-value calculation agreed with Customs (through your ACP)",
    ),
    "computed": (
        "Manufacturer's cost ledger: materials, labour and overheads per unit",
        "Evidence of the profit and general expenses usual for export sales of such goods to Japan",
        "The computed-value calculation agreed with Customs (through your ACP)",
    ),
    "fallback": (
        "How the invoice value was set (price list, production cost or transfer-price basis)",
        "The valuation method agreed with Customs and your ACP, with its calculation",
    ),
}
# Why each method applies, for VAL_METHOD (the amounts of each item are in the worksheet).
METHOD_BASIS = {
    "transaction_value": "the price paid or payable by the buyer in Japan, plus a share of freight, insurance "
                         "and other costs to the port",
    "identical_or_similar_goods": "the transaction value Customs accepted for identical or similar goods from the "
                                  "same country of production, exported within {window_days} days of this shipment; "
                                  "no freight added",
    "deductive": "the Japan selling price minus the declared deductions; no freight added",
    "computed": "production cost plus profit and general expenses, plus a share of freight, insurance and other costs",
    "fallback": "the declared unit value (other reasonable means), plus a share of freight, insurance and other "
                "costs to the port",
}
NO_IMPORT_TRANSACTION = (
    "no import transaction: nobody based in Japan buys the goods (stock sent to your own FBA inventory is "
    "not a sale), so the invoice price is not a transaction value"
)
VALUATION_RULE = "Customs Tariff Act Arts. 4 to 4-4; Customs Answers 1403, 1404, 1404-2"
TAX_RULE = "Customs Act Art. 13-4 (Act on General Rules for National Taxes Arts. 118, 119); Customs Answer 1111"
RATE_RULE = "Customs Tariff Act Art. 4-7; its Enforcement Ordinance Art. 1; Customs Answer 1406"
SMALL_VALUE_RULE = "Customs Tariff Act Art. 14(18); its Cabinet Order Art. 16-3; Customs Answer 1006"
LIQUOR_RULE = "Liquor Tax Act Arts. 23, 30-2 (liquor taken out of a bonded area); Consumption Tax Act Art. 28(4)"

# Enough digits that sums and products of declared amounts are never rounded; Inexact proves it.
_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero])


# --------------------------------------------------------------------------- rounding


def round_down(amount: Decimal | int, unit: int) -> int:
    """``amount`` rounded down to a multiple of ``unit`` yen (amounts are never negative)."""
    if isinstance(amount, int):
        return amount // unit * unit
    return int(amount // unit) * unit


# The records made for every line and every item are NamedTuples: immutable like a frozen dataclass,
# at a fifth of the cost to create.


class SpecificLine(NamedTuple):
    """The specific part of a line's duty: ``units`` (the line's total quantity in ``unit``) at
    ``yen_per_unit``, combined with the ad-valorem part as ``combine`` says (:class:`~fba_jp.models.SpecificDuty`)."""

    yen_per_unit: Decimal
    unit: str
    units: Decimal
    combine: str
    minimum_yen_per_unit: Decimal | None = None


class LineTax(NamedTuple):
    """Duty and consumption tax of one declaration line, with every rounding step (DOMAIN §4)."""

    customs_value_jpy: int
    duty_rate: Decimal | None
    consumption_tax_rate: Decimal
    duty_base_jpy: int
    duty_unrounded_jpy: Decimal | None
    duty_jpy: int | None
    consumption_tax_base_unrounded_jpy: int | None
    consumption_tax_base_jpy: int | None
    national_unrounded_jpy: Decimal | None
    national_jpy: int | None
    local_jpy: int | None
    exempt: bool = False
    # specific and compound duties, and the excise (liquor tax) in the consumption-tax base
    specific: SpecificLine | None = None
    duty_basis: str = ""
    excise_unrounded_jpy: Decimal | None = Decimal(0)
    excise_jpy: int | None = 0


def duty_amount(duty_base_jpy: int, duty_rate: Decimal | None,
                specific: SpecificLine | None = None) -> tuple[Decimal | None, str]:
    """A line's unrounded duty and how it was found; ``None`` when a rate it needs is unknown.

    The ad-valorem part is on the duty base (rounded down to ¥1,000); the specific part is on the
    quantity, which no yen rounding applies to. Compound duties take the lesser, the greater or the
    sum of the two, then any minimum per unit.
    """
    with localcontext(_EXACT):
        return _duty_amount(duty_base_jpy, duty_rate, specific)


def _duty_amount(duty_base_jpy, duty_rate, specific):
    # duty_amount, in the caller's exact context
    ad = None if duty_rate is None else duty_base_jpy * duty_rate / 100
    if specific is None:
        return ad, "" if ad is None else f"{duty_rate}% of the duty base"
    per = f"¥{specific.yen_per_unit:,}/{specific.unit} × {specific.units:,} {specific.unit}"
    sp = specific.units * specific.yen_per_unit
    if specific.combine == "specific_only":
        duty, basis = sp, per
    elif ad is None:
        return None, ""
    elif specific.combine == "lesser":
        duty = min(ad, sp)
        basis = f"{duty_rate}% or {per}, whichever is less"
    elif specific.combine == "greater":
        duty = max(ad, sp)
        basis = f"{duty_rate}% or {per}, whichever is greater"
    else:
        duty, basis = ad + sp, f"{duty_rate}% plus {per}"
    if specific.minimum_yen_per_unit is not None:
        floor = specific.units * specific.minimum_yen_per_unit
        if floor > duty:
            duty = floor
        basis += f", at least ¥{specific.minimum_yen_per_unit:,}/{specific.unit}"
    return duty, basis


def line_tax(customs_value_jpy: int, duty_rate: Decimal | None, reduced: bool, excise_jpy: int | None = 0, *,
             specific: SpecificLine | None = None, excise_unrounded_jpy: Decimal | None = None) -> LineTax:
    """Tax one line: duty base ↓¥1,000, duty ↓¥100, tax base (value + duty + excise) ↓¥1,000,
    national tax ↓¥100, local tax = national × 22/78 with fractions of a yen dropped.

    ``duty_rate`` is a percentage; ``None`` (unknown) leaves duty and everything after it unknown,
    unless a ``specific``-only duty needs no rate. ``excise_jpy`` is the line's liquor tax (``None``:
    unknown, so the consumption tax is unknown too); ``excise_unrounded_jpy`` its amount before rounding.
    """
    tax_rate = REDUCED_RATE if reduced else STANDARD_RATE
    duty_base = round_down(customs_value_jpy, 1000)
    excise_raw = Decimal(excise_jpy) if excise_unrounded_jpy is None and excise_jpy is not None else excise_unrounded_jpy
    with localcontext(_EXACT):  # one exact context for the duty and the tax (entering one costs as much as a step)
        duty_raw, basis = _duty_amount(duty_base, duty_rate, specific)
        if duty_raw is not None:
            duty = round_down(duty_raw, 100)
            if excise_jpy is not None:
                tax_base_raw = customs_value_jpy + duty + excise_jpy
                tax_base = round_down(tax_base_raw, 1000)
                national_raw = tax_base * tax_rate / 100
                national = round_down(national_raw, 100)
    # positional, the last five being (exempt, specific, duty_basis, excise_unrounded_jpy, excise_jpy): no keyword
    # parsing for a record made for every line
    if duty_raw is None:
        return LineTax(customs_value_jpy, duty_rate, tax_rate, duty_base, None, None, None, None, None, None, None,
                       False, specific, basis, excise_raw, excise_jpy)
    if excise_jpy is None:
        return LineTax(customs_value_jpy, duty_rate, tax_rate, duty_base, duty_raw, duty, None, None, None,
                       None, None, False, specific, basis, excise_raw, excise_jpy)
    local = national * 22 // 78
    return LineTax(customs_value_jpy, duty_rate, tax_rate, duty_base, duty_raw, duty, tax_base_raw, tax_base,
                   national_raw, national, local, False, specific, basis, excise_raw, excise_jpy)


def exempt_line(customs_value_jpy: int, duty_rate: Decimal | None, reduced: bool, excise_jpy: int | None = 0, *,
                excise_unrounded_jpy: Decimal | None = None) -> LineTax:
    """A line under the small-value exemption: no duty and no consumption tax (liquor tax is still due)."""
    tax_rate = REDUCED_RATE if reduced else STANDARD_RATE
    base = round_down(customs_value_jpy, 1000)
    zero = Decimal(0)
    excise_raw = Decimal(excise_jpy) if excise_unrounded_jpy is None and excise_jpy is not None else excise_unrounded_jpy
    return LineTax(customs_value_jpy, duty_rate, tax_rate, base, zero, 0, customs_value_jpy,
                   base, zero, 0, 0, exempt=True, duty_basis="exempt", excise_unrounded_jpy=excise_raw,
                   excise_jpy=excise_jpy)


@dataclass(frozen=True)
class Totals:
    """What the declaration pays. A figure is ``None`` when a line's part of it is unknown (an unknown
    duty makes the consumption taxes unknown too), and the total is ``None`` when any part is."""

    duty_jpy: int | None
    national_jpy: int | None
    local_jpy: int | None
    total_jpy: int | None
    duty_unrounded_jpy: Decimal | None = None
    national_unrounded_jpy: Decimal | None = None
    local_sum_jpy: int | None = None
    excise_jpy: int | None = 0
    excise_unrounded_jpy: Decimal | None = Decimal(0)


def declaration_totals(lines: Iterable[LineTax]) -> Totals:
    """Customs Answer 1111: duty and national tax are the sums of the *unrounded* line amounts rounded
    down to ¥100; local tax is the sum of the per-line yen amounts rounded down to ¥100. Liquor tax, a
    national tax too, is totalled like duty."""
    # one pass in one exact context (three sums and three contexts a screening before): each sum runs left to
    # right from Decimal 0, as sum() does, and is None once a line's amount is
    duty_raw = national_raw = excise_raw = _ZERO
    local_sum = 0
    with localcontext(_EXACT):
        for line in lines:
            if duty_raw is not None:
                duty_raw = None if line.duty_unrounded_jpy is None else duty_raw + line.duty_unrounded_jpy
            if national_raw is not None:
                amount = line.national_unrounded_jpy
                national_raw = None if amount is None else national_raw + amount
            if excise_raw is not None:
                excise_raw = None if line.excise_unrounded_jpy is None else excise_raw + line.excise_unrounded_jpy
            if local_sum is not None:
                local_sum = None if line.local_jpy is None else local_sum + line.local_jpy
    duty, national, excise, local = (None if raw is None else round_down(raw, 100)
                                     for raw in (duty_raw, national_raw, excise_raw, local_sum))
    parts = (duty, national, local, excise)
    grand = None if any(p is None for p in parts) else sum(parts)
    return Totals(duty, national, local, grand, duty_raw, national_raw, local_sum, excise, excise_raw)


# --------------------------------------------------------------------------- methods


class MethodChoice(NamedTuple):
    """The method that values one item, why, and why each earlier method did not apply.

    ``amount`` is in the shipment's currency (transaction, computed, fallback: before freight and
    insurance); ``yen`` is the value of identical-goods and deductive items. ``method`` is ``None``
    when nothing applies (no unit value and no usable method data).
    """

    sku: str
    method: str | None
    reason: str
    skipped: tuple[tuple[str, str], ...]
    amount: Decimal = Decimal(0)
    yen: int = 0
    # what an exact yen value (deductive from Amazon's figures) has beyond ``yen``: added to its line before the
    # line's fractions are dropped, once (DOMAIN §4.1). The int 0 when there is none: its truth is tested for
    # every item, and Fraction's __bool__ is Python code
    yen_fraction: Fraction | int = 0

    @property
    def adds_costs(self) -> bool:
        return self.method in ADDS_COSTS


class _Applies(NamedTuple):
    reason: str
    amount: Decimal = Decimal(0)
    yen: int = 0


def choose_method(
    item: Item, shipment: Declaration, window_days: int = 31, prefer_computed: bool = False
) -> MethodChoice:
    """The first method that applies to ``item`` in the legal order (DOMAIN §2).

    Deductive comes before computed unless the importer asks otherwise (``prefer_computed`` here, in
    the config, or on the item). The identical-goods window is measured from ``shipment.ship_date``.
    """
    data = item.valuation
    if data is None:
        return _without_data(item, shipment, window_days, prefer_computed)
    computed_first = prefer_computed or bool(data.prefer_computed)
    skipped: list[tuple[str, str]] = []
    for method in COMPUTED_FIRST if computed_first else METHODS:
        outcome = _ATTEMPTS[method](item, shipment, window_days)
        if isinstance(outcome, _Applies):
            reason = outcome.reason
            if method == "computed" and computed_first:
                reason += PREFER_COMPUTED_NOTE
            return MethodChoice(item.msku, method, reason, tuple(skipped), outcome.amount, outcome.yen)
        skipped.append((method, outcome))
    return MethodChoice(item.msku, None, "no method applies: no unit_value and no usable valuation data", tuple(skipped))


def _without_data(item: Item, shipment: Declaration, window_days: int, computed_first: bool) -> MethodChoice:
    """:func:`choose_method` of an item that declares no ``valuation`` data, as most FBA items: identical
    goods, deductive and computed then do not apply, for the same reasons every time (``_NO_DATA``), so
    only the transaction-value and fallback tests run (every item of every screening goes through here)."""
    outcome = _transaction_value(item, shipment, window_days)
    if isinstance(outcome, _Applies):
        return MethodChoice(item.msku, "transaction_value", outcome.reason, (), outcome.amount, outcome.yen)
    skipped = (("transaction_value", outcome), *_NO_DATA[computed_first])
    outcome = _fallback(item, shipment, window_days)
    if isinstance(outcome, _Applies):
        return MethodChoice(item.msku, "fallback", outcome.reason, skipped, outcome.amount, outcome.yen)
    return MethodChoice(item.msku, None, "no method applies: no unit_value and no usable valuation data",
                        (*skipped, ("fallback", outcome)))


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,} {currency}" if currency != "JPY" else f"¥{amount:,}"


# Each method's test: what it values the item at and why, or why it does not apply (a str).
# One signature for all, so choose_method can walk them in either order.


def _transaction_value(item: Item, shipment: Declaration, window_days: int) -> _Applies | str:
    if not shipment.import_transaction:
        return NO_IMPORT_TRANSACTION
    if item.unit_value is None:
        return "there is an import transaction but no unit_value (the price paid or payable) is declared"
    amount = item.unit_value * item.quantity
    return _Applies(
        f"price paid or payable by the buyer in Japan: {_money(item.unit_value, shipment.currency)} × "
        f"{item.quantity} = {_money(amount, shipment.currency)}, plus its share of freight, insurance and "
        "other costs to the port",
        amount=amount,
    )


def _identical_goods(item: Item, shipment: Declaration, window_days: int) -> _Applies | str:
    data = item.valuation
    if data is None or data.identical_goods_unit_value_jpy is None:
        return "no customs value accepted for identical or similar goods (valuation.identical_goods_unit_value_jpy)"
    if data.identical_goods_origin is None or item.origin_country is None:
        missing = "valuation.identical_goods_origin" if data.identical_goods_origin is None else "the item's origin_country"
        return f"{missing} is not declared, so the same-country-of-production condition (Art. 4-2) cannot be checked"
    if data.identical_goods_origin != item.origin_country:
        return (
            f"the identical or similar goods were produced in {data.identical_goods_origin}, this item in "
            f"{item.origin_country}; they must come from the same country of production (Art. 4-2)"
        )
    if data.identical_goods_export_date is None:
        return f"valuation.identical_goods_export_date is missing, so the {window_days}-day window cannot be checked"
    days = abs((shipment.ship_date - data.identical_goods_export_date).days)
    if days > window_days:
        return (
            f"the identical or similar goods were exported on {data.identical_goods_export_date}, {days} days from "
            f"this shipment's {shipment.ship_date}; the window is {window_days} days "
            "([valuation] identical_goods_window_days)"
        )
    if data.identical_goods_method != "transaction_value":
        said = (f"was itself valued by the {METHOD_LABEL[data.identical_goods_method]} method"
                if data.identical_goods_method else "is not said to be a transaction value "
                "(valuation.identical_goods_method)")
        return (f"the identical or similar goods' value {said}; Art. 4-2 needs the transaction value of "
                "identical or similar goods (an earlier FBA import of your own, valued by a fallback method, "
                "is no such basis)")
    yen = data.identical_goods_unit_value_jpy * item.quantity
    return _Applies(
        f"customs value accepted for identical or similar goods from {data.identical_goods_origin}, exported on "
        f"{data.identical_goods_export_date} ({days} days from {shipment.ship_date}, within {window_days}): "
        f"¥{data.identical_goods_unit_value_jpy:,} × {item.quantity} = ¥{yen:,}; no freight added",
        yen=yen,
    )


def _deductive(item: Item, shipment: Declaration, window_days: int) -> _Applies | str:
    data = item.valuation
    if data is None or data.domestic_unit_price_jpy is None:
        return "no Japan selling price (valuation.domestic_unit_price_jpy)"
    if data.domestic_unit_deductions_jpy is None:
        return (
            "the Japan selling price is given but not the deductions (valuation.domestic_unit_deductions_jpy: "
            "commission or profit and general expenses, domestic transport and insurance, Japanese duty and taxes)"
        )
    unit = data.domestic_unit_price_jpy - data.domestic_unit_deductions_jpy
    if unit <= 0:
        return (
            f"the deductions ¥{data.domestic_unit_deductions_jpy:,} are not less than the Japan selling price "
            f"¥{data.domestic_unit_price_jpy:,}"
        )
    yen = unit * item.quantity
    return _Applies(deductive_reason(data.domestic_unit_price_jpy, f"¥{data.domestic_unit_deductions_jpy:,}",
                                     f"¥{unit:,}", item.quantity, yen), yen=yen)


def deductive_reason(price: int, deductions: str, unit: str, quantity: int, yen: int, rounding: str = "") -> str:
    """Why the deductive method gives ``yen``; ``deductions`` and ``unit`` come formatted (whole or exact yen)."""
    return (f"Japan selling price ¥{price:,} minus deductions {deductions} = {unit} × {quantity} = ¥{yen:,}"
            f"{rounding}; no freight added")


def _computed(item: Item, shipment: Declaration, window_days: int) -> _Applies | str:
    data = item.valuation
    if data is None or data.production_unit_cost is None:
        return "no production cost (valuation.production_unit_cost)"
    if data.production_unit_profit_and_expenses is None:
        return "the production cost is given but not the profit and general expenses (valuation.production_unit_profit_and_expenses)"
    unit = data.production_unit_cost + data.production_unit_profit_and_expenses
    amount = unit * item.quantity
    currency = shipment.currency
    return _Applies(
        f"production cost {_money(data.production_unit_cost, currency)} + profit and general expenses "
        f"{_money(data.production_unit_profit_and_expenses, currency)} = {_money(unit, currency)} × "
        f"{item.quantity} = {_money(amount, currency)}, plus its share of freight, insurance and other costs",
        amount=amount,
    )


def _fallback(item: Item, shipment: Declaration, window_days: int) -> _Applies | str:
    if item.unit_value is None:
        return "no unit_value is declared"
    amount = item.unit_value * item.quantity
    return _Applies(
        f"declared unit value {_money(item.unit_value, shipment.currency)} × {item.quantity} = "
        f"{_money(amount, shipment.currency)}, plus its share of freight, insurance and other costs to the port "
        "(other reasonable means)",
        amount=amount,
    )


_ATTEMPTS: dict[str, Callable[[Item, Declaration, int], _Applies | str]] = {
    "transaction_value": _transaction_value,
    "identical_or_similar_goods": _identical_goods,
    "deductive": _deductive,
    "computed": _computed,
    "fallback": _fallback,
}
PREFER_COMPUTED_NOTE = " (the importer asked for the computed method before deductive: prefer_computed)"
COMPUTED_FIRST = ("transaction_value", "identical_or_similar_goods", "computed", "deductive", "fallback")
# Why identical goods, deductive and computed do not apply to an item without valuation data, in the order
# they are tried (by whether computed comes first): what their tests say of any such item.
_NO_DATA = {
    computed_first: tuple((m, _ATTEMPTS[m](Item.model_construct(valuation=None), None, 0))
                          for m in order if m not in ("transaction_value", "fallback"))
    for computed_first, order in ((False, METHODS), (True, COMPUTED_FIRST))
}


# --------------------------------------------------------------------------- rate tables (data files)


@dataclass(frozen=True)
class DutyRate:
    hs: str
    rate: Decimal
    description: str


@dataclass(frozen=True)
class DutyTable:
    """Default duty rates by HS prefix (``fba_jp/data/duty_rates.toml``)."""

    file: str
    as_of: str
    source: str
    rates: tuple[DutyRate, ...]

    def lookup(self, hs_digits: str) -> DutyRate | None:
        """The entry with the longest prefix of ``hs_digits``, or ``None`` (the rate is unknown)."""
        matches = [r for r in self.rates if hs_digits and hs_digits.startswith(r.hs)]
        return max(matches, key=lambda r: len(r.hs)) if matches else None


@lru_cache(maxsize=None)
def load_duty_table(filename: str = "duty_rates.toml") -> DutyTable:
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    rates = tuple(DutyRate(_digits(r["hs"]), Decimal(str(r["rate"])), r.get("description", "")) for r in data["rates"])
    return DutyTable(filename, str(data["as_of"]), data["source"], rates)


@dataclass(frozen=True)
class ExcludedGoods:
    """Articles the small-value exemption never covers, by HS prefix."""

    origin: str  # the data file, or the config key that replaced it
    as_of: str | None
    source: str
    entries: tuple[tuple[str, str], ...]  # (hs prefix, article)

    def match(self, hs_digits: str) -> tuple[str, str] | None:
        for prefix, article in self.entries:
            if hs_digits.startswith(prefix):
                return prefix, article
        return None


@lru_cache(maxsize=None)
def load_excluded_goods(filename: str = "small_value_excluded.toml") -> ExcludedGoods:
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    entries = tuple((_digits(hs), e["article"]) for e in data["excluded"] for hs in e["hs"])
    return ExcludedGoods(filename, str(data["as_of"]), data["source"], entries)


def excluded_goods(configured: Sequence[str] | None) -> ExcludedGoods:
    """``[valuation] small_value_excluded_hs`` when set (it replaces the list), else the shipped default."""
    if configured is None:
        return load_excluded_goods()
    entries = tuple((_digits(p), "listed in [valuation] small_value_excluded_hs") for p in configured)
    return ExcludedGoods("config [valuation] small_value_excluded_hs", None, "config.toml", entries)


@dataclass(frozen=True)
class LiquorRate:
    category: str
    description: str
    applies_from: date
    yen_per_kl: int


@lru_cache(maxsize=None)
def load_liquor_table(filename: str = "liquor_tax.toml") -> tuple[str, str, tuple[LiquorRate, ...]]:
    """``(as_of, source, rates)`` of ``fba_jp/data/liquor_tax.toml``, rates by category and start date."""
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    rates = tuple(LiquorRate(r["category"], r["description"], r["from"], int(r["yen_per_kl"])) for r in data["rates"])
    return str(data["as_of"]), data["source"], rates


_ZERO = Decimal(0)
_NOT_LIQUOR = (_ZERO, "")


def liquor_tax(item: Item, on: date) -> tuple[Decimal | None, str]:
    """The liquor tax of an item line (unrounded yen) and where it came from; ``(0, "")`` for an item that
    is not liquor, ``None`` with the reason when it cannot be worked out."""
    if not is_liquor(item):
        return _NOT_LIQUOR
    liquor = item.liquor
    if liquor is None:
        return None, "no items[].liquor (category and litres per item) is declared"
    if liquor.tax_jpy is not None:
        return Decimal(liquor.tax_jpy), f"declared liquor tax ¥{liquor.tax_jpy:,} (items[].liquor.tax_jpy)"
    as_of, _, rates = load_liquor_table()
    current = [r for r in rates if r.category == liquor.category and r.applies_from <= on]
    if not current:
        return None, (f"no liquor-tax rate for category {liquor.category!r} on {on} in data/liquor_tax.toml "
                      f"(as of {as_of}): its rate depends on the alcohol content")
    rate = max(current, key=lambda r: r.applies_from)
    with localcontext(_EXACT):
        litres = liquor.litres_per_item * item.quantity
        amount = litres * rate.yen_per_kl / 1000
    return amount, (f"{rate.description}: {_plain(litres)} l × ¥{rate.yen_per_kl:,}/kl from {rate.applies_from} "
                    f"(data/liquor_tax.toml, as of {as_of})")


def _digits(hs: str) -> str:
    return "".join(c for c in str(hs) if c.isdigit())


def food_by_hs(item: Item) -> bool | None:
    """fba-jp's default for the reduced consumption-tax rate, by HS code: a heading the food table
    (``data/regimes/food.toml``) lists as food for people, not one it excludes (hair, feathers, feed,
    tobacco…), and not liquor. ``None`` (no opinion) when the item has no HS code. The food plugin
    refines this with the item's title (edible salt, quasi-drugs).
    """
    digits = item.hs_digits
    if not digits:
        return None
    return food_by_digits(digits, is_liquor(item))


@lru_cache(maxsize=4096)
def food_by_digits(digits: str, liquor: bool) -> bool:
    """:func:`food_by_hs` of an item with HS code ``digits`` (not empty) that is or is not liquor.

    Memoised: the food plugin, the default hook and the valuation ask it of every item, sellers ship
    the same HS codes again and again, and the answer depends on nothing else (the food table is
    package data, loaded once)."""
    if liquor:
        return False
    food = load_regime("food")
    if food.tables["reduced_rate_exclude_hs"].find(digits) is not None:
        return False
    return food.hs_exclude.find(digits) is None and food.hs.find(digits) is not None


# --------------------------------------------------------------------------- the whole declaration


@dataclass
class Outcome:
    """What :func:`valuate` found: the valuation (``None`` if no item could be valued) and the findings."""

    valuation: Valuation | None
    findings: list[Finding] = field(default_factory=list)


def needs_exchange_rate(shipment: Declaration, choices: Iterable[MethodChoice]) -> bool:
    """Whether any item's value is in a foreign currency (identical-goods and deductive values are yen)."""
    return shipment.currency != "JPY" and any(c.adds_costs for c in choices)


def valuate(
    shipment: Declaration,
    *,
    exchange_rate: Decimal | None = None,
    rate_source: str = "",
    reduced: Mapping[str, tuple[bool, str]] | None = None,
    window_days: int = 31,
    prefer_computed: bool = False,
    excluded: ExcludedGoods | None = None,
    duty_table: DutyTable | None = None,
    cost_rates: Mapping[str, Decimal | None] | None = None,
    duty_overrides: Mapping[str, Decimal] | None = None,
) -> Outcome:
    """Value every item, group them into declaration lines, tax each line, and total the declaration.

    ``exchange_rate`` is the customs rate (yen per unit of ``shipment.currency``) for the week of the
    declaration date, or ``None`` when there is none. ``reduced`` maps each SKU to (reduced rate?,
    where that answer came from); items missing from it get :func:`food_by_hs`. ``cost_rates`` are the
    customs rates of other currencies the declaration's ``costs`` are in (:mod:`fba_jp.costs`).
    ``prefer_computed`` is ignored when the declaration's agreed method is deductive or computed: the
    agreement says which comes first.

    The worksheet (the valuation's extra keys) says everything once: each item refers to its list of
    earlier methods that did not apply by index into ``earlier_methods``, and the documents to keep for
    each method are in ``documents_by_method``.
    """
    duty_table = duty_table or load_duty_table()
    excluded = excluded or load_excluded_goods()
    currency = shipment.currency
    week = week_start(shipment.declaration_date) if currency != "JPY" else None
    # the rate each item is charged: preferential (EPA) with a valid proof of origin, else MFN
    prefs = preferential_rates(shipment, {i.msku: _duty_rate(i, duty_table, duty_overrides) for i in shipment.items})
    agreed = agreed_items(shipment, lambda item: prefs.rates[item.msku][0], lambda item: _reduced(item, reduced)[0])
    shipment = agreed.shipment
    agreement = shipment.valuation_agreement
    if agreement is not None and agreement.method != "fallback":  # the agreed order wins over [valuation]
        prefer_computed = prefers_computed(shipment)
    choices = {item.msku: with_notes(choose_method(item, shipment, window_days, prefer_computed), agreed)
               for item in shipment.items}
    findings: list[Finding] = []

    rate = Decimal(1) if currency == "JPY" else exchange_rate
    rate_missing = rate is None and needs_exchange_rate(shipment, choices.values())
    if rate_missing:
        findings.append(_no_exchange_rate(shipment, week, [c.sku for c in choices.values() if c.adds_costs]))
    valued = [
        item for item in shipment.items
        if choices[item.msku].method is not None and (rate is not None or not choices[item.msku].adds_costs)
    ]
    for item in shipment.items:
        if choices[item.msku].method is None:
            findings.append(_no_basis(item, choices[item.msku]))
    method_findings = _method_findings(choices.values(), window_days)
    if shipment.valuation_agreement is not None:  # VAL_FALLBACK only where the agreement could not be applied
        findings.extend(agreed_findings(shipment, choices.values(), method_findings))
    else:
        findings.extend(method_findings)
        fallback = [c.sku for c in choices.values() if c.method == "fallback"]
        if fallback:
            findings.append(_fallback_finding(shipment, fallback))
    adds_costs = any(c.adds_costs for c in choices.values())
    findings.extend(unknown_costs(shipment, adds_costs))
    findings.extend(no_insurance(shipment, adds_costs))
    if not valued:
        return Outcome(None, findings)
    valued_skus = {item.msku for item in valued}

    # Freight, insurance and other costs to the port, shared pro rata by declared value. The shares of
    # identical-goods and deductive items are not added: their values already stand at the Japanese port.
    additions = shipment.freight + shipment.insurance + shipment.other_additions
    weights = by_value = value_weights(shipment, choices)
    stands_in = any(i.unit_value is None and by_value[i.msku] for i in shipment.items)
    allocated_by = "declared value" + (VALUE_STANDS_IN if stands_in else "")
    if additions and not any(weights.values()):
        weights, allocated_by = {i.msku: Decimal(i.quantity) for i in shipment.items}, "quantity (no declared values)"
    total_weight = sum(weights.values(), Decimal(0))
    costs = allocate_costs(shipment, {c.sku for c in choices.values() if c.adds_costs and c.sku in valued_skus},
                           rate, cost_rates, values=by_value)
    findings.extend(costs.findings)

    duty_rates = {item.msku: prefs.rates[item.msku] for item in valued}
    overrides_used: dict[str, dict] = {}
    for item in valued:
        if duty_rates[item.msku][1].startswith("config [rules.duty_rates]"):
            heading, override_rate = duty_override(item, duty_overrides)
            entry = overrides_used.setdefault(heading, {"table": "duty_rates", "heading": heading, "action": "rate",
                                                        "rate": str(override_rate), "skus": []})
            entry["skus"].append(item.msku)
    liquor = {item.msku: is_liquor(item) for item in valued}
    tax_rates = {item.msku: _reduced(item, reduced, liquor[item.msku]) for item in valued}
    excise = {item.msku: liquor_tax(item, shipment.declaration_date) if liquor[item.msku] else _NOT_LIQUOR
              for item in valued}
    groups: dict[tuple, list[Item]] = {}
    for item in valued:
        key = (item.hs_code, duty_rates[item.msku][0], _specific_key(item), tax_rates[item.msku][0])
        groups.setdefault(key, []).append(item)

    values = {}
    for key, items in groups.items():
        line_choices = [choices[i.msku] for i in items]
        exact_yen = costs.of(i.msku for i in items)
        if any(c.yen_fraction for c in line_choices):  # Fraction sums only where there is a fraction
            exact_yen += sum(c.yen_fraction for c in line_choices)
        values[key] = _line_value(line_choices, rate if rate is not None else Decimal(0),
                                  additions, weights, total_weight, exact_yen)
    total_value = sum(v for v, _ in values.values())
    complete_values = len(valued) == len(shipment.items)
    small, exempt_keys = _small_value(groups, total_value, complete_values, costs.complete, excluded)

    taxes = {}
    for key, items in groups.items():
        hs, duty_rate, _, is_reduced = key
        value = values[key][0]
        # a line without liquor has no liquor tax (Decimal 0 as the sum of its items' zeros would be)
        excise_raw = _sum_or_none(excise[i.msku][0] for i in items) if any(liquor[i.msku] for i in items) else _ZERO
        excise_line = None if excise_raw is None else round_down(excise_raw, 100)
        if key in exempt_keys:
            taxes[key] = exempt_line(value, duty_rate, is_reduced, excise_line, excise_unrounded_jpy=excise_raw)
        else:
            taxes[key] = line_tax(value, duty_rate, is_reduced, excise_line, specific=_specific_line(items),
                                  excise_unrounded_jpy=excise_raw)
    totals = declaration_totals(taxes.values()) if complete_values else Totals(None, None, None, None)
    for key, items in groups.items():
        if key in exempt_keys:
            continue
        for item in items:
            if duty_rates[item.msku][0] is None and taxes[key].duty_unrounded_jpy is None:
                findings.append(_duty_rate_unknown(item, duty_table))
    for item in valued:
        if excise[item.msku][0] is None:
            findings.append(_excise_unknown(item, excise[item.msku][1]))
    if exempt_keys:
        findings.append(_small_value_finding(total_value, small))

    lines, lines_worksheet = [], []
    for key, items in groups.items():
        line = _valuation_line(key[0], items, taxes[key], _plain(values[key][1], 4), duty_rates, tax_rates, excise,
                               liquor)
        lines.append(line)
        lines_worksheet.append(_steps(line, taxes[key]))
    if totals.total_jpy is not None:
        lines_worksheet.append(_total_steps(totals, all(t.exempt for t in taxes.values())))
    methods_used = dict.fromkeys(c.method for c in choices.values() if c.method is not None)
    documents = list(COMMON_DOCUMENTS)
    for method in methods_used:
        documents.extend(METHOD_DOCUMENTS[method])
    documents.extend(evidence_documents(shipment))
    earlier_methods: dict[tuple, int] = {}  # each distinct list of (method, why not), numbered
    item_sheets = [
        _item_sheet(item, choices[item.msku], rate, additions, weights, total_weight,
                    duty_rates.get(item.msku), tax_rates.get(item.msku), earlier_methods,
                    costs.shares.get(item.msku))
        for item in shipment.items
    ]
    exact_values = {sheet["sku"]: sheet["customs_value_before_truncation_jpy"] for sheet in item_sheets}
    for item, agreement, mfn_rate, why in prefs.missing:
        value = exact_values.get(item.msku)
        findings.append(proof_missing(item, agreement, mfn_rate, why, int(Decimal(value)) if value else None))
    valuation = Valuation.model_validate({  # from a dict, lines too: one validation, not one per line
        "currency": currency,
        "exchange_rate": exchange_rate if currency != "JPY" else None,
        "rate_week_start": week,
        "methods": {c.sku: c.method for c in choices.values() if c.method is not None},
        "lines": lines,
        "customs_value_jpy": total_value,
        "duty_jpy": totals.duty_jpy,
        "national_consumption_tax_jpy": totals.national_jpy,
        "local_consumption_tax_jpy": totals.local_jpy,
        "total_tax_jpy": totals.total_jpy,
        "small_value_exemption": small["applies"],
        "complete": complete_values and totals.total_jpy is not None and costs.complete,
        # the worksheet (extra keys, kept in every output and in the valuations table)
        "rate_week_end": week_end(shipment.declaration_date).isoformat() if week else None,
        "rate_source": ("not needed: the shipment is in yen" if currency == "JPY" else rate_source
                        if exchange_rate is not None else f"no customs rate for {currency} in the week from {week}"),
        "declaration_date": shipment.declaration_date.isoformat(),
        "ship_date": shipment.ship_date.isoformat(),
        "items": item_sheets,
        "earlier_methods": [[{"method": m, "reason": r} for m, r in skipped] for skipped in earlier_methods],
        "unvalued_skus": [sku for sku in choices if sku not in valued_skus],
        "additions": {
            "freight": str(shipment.freight),
            "insurance": str(shipment.insurance),
            "other_additions": str(shipment.other_additions),
            "total": str(additions),
            "allocated_by": allocated_by,
            "not_added_for": [c.sku for c in choices.values() if c.method and not c.adds_costs],
        },
        **({"costs": costs.sheet} if shipment.costs else {}),
        **({"agreement": agreement_sheet(agreed, choices.values())} if shipment.valuation_agreement else {}),
        **({"preferential": prefs.sheet} if prefs.sheet else {}),
        "lines_worksheet": lines_worksheet,
        "totals_unrounded": {
            "duty_jpy": _plain(totals.duty_unrounded_jpy),
            "national_consumption_tax_jpy": _plain(totals.national_unrounded_jpy),
            "local_consumption_tax_sum_jpy": totals.local_sum_jpy,
        },
        "small_value": small,
        **({"rule_overrides": list(overrides_used.values())} if overrides_used else {}),
        **({"liquor_tax_jpy": totals.excise_jpy, "liquor_tax_table": load_liquor_table()[0]}
           if any(liquor.values()) else {}),
        "duty_rate_table": {"file": duty_table.file, "as_of": duty_table.as_of, "source": duty_table.source},
        "documents_by_method": {m: [*COMMON_DOCUMENTS, *METHOD_DOCUMENTS[m]] for m in methods_used},
        "documents_to_keep": list(dict.fromkeys(documents)),
        "record_keeping": RECORD_KEEPING,
        "notes": list(NOTES),
    })
    valuation.findings = findings
    return Outcome(valuation, findings)


NOTES = (
    "Liquor tax is part of the consumption-tax base and of the total: computed for beer, happoshu, wine and "
    "sake (data/liquor_tax.toml) or taken as declared; otherwise the estimate is incomplete. Tobacco tax is "
    "not estimated.",
    "Shares of freight and insurance are shown to 4 decimal places; line values are computed exactly.",
    "Specific and compound duties are computed when declared per item (items[].specific_duty).",
)


def _line_value(choices: list[MethodChoice], rate: Decimal, additions: Decimal,
                weights: Mapping[str, Decimal], total_weight: Decimal,
                costs: Fraction | int = 0) -> tuple[int, Decimal]:
    """A line's customs value in yen, fractions dropped, and its exact value (for the worksheet).

    Σ (amount × rate + yen) + rate × additions × (line's weight / total weight), floored *exactly*:
    the division happens once, as integer division of exact numerators, so a line worth exactly ¥4
    after three equal shares of a third is ¥4, not ¥3. ``costs`` is the line's exact share of the
    declaration's ``costs`` in yen (:mod:`fba_jp.costs`).
    """
    own = weight = _ZERO
    with localcontext(_EXACT):
        for c in choices:  # the sums, left to right from Decimal 0, without generators (a line is usually one item)
            own += c.amount * rate + c.yen
            if c.adds_costs:
                weight += weights[c.sku]
        scalar = rate * additions * weight if additions and weight else Decimal(0)
        if not costs:
            if not scalar:
                return int(own // 1), own
            numerator = own * total_weight + scalar
            value = int(numerator // total_weight)
    if not costs:
        return value, numerator / total_weight  # display only; may be rounded in the 28th digit
    exact = Fraction(own) + (Fraction(scalar) / Fraction(total_weight) if scalar else 0) + costs
    return math.floor(exact), Decimal(exact.numerator) / Decimal(exact.denominator)  # display, as above


def value_weights(shipment: Declaration, choices: Mapping[str, MethodChoice]) -> dict[str, Decimal]:
    """Each item's weight when costs are shared by value: its declared value (unit value × quantity); for an
    item whose method adds costs but that declares no unit value (computed from its production cost), the
    value its method gives it, so that its share of freight and insurance is not left out of every value.
    All zero when no item declares a value (the costs are then shared by quantity)."""
    if all(i.unit_value is None for i in shipment.items):
        return {i.msku: Decimal(0) for i in shipment.items}
    return {i.msku: i.unit_value * i.quantity if i.unit_value is not None
            else choices[i.msku].amount if choices[i.msku].adds_costs else Decimal(0) for i in shipment.items}


def _duty_rate(item: Item, table: DutyTable, overrides: Mapping[str, Decimal] | None = None) -> tuple[Decimal | None, str]:
    if item.duty_rate is not None:
        return item.duty_rate, "declaration (items[].duty_rate)"
    if item.specific_duty is not None and item.specific_duty.combine == "specific_only":
        return None, "declaration (items[].specific_duty, a specific duty only)"
    if override := duty_override(item, overrides):
        heading, rate = override
        return rate, f"config [rules.duty_rates] {heading!r} = {rate} (overrides the default table)"
    entry = table.lookup(item.hs_digits)
    if entry is not None:
        return entry.rate, f"default table {table.file} (as of {table.as_of}): {entry.hs} {entry.description}"
    return None, "unknown: not declared and not in the default table"


def duty_override(item: Item, overrides: Mapping[str, Decimal] | None) -> tuple[str, Decimal] | None:
    """The most specific ``[rules.duty_rates]`` heading the item is under, with its rate."""
    digits = item.hs_digits
    if not overrides or not digits:
        return None
    hits = [(len(d), heading) for heading in overrides if digits.startswith(d := _digits(heading))]
    if not hits:
        return None
    heading = max(hits)[1]
    return heading, overrides[heading]


def _specific_key(item: Item) -> tuple | None:
    d = item.specific_duty
    return None if d is None else (d.yen_per_unit, d.unit, d.combine, d.minimum_yen_per_unit)


def _specific_line(items: list[Item]) -> SpecificLine | None:
    """The specific duty of a line (its items share one, see the grouping key), on their total quantity."""
    d = items[0].specific_duty
    if d is None:
        return None
    with localcontext(_EXACT):
        units = sum((i.specific_duty.units_per_item * i.quantity for i in items), Decimal(0))
    return SpecificLine(d.yen_per_unit, d.unit, units, d.combine, d.minimum_yen_per_unit)


def _sum_or_none(values: Iterable[Decimal | None]) -> Decimal | None:
    values = list(values)
    if any(v is None for v in values):
        return None
    with localcontext(_EXACT):
        return sum(values, Decimal(0))


def is_liquor(item: Item) -> bool:
    """Alcoholic beverage for the Liquor Tax Act: 1 % alcohol or more, or HS 2203–2206 / 2208."""
    if item.alcohol_percent is not None:
        return item.alcohol_percent >= 1
    return item.liquor is not None or item.hs_digits[:4] in LIQUOR_HS


LIQUOR_HS = frozenset({"2203", "2204", "2205", "2206", "2208"})


def _reduced(item: Item, reduced: Mapping[str, tuple[bool, str]] | None,
             liquor: bool | None = None) -> tuple[bool, str]:
    if is_liquor(item) if liquor is None else liquor:
        # the reduced rate covers food and drink, never liquor (Consumption Tax Act Suppl. Art. 34 (2016))
        return False, "standard: an alcoholic beverage (1 % alcohol or more) is never taxed at the reduced rate"
    if reduced is not None and item.msku in reduced:
        return reduced[item.msku]
    if item.reduced_tax_rate is not None:
        return item.reduced_tax_rate, "declaration (items[].reduced_tax_rate)"
    default = food_by_hs(item)
    return bool(default), "fba-jp default by HS chapter" if default is not None else "standard: no HS code"


def _small_value(groups: Mapping[tuple, list[Item]], total_value: int, complete_values: bool, costs_known: bool,
                 excluded: ExcludedGoods) -> tuple[dict, set]:
    """Which lines the small-value exemption covers (docs/rules.md "Small-value exemption").

    Art. 14(18) exempts *articles* of a declaration whose total customs value is ¥10,000 or less, and
    Cabinet Order Art. 16-3 takes listed articles out: an excluded article is taxed, the other lines of the
    same declaration stay exempt. A line without an HS code cannot be shown not to be excluded, so it is
    taxed. A total without a cost that belongs in it (unknown freight, a cost without its customs rate) is
    understated, so it cannot show the limit is met. Returns the worksheet entry and the keys of the exempt lines.
    """
    sheet = {"limit_jpy": SMALL_VALUE_LIMIT_JPY, "customs_value_jpy": total_value, "applies": False,
             "excluded_goods_list": excluded.origin, "excluded_goods_as_of": excluded.as_of}
    if not complete_values:
        sheet["reason"] = "not every item could be valued, so the total customs value is not known"
        return sheet, set()
    if not costs_known:
        sheet["reason"] = ("a cost to the Japanese port is not known (VAL_FREIGHT_UNKNOWN or VAL_NO_EXCHANGE_RATE), so "
                           "the total customs value is not known")
        return sheet, set()
    if total_value > SMALL_VALUE_LIMIT_JPY:
        sheet["reason"] = f"the total customs value ¥{total_value:,} is over ¥{SMALL_VALUE_LIMIT_JPY:,}"
        return sheet, set()
    exempt, taxed = set(), []
    sheet["exempt_skus"], sheet["taxed_skus"] = [], []
    for key, items in groups.items():
        skus = [i.msku for i in items]
        if not items[0].hs_digits:
            taxed.append(f"{', '.join(skus)} (no HS code, so it cannot be shown not to be an excluded article)")
        elif hit := excluded.match(items[0].hs_digits):
            taxed.append(f"{', '.join(skus)} ({hit[0]}: {hit[1]})")
        else:
            exempt.add(key)
            sheet["exempt_skus"].extend(skus)
            continue
        sheet["taxed_skus"].extend(skus)
    sheet["applies"] = bool(exempt)
    limit = f"total customs value ¥{total_value:,} is ¥{SMALL_VALUE_LIMIT_JPY:,} or less"
    if not taxed:
        sheet["reason"] = f"{limit} and no item is an excluded article"
    elif exempt:
        sheet["reason"] = f"{limit}: exempt except the excluded articles, which are taxed: " + "; ".join(taxed)
    else:
        sheet["reason"] = f"{limit}, but every line is an excluded article: " + "; ".join(taxed)
    return sheet, exempt


def _valuation_line(hs, items, tax: LineTax, exact: str, duty_rates, tax_rates, excise, liquor) -> dict:
    """A :class:`~fba_jp.models.ValuationLine` as the dict it is validated from (with the whole valuation)."""
    first = items[0].msku
    extra = {}
    if tax.specific is not None:  # only on lines that have one, so other outputs stay as they were
        extra["specific_duty"] = {"yen_per_unit": str(tax.specific.yen_per_unit), "unit": tax.specific.unit,
                                  "units": _plain(tax.specific.units), "combine": tax.specific.combine,
                                  "minimum_yen_per_unit": _plain(tax.specific.minimum_yen_per_unit)}
        extra["duty_basis"] = tax.duty_basis
    if any(liquor[i.msku] for i in items):
        extra["liquor_tax_jpy"] = tax.excise_jpy
        extra["liquor_tax_unrounded_jpy"] = _plain(tax.excise_unrounded_jpy)
        extra["liquor_tax_source"] = "; ".join(f"{i.msku}: {excise[i.msku][1]}" for i in items)
    return {
        **extra,
        "hs_code": hs,
        "skus": [i.msku for i in items],
        "customs_value_jpy": tax.customs_value_jpy,
        "duty_rate": tax.duty_rate,
        "duty_jpy": tax.duty_jpy,
        "consumption_tax_rate": tax.consumption_tax_rate,
        "consumption_tax_base_jpy": tax.consumption_tax_base_jpy,
        "national_consumption_tax_jpy": tax.national_jpy,
        "local_consumption_tax_jpy": tax.local_jpy,
        "customs_value_before_truncation_jpy": exact,
        "duty_base_jpy": tax.duty_base_jpy,
        "duty_unrounded_jpy": _plain(tax.duty_unrounded_jpy),
        "consumption_tax_base_unrounded_jpy": tax.consumption_tax_base_unrounded_jpy,
        "national_consumption_tax_unrounded_jpy": _plain(tax.national_unrounded_jpy),
        "duty_rate_source": duty_rates[first][1],
        "reduced_tax_rate": tax_rates[first][0],
        "reduced_tax_rate_source": tax_rates[first][1],
        "exempt": tax.exempt,
    }


def _item_sheet(item, choice: MethodChoice, rate, additions, weights, total_weight, duty, tax,
                earlier_methods: dict[tuple, int], costs_share: Fraction | None = None) -> dict:
    """One item's valuation. ``earlier_methods`` numbers each distinct list of methods that did not apply;
    ``costs_share`` is its exact share in yen of the declaration's ``costs``."""
    adds_costs = choice.adds_costs
    share = None
    if adds_costs and additions and total_weight:
        share = additions * weights[item.msku] / total_weight
    exact_yen = None
    if choice.method is not None and (rate is not None or not adds_costs):
        exact_yen = (choice.amount + (share or 0)) * (rate or 0) + choice.yen
        if costs_share is not None or choice.yen_fraction:
            exact_yen = Fraction(exact_yen) + (costs_share or 0) + choice.yen_fraction
            exact_yen = Decimal(exact_yen.numerator) / Decimal(exact_yen.denominator)
    sheet = {
        "sku": item.msku,
        "quantity": item.quantity,
        "hs_code": item.hs_code,
        "origin_country": item.origin_country,
        "method": choice.method,
        "reason": choice.reason,
        "rule": METHOD_RULE.get(choice.method),
        "earlier_methods": earlier_methods.setdefault(choice.skipped, len(earlier_methods)),
        "declared_value": None if item.unit_value is None else str(item.unit_value * item.quantity),
        "value": str(choice.amount) if adds_costs else None,
        "value_jpy": choice.yen if choice.method and not adds_costs else None,
        "additions_share": _plain(share, 4) if share is not None else None,
        "customs_value_before_truncation_jpy": _plain(exact_yen, 4),
        "duty_rate": None if duty is None or duty[0] is None else str(duty[0]),
        "duty_rate_source": None if duty is None else duty[1],
        "consumption_tax_rate": None if tax is None else _REDUCED_TEXT if tax[0] else _STANDARD_TEXT,
        "reduced_tax_rate_source": None if tax is None else tax[1],
    }
    if costs_share is not None:
        sheet["costs_share_jpy"] = _plain(Decimal(costs_share.numerator) / Decimal(costs_share.denominator), 4)
    return sheet


def _steps(line: dict, tax: LineTax) -> dict:
    """The rounding steps of one line (its :func:`_valuation_line` dict), as a person checks them.

    Ten steps a line, in every screening, so they are built in place: whole yen (``int``: the customs
    value, bases, and rounded figures, in the branches where they are known) formatted as :func:`_yen`
    would, and the unrounded amounts grouped from the plain digits the line already holds (:func:`_grouped`)
    instead of being formatted from the Decimal again. The line's value before its fractions of a yen are
    dropped is shown to 4 decimals."""
    steps = [
        {"label": "Customs value: items converted to yen and summed",
         "amount": _grouped(line["customs_value_before_truncation_jpy"])},
        {"label": "Customs value, fractions of a yen dropped", "amount": f"¥{tax.customs_value_jpy:,}"},
    ]
    liquor = tax.excise_unrounded_jpy != 0
    if tax.exempt:
        steps.append({"label": "Small-value exemption: no duty and no consumption tax", "amount": "¥0"})
    elif tax.duty_unrounded_jpy is None:
        steps.append({"label": "Duty base, rounded down to ¥1,000", "amount": f"¥{tax.duty_base_jpy:,}"})
        steps.append({"label": "Duty: rate unknown, so duty and consumption tax are unknown", "amount": "unknown"})
    else:
        duty_label = f"Duty: {tax.duty_basis}" if tax.specific is not None else f"Duty at {tax.duty_rate}%"
        steps += [
            {"label": "Duty base, rounded down to ¥1,000", "amount": f"¥{tax.duty_base_jpy:,}"},
            {"label": duty_label, "amount": _grouped(line["duty_unrounded_jpy"])},
            {"label": "Duty, rounded down to ¥100", "amount": f"¥{tax.duty_jpy:,}"},
        ]
        if liquor:
            steps += [{"label": "Liquor tax", "amount": _yen(tax.excise_unrounded_jpy)},
                      {"label": "Liquor tax, rounded down to ¥100", "amount": _yen(tax.excise_jpy)}]
        if tax.national_unrounded_jpy is None:
            steps.append({"label": "Consumption tax: the liquor tax is unknown, so the consumption tax is unknown",
                          "amount": "unknown"})
        else:
            base_label = "customs value + duty + liquor tax" if liquor else "customs value + duty"
            steps += [
                {"label": f"Consumption-tax base: {base_label}",
                 "amount": f"¥{tax.consumption_tax_base_unrounded_jpy:,}"},
                {"label": "Consumption-tax base, rounded down to ¥1,000",
                 "amount": f"¥{tax.consumption_tax_base_jpy:,}"},
                {"label": f"National consumption tax at {tax.consumption_tax_rate}%",
                 "amount": _grouped(line["national_consumption_tax_unrounded_jpy"])},
                {"label": "National consumption tax, rounded down to ¥100", "amount": f"¥{tax.national_jpy:,}"},
                {"label": "Local consumption tax: national × 22/78, fractions of a yen dropped",
                 "amount": f"¥{tax.local_jpy:,}"},
            ]
    if tax.exempt and liquor:
        steps += [{"label": "Liquor tax (still due under the exemption)",
                   "amount": _yen(tax.excise_unrounded_jpy)},
                  {"label": "Liquor tax, rounded down to ¥100", "amount": _yen(tax.excise_jpy)}]
    return {"hs_code": line["hs_code"], "skus": line["skus"], "steps": steps}


def _total_steps(totals: Totals, exempt: bool) -> dict:
    if exempt and not totals.excise_jpy:
        steps = [("Small-value exemption: nothing to pay", _yen(0))]
    else:
        steps = [
            ("Duty: sum of the unrounded line duties", _yen(totals.duty_unrounded_jpy)),
            ("Duty payable, rounded down to ¥100", _yen(totals.duty_jpy)),
            ("National consumption tax: sum of the unrounded line amounts", _yen(totals.national_unrounded_jpy)),
            ("National consumption tax payable, rounded down to ¥100", _yen(totals.national_jpy)),
            ("Local consumption tax: sum of the line amounts", _yen(totals.local_sum_jpy)),
            ("Local consumption tax payable, rounded down to ¥100", _yen(totals.local_jpy)),
        ]
        if totals.excise_jpy:
            steps += [("Liquor tax: sum of the unrounded line amounts", _yen(totals.excise_unrounded_jpy)),
                      ("Liquor tax payable, rounded down to ¥100", _yen(totals.excise_jpy))]
    steps.append(("Total payable", _yen(totals.total_jpy)))
    return {"hs_code": "declaration total", "skus": [], "steps": [{"label": a, "amount": b} for a, b in steps]}


def _plain(amount: Decimal | int | None, places: int | None = None) -> str | None:
    """A Decimal as plain digits (no exponent, no trailing zeros), cut to ``places`` decimals if given."""
    if amount is None:
        return None
    text = str(amount)  # plain digits already unless it has an exponent (str is twice as fast as format "f")
    if "E" in text:
        text = format(amount, "f")
    dot = text.find(".")
    if dot < 0:
        return text
    if places is not None:
        # rounding down to ``places`` decimals is cutting the plain digits there (a quantize costs twice as
        # much, and this runs three times an item)
        text = text[:dot + 1 + places]
    return text.rstrip("0").rstrip(".")


def _grouped(plain: str) -> str:
    """:func:`_yen` of an amount from its :func:`_plain` digits: the same text, without formatting the Decimal again."""
    whole, dot, fraction = plain.partition(".")
    return f"¥{int(whole):,}{dot}{fraction}"


def _yen(amount: Decimal | int | str | None) -> str:
    """``¥1,234`` or ``¥8,923.2``: thousands separated, fractions of a yen as they are. A ``str`` is plain digits."""
    if amount is None:
        return "unknown"
    if isinstance(amount, int):
        return f"¥{amount:,}"
    text = f"{amount if isinstance(amount, Decimal) else Decimal(amount):,f}"  # every digit, never rounded; then drop trailing zeros
    return "¥" + (text.rstrip("0").rstrip(".") if "." in text else text)


# --------------------------------------------------------------------------- findings


def _no_exchange_rate(shipment: Declaration, week: date, skus: list[str]) -> Finding:
    currency = shipment.currency
    return Finding(
        code="VAL_NO_EXCHANGE_RATE", severity="block", reference=RATE_RULE,
        evidence=f"currency {currency}; declaration date {shipment.declaration_date}; week {week} to "
                 f"{week_end(week)}; items needing conversion: {', '.join(skus)}",
        message=f"No customs exchange rate for {currency} in the week {week} to {week_end(week)} (declaration date "
                f"{shipment.declaration_date}), so the items valued in {currency} cannot be converted to yen. "
                "fba-jp never guesses a spot rate.",
        remedy=f"Import Japan Customs' weekly rate for that week (customs.go.jp publishes it; the Japan Tariff "
               f"Association reposts it on Tuesdays) with `fba-jp rates import rates.csv` (a row "
               f"`{week},{currency},RATE`), or put the customs rate in the declaration as "
               f"fx_rates = {{\"{currency}\": \"RATE\"}}.",
    )


def _no_basis(item: Item, choice: MethodChoice) -> Finding:
    tried = "; ".join(f"{METHOD_LABEL[m]}: {r}" for m, r in choice.skipped)
    return Finding(
        code="VAL_NO_BASIS", severity="block", sku=item.msku, reference=VALUATION_RULE,
        evidence=tried,
        message=f"{item.msku}: no customs value can be worked out: there is no unit_value and no usable "
                f"valuation data. {tried}.",
        remedy="Declare items[].unit_value (in the shipment currency), or the data for a method: "
               "valuation.domestic_unit_price_jpy and domestic_unit_deductions_jpy (deductive), "
               "production_unit_cost and production_unit_profit_and_expenses (computed), or "
               "identical_goods_unit_value_jpy with its export date and origin (identical or similar goods).",
    )


def _method_findings(choices: Iterable[MethodChoice], window_days: int) -> list[Finding]:
    """``VAL_METHOD``, one per group of items valued by the same method for the same reasons.

    CONTRACT §4 allows one per item or per line; one per group says the same (which method and why,
    naming every SKU) without fifty copies of the same sentences. Each item's own arithmetic is in
    the worksheet (``items[].reason``).
    """
    groups: dict[tuple, list[str]] = {}
    for choice in choices:
        if choice.method is not None:
            groups.setdefault((choice.method, choice.skipped), []).append(choice.sku)
    return [_method_finding(method, skipped, skus, window_days) for (method, skipped), skus in groups.items()]


def _method_finding(method: str, skipped: tuple[tuple[str, str], ...], skus: list[str], window_days: int) -> Finding:
    basis = METHOD_BASIS[method].format(window_days=window_days)
    if method == "computed" and "deductive" not in {m for m, _ in skipped}:
        basis += PREFER_COMPUTED_NOTE
    earlier = "; ".join(f"{METHOD_LABEL[m]}: {r}" for m, r in skipped)
    return Finding(
        code="VAL_METHOD", severity="info", sku=skus[0] if len(skus) == 1 else None, reference=METHOD_RULE[method],
        message=f"{', '.join(skus)}: {METHOD_LABEL[method]} method: {basis}."
                + (f" Earlier methods do not apply: {earlier}." if earlier else ""),
    )


def _fallback_finding(shipment: Declaration, skus: list[str]) -> Finding:
    ior = shipment.importer_of_record
    seller_is_ior = ior is not None and (ior.is_seller or same_party(ior.name, shipment.seller.name))
    who = (
        "You ship your own stock to Amazon's warehouse and are your own importer, so nobody in Japan buys the "
        "goods at import"
        if seller_is_ior else "There is no sale to a buyer in Japan at import"
    )
    listed = ", ".join(skus[:10]) + (f" and {len(skus) - 10} more" if len(skus) > 10 else "")
    return Finding(
        code="VAL_FALLBACK", severity="warn", reference="Customs Tariff Act Arts. 4(1), 4-3, 4-4; Customs Answer 1404",
        evidence=f"import_transaction=false; items valued by fallback: {listed}",
        message=f"{len(skus)} item{'s are' if len(skus) != 1 else ' is'} valued at the invoice value by the "
                f"fallback method ({listed}). {who}: the invoice value is not a transaction value, and Customs "
                "may not accept it and can revalue the goods after import (post-clearance audit, with "
                "additional duty and tax).",
        remedy="Agree the valuation method with your ACP and Customs (it is discussed when the ACP is notified) "
               "and keep the evidence Customs will want: your Amazon.co.jp selling prices with the referral and "
               "FBA fees and other deductions (deductive method, the one usually applied to goods sold on "
               "e-commerce platforms), or the manufacturer's cost breakdown (computed method), or the import "
               "permit of identical goods; plus invoices and freight and insurance statements. Then declare "
               "each item's valuation.domestic_unit_price_jpy and valuation.domestic_unit_deductions_jpy (or "
               "production_unit_cost and production_unit_profit_and_expenses with prefer_computed): fba-jp "
               "then uses that method and this warning goes away.",
    )


def _duty_rate_unknown(item: Item, table: DutyTable) -> Finding:
    hs = f"HS {item.hs_code}" if item.hs_code else "no HS code"
    return Finding(
        code="VAL_DUTY_RATE_UNKNOWN", severity="warn", sku=item.msku, reference="Customs Tariff Act (tariff schedule)",
        evidence=f"{hs}; default table {table.file} as of {table.as_of}",
        message=f"{item.msku} ({hs}): the duty rate is unknown (not declared and not in fba-jp's default table), "
                "so duty and consumption tax are reported as unknown, not zero, and the estimate is incomplete.",
        remedy="Look up the rate for the 9-digit code and the origin (WTO or EPA rate) in Japan's tariff "
               "schedule (customs.go.jp/english/tariff/) and declare items[].duty_rate in percent "
               "(\"0\" for free)." + ("" if item.hs_code else " Declare items[].hs_code too."),
    )


def _small_value_finding(total_value: int, sheet: dict) -> Finding:
    if not sheet.get("taxed_skus"):
        what = "no item is an excluded article: duty and import consumption tax are exempt"
    else:
        what = (f"{', '.join(sheet['exempt_skus'])} are exempt from duty and import consumption tax; the excluded "
                f"articles {', '.join(sheet['taxed_skus'])} are taxed (Cabinet Order Art. 16-3 excludes articles, "
                "not declarations)")
    return Finding(
        code="VAL_SMALL_VALUE_EXEMPT", severity="info", reference=SMALL_VALUE_RULE,
        evidence=sheet["reason"],
        message=f"The total customs value ¥{total_value:,} is ¥{SMALL_VALUE_LIMIT_JPY:,} or less and {what} "
                "(liquor and tobacco taxes are still due).",
    )


def _excise_unknown(item: Item, why: str) -> Finding:
    return Finding(
        code="VAL_EXCISE_UNKNOWN", severity="warn", sku=item.msku, reference=LIQUOR_RULE,
        evidence=why,
        message=f"{item.msku} is an alcoholic beverage, and its liquor tax cannot be worked out ({why}). Liquor "
                "tax is part of the import consumption-tax base, so the consumption tax and the total are "
                "reported as unknown and the estimate is incomplete.",
        remedy="Declare items[].liquor: {\"category\": \"beer\"|\"happoshu\"|\"wine\"|\"sake\"|…, "
               "\"litres_per_item\": \"0.75\"} (fba-jp computes beer, happoshu, wine and sake from "
               "data/liquor_tax.toml), or the liquor tax itself as items[].liquor.tax_jpy, as your customs "
               "broker calculated it.",
    )
