"""A declaration's ``costs`` (freight, insurance, other costs to the Japanese port): each converted to yen
at the customs rate and shared among the items by its allocation basis, in exact rational arithmetic.

:func:`fba_jp.valuation.valuate` adds an item's shares to its value only when its method builds a CIF
value (transaction value, computed, fallback); the shares of identical-goods and deductive items are
not added anywhere, as with the declaration's scalar ``freight`` and ``insurance`` (DOMAIN §2).

Allocation bases:

* ``value``: the items' declared value (unit value × quantity; for an item whose method adds costs but
  that declares none, the value its method gives it); by quantity when no item declares one;
* ``weight``: the boxes' gross weight, each box's weight shared among its contents by units; by
  declared value when a box lacks its weight or contents;
* ``quantity``: units.

An insurance cost given as a premium rate is the rate × the insured value (``insured_value_percent``
of the goods' declared value plus freight, 110 % unless stated: the usual cover for marine and air cargo
insurance), all in yen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Mapping

from .freight import weights_by_box
from .models import Cost, Declaration, Finding

DEFAULT_INSURED_PERCENT = Decimal(110)
_NOTHING = Fraction(0)
VALUE_STANDS_IN = " (the value by its method for an item that declares none)"
FREIGHT_RULE = "Customs Tariff Act Art. 4(1)(i) and 4-4; Customs Answer 1404 (freight and insurance to the port of import)"


@dataclass
class CostShares:
    """What the costs add: each item's share in yen (exact), the worksheet, findings, completeness."""

    shares: dict[str, Fraction] = field(default_factory=dict)  # only items whose method adds costs
    sheet: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    complete: bool = True

    def of(self, skus) -> Fraction | int:
        if not self.shares:  # no costs beyond freight, insurance and other additions: the usual case, so the int 0
            return 0         # (its truth is tested for every line, and Fraction's __bool__ is Python code)
        return sum((self.shares.get(sku, _NOTHING) for sku in skus), _NOTHING)


def allocate_costs(
    shipment: Declaration,
    adds_costs: set[str],
    rate: Decimal | None,
    cost_rates: Mapping[str, Decimal | None] | None = None,
    values: Mapping[str, Decimal] | None = None,
) -> CostShares:
    """Convert and share ``shipment.costs`` among ``adds_costs`` (the SKUs whose method adds costs).

    ``rate`` is the customs rate of the shipment's currency (1 for yen); ``cost_rates`` the customs
    rates of any other currency a cost is in (``None`` when there is none for the week); ``values`` the
    items' weights for sharing by value (:func:`fba_jp.valuation.value_weights`; default: declared values).
    """
    result = CostShares()
    if not shipment.costs:
        return result
    cost_rates = cost_rates or {}
    freight_yen = Fraction(0)
    order = sorted(range(len(shipment.costs)), key=lambda n: shipment.costs[n].rate_percent is not None)
    entries: dict[int, dict] = {}
    for n in order:  # premiums on a rate need the freight first
        cost = shipment.costs[n]
        entry = _entry(cost)
        entries[n] = entry
        if cost.missing is not None:  # reported by unknown_costs(); it matters only if an item adds costs
            if adds_costs:
                result.complete = False
            continue
        if cost.rate_percent is not None:
            yen, entry["basis_jpy"] = _premium(shipment, cost, rate, freight_yen)
        else:
            conversion = _to_yen(cost, shipment.currency, rate, cost_rates)
            if conversion is None:
                if adds_costs:  # a cost no item adds needs no rate
                    result.complete = False
                    result.findings.append(_no_rate(shipment, cost))
                entry["yen"] = None
                continue
            yen, entry["exchange_rate"] = conversion
        if cost.kind == "freight":
            freight_yen += yen
        entry["yen"] = _plain(yen)
        weights, entry["allocated_by"] = _weights(shipment, cost.allocation, values)
        total = sum(weights.values(), Fraction(0))
        shares = {}
        for item in shipment.items:
            if item.msku in adds_costs and total:
                share = yen * weights[item.msku] / total
                result.shares[item.msku] = result.shares.get(item.msku, Fraction(0)) + share
                shares[item.msku] = _plain(share)
        entry["shares_jpy"] = shares
        entry["not_added_for"] = [i.msku for i in shipment.items if i.msku not in adds_costs]
    result.sheet = [entries[n] for n in range(len(shipment.costs))]
    if not shipment.insurance and not any(c.kind == "insurance" for c in shipment.costs):
        result.sheet.append({"kind": "insurance", "yen": "0", "basis": "none added: no insurance rate, premium or "
                             "policy is given, and insurance is added only when it is actually paid"})
    return result


def unknown_costs(shipment: Declaration, adds_costs: bool) -> list[Finding]:
    """``VAL_FREIGHT_UNKNOWN`` for each cost whose figure is not known, when an item's value adds costs.

    Said even when nothing can be valued yet (no exchange rate), so every gap shows at once."""
    return [_unknown(cost) for cost in shipment.costs if cost.missing is not None] if adds_costs else []


def no_insurance(shipment: Declaration, adds_costs: bool) -> list[Finding]:
    """``VAL_INSURANCE_NOT_ADDED`` (info) when the declaration states its costs (the SP-API path) but
    none of them is insurance: insurance belongs in the customs value only when it is actually paid."""
    if not adds_costs or not shipment.costs or shipment.insurance or any(c.kind == "insurance" for c in shipment.costs):
        return []
    return [Finding(
        code="VAL_INSURANCE_NOT_ADDED", severity="info", reference=FREIGHT_RULE,
        message="No insurance was added to the customs value: the account gives no insurance rate, premium or "
                "policy, and insurance is part of the customs value only when it is actually paid.",
        remedy="If the goods are insured to Japan, add [accounts.insurance] (rate_percent of the insured value, or "
               "a premium per shipment, with the policy), or enter the premium with `fba-jp freight set "
               "--insurance`.",
    )]


def _entry(cost: Cost) -> dict:
    entry = {"kind": cost.kind, "basis": cost.basis, "source": cost.source,
             "as_of": cost.as_of.isoformat() if cost.as_of else None, "allocation": cost.allocation}
    if cost.amount is not None:
        entry.update(amount=str(cost.amount), currency=cost.currency)
    if cost.rate_percent is not None:
        entry.update(rate_percent=str(cost.rate_percent),
                     insured_value_percent=str(cost.insured_value_percent or DEFAULT_INSURED_PERCENT))
    if cost.detail:
        entry["detail"] = list(cost.detail)
    if cost.missing is not None:
        entry.update(missing=cost.missing, yen=None)
    return entry


def _to_yen(cost: Cost, currency: str, rate: Decimal | None, cost_rates) -> tuple[Fraction, str | None] | None:
    if cost.currency == "JPY":
        return Fraction(cost.amount), None
    found = rate if cost.currency == currency else cost_rates.get(cost.currency)
    if found is None:
        return None
    return Fraction(cost.amount) * Fraction(found), str(found)


def _premium(shipment: Declaration, cost: Cost, rate: Decimal | None, freight_yen: Fraction) -> tuple[Fraction, str]:
    goods = sum((Fraction(i.unit_value) * i.quantity for i in shipment.items if i.unit_value is not None), Fraction(0))
    goods_yen = goods * Fraction(rate if rate is not None else 0)
    base = goods_yen + freight_yen + Fraction(shipment.freight) * Fraction(rate if rate is not None else 0)
    insured = Fraction(cost.insured_value_percent or DEFAULT_INSURED_PERCENT) / 100
    return base * insured * Fraction(cost.rate_percent) / 100, _plain(base)


def _weights(shipment: Declaration, basis: str,
             values: Mapping[str, Decimal] | None = None) -> tuple[dict[str, Fraction], str]:
    if values is None:
        declared = {i.msku: Fraction(i.unit_value or 0) * i.quantity for i in shipment.items}
    else:
        declared = {i.msku: Fraction(values[i.msku]) for i in shipment.items}
    stands_in = VALUE_STANDS_IN if any(
        i.unit_value is None and declared[i.msku] for i in shipment.items) else ""
    quantity = {i.msku: Fraction(i.quantity) for i in shipment.items}
    if basis == "weight":
        by_box = weights_by_box(shipment)
        if by_box is not None:
            return {i.msku: by_box.get(i.msku, Fraction(0)) for i in shipment.items}, (
                "box weight (each box's gross weight shared among its contents by units)")
        basis, note = "value", " (by weight was asked, but a box lacks its weight or contents)"
    else:
        note = ""
    if basis == "value" and any(declared.values()):
        return declared, "declared value" + stands_in + note
    if basis == "value":
        return quantity, "quantity (no declared values)" + note
    return quantity, "quantity"


def _plain(value: Fraction, places: int = 4) -> str:
    """A fraction of a yen cut (not rounded) to ``places`` decimals, as plain digits."""
    scaled = math.floor(value * 10**places) if value >= 0 else -math.floor(-value * 10**places)
    text = f"{Decimal(scaled).scaleb(-places):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unknown(cost: Cost) -> Finding:
    what = {"freight": "Freight", "insurance": "Insurance", "other": "A cost"}[cost.kind]
    return Finding(
        code="VAL_FREIGHT_UNKNOWN", severity="warn", reference=FREIGHT_RULE, evidence=cost.missing,
        message=f"{what} to the Japanese port is not known, so it is not in the customs value and the "
                f"estimate is incomplete (the CIF value is understated, never valued as if it cost nothing): "
                f"{cost.missing.split('; ')[0]}.",
        remedy=cost.missing.split("; ", 1)[1] if "; " in cost.missing else cost.missing,
    )


def _no_rate(shipment: Declaration, cost: Cost) -> Finding:
    from .rates import week_start

    week = week_start(shipment.declaration_date)
    return Finding(
        code="VAL_NO_EXCHANGE_RATE", severity="block",
        reference="Customs Tariff Act Art. 4-7; its Enforcement Ordinance Art. 1; Customs Answer 1406",
        evidence=f"{cost.kind} in {cost.currency}; declaration date {shipment.declaration_date}; week from {week}",
        message=f"No customs exchange rate for {cost.currency} in the week from {week}, so the {cost.kind} "
                f"({cost.amount} {cost.currency}) cannot be converted to yen. fba-jp never guesses a spot rate.",
        remedy=f"Import Japan Customs' weekly rate with `fba-jp rates import rates.csv` (a row "
               f"`{week},{cost.currency},RATE`).",
    )
