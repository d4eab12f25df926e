"""Electrical products under the Electrical Appliances and Materials Safety Act (PSE): DOMAIN §5, table
``data/regimes/pse.toml``.

The importer must notify METI that it makes or imports electrical appliances (事業届出), make the goods
conform, inspect them, and for *specified* (◇ diamond) products hold a third-party conformity certificate.
Since 25 Dec 2025 an overseas business selling directly to Japanese consumers through a marketplace is a
specified importer (特定輸入事業者) and must appoint a domestic administrator (国内管理人).

Codes, for an item in the regime (declared category or HS): no in-force ``pse_importer_notification``
licence → ``PSE_NO_NOTIFICATION``; ``pse.type`` missing → ``PSE_TYPE_UNKNOWN`` (warn); ``specified`` without
``pse.certificate`` → ``PSE_NO_CERTIFICATE``; seller not resident in Japan, no import transaction (the seller
is the importer) and a declaration on or after ``[regulated] pse_domestic_admin_from`` without an in-force
``domestic_administrator`` licence → ``PSE_NO_DOMESTIC_ADMIN``. A licence that covered the item but expired
before the declaration date → ``LICENCE_EXPIRED`` instead. Product type or keyword alone →
``REG_POSSIBLY_REGULATED`` (warn).
"""

from fba_jp import Finding, hookimpl
from fba_jp.regimes import (
    classify_items,
    load_regime,
    lookup,
    needs_domestic_administrator,
    require,
)

LAW = "Electrical Appliances and Materials Safety Act (電気用品安全法)"
NOTIFICATION_RULE = f"{LAW} Art. 3 (business notification)"
CERTIFICATE_RULE = f"{LAW} Art. 9 (conformity assessment of specified electrical appliances)"
ADMIN_RULE = f"{LAW} as amended, in force 25 Dec 2025 (specified importers must appoint a domestic administrator)"
NEEDS = "a METI business notification, the PSE mark and, for overseas sellers, a domestic administrator"
NOTIFY_FIX = (
    "File the business notification (電気用品製造・輸入事業届出) with METI for this product category, as the "
    "importer (or have your Japanese importer file it): it can be filed online and takes days, and the Act "
    "allows no later than 30 days after the business starts. Record it in the declaration's licences as kind "
    "\"pse_importer_notification\"."
)
ADMIN_FIX = (
    "Appoint a domestic administrator (国内管理人): a person or company with an address in Japan who can "
    "communicate in Japanese, under a written contract, and name it in your METI notification. Allow 2–4 weeks "
    "to contract and notify. Record it as licence kind \"domestic_administrator\"."
)
CERTIFICATE_FIX = (
    "Have the product tested by a METI-registered conformity assessment body (e.g. JET, JQA, TÜV Rheinland "
    "Japan) and keep the certificate (or an official copy of the manufacturer's); this usually takes several "
    "weeks. Put its number in the item's \"pse\": {\"type\": \"specified\", \"certificate\": \"...\"}."
)


@hookimpl
def register_checks(register):
    register(check_pse, name="pse",
             codes=["PSE_NO_NOTIFICATION", "PSE_NO_CERTIFICATE", "PSE_NO_DOMESTIC_ADMIN", "PSE_TYPE_UNKNOWN",
                    "LICENCE_EXPIRED", "REG_POSSIBLY_REGULATED"])


def check_pse(shipment, context):
    regime = load_regime("pse")
    licences = context.licences(shipment)
    on = shipment.declaration_date
    admin_needed = needs_domestic_administrator(shipment, context.config.regulated.pse_domestic_admin_from)
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    yield from warnings
    for item, match in regulated:
        yield from require(
            lookup(licences, "pse_importer_notification", item.msku, on), item, on, match=match,
            code="PSE_NO_NOTIFICATION", what="PSE business notification", reference=NOTIFICATION_RULE,
            remedy=NOTIFY_FIX,
            message=f"{item.msku} is an electrical appliance under PSE ({match.evidence}) but no METI "
                    "business notification by its importer is recorded; it cannot be sold in Japan.",
        )
        pse_type = item.pse.type if item.pse else None
        if pse_type is None:
            specified = regime.table_hs("specified_hs", item)
            hint = (f" HS {item.hs_code} is usually a specified (◇) product, which also needs a conformity "
                    "certificate." if specified else "")
            yield Finding(
                code="PSE_TYPE_UNKNOWN", severity="warn", sku=item.msku, reference=CERTIFICATE_RULE,
                evidence=f"{match.cited}; item has no pse.type",
                message=f"{item.msku}: it is not declared whether this is a specified (◇ diamond PSE) or "
                        f"non-specified (○ round PSE) product, so the certificate cannot be checked.{hint}",
                remedy="Look the product up in METI's list of electrical appliances (Cabinet Order annex) and "
                       "declare \"pse\": {\"type\": \"specified\" or \"non_specified\"} on the item.",
            )
        elif pse_type == "specified" and not item.pse.certificate:
            yield Finding(
                code="PSE_NO_CERTIFICATE", severity="block", sku=item.msku, reference=CERTIFICATE_RULE,
                evidence=f"{match.cited}; pse.type is 'specified' and pse.certificate is empty",
                message=f"{item.msku} is a specified electrical appliance (◇ diamond PSE) but no third-party "
                        "conformity certificate is recorded.",
                remedy=CERTIFICATE_FIX,
            )
        if admin_needed:
            admin = lookup(licences, "domestic_administrator", item.msku, on)
            yield from require(
                admin, item, on, match=match, code="PSE_NO_DOMESTIC_ADMIN",
                what="domestic administrator appointment", reference=ADMIN_RULE, remedy=ADMIN_FIX,
                evidence=f"seller {shipment.seller.name!r} is not resident in Japan and imports in its own "
                         f"name on {on}; {admin.why_missing}",
                message=f"{item.msku} is a PSE product sold directly by an overseas seller; since "
                        f"{context.config.regulated.pse_domestic_admin_from} such a seller is a specified "
                        "importer (特定輸入事業者) and must appoint a domestic administrator (国内管理人).",
            )
