"""Consumer products under the Consumer Product Safety Act (PSC): DOMAIN §5, table ``data/regimes/psc.toml``.

Specified products (pressure cookers, motorcycle helmets, lighters, laser pointers, infant beds, magnet sets,
water beads and, from 25 Dec 2025, toys for children under 3) may be sold only with the PSC mark, after
self-confirmation or, for special specified (◇) products, third-party inspection. Since 25 Dec 2025 an overseas
business selling directly to Japanese consumers is a specified importer (特定輸入事業者) and must appoint a
domestic administrator (国内管理人); without one it may not affix the PSC mark.

Codes, for an item in the regime (declared category or HS): no ``psc`` number on the item and no in-force
``psc`` licence covering its SKU → ``PSC_NO_CONFORMITY``; seller not resident in Japan, no import transaction,
a declaration on or after ``[regulated] pse_domestic_admin_from`` (one amendment of the four
product-safety Acts, PSE and PSC alike, in force the same day) and no in-force ``domestic_administrator``
licence → also ``PSC_NO_CONFORMITY`` (not a PSE code: without an administrator the PSC mark cannot lawfully be
affixed, so conformity is what is missing; the message names the administrator). A licence that covered the
item but expired → ``LICENCE_EXPIRED``. Product type or keyword alone → ``REG_POSSIBLY_REGULATED`` (warn).

Toys for children under 3 are children's specified products from 25 Dec 2025: a toy (HS 9503) declared with
``min_age_months`` under 36 on or after that date is in the regime; declared for 36 months or more, the toy
heading alone says nothing (magnet sets and water beads still apply by keyword).
"""

from fba_jp import hookimpl
from fba_jp.regimes import (
    Match,
    classify_items,
    load_regime,
    lookup,
    needs_domestic_administrator,
    override_for,
    require,
)

LAW = "Consumer Product Safety Act (消費生活用製品安全法)"
RULE = f"{LAW} Art. 4 (sale only with the PSC mark)"
ADMIN_RULE = f"{LAW} as amended, in force 25 Dec 2025 (specified importers must appoint a domestic administrator)"
NEEDS = "the PSC mark (conformity confirmation, third-party inspection for ◇ products) and a METI notification"
FIX = (
    "Notify METI of the import business for this product type, have the product meet the technical standard "
    "(special specified ◇ products — infant beds, laser pointers, lighters — need inspection by a registered "
    "body) and label it with the PSC mark (children's PSC mark, target age and warnings for toys for under-3s). "
    "Testing and inspection typically take several weeks. Record the notification or certificate number in "
    "the item's \"psc\" or as licence kind \"psc\"."
)
ADMIN_FIX = (
    "Appoint a domestic administrator (国内管理人) with an address in Japan who can communicate in Japanese, "
    "under a written contract, and name it in your METI notification (allow 2–4 weeks). Record it as licence "
    "kind \"domestic_administrator\"."
)


def children_toy(regime, item, on):
    """For a toy with a declared age: a :class:`Match` when it is a children's specified product (under 3,
    declared on or after the start date), ``False`` when the age takes it out; ``None`` when it says nothing."""
    tables = regime.tables
    heading = regime.table_hs("children_toy_hs", item)
    if heading is None or item.min_age_months is None or on < tables["children_toy_from"]:
        return None
    limit = tables["children_toy_max_age_months"]
    if item.min_age_months >= limit:
        return False
    return Match(regime, True, f"HS {item.hs_code} is under heading {heading.text}, declared for "
                               f"{item.min_age_months} months: a toy for children under {limit // 12} "
                               f"(children's PSC since {tables['children_toy_from']})")


@hookimpl
def register_checks(register):
    register(check_psc, name="psc", codes=["PSC_NO_CONFORMITY", "LICENCE_EXPIRED", "REG_POSSIBLY_REGULATED"])


def check_psc(shipment, context):
    regime = load_regime("psc")
    licences = context.licences(shipment)
    on = shipment.declaration_date
    admin_from = context.config.regulated.pse_domestic_admin_from  # same amendment, same date
    admin_needed = needs_domestic_administrator(shipment, admin_from)
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    applies = {item.msku for item, _ in regulated}
    for item in shipment.items:
        if item.msku in applies or override_for(context.config.rules, regime.name, item) is not None:
            continue
        verdict = children_toy(regime, item, on)
        if verdict is None:
            continue
        warnings = [w for w in warnings if w.sku != item.msku]  # the declared age settles it
        if verdict:
            regulated.append((item, verdict))
    yield from warnings
    for item, match in regulated:
        if not item.psc:
            held = lookup(licences, "psc", item.msku, on)
            yield from require(
                held, item, on, match=match, code="PSC_NO_CONFORMITY", what="PSC conformity record",
                reference=RULE, remedy=FIX, evidence=f"item has no psc and {held.why_missing}",
                message=f"{item.msku} is a PSC-regulated consumer product ({match.evidence}) but no PSC "
                        "conformity is recorded; it may not be sold in Japan without the PSC mark.",
            )
        if admin_needed:
            admin = lookup(licences, "domestic_administrator", item.msku, on)
            yield from require(
                admin, item, on, match=match, code="PSC_NO_CONFORMITY",
                what="domestic administrator appointment", reference=ADMIN_RULE, remedy=ADMIN_FIX,
                evidence=f"seller {shipment.seller.name!r} is not resident in Japan and imports in its own "
                         f"name on {on}; {admin.why_missing}",
                message=f"{item.msku} is a PSC product sold directly by an overseas seller; since {admin_from} "
                        "such a seller must appoint a domestic administrator (国内管理人), without which the "
                        "PSC mark may not be affixed.",
            )
