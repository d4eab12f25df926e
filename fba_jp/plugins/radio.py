"""Radio equipment under the Radio Act (Giteki, 技適): DOMAIN §5, table ``data/regimes/radio.toml``.

Any device that transmits (Bluetooth, Wi-Fi, cellular, LoRa, drone control links) must be certified to
Japan's technical regulations by an MIC-registered body and carry the Giteki mark; CE and FCC marks are not
accepted, and using an uncertified transmitter is an offence.

Codes, for an item in the regime (declared category or HS): no ``giteki`` number on the item and no in-force
``giteki`` licence covering its SKU → ``RADIO_NO_GITEKI``; a ``giteki`` licence that covered it but expired →
``LICENCE_EXPIRED``. Product type or keyword alone → ``REG_POSSIBLY_REGULATED`` (warn).
"""

from fba_jp import hookimpl
from fba_jp.regimes import classify_items, load_regime, lookup, require

RULE = "Radio Act (電波法) Art. 4 and Ch. III-2 (technical regulations conformity certification)"
NEEDS = "Giteki (技適) technical-conformity certification; CE and FCC are not accepted"
FIX = (
    "Get the radio module or the whole product certified by an MIC-registered certification body (technical "
    "regulations conformity certification or construction type certification); the manufacturer usually "
    "applies, and it typically takes several weeks. A module that is already certified counts if its Giteki "
    "mark is visible on the product. Put the certification number in the item's \"giteki\"."
)


@hookimpl
def register_checks(register):
    register(check_radio, name="radio", codes=["RADIO_NO_GITEKI", "LICENCE_EXPIRED", "REG_POSSIBLY_REGULATED"])


def check_radio(shipment, context):
    regime = load_regime("radio")
    licences = context.licences(shipment)
    on = shipment.declaration_date
    warnings, regulated = classify_items(regime, shipment, needs=NEEDS, context=context)
    yield from warnings
    for item, match in regulated:
        if item.giteki:
            continue
        held = lookup(licences, "giteki", item.msku, on)
        yield from require(
            held, item, on, match=match, code="RADIO_NO_GITEKI", what="Giteki certification", reference=RULE,
            remedy=FIX, evidence=f"item has no giteki and {held.why_missing}",
            message=f"{item.msku} transmits radio ({match.evidence}) but no Giteki certification is "
                    "recorded; it may not be sold or used in Japan, whatever its CE or FCC marks.",
        )
