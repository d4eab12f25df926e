"""The finding codes of fba-jp's built-in plugins and core: default severity, one-line description, docs anchor.

The SARIF rules (``fullDescription``, ``helpUri``) and ``docs/codes.md`` are made from this table; a test
keeps it equal to the codes the built-in checks declare in ``register(..., codes=...)``, so a new code
cannot ship undocumented. (The built-in ``valuation`` plugin declares the ``VAL_`` codes listed here.) Regenerate the page with ``python -m fba_jp.codes > docs/codes.md``.
Codes are a contract (CONTRACT §4): add, never rename.
"""

from __future__ import annotations

from typing import NamedTuple

from .models import COULD_NOT_SCREEN

HOME_URL = "https://github.com/fba-jp/fba-jp"
CODES_URL = f"{HOME_URL}/blob/main/docs/codes.md"


class Code(NamedTuple):
    severity: str  # the default; [policy.severity] may change it
    area: str
    description: str


# codes fba-jp itself emits, not a plugin: a shipment that could not be screened
CORE_CODES = COULD_NOT_SCREEN

CODES: dict[str, Code] = {
    # Importer of Record (plugin ior)
    "IOR_MISSING": Code("block", "Importer of Record",
                        "No Importer of Record is declared; Customs needs the party with the right of disposal."),
    "IOR_AMAZON": Code("block", "Importer of Record",
                       "The Importer of Record is Amazon or one of its Japanese entities, which never act as importer "
                       "or ACP; the shipment is refused and returned."),
    "CONSIGNEE_AMAZON": Code("block", "Importer of Record",
                             "The invoice consignee is Amazon; the consignee must be the Importer of Record, with "
                             "Amazon's fulfilment centre only in the delivery address."),
    "IOR_CARRIER": Code("block", "Importer of Record",
                        "The Importer of Record is a carrier, forwarder or customs broker, which has no right of "
                        "disposal over your stock and cannot be its importer."),
    "IOR_NOMINAL": Code("block", "Importer of Record",
                        "The Importer of Record is a third party named only nominally; since 1 Oct 2023 the importer "
                        "must be the party with the right of disposal."),
    "IOR_BUYER": Code("info", "Importer of Record",
                      "The Importer of Record is a buyer in Japan (an import transaction), not the seller."),
    # ACP (plugin acp)
    "ACP_MISSING": Code("block", "ACP",
                        "A seller not resident in Japan is its own Importer of Record but has no Attorney for Customs "
                        "Procedures notified for it."),
    "ACP_PENDING": Code("block", "ACP",
                        "The ACP notification is not yet accepted by Customs on the declaration date."),
    "ACP_REVOKED": Code("block", "ACP", "The ACP has been revoked or dismissed; goods cannot be imported through it."),
    "ACP_REGISTERED": Code("info", "ACP", "The ACP is registered and accepted for this non-resident importer."),
    "ACP_NOT_REQUIRED": Code("info", "ACP", "The seller is resident in Japan and imports in its own name; no ACP is needed."),
    # Valuation (plugin valuation)
    "VAL_METHOD": Code("info", "Valuation",
                       "Which customs valuation method valued an item, and why the earlier methods do not apply."),
    "VAL_FALLBACK": Code("warn", "Valuation",
                         "Items are valued at their invoice value by the fallback method; with no sale to a buyer in "
                         "Japan, Customs may not accept it and can revalue after import (includes the contract's "
                         "VAL_TRANSACTION_VALUE_MISUSED)."),
    "VAL_AGREEMENT_NOT_APPLIED": Code("warn", "Valuation",
                                      "Items are valued by another method than the one agreed with the ACP, because "
                                      "the agreed method could not be applied to them."),
    "VAL_NO_EXCHANGE_RATE": Code("block", "Valuation",
                                 "Amounts are in a foreign currency with no customs exchange rate for the week of the "
                                 "declaration date."),
    "VAL_NO_BASIS": Code("block", "Valuation", "An item has no unit value and no data for any valuation method."),
    "VAL_DUTY_RATE_UNKNOWN": Code("warn", "Valuation",
                                  "An item's duty rate is neither declared nor in the default table, so duty and "
                                  "consumption tax are unknown (never zero) and the estimate is incomplete."),
    "VAL_FREIGHT_UNKNOWN": Code("warn", "Valuation",
                                "Freight, insurance or another cost to the Japanese port is not known, so the customs "
                                "value is understated (never valued as if it cost nothing) and the estimate is "
                                "incomplete."),
    "VAL_INSURANCE_NOT_ADDED": Code("info", "Valuation",
                                    "The declaration states its costs but no insurance: insurance is part of the "
                                    "customs value only when it is actually paid."),
    "VAL_EPA_PROOF_MISSING": Code("warn", "Valuation",
                                  "An item carries a preferential (EPA) rate but no valid proof of origin the agreement "
                                  "accepts is held, so the MFN rate applies; says which proof would lower the duty and "
                                  "by about how many yen."),
    "VAL_EXCISE_UNKNOWN": Code("warn", "Valuation",
                               "An alcoholic beverage's liquor tax cannot be worked out; it is part of the consumption-"
                               "tax base, so the consumption tax is unknown and the estimate is incomplete."),
    "VAL_SMALL_VALUE_EXEMPT": Code("info", "Valuation",
                                   "The total customs value is ¥10,000 or less, so duty and consumption tax are exempt "
                                   "on every article not excluded by Cabinet Order Art. 16-3."),
    # Regulated products (plugins cosmetics, pse, food, tableware, radio, psc)
    "COS_NO_MAH": Code("block", "Regulated products",
                       "A cosmetic has no in-force Marketing Authorization Holder licence (化粧品製造販売業許可) recorded."),
    "COS_NO_MANUFACTURING_LICENCE": Code("block", "Regulated products",
                                         "A cosmetic has no in-force manufacturing licence for packaging, labelling and "
                                         "storage (化粧品製造業許可) recorded; until fba-jp 0.x this was part of "
                                         "COS_NO_MAH, whose [policy.severity] entry still applies to it."),
    "COS_NO_NOTIFICATION": Code("block", "Regulated products",
                                "A cosmetic has no product notification (化粧品製造販売届書) number."),
    "PSE_NO_NOTIFICATION": Code("block", "Regulated products",
                                "An electrical product is imported without the importer's PSE business notification "
                                "(事業届出) to METI."),
    "PSE_NO_CERTIFICATE": Code("block", "Regulated products",
                               "A specified (◇) electrical product has no third-party conformity certificate."),
    "PSE_NO_DOMESTIC_ADMIN": Code("block", "Regulated products",
                                  "An overseas seller selling PSE products directly has no domestic administrator "
                                  "(国内管理人), required since 25 Dec 2025."),
    "PSE_TYPE_UNKNOWN": Code("warn", "Regulated products",
                             "An electrical product's PSE type (specified or non-specified) is not declared."),
    "FOOD_NO_IMPORT_NOTIFICATION": Code("block", "Regulated products",
                                        "Food or drink has no food import notification (食品等輸入届出) in force for "
                                        "this shipment."),
    "TBL_NO_IMPORT_NOTIFICATION": Code("block", "Regulated products",
                                       "Tableware or another food-contact article has no food import notification "
                                       "(食品等輸入届出) in force for this shipment."),
    "TBL_NO_PL_STATEMENT": Code("warn", "Regulated products",
                                "Synthetic resin in contact with food has no positive-list compliance statement "
                                "(mandatory since 1 Jun 2025)."),
    "RADIO_NO_GITEKI": Code("block", "Regulated products",
                            "A device that transmits has no Japanese technical conformity certification (技適)."),
    "PSC_NO_CONFORMITY": Code("block", "Regulated products",
                              "A specified consumer product has no PSC conformity record, or an overseas seller has no "
                              "domestic administrator to affix the PSC mark."),
    "REG_POSSIBLY_REGULATED": Code("warn", "Regulated products",
                                   "A keyword or product type suggests the item may be regulated; say what it is "
                                   "(category or HS code) so the right rules apply."),
    "LICENCE_EXPIRED": Code("block", "Regulated products",
                            "A licence or filing that covered the item is not in force on the declaration date."),
    # fba-jp itself: could not screen (fail closed)
    "PLUGIN_ERROR": Code("block", "Could not screen",
                         "A check could not run (it raised, or returned something other than findings with its "
                         "declared codes); the shipment stays blocked until every check has run. Cannot be waived."),
    "INPUT_INVALID": Code("block", "Could not screen",
                          "A synced shipment's data cannot form a declaration (an unknown SKU, no value); it is "
                          "blocked, never skipped. Cannot be waived."),
}


def help_uri(code: str) -> str | None:
    """The code's section in ``docs/codes.md`` (``None`` for a code fba-jp does not ship)."""
    return f"{CODES_URL}#{code.lower()}" if code in CODES else None


def markdown() -> str:
    """``docs/codes.md``: one section per code, headed by the code itself so its anchor is stable."""
    lines = [
        "# Finding codes",
        "",
        "<!-- generated by `python -m fba_jp.codes > docs/codes.md` from fba_jp/codes.py; do not edit -->",
        "",
        "Every code fba-jp's built-in checks and core can emit, with its default severity (`[policy.severity]` in",
        "`config.toml` changes it). Codes are stable: scripts and waivers (`fba-jp release --code`) use them,",
        "and each section's anchor is the code in lower case (the SARIF `helpUri` of every rule points here).",
        "Plugins add their own codes; see [plugins.md](plugins.md).",
    ]
    area = None
    for code, (severity, code_area, description) in CODES.items():
        if code_area != area:
            area = code_area
            lines += ["", f"## {area}"]
        lines += ["", f"### {code}", "", f"**{severity}** · {description}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
