"""Preferential (EPA) duty rates: applied only with the proof of origin the agreement requires.

An item may carry a preferential rate and the agreement it comes from (``preferential_rate``,
``preferential_agreement``). The rate applies when the declaration (or the account, on the SP-API path)
holds an ``origin_proofs`` entry of a kind that agreement accepts (``fba_jp/data/preferential.toml``),
covering the SKU and valid on the declaration date. Otherwise the MFN rate applies and
``VAL_EPA_PROOF_MISSING`` (warn) names the proof that would lower the duty, and by about how many yen.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from .models import Declaration, Finding, Item, OriginProof

PROOF_WORDS = {
    "certificate_of_origin": "a certificate of origin issued by the exporting country's authority",
    "approved_exporter_declaration": "an origin declaration by an approved exporter",
    "self_certification": "an origin certification document by the importer, exporter or producer",
    "statement_on_origin": "the exporter's statement on origin on the invoice",
    "importer_knowledge": "the importer's knowledge that the goods are originating, with its documents",
}
RULE = "Customs Tariff Act Art. 5 (temporary) and the EPA concerned; Customs Act Art. 68; Customs Answer 1524"


def one_year_after(issued: date) -> date:
    """The last day a proof issued on ``issued`` is valid: 12 months from issue (Customs Answer 1524), counted as
    the Civil Code counts a period of a year (Arts. 140, 143): to the same day a year later, or the end of
    February for one issued on 29 February. Not 365 days, which refused a proof on its last valid day after a
    29 February."""
    try:
        return issued.replace(year=issued.year + 1)
    except ValueError:  # 29 February
        return issued.replace(year=issued.year + 1, day=28)


@dataclass(frozen=True)
class Agreement:
    code: str
    name: str
    proofs: tuple[str, ...]


@dataclass(frozen=True)
class Agreements:
    as_of: str
    source: str
    by_code: dict[str, Agreement] = field(default_factory=dict)


@lru_cache(maxsize=None)
def load_agreements(filename: str = "preferential.toml") -> Agreements:
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    entries = {a["code"]: Agreement(a["code"], a["name"], tuple(a["proofs"])) for a in data["agreements"]}
    return Agreements(str(data["as_of"]), data["source"], entries)


def agreement_codes() -> tuple[str, ...]:
    return tuple(load_agreements().by_code)


def proof_for(item: Item, shipment: Declaration, agreement: Agreement) -> tuple[OriginProof | None, str | None]:
    """The proof that makes the preferential rate apply, or why none does."""
    held = [p for p in shipment.origin_proofs if p.agreement == agreement.code and (p.skus is None or item.msku in p.skus)]
    if not held:
        return None, "none is held for this SKU"
    on = shipment.declaration_date
    problems = []
    for proof in held:
        if proof.kind not in agreement.proofs:
            problems.append(f"{proof.number} is a {proof.kind.replace('_', ' ')}, which {agreement.code} does not accept")
        elif proof.valid_until is not None and proof.valid_until < on:
            problems.append(f"{proof.number} expired on {proof.valid_until}")
        elif proof.issued_on is not None and proof.kind != "importer_knowledge" and one_year_after(proof.issued_on) < on:
            problems.append(f"{proof.number} was issued on {proof.issued_on}, more than 12 months before {on}")
        elif proof.issued_on is not None and proof.issued_on > on:
            problems.append(f"{proof.number} is dated {proof.issued_on}, after the declaration date {on}")
        else:
            return proof, None
    return None, "; ".join(problems)


@dataclass
class Preferences:
    """Per SKU the rate applied and where it comes from, the worksheet, and the items whose proof is missing."""

    rates: dict[str, tuple[Decimal | None, str]]
    sheet: list[dict] = field(default_factory=list)
    missing: list[tuple[Item, Agreement, Decimal | None, str]] = field(default_factory=list)


def preferential_rates(shipment: Declaration, mfn: dict[str, tuple[Decimal | None, str]]) -> Preferences:
    """The duty rate each item is charged: its preferential rate with a valid proof, else its MFN rate."""
    table = load_agreements()
    prefs = Preferences(dict(mfn))
    for item in shipment.items:
        if item.preferential_rate is None or item.msku not in mfn:
            continue
        agreement = table.by_code[item.preferential_agreement]
        mfn_rate, mfn_source = mfn[item.msku]
        entry = {"sku": item.msku, "agreement": agreement.code, "preferential_rate": str(item.preferential_rate),
                 "mfn_rate": None if mfn_rate is None else str(mfn_rate), "accepted_proofs": list(agreement.proofs)}
        if mfn_rate is not None and item.preferential_rate >= mfn_rate:
            entry.update(applied=False, reason=f"not lower than the MFN rate {mfn_rate}%: the MFN rate applies")
            prefs.sheet.append(entry)
            continue
        proof, why = proof_for(item, shipment, agreement)
        if proof is None:
            entry.update(applied=False, reason=f"no valid proof of origin: {why}")
            prefs.missing.append((item, agreement, mfn_rate, why))
        else:
            entry.update(applied=True, proof=proof.model_dump(mode="json", exclude_none=True))
            prefs.rates[item.msku] = (item.preferential_rate, (
                f"{agreement.name} ({agreement.code}) preferential rate, proof of origin {proof.number} "
                f"({proof.kind.replace('_', ' ')}{f', issued {proof.issued_on}' if proof.issued_on else ''}); "
                f"MFN {mfn_rate}%: {mfn_source}"))
        prefs.sheet.append(entry)
    return prefs


def duty_at(value_jpy: int, rate: Decimal | None) -> int:
    """Duty of a value alone at ``rate`` (base ↓¥1,000, duty ↓¥100): what the proof is worth, about."""
    from .valuation import round_down  # valuation imports this module

    if rate is None:
        return 0
    return round_down(round_down(value_jpy, 1000) * rate / 100, 100)


def proof_missing(item: Item, agreement: Agreement, mfn_rate: Decimal | None, why: str, value_jpy: int | None) -> Finding:
    saving = None if value_jpy is None or mfn_rate is None else duty_at(value_jpy, mfn_rate) - duty_at(
        value_jpy, item.preferential_rate)
    accepted = "; or ".join(PROOF_WORDS[k] for k in agreement.proofs)
    worth = (f" With it the duty would be about ¥{saving:,} lower (this item alone at {item.preferential_rate}% "
             f"instead of {mfn_rate}%)." if saving else "")
    return Finding(
        code="VAL_EPA_PROOF_MISSING", severity="warn", sku=item.msku, reference=RULE,
        evidence=f"{agreement.code}; preferential rate {item.preferential_rate}%; MFN {mfn_rate}%; {why}",
        message=f"{item.msku}: the {agreement.name} ({agreement.code}) rate {item.preferential_rate}% applies only with "
                f"its proof of origin, and {why}, so duty is worked out at the MFN rate"
                f"{f' {mfn_rate}%' if mfn_rate is not None else ''}.{worth}",
        remedy=f"Obtain {accepted} for {item.msku} and record it in origin_proofs (agreement \"{agreement.code}\", kind, "
               f"number, issued_on, skus) of the declaration or of the account in config.toml. (Japan Customs does not "
               f"require the document for a consignment of originating goods of ¥200,000 or less in total; fba-jp does "
               f"not assume that.)",
    )
