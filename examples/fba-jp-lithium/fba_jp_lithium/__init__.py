"""An example fba-jp plugin: flag lithium batteries shipped by air.

Lithium-ion cells and power banks are dangerous goods (UN3480/UN3481) in air transport: the carrier needs
a dangerous-goods declaration, and loose cells over 100 Wh are forbidden on passenger aircraft.
"""

import re

from fba_jp import Finding, hookimpl

LITHIUM = re.compile(r"\b(lithium|li-ion|li-po|lipo|power ?bank|18650)\b|リチウム|モバイルバッテリー", re.IGNORECASE)


@hookimpl
def register_checks(register):
    register(lithium_batteries, codes=["DG_LITHIUM"])


def lithium_batteries(shipment):
    for item in shipment.items:
        match = LITHIUM.search(item.title or "")
        if match:
            yield Finding(
                code="DG_LITHIUM",
                severity="warn",
                sku=item.msku,
                evidence=f"title contains {match.group(0)!r}",
                message="Lithium batteries are dangerous goods in air transport (UN3480/UN3481).",
                remedy="Give your carrier a dangerous-goods declaration and the battery's UN38.3 test summary; "
                "ship cells over 100 Wh by sea.",
                reference="IATA Dangerous Goods Regulations, Packing Instructions 965–970",
            )
