"""An fba-jp plugin: lithium batteries are dangerous goods in transport.

A lithium battery shipped on its own (UN3480: power banks, spare cells and battery packs) may travel by
air only on cargo aircraft, at a state of charge of no more than 30 % (IATA Dangerous Goods Regulations,
Packing Instruction 965). Batteries packed with or contained in equipment (UN3481) go under Packing
Instructions 966 and 967. By sea they are class 9 dangerous goods under the IMDG Code. In every case the
carrier needs a dangerous-goods declaration and the battery's UN38.3 test summary.

It shows what a plugin usually needs, each in a few lines:

* a check that declares its codes (``register_checks``);
* settings in ``config.toml`` (``[plugins.lithium]``, validated by :class:`Settings`);
* its own data on declaration items (``items[].extensions.lithium``, validated by :class:`ItemData`).
"""

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fba_jp import Finding, hookimpl

LITHIUM = re.compile(r"\b(lithium|li-ion|li-po|lipo|power ?bank|18650)\b|リチウム|モバイルバッテリー", re.IGNORECASE)
# a title that names the battery itself, not a device that contains one ("lantern with lithium battery"):
# shipped on its own (UN3480); anything else is asked about rather than guessed
ON_ITS_OWN = re.compile(r"\b(power ?banks?|18650|battery packs?|spare batter(y|ies)|cells?)\b|モバイルバッテリー", re.IGNORECASE)
PI965 = "IATA Dangerous Goods Regulations, Packing Instruction 965 (UN3480)"
PI966_967 = "IATA Dangerous Goods Regulations, Packing Instructions 966 and 967 (UN3481)"
IMDG = "IMDG Code, class 9 (UN3480/UN3481)"
CODES = {
    "DG_LITHIUM": "A lithium battery is dangerous goods in transport: by air a battery on its own (UN3480) "
                  "is cargo-aircraft-only at no more than 30 % state of charge (IATA PI 965).",
    "DG_LITHIUM_CHARGE": "A lithium battery shipped on its own by air is charged above the 30 % limit of IATA "
                         "PI 965 (or the lower limit set in [plugins.lithium]).",
}


class Settings(BaseModel):
    """``[plugins.lithium]`` in config.toml."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["air", "sea"] = "air"
    # a carrier may accept less than the regulation's 30 %
    max_state_of_charge_percent: int = Field(30, ge=0, le=30)


class ItemData(BaseModel):
    """``items[].extensions.lithium`` in a declaration."""

    model_config = ConfigDict(extra="forbid")

    un_number: Literal["UN3480", "UN3481"] | None = None
    watt_hours: Decimal | None = Field(None, gt=0, le=100_000)
    state_of_charge_percent: int | None = Field(None, ge=0, le=100)


@hookimpl
def register_checks(register):
    register(lithium_batteries, codes=CODES)


@hookimpl
def register_models(register):
    register(config=Settings, item=ItemData)


def lithium_batteries(shipment, context):
    settings = context.plugin_config(Settings)
    for item in shipment.items:
        data = context.item_extension(item, ItemData) or ItemData()
        match = LITHIUM.search(item.title or "")
        if match is None and data.un_number is None:
            continue
        un_number = data.un_number or ("UN3480" if ON_ITS_OWN.search(item.title or "") else None)
        evidence = f"extensions.lithium.un_number {un_number}" if data.un_number else f"title contains {match.group(0)!r}"
        yield _finding(item.msku, un_number, settings.transport, evidence)
        charge = data.state_of_charge_percent
        if settings.transport == "air" and un_number == "UN3480" and charge is not None \
                and charge > settings.max_state_of_charge_percent:
            yield Finding(
                code="DG_LITHIUM_CHARGE", severity="block", sku=item.msku, reference=PI965,
                evidence=f"extensions.lithium.state_of_charge_percent {charge}",
                message=f"{item.msku} is a lithium battery shipped on its own at {charge} % state of charge; by air "
                        f"it may be at no more than {settings.max_state_of_charge_percent} %.",
                remedy=f"Discharge the batteries to {settings.max_state_of_charge_percent} % or less before they are "
                       "packed (and record the new figure), or ship them by sea.",
            )


def _finding(msku, un_number, transport, evidence):
    if transport == "sea":
        message = f"{msku} is a lithium battery: class 9 dangerous goods by sea ({un_number or 'UN3480 or UN3481'})."
        remedy = "Give the ocean carrier or forwarder a dangerous-goods declaration and the UN38.3 test summary."
        reference = IMDG
    elif un_number == "UN3480":
        message = (f"{msku} is a lithium battery shipped on its own (UN3480): by air it may travel only on cargo "
                   "aircraft, at no more than 30 % state of charge, with a dangerous-goods declaration.")
        remedy = ("Book cargo-aircraft-only capacity with a carrier that accepts UN3480, ship the batteries at 30 % "
                  "charge or less, and give the carrier the shipper's declaration and the UN38.3 test summary; "
                  "or ship by sea.")
        reference = PI965
    elif un_number == "UN3481":
        message = (f"{msku} holds lithium batteries packed with or contained in equipment (UN3481): dangerous "
                   "goods by air, within the limits of Packing Instructions 966 and 967.")
        remedy = "Give your carrier the dangerous-goods details it asks for and the battery's UN38.3 test summary."
        reference = PI966_967
    else:
        message = (f"{msku} looks like it contains lithium batteries, which are dangerous goods by air; a battery "
                   "shipped on its own (UN3480) is cargo-aircraft-only at no more than 30 % state of charge.")
        remedy = ('Say which it is in the declaration: "extensions": {"lithium": {"un_number": "UN3480"}} for a '
                  'battery on its own, "UN3481" for one packed with or inside equipment.')
        reference = f"{PI965}; {PI966_967}"
    return Finding(code="DG_LITHIUM", severity="warn", sku=msku, evidence=evidence, message=message,
                   remedy=remedy, reference=reference)
