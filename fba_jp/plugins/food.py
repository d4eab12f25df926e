"""Food and drink under the Food Sanitation Act: DOMAIN §5, table ``data/regimes/food.toml``.

Every shipment of food for sale needs a food import notification (食品等輸入届出) to the MHLW quarantine
station; Customs permits the import only after seeing it stamped (Customs Act Art. 70, FAQ 1802). Food is
also taxed at the reduced consumption-tax rate, alcohol (HS 2203–2208) is not: this plugin answers the
``reduced_tax_rate`` hook for the valuation.

Codes, for an item in the regime (declared category or HS): no ``food_import_notification`` filing covering
its SKU and in force on the declaration date → ``FOOD_NO_IMPORT_NOTIFICATION``; one that covered it but
expired (a planned-import notification past its period) → ``LICENCE_EXPIRED``. Product type or keyword alone
→ ``REG_POSSIBLY_REGULATED`` (warn), so a title that merely says "coffee" is never blocked.
"""

from functools import lru_cache

from fba_jp import hookimpl
from fba_jp.regimes import classify_items, load_regime, lookup, require
from fba_jp.valuation import food_by_digits, is_liquor

RULE = "Food Sanitation Act Art. 27; Customs Act Art. 70; Customs FAQ 1802"
NEEDS = "a food import notification (食品等輸入届出) to the quarantine station for every shipment"
FIX = (
    "File a food import notification (食品等輸入届出) for this shipment with the MHLW quarantine station at the "
    "port of entry — the importer files it, usually through a customs broker or notification agent, with the "
    "ingredients and manufacturing process. Document examination usually takes 1–2 business days; longer if an "
    "inspection is ordered. The Japanese label must name the importer. Record it in the declaration's filings "
    "as kind \"food_import_notification\" listing this SKU."
)


@hookimpl
def register_checks(register):
    register(check_food, name="food",
             codes=["FOOD_NO_IMPORT_NOTIFICATION", "LICENCE_EXPIRED", "REG_POSSIBLY_REGULATED"])


@hookimpl
def reduced_tax_rate(item, shipment):
    """Food and drink as the Food Labelling Act defines it → reduced rate: declared, or by the food table
    (edible salt and gelatin by their title); liquor (1 % alcohol or more, HS 2203–2208) and a drug or
    quasi-drug under a food heading → standard."""
    return _reduced(is_liquor(item), tuple(item.categories), item.hs_code, item.hs_digits, item.product_type,
                    item.title)


@lru_cache(maxsize=16384)
def _reduced(liquor, categories, hs_code, digits, product_type, title):
    # Memoised on everything the answer depends on (the tables are package data, loaded once): the
    # valuation asks about every item of every screening, and sellers ship the same products again and again.
    if liquor:
        return False
    regime = load_regime("food")
    if digits and regime.tables["reduced_rate_exclude_hs"].find(digits) is not None:
        return False
    if "food" not in categories and not (digits and _food_heading(regime, digits)):
        # only a declared category or a food heading can class an item as food (a title alone is at most
        # "possibly" food, see regimes.py), and without a food heading food_by_hs is False: no opinion,
        # whatever the title says, so the title is not classified here
        return None
    match = regime.classify_product(categories, hs_code, product_type, title)
    if match is not None and match.applies:
        return True
    if match is None and digits and food_by_digits(digits, liquor):
        return False  # a food heading, but the title says it is not food (医薬部外品)
    return None


def _food_heading(regime, digits):
    """Whether the HS code is under a heading of the food table that, with or without title evidence,
    puts an item in the regime (``hs``, ``hs_broad``, ``hs_keyword_only``)."""
    return any(headings.find(digits) is not None
               for headings in (regime.hs, regime.hs_broad, regime.hs_keyword_only))


def check_food(shipment, context):
    regime = load_regime("food")
    filings = context.filings(shipment)
    on = shipment.declaration_date
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    yield from warnings
    for item, match in regulated:
        yield from require(
            lookup(filings, "food_import_notification", item.msku, on, where="filings"), item, on, match=match,
            code="FOOD_NO_IMPORT_NOTIFICATION", what="food import notification", reference=RULE, remedy=FIX,
            message=f"{item.msku} is food ({match.evidence}) but no food import notification covers it; "
                    "Customs will not permit the import without the stamped notification.",
        )
