"""Freight to the Japanese port for a synced shipment: the account's freight terms applied to Amazon's box data.

The declaration of a synced shipment gets its freight as one :class:`~fba_jp.models.Cost`: the figure,
how it was worked out (``basis``, with one ``detail`` line per box for chargeable weight), where it comes
from and its date, or, when it cannot be known, what is missing. Nothing here guesses: no box data, no
quote or no invoice is an unknown freight, never a freight of 0.

Chargeable weight is what forwarders and couriers charge by: for each box the greater of its gross
weight and its volumetric weight (volume ÷ the forwarder's divisor in cm³ per kg), each rounded up to
the forwarder's step (0.5 kg unless the account says otherwise), times the number of identical boxes.
It is worked out in exact rational arithmetic, so a volume that does not divide evenly is rounded up
exactly once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from .config import AccountConfig, FreightConfig, InsuranceConfig
from .csvfiles import not_utf8, records
from .currencies import currency_problem
from .errors import ConfigError, InputError
from .models import Box, Declaration

QUOTE_COLUMNS = ("shipment_id", "amount", "currency", "quoted_on", "reference")
SET_COMMAND = "`fba-jp freight set SHIPMENT --amount … --currency … --invoice …`"


# --------------------------------------------------------------------------- Amazon's boxes


def boxes_from_amazon(raw: list | None) -> list[dict]:
    """Amazon ``Box`` payloads (listShipmentBoxes / listInboundPlanBoxes) as declaration ``boxes``.

    Values are passed on as Amazon sent them, so a box off the model fails the declaration's own
    validation with its path (``boxes[2].weight.unit``) instead of being dropped here. A zero weight or
    dimension is Amazon saying it does not know: it becomes no weight or no dimensions.
    """
    boxes = []
    for n, box in enumerate(raw or []):
        if not isinstance(box, dict):
            boxes.append(box)  # the declaration says what is wrong with it
            continue
        entry: dict = {"box_id": box.get("boxId") or box.get("packageId") or f"box {n + 1}",
                       "count": box.get("quantity", 1)}
        contents: dict[str, dict] = {}
        for item in box.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("msku"), str) and isinstance(item.get("quantity"), int):
                line = contents.setdefault(item["msku"], {"msku": item["msku"], "quantity": 0})
                line["quantity"] += item["quantity"]  # the same msku with two lot codes or expiry dates
            else:
                contents[f"#{len(contents)}"] = item
        entry["contents"] = list(contents.values())
        weight, dimensions = box.get("weight"), box.get("dimensions")
        if isinstance(weight, dict) and weight.get("value") != 0:
            entry["weight"] = {"value": weight.get("value"), "unit": weight.get("unit")}
        if isinstance(dimensions, dict) and all(dimensions.get(k) != 0 for k in ("length", "width", "height")):
            entry["dimensions"] = {k: dimensions.get(k) for k in ("length", "width", "height")}
            entry["dimensions"]["unit"] = dimensions.get("unitOfMeasurement")
        boxes.append(entry)
    return boxes


# --------------------------------------------------------------------------- chargeable weight


class Unknown(Exception):
    """The freight cannot be worked out; the message says what is missing."""


def _round_up(value: Decimal, step: Decimal, divisor: int = 1) -> Decimal:
    """``value / divisor`` rounded up to a multiple of ``step``, exactly: Decimal's divmod gives the whole
    quotient and the exact remainder (a Fraction would too, ten times slower, for every box of every sync)."""
    quotient, remainder = divmod(value, step * divisor)
    return step * (quotient + (remainder > 0))


def tidy(value: Decimal) -> Decimal:
    """``750.300`` → ``750.3``, ``45900.0`` → ``45900``: the same number, as a person writes it."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _kg(value: Decimal) -> str:
    return f"{tidy(value):,f}"


def chargeable_weight(boxes: list[Box], divisor: int, step: Decimal) -> tuple[Decimal, list[str]]:
    """The shipment's chargeable kg and one line per box showing how it was found."""
    if not boxes:
        raise Unknown("Amazon has no box data for this shipment yet")
    lines, total = [], Decimal(0)
    for box in boxes:
        if box.weight is None or box.dimensions is None:
            missing = " and ".join(k for k in ("weight", "dimensions") if getattr(box, k) is None)
            raise Unknown(f"box {box.box_id} has no {missing} in Amazon's box data")
        gross = _round_up(box.weight.kg, step)
        volume = box.dimensions.cm3
        volumetric = _round_up(volume, step, divisor)
        chargeable = max(gross, volumetric)
        total += chargeable * box.count
        d = box.dimensions
        lines.append(
            f"{box.box_id}{f' × {box.count}' if box.count > 1 else ''}: gross {_kg(box.weight.value)} "
            f"{box.weight.unit}{'' if box.weight.unit == 'KG' else f' = {_kg(box.weight.kg)} kg'} → {_kg(gross)} kg; "
            f"{_kg(d.length)} × {_kg(d.width)} × {_kg(d.height)} {d.unit.lower()} = {_kg(volume)} cm³ ÷ {divisor} "
            f"→ {_kg(volumetric)} kg; chargeable {_kg(chargeable)} kg"
            + (f" × {box.count} = {_kg(chargeable * box.count)} kg" if box.count > 1 else "")
        )
    return total, lines


# --------------------------------------------------------------------------- quotes


@dataclass
class FreightQuotes:
    """The forwarder's quotes (``quote_file``): one row per shipment; bad rows kept as error lines."""

    path: str
    quotes: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # shipment ids whose row is wrong


def load_quotes(path: Path, name: str) -> FreightQuotes:
    """Read ``shipment_id,amount,currency,quoted_on,reference``; a missing file or header is a ``ConfigError``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{name}: freight quote file not found; create it with columns "
                          f"{','.join(QUOTE_COLUMNS)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: {not_utf8(exc)}") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the freight quote file: {exc}") from None
    reader = csv.DictReader(records(text))
    headers = [h.strip() for h in reader.fieldnames or []]
    if missing := [c for c in QUOTE_COLUMNS if c not in headers]:
        raise ConfigError(f"{name}:1: the header lacks {', '.join(missing)} (columns: {','.join(QUOTE_COLUMNS)})")
    quotes = FreightQuotes(name)
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        where, problems = f"{name}:{number}", []
        shipment = row["shipment_id"]
        try:
            amount = Decimal(row["amount"].replace(",", ""))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"{where}: amount: must be a decimal number of 0 or more (got {row['amount']!r:.40})")
        if problem := currency_problem(row["currency"]):
            problems.append(f"{where}: currency: {problem} (got {row['currency']!r:.40})")
        try:
            quoted_on = date.fromisoformat(row["quoted_on"])
        except ValueError:
            problems.append(f"{where}: quoted_on: must be a date YYYY-MM-DD (got {row['quoted_on']!r:.40})")
        if not shipment:
            problems.append(f"{where}: shipment_id: required field is missing")
        elif shipment in quotes.quotes or shipment in quotes.bad:
            problems.append(f"{where}: shipment_id: {shipment!r} appears twice; keep one quote per shipment")
        if problems:
            quotes.errors.extend(problems)
            quotes.bad.add(shipment)
            quotes.quotes.pop(shipment, None)
            continue
        quotes.quotes[shipment] = {"amount": amount, "currency": row["currency"], "quoted_on": quoted_on,
                                   "reference": row["reference"], "line": number}
    return quotes


# --------------------------------------------------------------------------- the freight of one shipment


def freight_cost(
    account: AccountConfig,
    shipment_ids: tuple[str, ...],
    boxes: list[Box],
    boxes_source: str,
    invoice: dict | None = None,
    quotes: FreightQuotes | None = None,
) -> dict:
    """The shipment's freight as a :class:`~fba_jp.models.Cost` dict.

    ``shipment_ids`` are the ids a quote may be filed under (FBA id first, then Amazon's shipmentId);
    ``boxes_source`` says where the boxes came from and when; ``invoice`` is the latest
    ``fba-jp freight set`` record, which overrides every configured method.
    """
    config = account.freight
    allocation = config.allocation if config else "value"
    if invoice is not None and invoice.get("freight") is not None:
        return {
            "kind": "freight", "amount": invoice["freight"], "currency": invoice["freight_currency"],
            "basis": f"actual freight invoice {invoice['invoice']} of {invoice['invoiced_on']}",
            "source": f"`fba-jp freight set` by {invoice['by']} at {invoice['created_at']}",
            "as_of": invoice["invoiced_on"], "allocation": allocation,
        }
    if config is None:
        return _unknown(f"account {account.name!r} does not say how freight to the Japanese port is known "
                        "([accounts.freight] is not set)", f"add [accounts.freight] for {account.name!r} "
                        f"(a rate per chargeable kg, a fixed amount per shipment or box, or a quote file), or "
                        f"enter the invoice with {SET_COMMAND}", allocation)
    terms = f"[accounts.freight] of account {account.name!r}" + (f": {config.source}" if config.source else "")
    try:
        figure = _METHODS[config.method](config, shipment_ids, boxes, boxes_source, quotes)
    except Unknown as exc:
        return _unknown(f"{exc}", _remedy(config), allocation)
    return {"kind": "freight", "currency": config.currency, "as_of": config.as_of, "allocation": allocation,
            **figure, "source": "; ".join(filter(None, [terms, figure.get("source")]))}


def _unknown(missing: str, remedy: str, allocation: str) -> dict:
    return {"kind": "freight", "basis": "unknown", "missing": f"{missing}; {remedy}", "allocation": allocation}


def _remedy(config: FreightConfig) -> str:
    if config.method == "quote_file":
        return f"add its quote to {config.quotes}, or enter the invoice with {SET_COMMAND}"
    if config.method == "invoice":
        return f"enter the freight invoice with {SET_COMMAND}"
    return ("set the box weights and dimensions in Seller Central (the next sync fetches them), or enter "
            f"the invoice with {SET_COMMAND}")


def _rate_per_kg(config, shipment_ids, boxes, boxes_source, quotes) -> dict:
    kg, lines = chargeable_weight(boxes, config.volumetric_divisor, config.round_up_to_kg)
    amount = tidy(config.rate * kg)
    return {
        "amount": amount,
        "basis": f"{config.rate:,f} {config.currency} per chargeable kg × {_kg(kg)} kg = {amount:,f} "
                 f"{config.currency}; each box the greater of its gross weight and its volume ÷ "
                 f"{config.volumetric_divisor} cm³/kg, rounded up to {_kg(config.round_up_to_kg)} kg",
        "detail": lines,
        "source": boxes_source,
    }


def _per_box(config, shipment_ids, boxes, boxes_source, quotes) -> dict:
    if not boxes:
        raise Unknown("Amazon has no box data for this shipment yet, so the boxes cannot be counted")
    count = sum(box.count for box in boxes)
    amount = tidy(config.amount * count)
    return {"amount": amount, "source": boxes_source,
            "basis": f"{config.amount:,f} {config.currency} per box × {count} boxes = {amount:,f} {config.currency}"}


def _per_shipment(config, shipment_ids, boxes, boxes_source, quotes) -> dict:
    return {"amount": config.amount, "basis": f"{config.amount:,f} {config.currency} per shipment"}


def _quote(config, shipment_ids, boxes, boxes_source, quotes) -> dict:
    for shipment_id in shipment_ids:
        if quotes is not None and shipment_id in quotes.bad:
            raise Unknown(f"the quote for {shipment_id} in {quotes.path} is not valid (see the error above)")
        quote = quotes.quotes.get(shipment_id) if quotes is not None else None
        if quote is not None:
            return {"amount": quote["amount"], "currency": quote["currency"], "as_of": quote["quoted_on"],
                    "basis": f"forwarder's quote {quote['reference'] or '(no reference)'} of {quote['quoted_on']}",
                    "source": f"{quotes.path}:{quote['line']}"}
    raise Unknown(f"no quote for {shipment_ids[0]} in {config.quotes}")


def _invoice_only(config, shipment_ids, boxes, boxes_source, quotes) -> dict:
    raise Unknown("freight is taken from the actual invoice and none has been entered for this shipment yet")


_METHODS = {
    "rate_per_kg": _rate_per_kg,
    "per_box": _per_box,
    "per_shipment": _per_shipment,
    "quote_file": _quote,
    "invoice": _invoice_only,
}


def weights_by_box(shipment: Declaration) -> dict[str, Fraction] | None:
    """Each msku's share of the boxes' gross weight (a box's weight shared among its contents by units);
    ``None`` when a box lacks its weight or contents, so weight cannot be the allocation basis."""
    if not shipment.boxes or any(box.weight is None or not box.contents for box in shipment.boxes):
        return None
    weights: dict[str, Fraction] = {}
    for box in shipment.boxes:
        units = sum(c.quantity for c in box.contents)
        for content in box.contents:
            share = Fraction(box.weight.kg) * box.count * content.quantity / units
            weights[content.msku] = weights.get(content.msku, Fraction(0)) + share
    return weights


def insurance_cost(account: AccountConfig, invoice: dict | None = None) -> dict | None:
    """The shipment's insurance as a :class:`~fba_jp.models.Cost` dict, or ``None`` when none is paid.

    The insurance on the actual invoice (``fba-jp freight set --insurance``) overrides the account's terms.
    """
    if invoice is not None and invoice.get("insurance") is not None:
        return {"kind": "insurance", "amount": invoice["insurance"], "currency": invoice["insurance_currency"],
                "basis": f"insurance on the actual invoice {invoice['invoice']} of {invoice['invoiced_on']}",
                "source": f"`fba-jp freight set` by {invoice['by']} at {invoice['created_at']}",
                "as_of": invoice["invoiced_on"]}
    terms: InsuranceConfig | None = account.insurance
    if terms is None:
        return None
    policy = f" under policy {terms.policy}" if terms.policy else ""
    source = f"[accounts.insurance] of account {account.name!r}" + (f": {terms.source}" if terms.source else "")
    if terms.premium is not None:
        return {"kind": "insurance", "amount": terms.premium, "currency": terms.currency, "as_of": terms.as_of,
                "basis": f"premium {terms.premium:,f} {terms.currency} per shipment{policy}", "source": source}
    return {"kind": "insurance", "rate_percent": terms.rate_percent,
            "insured_value_percent": terms.insured_value_percent, "as_of": terms.as_of, "source": source,
            "basis": f"premium {terms.rate_percent:f}% of {terms.insured_value_percent:f}% of the goods' invoice "
                     f"value plus freight{policy}"}


# --------------------------------------------------------------------------- actual invoices (`fba-jp freight set`)


def _money(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    from .models import MAX_AMOUNT

    try:
        amount = Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount.as_tuple().exponent < -6:
        raise InputError(f"{option}: must be an amount of 0 or more such as 612.40 (got {value!r:.40})")
    return amount


def _currency_option(value: str | None, option: str) -> str:
    if value is None:
        raise InputError(f"{option}: required with the amount (an ISO 4217 code such as USD or JPY)")
    if problem := currency_problem(value.strip()):
        raise InputError(f"{option}: {problem} (got {value!r:.20})")
    return value.strip()


def _text(value: str | None, option: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    text = (value or "").strip()
    if not any(c.isalnum() for c in text) or not text.isprintable() or len(text) > 200:
        raise InputError(f"{option}: give real text for the audit trail: letters or digits, one line, at most 200 "
                         f"characters (got {value!r:.40})")
    return text


def record_invoice(store, shipment_id: str, *, amount, currency, insurance, insurance_currency, reference,
                   invoiced_on: date, by, note=None) -> dict:
    """Append the actual freight invoice of a synced shipment to ``freight_invoices``; return the row.

    Bad input is an :class:`~fba_jp.errors.InputError` naming the option, and nothing is written."""
    from .store import utcnow

    freight, premium = _money(amount, "--amount"), _money(insurance, "--insurance")
    if freight is None and premium is None:
        raise InputError("freight set: give --amount (the freight) and/or --insurance (the premium) from the invoice")
    row = {
        "shipment_id": store.resolve(shipment_id),
        "freight": None if freight is None else str(freight),
        "freight_currency": _currency_option(currency, "--currency") if freight is not None else None,
        "insurance": None if premium is None else str(premium),
        "insurance_currency": (_currency_option(insurance_currency or currency, "--insurance-currency")
                               if premium is not None else None),
        "invoice": _text(reference, "--invoice"),
        "invoiced_on": invoiced_on.isoformat(),
        "by": _text(by, "--by"),
        "note": _text(note, "--note", required=False),
        "created_at": utcnow(),
    }
    shipment = store.rows("select account from spapi_shipments where shipment_id = ? limit 1", [row["shipment_id"]])
    if not shipment:
        raise InputError(f"{shipment_id}: no shipment synced from SP-API has this id; `fba-jp freight set` records the "
                         "invoice of a synced shipment (for a declaration file, write freight and insurance in the file)")
    row["account"] = shipment[0]["account"]
    with store.write():
        row["id"] = store.conn.execute(
            f"insert into freight_invoices ({', '.join(f'[{c}]' for c in row)}) values ({', '.join('?' * len(row))})",
            list(row.values()),
        ).lastrowid
    return row


def latest_invoices(store, account: str) -> dict[str, dict]:
    """Per shipment id, the last freight invoice entered for the account's shipments (amounts as ``Decimal``)."""
    latest: dict[str, dict] = {}
    for row in store.rows("select * from freight_invoices where account = ? order by id", [account]):
        for key in ("freight", "insurance"):
            row[key] = None if row[key] is None else Decimal(row[key])
        latest[row["shipment_id"]] = row
    return latest


def invoice_history(store, shipment_id: str) -> list[dict]:
    return store.rows("select * from freight_invoices where shipment_id = ? order by id", [store.resolve(shipment_id)])
