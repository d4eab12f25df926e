"""Declarations from SP-API data: a synced shipment joined with the account profile and product master.

The result is the same :class:`~fba_jp.models.Declaration` a gate file produces, so both are
screened by the same checks. Who imports (IOR, consignee, ACP, licences, filings) comes from the
account profile; what is imported (HS code, value, origin, duty rate, categories) from
``products.csv``; product type and title from the Catalog Items cache when Amazon has them. The boxes
come from Amazon's box data; freight and insurance from the account's ``[accounts.freight]`` and
``[accounts.insurance]`` terms (or the actual invoice, ``fba-jp freight set``), as costs with their basis,
source and date; the agreed valuation basis and the proofs of origin from the profile; and, for a
deductive agreement, each item's Amazon.co.jp price and fees from the daily cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pydantic import ValidationError

from .config import AccountConfig
from .errors import InputError, validation_lines
from .freight import FreightQuotes, boxes_from_amazon, freight_cost, insurance_cost
from .models import JST, Cost, Declaration
from .products import ProductMaster


@dataclass
class SyncedShipment:
    """One SP-API shipment as stored by sync: the raw ``getShipment`` and ``listShipmentItems`` payloads."""

    account: str
    inbound_plan_id: str
    spapi_shipment_id: str
    shipment: dict
    items: list[dict]
    first_seen: date  # JST date sync first stored it: the declaration date when Amazon gives no ship date
    boxes: list | None = None  # listShipmentBoxes as fetched; None: not fetched (yet, or refused)
    boxes_error: str | None = None  # why there are none

    @property
    def shipment_id(self) -> str:
        return shipment_key(self.shipment)

    @property
    def source(self) -> str:
        return f"spapi:{self.account}/{self.inbound_plan_id}/{self.spapi_shipment_id}"


def delivery_address(shipment: dict) -> dict | None:
    """Amazon's fulfilment centre from ``getShipment.destination``: the invoice's delivery address only."""
    destination = shipment.get("destination")
    if not isinstance(destination, dict):
        return None
    address = destination.get("address") if isinstance(destination.get("address"), dict) else {}
    fc = destination.get("warehouseId") if isinstance(destination.get("warehouseId"), str) else None

    def text(key):
        value = address.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None

    region = " ".join(filter(None, [text("stateOrProvinceCode"), text("postalCode")]))
    lines = ", ".join(filter(None, [text("addressLine1"), text("addressLine2"), text("city"), region or None]))
    name = text("name") or (f"Amazon fulfilment centre {fc}" if fc else None)
    if name is None:
        return None
    country = text("countryCode")
    return {"name": name, "address": lines or None, "fc_code": fc,
            "country": country if country and len(country) == 2 and country.isupper() else None}


def shipment_key(shipment: dict) -> str:
    """The id sellers and Customs know (``FBA…`` confirmation id) once Amazon has assigned it."""
    return shipment.get("shipmentConfirmationId") or shipment["shipmentId"]


def ready_to_ship(shipment: dict) -> date | None:
    """Start of the ready-to-ship window, as a date in Japan; ``None`` before one is chosen."""
    dates = shipment.get("dates")
    window = dates.get("readyToShipWindow") if isinstance(dates, dict) else None
    start = window.get("start") if isinstance(window, dict) else None
    if not isinstance(start, str) or not start:
        return None
    try:
        return datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(JST).date()
    except ValueError:
        return None


def catalog_summary(item: dict | None, marketplace_id: str) -> dict:
    """``{"title", "product_type", "classification"}`` from a Catalog Items 2022-04-01 item."""
    if not item:
        return {}

    def pick(entries):
        # a payload off the model (a string or object where a list belongs) counts as no data
        entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        return next((e for e in entries if e.get("marketplaceId") == marketplace_id), entries[0] if entries else {})

    summary = pick(item.get("summaries"))
    product_type = pick(item.get("productTypes"))
    browse = summary.get("browseClassification")
    return {
        "title": catalog_text(summary.get("itemName")),
        "product_type": catalog_text(product_type.get("productType")),
        "classification": catalog_text(browse.get("displayName")) if isinstance(browse, dict) else None,
    }


def catalog_text(value) -> str | None:
    """A catalog field as Amazon gave it, or ``None`` when it is not a string or is blank: a blank itemName
    must not replace the product master's title, which the keyword checks read."""
    return value if isinstance(value, str) and value.strip() else None


@dataclass
class AccountInputs:
    """What else an account's synced declarations are built from, besides Amazon's shipment data."""

    quotes: FreightQuotes | None = None  # [accounts.freight] quote_file
    invoices: dict[str, dict] = field(default_factory=dict)  # shipment id → latest `fba-jp freight set` record
    amazon: dict[str, dict] | None = None  # msku → AmazonFigures (deductive agreement); None: not asked


NOT_FETCHED = "no Amazon.co.jp price has been fetched for this SKU yet (the next sync asks Amazon)"
BOXES_SOURCE = "boxes: Amazon's box data (Fulfillment Inbound 2024-03-20 {operation})"
# the spapi_shipment_id of a plan's provisional declaration before placement (``gate --plan``): its boxes are the plan's
PLAN_ITEMS = "plan-items"


def build_declaration(
    synced: SyncedShipment,
    account: AccountConfig,
    products: ProductMaster | None,
    catalog: dict[str, dict],
    inputs: AccountInputs | None = None,
) -> Declaration:
    """Declaration for one synced shipment, or ``InputError`` naming everything that is missing.

    ``catalog`` maps ASIN → :func:`catalog_summary` of the cached catalog item. Boxes come from Amazon's
    box data; freight from the account's ``[accounts.freight]`` terms applied to them (or the shipment's
    actual freight invoice in ``inputs``), as a cost with its basis, source and date.
    """
    inputs = inputs or AccountInputs()
    source = synced.source
    problems: list[str] = []
    merged: dict[str, dict] = {}
    for index, raw in enumerate(synced.items):
        # SP-API lines off the model are problems, never skipped: a line left out would be goods
        # shipped but not screened
        where = f"{source}: items[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not an item object in the SP-API data (got {str(raw)[:40]})")
            continue
        msku, quantity = raw.get("msku"), raw.get("quantity")
        if not isinstance(msku, str) or not msku.strip():
            problems.append(f"{where}.msku: missing or not a string in the SP-API data (got {msku!r:.40})")
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            problems.append(
                f"{where}.quantity: not a whole number of units, 0 or more, in the SP-API data (got {quantity!r:.40})"
            )
            continue
        wrong = [k for k in ("asin", "fnsku") if not isinstance(raw.get(k), (str, type(None)))]
        if wrong:
            problems.extend(f"{where}.{k}: not a string in the SP-API data (got {raw[k]!r:.40})" for k in wrong)
            continue
        if quantity == 0:
            continue  # a zero line is not being shipped
        line = merged.setdefault(msku, {"msku": msku, "quantity": 0, "asin": raw.get("asin"), "fnsku": raw.get("fnsku")})
        line["quantity"] += quantity
    if not merged:
        problems.append(f"{source}: items: the shipment has no items with a quantity above 0 in SP-API")
    if products is None:
        problems.append(
            f"{source}: products: account {account.name!r} has no product master, so HS codes and values are "
            f"unknown; set products = \"products.csv\" in its [[accounts]] section"
        )
    currencies: set[str] = set()
    items = []
    for msku, line in merged.items():
        if products is None:
            break
        product = products.get(msku)
        if msku in products.errors:
            problems.extend(f"{source}: items[{msku}]: {error}" for error in products.errors[msku])
            continue
        if product is None:
            problems.append(
                f"{source}: items[{msku}]: msku {msku!r} is not in the product master {products.path}; add a row "
                "with its hs_code, unit_value, currency, origin_country and duty_rate"
            )
            continue
        if not product.has_value:
            problems.append(
                f"{source}: items[{msku}]: no value for {msku!r} in {products.path}:{product.line}; fill unit_value "
                "(or domestic_unit_price_jpy / identical_goods_unit_value_jpy / production_unit_cost)"
            )
            continue
        if product.currency:
            currencies.add(product.currency)
        info = catalog.get(line.get("asin") or "") or {}
        item = {**line, **product.fields}
        if info.get("title"):
            item["title"] = info["title"]
        if info.get("product_type") and "product_type" not in product.fields:
            item["product_type"] = info["product_type"]
        if inputs.amazon is not None:  # a copy: product.fields is shared by every shipment of the msku
            figures = inputs.amazon.get(msku) or {"problem": NOT_FETCHED}
            item["valuation"] = {**(item.get("valuation") or {}), "amazon": figures}
        items.append(item)
    currency = account.currency
    if currency and currencies - {currency}:
        problems.append(
            f"{source}: currency: products in this shipment are priced in {', '.join(sorted(currencies))} but account "
            f"{account.name!r} declares in {currency}; make the currency column match"
        )
    elif not currency:
        if len(currencies) > 1:
            problems.append(
                f"{source}: currency: items are priced in {', '.join(sorted(currencies))}; one declaration has one "
                f"currency, so set the same currency in products.csv or currency = \"...\" on account {account.name!r}"
            )
        elif not currencies and items:
            problems.append(
                f"{source}: currency: unknown; fill the currency column of products.csv or set currency on account "
                f"{account.name!r}"
            )
        else:
            currency = next(iter(currencies), None)
    # a box's items that are not a list cannot be read as its contents: a problem, not a crash or an empty box
    for n, box in enumerate(synced.boxes or []):
        if isinstance(box, dict) and not isinstance(box.get("items"), (list, type(None))):
            problems.append(f"{source}: boxes[{n}].items: not a list of items in the SP-API data "
                            f"(got {box['items']!r:.40})")
    boxes = [] if problems else boxes_from_amazon(synced.boxes)
    if problems:
        raise InputError(problems)
    export_date = ready_to_ship(synced.shipment)
    declared = (export_date or synced.first_seen) + timedelta(days=account.transit_days)
    data = {
        "schema": "fba-jp/shipment/v1",
        "shipment_id": synced.shipment_id,
        "inbound_plan_id": synced.inbound_plan_id,
        "declaration_date": declared,
        "export_date": export_date,
        "seller": account.seller,
        "importer_of_record": account.importer_of_record,
        "consignee": account.consignee,
        "delivery_address": delivery_address(synced.shipment),
        "acp": account.acp,
        "acp_id": account.acp_id,
        "currency": currency,
        # copied, not only reached through the screening context, so that the input hash (and with
        # it re-screening and waivers) follows changes to the profile
        "licences": [licence.model_dump() for licence in account.licences],
        "filings": [filing.model_dump() for filing in account.filings],
        "valuation_agreement": account.valuation,
        "origin_proofs": [proof.model_dump() for proof in account.origin_proofs],
        "items": items,
        "boxes": boxes,
    }
    data = {k: v for k, v in data.items() if v is not None}
    try:
        declaration = Declaration.model_validate(
            {k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in data.items()}
        )
    except ValidationError as exc:
        raise InputError(validation_lines(exc, source)) from None
    return _with_costs(declaration, synced, account, inputs)


def _with_costs(declaration: Declaration, synced: SyncedShipment, account: AccountConfig,
                inputs: AccountInputs) -> Declaration:
    """The declaration with its freight (and, when the account says so, insurance) as costs."""
    ids = tuple(dict.fromkeys([synced.shipment_id, synced.spapi_shipment_id]))
    operation = "listInboundPlanBoxes" if synced.spapi_shipment_id == PLAN_ITEMS else "listShipmentBoxes"
    boxes_source = (BOXES_SOURCE.format(operation=operation) if synced.boxes_error is None
                    else f"boxes: Amazon refused them ({synced.boxes_error})")
    invoice = inputs.invoices.get(synced.shipment_id)
    costs = [freight_cost(account, ids, declaration.boxes, boxes_source, invoice, inputs.quotes)]
    if (insurance := insurance_cost(account, invoice)) is not None:
        costs.append(insurance)
    try:
        return declaration.model_copy(update={"costs": [Cost.model_validate(c) for c in costs]})
    except ValidationError as exc:
        raise InputError(validation_lines(exc, f"{synced.source}: costs")) from None
