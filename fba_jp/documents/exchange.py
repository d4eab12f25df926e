"""The invoice's data as CSV or JSON, in a form ``fba-jp gate`` reads back to the same declaration.

JSON is the declaration itself (``fba-jp/shipment/v1``). CSV is one row per invoice line: item fields
as ``item.<field>`` columns (``item.pse.type``, ``item.valuation.domestic_unit_price_jpy``), shipment
fields as their dotted paths (``seller.name``, ``acp.address``) repeated on every row, lists and maps
of the shipment (``licences``, ``filings``, ``fx_rates``) as JSON in one cell, ``item.categories``
separated by ``;``. ``line`` and ``item.line_value`` (quantity × unit value) are there for the reader
and are checked, not trusted, when the file is read back.
"""

from __future__ import annotations

import csv
import io
import json
import types
import typing
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from ..errors import InputError
from ..models import Declaration, Item

COMPUTED = ("line", "item.line_value")
FIRST = ("line", "item.msku", "item.title", "item.hs_code", "item.origin_country", "item.quantity",
         "item.unit_value", "item.line_value")


def invoice_json(declaration: Declaration) -> str:
    return declaration.model_dump_json(by_alias=True, exclude_none=True, indent=2) + "\n"


def _flatten(data: dict, prefix: str, model: type[BaseModel]) -> dict[str, str]:
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        field = _field_type(model, key)
        if isinstance(value, dict) and isinstance(field, type) and issubclass(field, BaseModel):
            flat.update(_flatten(value, f"{name}.", field))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value) and prefix.startswith("item"):
            flat[name] = ";".join(value)
        elif isinstance(value, (dict, list)):
            flat[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = str(value)
    return flat


def invoice_csv(declaration: Declaration) -> str:
    """The CSV described in the module docstring."""
    data = declaration.model_dump(mode="json", by_alias=True, exclude_none=True)
    items = data.pop("items")
    shipment = _flatten(data, "", Declaration)
    rows = []
    for number, (item, model) in enumerate(zip(items, declaration.items), 1):
        row = {"line": str(number), **_flatten(item, "item.", Item)}
        if model.unit_value is not None:
            row["item.line_value"] = str(model.unit_value * model.quantity)
        rows.append({**row, **shipment})
    columns = [c for c in FIRST if any(c in r for r in rows)]
    columns += sorted({c for r in rows for c in r if c.startswith("item.")} - set(columns))
    columns += list(shipment)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def parse_invoice_csv(text: str, source: str) -> Declaration:
    """Read :func:`invoice_csv` output back; every problem is one ``SOURCE: row N: column: fix`` line."""
    from ..inputs import parse_declaration

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "item.msku" not in reader.fieldnames:
        raise InputError(f"{source}: not an fba-jp invoice CSV: the header row needs an item.msku column")
    shipment: dict = {}
    items = []
    problems = []
    for number, row in enumerate(reader, 2):
        if None in row:
            problems.append(f"{source}: row {number}: more cells than header columns")
            continue
        if None in row.values():  # a row cut short: its last columns would silently go missing
            cut = [column for column, cell in row.items() if cell is None]
            problems.append(f"{source}: row {number}: {cut[0]}: fewer cells than header columns (missing: "
                            f"{', '.join(cut)}); restore the row as fba-jp wrote it")
            continue
        item: dict = {}
        here: dict = {}
        for column, cell in row.items():
            if column in COMPUTED or cell is None or cell == "":
                continue
            try:
                if column.startswith("item."):
                    _put(item, column[5:].split("."), cell, Item)
                else:
                    _put(here, column.split("."), cell, Declaration)
            except ValueError as exc:
                problems.append(f"{source}: row {number}: {column}: {exc}")
        if not shipment:
            shipment = here
        elif here != shipment:
            differing = sorted(k for k in set(here) | set(shipment) if here.get(k) != shipment.get(k))
            problems.append(f"{source}: row {number}: {', '.join(differing)}: shipment columns must be the same on "
                            "every row (they describe the one shipment)")
        problems += _check_line_value(row, number, source)
        items.append(item)
    if problems:
        raise InputError(problems)
    if not items:
        raise InputError(f"{source}: no invoice lines after the header row")
    return parse_declaration({**shipment, "items": items}, source)


def _check_line_value(row: dict, number: int, source: str) -> list[str]:
    written = row.get("item.line_value")
    if not written:
        return []
    try:
        expected = Decimal(row.get("item.unit_value") or "") * Decimal(row.get("item.quantity") or "")
    except InvalidOperation:
        return []  # the unit value or quantity itself is wrong: the declaration check names it
    try:
        if Decimal(written) == expected:
            return []
    except InvalidOperation:
        pass
    return [f"{source}: row {number}: item.line_value: {written} is not item.quantity × item.unit_value "
            f"({expected}); correct the value or clear the cell"]


def _put(target: dict, path: list[str], cell: str, model: type[BaseModel] | None) -> None:
    head, rest = path[0], path[1:]
    field = _field_type(model, head) if model is not None else None
    if rest:
        nested = field if isinstance(field, type) and issubclass(field, BaseModel) else None
        _put(target.setdefault(head, {}), rest, cell, nested)
        return
    target[head] = _cell_value(cell, field)


def _cell_value(cell: str, field) -> object:
    origin = typing.get_origin(field)
    if field is bool:
        if cell.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false (got {cell[:40]!r})")
        return cell.lower() == "true"
    if field is int:
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"must be a whole number (got {cell[:40]!r})") from None
    element = typing.get_args(field)[0] if origin is list and typing.get_args(field) else None
    if origin is list and not (isinstance(element, type) and issubclass(element, BaseModel)):
        return [part.strip() for part in cell.split(";") if part.strip()]
    if origin in (list, dict) or (isinstance(field, type) and issubclass(field, BaseModel)):
        try:
            return json.loads(cell, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be JSON as fba-jp writes it ({exc.msg})") from None
    return cell


def _field_type(model: type[BaseModel] | None, name: str):
    """The field's plain type: ``bool``, ``int``, ``list[...]``, ``dict[...]``, a model, or ``str``-like."""
    if model is None:
        return None
    field = model.model_fields.get(name) or next(
        (f for f in model.model_fields.values() if f.alias == name), None)
    if field is None:
        return None  # an unknown column: the declaration's own validation names it
    return _unwrap(field.annotation)


def _unwrap(annotation):
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else annotation
    if origin is list:
        return list[_unwrap(typing.get_args(annotation)[0])]
    return annotation
