"""Tableware and other food-contact articles under the Food Sanitation Act: DOMAIN §5, table
``data/regimes/tableware.toml``.

Apparatus, containers and packaging that touch food need a food import notification (食品等輸入届出) for
every shipment, like food; on first import the quarantine station usually orders lab tests (lead and
cadmium for ceramics). Since 1 Jun 2025 synthetic resin in contact with food must be made only of substances
on the positive list.

Codes, for an item in the regime (declared category or HS): no ``food_import_notification`` filing covering
its SKU and in force on the declaration date → ``TBL_NO_IMPORT_NOTIFICATION``; one that covered it but
expired → ``LICENCE_EXPIRED``; plastic (HS 3924 or a resin word in the title) without
``positive_list_statement: true`` → ``TBL_NO_PL_STATEMENT`` (warn). Product type or keyword alone →
``REG_POSSIBLY_REGULATED`` (warn).
"""

from fba_jp import Finding, hookimpl
from fba_jp.regimes import classify_items, load_regime, lookup, require

RULE = "Food Sanitation Act Art. 27 (apparatus, containers and packaging); Customs Act Art. 70; Customs FAQ 1802"
PL_RULE = ("Food Sanitation Act Art. 18(3) (positive list for synthetic resin, MHLW Notification No. 196 of "
           "2020 as amended; mandatory from 1 Jun 2025)")
NEEDS = "a food import notification (食品等輸入届出) for every shipment and, on first import, lab tests"
FIX = (
    "File a food import notification (食品等輸入届出) for this shipment with the MHLW quarantine station at the "
    "port of entry (the importer files it, usually through a customs broker), with the manufacturer, factory, "
    "material, shape and colour of the article. The first import is usually directed to a registered lab for "
    "tests (lead and cadmium elution for ceramics and enamel; material tests for resin); allow 1–2 weeks for "
    "tests, 1–2 business days for the examination. Record it in the declaration's filings as kind "
    "\"food_import_notification\" listing this SKU."
)


@hookimpl
def register_checks(register):
    register(check_tableware, name="tableware",
             codes=["TBL_NO_IMPORT_NOTIFICATION", "TBL_NO_PL_STATEMENT", "LICENCE_EXPIRED",
                    "REG_POSSIBLY_REGULATED"])


def resin_evidence(regime, item) -> str | None:
    """Why the item looks like synthetic resin: HS 3924 or a resin word in its title."""
    heading = regime.table_hs("resin_hs", item)
    if heading is not None:
        return f"HS {item.hs_code} is plastic tableware (heading {heading.text})"
    hits = regime.table_hits("resin_keywords", item.title)
    return f"title contains {hits[0]!r}" if hits else None


def check_tableware(shipment, context):
    regime = load_regime("tableware")
    filings = context.filings(shipment)
    on = shipment.declaration_date
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS)
    yield from warnings
    for item, match in regulated:
        yield from require(
            lookup(filings, "food_import_notification", item.msku, on, where="filings"), item, on, match=match,
            code="TBL_NO_IMPORT_NOTIFICATION", what="food import notification", reference=RULE, remedy=FIX,
            message=f"{item.msku} is tableware or another food-contact article ({match.evidence}) but no "
                    "food import notification covers it; Customs will not permit the import without it.",
        )
        resin = resin_evidence(regime, item)
        if resin and item.positive_list_statement is not True:
            yield Finding(
                code="TBL_NO_PL_STATEMENT", severity="warn", sku=item.msku, reference=PL_RULE,
                evidence=f"{resin}; positive_list_statement is not true",
                message=f"{item.msku} looks like synthetic resin in contact with food ({resin}); since "
                        "1 Jun 2025 its polymers and additives must be on Japan's positive list, and no "
                        "supplier statement is recorded.",
                remedy="Get a positive-list compliance statement from the manufacturer (resin grades and "
                       "additives checked against the list; usually days to a few weeks) and keep it with the "
                       "import records; then declare \"positive_list_statement\": true on the item.",
            )
