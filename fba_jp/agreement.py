"""The valuation basis agreed with the ACP and Customs (``valuation_agreement``), applied to a declaration.

An ACP settles how a seller's FBA imports are valued once, when it is notified: the method, the evidence
and how each figure is obtained. :func:`fba_jp.valuation.valuate` still tries the methods in the legal
order; the agreement

* supplies the figures its method needs and the item lacks (:func:`agreed_items`): the computed
  method's profit and general expenses as the agreed share of the production cost; the deductive
  method's Japan selling price and deductions from the seller's own Amazon.co.jp price and Amazon's
  fees (:func:`deductive_from_amazon`);
* asks for the computed method before the deductive one when that is what was agreed;
* turns the findings into what an ACP expects (:func:`agreed_findings`): ``VAL_METHOD`` (info) naming
  the agreement for items valued by it; ``VAL_FALLBACK`` only for items that fell back against the
  agreement, saying why the agreed method could not be applied; ``VAL_AGREEMENT_NOT_APPLIED`` (warn)
  for items valued by another method than the agreed one for the same reason. An agreed fallback is
  ``VAL_METHOD``, not a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Iterable

from .models import AmazonFigures, Declaration, Finding, Item, ValuationAgreement

RULE = "Customs Tariff Act Arts. 4-3, 4-4; Customs Answer 1404; the valuation agreed with the ACP"


def label(method: str) -> str:
    return method.replace("_", " ")


def describe(agreement: ValuationAgreement) -> str:
    """``computed method agreed with Sakura Customs Advisory K.K. (SCA-2026-0917, 2026-09-15)``."""
    who = f" with {agreement.acp}" if agreement.acp else ""
    return f"{label(agreement.method)} method agreed{who} ({agreement.reference}, {agreement.agreed_on})"


# --------------------------------------------------------------------------- figures the agreement supplies


@dataclass
class Agreed:
    """The declaration with the figures its agreement supplies filled in, and what it said per item."""

    shipment: Declaration
    notes: dict[str, str] = field(default_factory=dict)  # msku → note added to the method's reason
    missing: dict[str, str] = field(default_factory=dict)  # msku → why the agreed method has no figure
    worksheets: dict[str, dict] = field(default_factory=dict)  # msku → the deductive working, step by step
    # msku → (exact deductive value of a unit, quantity, Amazon price): the line's yen are summed from it,
    # fractions dropped once (DOMAIN §4.1), not a unit at a time
    exact_units: dict[str, tuple[Fraction, int, int]] = field(default_factory=dict)


def agreed_items(
    shipment: Declaration,
    duty_rate: Callable[[Item], Decimal | None] = lambda item: None,
    reduced: Callable[[Item], bool] = lambda item: False,
) -> Agreed:
    """Fill in what the agreed method needs and the item lacks; a figure the item declares wins.

    ``computed``: profit and general expenses as the agreed share of the production cost. ``deductive``:
    the Japan selling price and deductions from the item's Amazon figures (:func:`deductive_from_amazon`),
    with ``duty_rate`` (ad valorem %, ``None`` if unknown) and ``reduced`` (8 % consumption tax) per item.
    """
    agreement = shipment.valuation_agreement
    agreed = Agreed(shipment)
    if agreement is None or agreement.method == "fallback":
        return agreed
    items: list[Item] = []
    for item in shipment.items:
        data = item.valuation
        update = None
        if agreement.method == "computed" and agreement.profit_and_expenses_percent is not None:
            if data and data.production_unit_cost is not None and data.production_unit_profit_and_expenses is None:
                share = data.production_unit_cost * agreement.profit_and_expenses_percent / 100  # ÷ 100 is exact
                update = {"production_unit_profit_and_expenses": share}
                agreed.notes[item.msku] = (f"profit and general expenses {agreement.profit_and_expenses_percent}% of "
                                           f"the production cost, as agreed ({agreement.reference})")
        elif agreement.method == "deductive" and not (data and data.domestic_unit_price_jpy is not None):
            amazon = data.amazon if data else None
            if amazon is None or amazon.price_jpy is None or amazon.fees_jpy is None:
                agreed.missing[item.msku] = (amazon.problem if amazon and amazon.problem else
                                             "no Amazon.co.jp price and fees for this SKU")
            else:
                exact, steps = deductive_from_amazon(amazon, agreement, duty_rate(item), reduced(item),
                                                     specific_duty=item.specific_duty is not None)
                unit = math.floor(exact)
                # whole-yen fields say whether the method applies (a positive value); the value itself is exact
                update = {"domestic_unit_price_jpy": amazon.price_jpy,
                          "domestic_unit_deductions_jpy": amazon.price_jpy - max(unit, 0)}
                if exact > 0:
                    agreed.exact_units[item.msku] = (exact, item.quantity, amazon.price_jpy)
                agreed.worksheets[item.msku] = {"steps": steps, "unit_value_jpy": unit, "unit_value_exact_jpy": _yen(exact)}
                agreed.notes[item.msku] = (f"from Amazon: the seller's Amazon.co.jp price ¥{amazon.price_jpy:,} (since "
                                           f"{amazon.price_as_of}) less tax, Amazon's fees, the agreed profit and "
                                           f"expenses, domestic costs and duty: {_yen(exact)} a unit, as agreed "
                                           f"({agreement.reference}); the steps are in the worksheet")
        items.append(item.model_copy(update={"valuation": data.model_copy(update=update)}) if update else item)
    if agreed.notes:
        agreed.shipment = shipment.model_copy(update={"items": items})
    return agreed


def deductive_from_amazon(amazon: AmazonFigures, agreement: ValuationAgreement, duty_rate: Decimal | None,
                          reduced: bool, specific_duty: bool = False) -> tuple[Fraction, list[dict]]:
    """The exact deductive value of one unit in yen, and every step as an ACP checks it by hand.

    Amazon.co.jp price (tax included) − the consumption tax in it (10/110, or 8/108 at the reduced
    rate) − Amazon's fees − profit and general expenses and domestic costs (agreed % of the price
    before tax, plus yen a unit) − duty (ad valorem: what is left ÷ (1 + rate)). Exact rational
    arithmetic; fractions of a yen are dropped once, from the line's customs value (unit × quantity). An unknown duty rate deducts no duty (the
    value is then the higher, cautious one, and the estimate already says the rate is unknown); neither
    does a specific duty (``specific_duty``), and the step says so.
    """
    tax = Fraction(8 if reduced else 10)
    price = Fraction(amazon.price_jpy)
    before_tax = price * 100 / (100 + tax)
    fees = Fraction(amazon.fees_jpy)
    profit = before_tax * Fraction(agreement.profit_and_expenses_percent or 0) / 100
    domestic = before_tax * Fraction(agreement.domestic_costs_percent or 0) / 100 + (agreement.domestic_unit_costs_jpy or 0)
    before_duty = before_tax - fees - profit - domestic
    rate = Fraction(duty_rate) if duty_rate is not None else Fraction(0)
    value = before_duty / (1 + rate / 100) if before_duty > 0 else before_duty
    fee_detail = ", ".join(f"{k} ¥{v}" for k, v in amazon.fees.items())
    domestic_words = " + ".join(filter(None, [
        f"{agreement.domestic_costs_percent}% of the price before tax" if agreement.domestic_costs_percent else "",
        f"¥{agreement.domestic_unit_costs_jpy:,} a unit" if agreement.domestic_unit_costs_jpy else ""])) or "none agreed"
    steps = [
        (f"Amazon.co.jp price, consumption tax included ({amazon.price_source or 'SP-API'}, since {amazon.price_as_of})",
         price),
        (f"Less the consumption tax in it ({'8 % reduced' if reduced else '10 % standard'} rate: × {tax}/{100 + tax})",
         before_tax - price),
        ("Price before tax", before_tax),
        (f"Less Amazon's fees at this price ({amazon.fees_source or 'SP-API'}, since {amazon.fees_as_of}"
         + (f": {fee_detail}" if fee_detail else "") + ")", -fees),
        (f"Less profit and general expenses, {agreement.profit_and_expenses_percent or 0}% of the price before tax "
         f"(agreed, {agreement.reference})", -profit),
        (f"Less domestic costs after import: {domestic_words} (agreed)", -domestic),
        ("Before duty", before_duty),
        (_duty_step(duty_rate, specific_duty), value - before_duty),
        ("Deductive value a unit (fractions of a yen are dropped from unit × quantity)", value),
    ]
    return value, [{"label": label, "amount": _yen(amount)} for label, amount in steps]


def _duty_step(duty_rate: Decimal | None, specific_duty: bool) -> str:
    not_specific = "its specific duty is not deducted (the higher, cautious value)"
    if duty_rate is None:
        return f"No ad valorem duty rate: no duty deducted; {not_specific}" if specific_duty else \
            "Duty rate unknown: no duty deducted"
    label = f"Less duty at {duty_rate}% ad valorem: before duty ÷ (1 + {duty_rate}%)"
    return f"{label}; {not_specific}" if specific_duty else label


def _yen(amount: Fraction) -> str:
    """``¥2,709.0909`` / ``−¥732``: cut (not rounded) to 4 decimals, as the other worksheet figures."""
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    whole = math.floor(amount)
    fraction = math.floor((amount - whole) * 10_000)
    return f"{sign}¥{whole:,}" + (f".{fraction:04d}".rstrip("0") if fraction else "")


def prefers_computed(shipment: Declaration) -> bool:
    agreement = shipment.valuation_agreement
    return agreement is not None and agreement.method == "computed"


AGREED_ORDER = " (tried before the deductive method, as agreed)"


def with_notes(choice, agreed: Agreed):
    """The method choice with the agreement's note on the figures it supplied, and, where the agreed
    deductive method had no Amazon figure, why (instead of the generic "no Japan selling price"). When
    computed comes first because it was agreed, the reason says so rather than that the importer asked."""
    if agreed.shipment.valuation_agreement is None:  # nothing agreed, nothing to note
        return choice
    from .valuation import PREFER_COMPUTED_NOTE

    reason = choice.reason
    if choice.method == "deductive" and choice.sku in agreed.exact_units:
        from .valuation import deductive_reason

        # the method ran on the whole-yen fields agreed_items filled in; say and carry the exact value instead
        exact, quantity, price = agreed.exact_units[choice.sku]
        whole, yen = math.floor(exact), math.floor(exact * quantity)
        reason = reason.replace(
            deductive_reason(price, f"¥{price - whole:,}", f"¥{whole:,}", quantity, whole * quantity),
            deductive_reason(price, _yen(price - exact), _yen(exact), quantity, yen, " (fractions of a yen dropped once)"))
        choice = choice._replace(yen=yen, yen_fraction=exact * quantity - yen)
    if prefers_computed(agreed.shipment):
        reason = reason.replace(PREFER_COMPUTED_NOTE, AGREED_ORDER)
    if (note := agreed.notes.get(choice.sku)) and choice.method is not None:
        reason = f"{reason} ({note})"
    skipped = choice.skipped
    if (why := agreed.missing.get(choice.sku)) is not None:
        skipped = tuple((m, f"no Amazon.co.jp price and fees to deduct from: {why}" if m == "deductive" else r)
                        for m, r in skipped)
    return choice._replace(reason=reason, skipped=skipped)


# --------------------------------------------------------------------------- findings


def agreed_findings(shipment: Declaration, choices: Iterable, method_findings: list[Finding]) -> list[Finding]:
    """``VAL_METHOD`` naming the agreement, and a warning for each item the agreed method missed."""
    agreement = shipment.valuation_agreement
    choices = list(choices)
    agreed = describe(agreement)
    findings = []
    # valuation._method_findings makes one VAL_METHOD per (method, skipped) group, in first-seen order
    groups = list(dict.fromkeys((c.method, c.skipped) for c in choices if c.method is not None))
    for (method, _), finding in zip(groups, method_findings, strict=True):
        if method == agreement.method:
            from .valuation import PREFER_COMPUTED_NOTE

            basis = f" on the agreed basis: {agreement.basis}" if method == "fallback" and agreement.basis else ""
            message = finding.message.replace(PREFER_COMPUTED_NOTE, AGREED_ORDER)
            finding = finding.model_copy(update={"message": f"{message} The {agreed}{basis}."})
        findings.append(finding)
    missed = [c for c in choices if c.method is not None and c.method != agreement.method
              and agreement.method in {m for m, _ in c.skipped}]
    fallen = [c for c in missed if c.method == "fallback"]
    other = [c for c in missed if c.method != "fallback"]
    if fallen:
        findings.append(_fell_back(shipment, agreement, fallen))
    if other:
        findings.append(_not_applied(agreement, other))
    return findings


def _why(agreement: ValuationAgreement, choice) -> str:
    return dict(choice.skipped).get(agreement.method, "not applicable")


def _fell_back(shipment: Declaration, agreement: ValuationAgreement, choices: list) -> Finding:
    listed = "; ".join(f"{c.sku}: {_why(agreement, c)}" for c in choices[:10])
    more = f"; and {len(choices) - 10} more" if len(choices) > 10 else ""
    return Finding(
        code="VAL_FALLBACK", severity="warn", reference=RULE,
        evidence=f"agreement {agreement.reference}; items valued by fallback: {', '.join(c.sku for c in choices)}",
        message=f"The {describe(agreement)} cannot be applied to {len(choices)} item"
                f"{'s' if len(choices) != 1 else ''}, so {'they are' if len(choices) != 1 else 'it is'} valued at the "
                f"declared invoice value by the fallback method, which Customs may not accept ({listed}{more}).",
        remedy=f"Supply what the {label(agreement.method)} method needs for these items (see each reason), or agree "
               "with your ACP how they are valued until then; the next screening applies the agreement.",
    )


def _not_applied(agreement: ValuationAgreement, choices: list) -> Finding:
    listed = "; ".join(f"{c.sku} (valued by the {label(c.method)} method): {_why(agreement, c)}" for c in choices[:10])
    return Finding(
        code="VAL_AGREEMENT_NOT_APPLIED", severity="warn", reference=RULE,
        evidence=f"agreement {agreement.reference}; items: {', '.join(c.sku for c in choices)}",
        message=f"The {describe(agreement)} cannot be applied to {listed}. The value is not the one agreed with "
                "your ACP.",
        remedy=f"Supply what the {label(agreement.method)} method needs for these items, or confirm with your ACP "
               "that the method used is acceptable for them.",
    )


def agreement_sheet(agreed: Agreed, choices: Iterable) -> dict | None:
    """The agreement as the worksheet shows it: its terms, the items valued by it, and for a deductive
    agreement each item's working from Amazon's figures."""
    agreement = agreed.shipment.valuation_agreement
    if agreement is None:
        return None
    sheet = agreement.model_dump(mode="json", exclude_none=True)
    sheet["applied_to"] = [c.sku for c in choices if c.method == agreement.method]
    if agreed.worksheets:
        sheet["deductive_from_amazon"] = agreed.worksheets
    if agreed.missing:
        sheet["no_amazon_figures"] = agreed.missing
    return sheet


def evidence_documents(shipment: Declaration) -> list[str]:
    agreement = shipment.valuation_agreement
    if agreement is None:
        return []
    return [f"The valuation agreement {agreement.reference} of {agreement.agreed_on}"
            + (f" with {agreement.acp}" if agreement.acp else ""), *agreement.evidence]
