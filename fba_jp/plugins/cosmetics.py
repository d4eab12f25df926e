"""Cosmetics under the PMD Act (薬機法): DOMAIN §5, table ``data/regimes/cosmetics.toml``.

Cosmetics may be imported as a business only under a Japan-based Marketing Authorization Holder (MAH) licence
(化粧品製造販売業許可) with a manufacturing licence covering labelling and storage (化粧品製造業許可), and each
product needs a notification (化粧品製造販売届書). Customs asks for copies at declaration (FAQ 1805), so a
missing one means no import permit; an ACP alone cannot import cosmetics.

Codes: item in the regime (declared category or HS) without an in-force ``cosmetics_mah`` licence →
``COS_NO_MAH``; without an in-force ``cosmetics_manufacturing`` licence → ``COS_NO_MANUFACTURING_LICENCE``
(until fba-jp 0.x both were ``COS_NO_MAH``: ``[policy.severity] COS_NO_MAH`` still applies to both unless the
new code has its own entry, see docs/rules.md); without ``cosmetics_notification`` → ``COS_NO_NOTIFICATION``;
a licence that covered the item but expired before the declaration date → ``LICENCE_EXPIRED`` instead. Product type or keyword alone → ``REG_POSSIBLY_REGULATED``
(warn); so is a quasi-drug claim in the title ("medicated", "whitening", 薬用), whatever else the item is,
because a quasi-drug needs product approval, not a notification.
"""

from fba_jp import Finding, hookimpl
from fba_jp.regimes import classify_items, load_regime, lookup, require

MAH_RULE = "PMD Act Art. 12 (MAH licence) and Art. 13 (manufacturing licence); Customs Act Art. 70; Customs FAQ 1805"
NOTIFICATION_RULE = "PMD Act Art. 14-9 (cosmetics marketing notification); Customs Act Art. 70; Customs FAQ 1805"
QUASI_DRUG_RULE = "PMD Act Art. 14 (approval of quasi-drugs, 医薬部外品)"
NEEDS = "a Japan-based Marketing Authorization Holder (化粧品製造販売業許可) and a product notification (製造販売届)"
LICENCES = {
    "cosmetics_mah": (
        "COS_NO_MAH",
        "cosmetics Marketing Authorization Holder licence (化粧品製造販売業許可)",
        "Arrange a Japan-based cosmetics Marketing Authorization Holder to take responsibility for this product "
        "(a contract MAH service usually takes a few weeks to engage; getting your own licence needs a "
        "Japanese company with a qualified general marketing compliance officer and usually takes 2–3 months "
        "from the prefecture). Your ACP alone cannot import cosmetics. Record the MAH's licence in the "
        "declaration's licences as kind \"cosmetics_mah\".",
    ),
    "cosmetics_manufacturing": (
        "COS_NO_MANUFACTURING_LICENCE",
        "cosmetics manufacturing licence for labelling and storage (化粧品製造業許可, 包装・表示・保管)",
        "Use a Japan-based site licensed for cosmetics packaging, labelling and storage (包装・表示・保管): the "
        "Japanese label with the MAH's name must be applied, and the goods stored, there before release "
        "to Amazon. Contract MAH services usually provide one; allow a few weeks. Record it as kind "
        "\"cosmetics_manufacturing\".",
    ),
}


@hookimpl
def register_checks(register):
    register(check_cosmetics, name="cosmetics",
             codes=["COS_NO_MAH", "COS_NO_MANUFACTURING_LICENCE", "COS_NO_NOTIFICATION", "LICENCE_EXPIRED",
                    "REG_POSSIBLY_REGULATED"])


def check_cosmetics(shipment, context):
    regime = load_regime("cosmetics")
    licences = context.licences(shipment)
    on = shipment.declaration_date
    for item in shipment.items:
        quasi = regime.table_hits("quasi_drug_keywords", item.title)
        if quasi:
            yield Finding(
                code="REG_POSSIBLY_REGULATED", severity="warn", sku=item.msku, reference=QUASI_DRUG_RULE,
                evidence=f"title contains {quasi[0]!r}",
                message=f"{item.msku} claims {quasi[0]!r}, which usually makes it a quasi-drug (医薬部外品): "
                        "it then needs product approval (承認), not just a cosmetics notification.",
                remedy="Ask your Marketing Authorization Holder whether the product and its claims are a "
                       "quasi-drug. If so it needs MHLW/prefectural approval, which usually takes months; "
                       "otherwise remove the medicated or whitening claim from the Japanese listing and label.",
            )
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    yield from warnings
    for item, match in regulated:
        for kind, (code, what, remedy) in LICENCES.items():
            yield from require(
                lookup(licences, kind, item.msku, on), item, on, match=match, code=code, what=what,
                reference=MAH_RULE, remedy=remedy,
                message=f"{item.msku} is a cosmetic ({match.evidence}) but no {what} is recorded for it. "
                        "Customs will not permit the import without a copy.",
            )
        if not item.cosmetics_notification:
            yield Finding(
                code="COS_NO_NOTIFICATION", severity="block", sku=item.msku, reference=NOTIFICATION_RULE,
                evidence=f"{match.cited}; item has no cosmetics_notification",
                message=f"{item.msku} is a cosmetic ({match.evidence}) but has no product notification "
                        "(化粧品製造販売届書) number. Customs asks for a copy at declaration.",
                remedy="A Japan-based cosmetics Marketing Authorization Holder must file a 製造販売届 for this "
                       "product with its prefecture before the first shipment (after a foreign manufacturer "
                       "notification to PMDA); it is usually accepted within days once the formula and "
                       "Japanese label are checked. Your ACP alone cannot import cosmetics. Put the number in "
                       "the item's \"cosmetics_notification\".",
            )
