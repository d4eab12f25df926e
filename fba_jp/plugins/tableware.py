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

Toys for infants (designated toys, 指定おもちゃ) need the same notification. The seller declares the target
age as ``min_age_months`` (Amazon's manufacturer minimum age). A toy (HS 9503) declared for under 6 years
*and* named as a designated kind (teether, rattle, blocks, ball, toy kitchen…) → ``TBL_NO_IMPORT_NOTIFICATION``;
only one of the two (a designated kind with no age declared, or an under-6 toy of another kind) →
``REG_POSSIBLY_REGULATED`` (warn); declared for 6 years or more → nothing.
"""

from fba_jp import Finding, hookimpl
from fba_jp.regimes import Match, classify_items, load_regime, lookup, override_for, possibly_regulated, require

RULE = "Food Sanitation Act Art. 27 (apparatus, containers and packaging); Customs Act Art. 70; Customs FAQ 1802"
TOY_RULE = ("Food Sanitation Act Arts. 27, 68 (toys for infants) and its Enforcement Regulation Art. 78 "
            "(designated toys); Customs FAQ 1802")
TOY_NEEDS = "a food import notification (食品等輸入届出) for every shipment of designated toys for infants"
TOY_FIX = (
    "Declare the toy's target age as items[].min_age_months (Amazon's manufacturer minimum age; also a "
    "products.csv column). For 6 years (72 months) or more no action is needed. For younger children, a "
    "designated kind (mouthing toys, rattles, blocks, balls, masks, toy kitchens…) needs a food import "
    "notification (食品等輸入届出) for every shipment with the MHLW quarantine station, usually through a customs "
    "broker: record it in the declaration's filings as kind \"food_import_notification\" listing this SKU."
)
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


def infant_toy(regime, item) -> tuple[Match, bool] | None:
    """Whether ``item`` is a designated toy for infants: ``(match, True)`` on strong evidence (a toy heading,
    an age under 6 and a designated kind), ``(match, False)`` on part of it, ``None`` otherwise."""
    tables = regime.tables
    heading = regime.table_hs("infant_toy_hs", item)
    if heading is None:
        return None
    limit = tables["infant_toy_max_age_months"]
    age = item.min_age_months
    if age is not None and age >= limit:
        return None
    kinds = regime.table_hits("infant_toy_keywords", item.title)
    toy = f"HS {item.hs_code} is under heading {heading.text}"
    if age is not None and kinds:
        evidence = f"{toy}, declared for {age} months (under {limit // 12} years) and title contains {kinds[0]!r}"
        return Match(regime, True, evidence), True
    if kinds:
        return Match(regime, False, f"{toy} and title contains {kinds[0]!r}, a designated toy kind; declare "
                                    "items[].min_age_months to say whether it is for infants"), False
    if age is not None:
        return Match(regime, False, f"{toy}, declared for {age} months (under {limit // 12} years): designated "
                                    "toys (mouthing toys, blocks, balls, masks, toy kitchens…) need a food "
                                    "import notification"), False
    return None


def check_tableware(shipment, context):
    regime = load_regime("tableware")
    filings = context.filings(shipment)
    on = shipment.declaration_date
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    toys = set()  # the positive list is for apparatus and packaging, not for toys
    applies = {item.msku for item, _ in regulated}
    for item in shipment.items:
        settled = item.msku in applies or override_for(context.config.rules, regime.name, item) is not None
        toy = None if settled else infant_toy(regime, item)
        if toy is None:
            continue
        match, strong = toy
        warnings = [w for w in warnings if w.sku != item.msku]  # a toy: the toy rule says more
        if strong:
            regulated.append((item, match))
            toys.add(item.msku)
        else:
            # the step that settles it is the declared age, under the toy rule
            warnings.append(possibly_regulated(match, item, needs=TOY_NEEDS).model_copy(
                update={"remedy": TOY_FIX, "reference": TOY_RULE}))
    yield from warnings
    for item, match in regulated:
        yield from require(
            lookup(filings, "food_import_notification", item.msku, on, where="filings"), item, on, match=match,
            code="TBL_NO_IMPORT_NOTIFICATION", what="food import notification", reference=RULE, remedy=FIX,
            message=f"{item.msku} is tableware or another food-contact article ({match.evidence}) but no "
                    "food import notification covers it; Customs will not permit the import without it.",
        )
        resin = None if item.msku in toys else resin_evidence(regime, item)
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
