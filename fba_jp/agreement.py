"""The valuation basis agreed with the ACP and Customs (``valuation_agreement``), applied to a declaration.

An ACP settles how a seller's FBA imports are valued once, when it is notified: the method, the evidence
and how each figure is obtained. :func:`fba_jp.valuation.valuate` still tries the methods in the legal
order; the agreement

* supplies the figures its method needs and the item lacks (:func:`agreed_items`): the computed
  method's profit and general expenses as the agreed share of the production cost;
* asks for the computed method before the deductive one when that is what was agreed;
* turns the findings into what an ACP expects (:func:`agreed_findings`): ``VAL_METHOD`` (info) naming
  the agreement for items valued by it; ``VAL_FALLBACK`` only for items that fell back against the
  agreement, saying why the agreed method could not be applied; ``VAL_AGREEMENT_NOT_APPLIED`` (warn)
  for items valued by another method than the agreed one for the same reason. An agreed fallback is
  ``VAL_METHOD``, not a warning.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from .models import Declaration, Finding, Item, ValuationAgreement

RULE = "Customs Tariff Act Arts. 4-3, 4-4; Customs Answer 1404; the valuation agreed with the ACP"


def label(method: str) -> str:
    return method.replace("_", " ")


def describe(agreement: ValuationAgreement) -> str:
    """``computed method agreed with Sakura Customs Advisory K.K. (SCA-2026-0917, 2026-09-15)``."""
    who = f" with {agreement.acp}" if agreement.acp else ""
    return f"{label(agreement.method)} method agreed{who} ({agreement.reference}, {agreement.agreed_on})"


# --------------------------------------------------------------------------- figures the agreement supplies


def agreed_items(shipment: Declaration) -> tuple[Declaration, dict[str, str]]:
    """The declaration with the figures its agreement supplies filled in, and a note per item filled.

    Only what the item lacks is filled: a figure declared in the product master or the file wins.
    """
    agreement = shipment.valuation_agreement
    if agreement is None or agreement.method != "computed" or agreement.profit_and_expenses_percent is None:
        return shipment, {}
    notes: dict[str, str] = {}
    items: list[Item] = []
    for item in shipment.items:
        data = item.valuation
        if data is None or data.production_unit_cost is None or data.production_unit_profit_and_expenses is not None:
            items.append(item)
            continue
        share = data.production_unit_cost * agreement.profit_and_expenses_percent / 100  # exact: a product
        notes[item.msku] = (f"profit and general expenses {agreement.profit_and_expenses_percent}% of the production "
                            f"cost, as agreed ({agreement.reference})")
        items.append(item.model_copy(update={"valuation": data.model_copy(update={
            "production_unit_profit_and_expenses": share})}))
    return (shipment.model_copy(update={"items": items}) if notes else shipment), notes


def prefers_computed(shipment: Declaration) -> bool:
    agreement = shipment.valuation_agreement
    return agreement is not None and agreement.method == "computed"


AGREED_ORDER = " (tried before the deductive method, as agreed)"


def with_notes(choice, shipment: Declaration, notes: Mapping[str, str]):
    """The method choice with the agreement's note on the figures it supplied; when computed comes first
    because it was agreed, the reason says so rather than that the importer asked."""
    from .valuation import PREFER_COMPUTED_NOTE

    reason = choice.reason
    if prefers_computed(shipment):
        reason = reason.replace(PREFER_COMPUTED_NOTE, AGREED_ORDER)
    if (note := notes.get(choice.sku)) and choice.method is not None:
        reason = f"{reason} ({note})"
    return choice._replace(reason=reason)


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


def agreement_sheet(shipment: Declaration, choices: Iterable) -> dict | None:
    """The agreement as the worksheet shows it, with the items valued by it."""
    agreement = shipment.valuation_agreement
    if agreement is None:
        return None
    sheet = agreement.model_dump(mode="json", exclude_none=True)
    sheet["applied_to"] = [c.sku for c in choices if c.method == agreement.method]
    return sheet


def evidence_documents(shipment: Declaration) -> list[str]:
    agreement = shipment.valuation_agreement
    if agreement is None:
        return []
    return [f"The valuation agreement {agreement.reference} of {agreement.agreed_on}"
            + (f" with {agreement.acp}" if agreement.acp else ""), *agreement.evidence]
