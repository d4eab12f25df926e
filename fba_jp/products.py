"""The product master (``products.csv``): what SP-API does not know about an msku.

SP-API gives mskus, ASINs and quantities; customs needs the HS code, value, origin, duty rate and
regulated categories. Columns (CONTRACT §6)::

    msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories

``categories`` is ``;``-separated. Optional columns fill the other item fields of a declaration
(:data:`OPTIONAL_COLUMNS`); any other column is ignored, so a seller's own master can be used as is.
A bad row does not stop the others: it is kept as error lines and turns only the shipments that
contain its msku into ``INPUT_INVALID``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .csvfiles import not_utf8, records
from .currencies import currency_problem
from .errors import ConfigError, validation_lines
from .models import Item

BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# column → (item field path); valuation columns go under item.valuation, pse_* under item.pse
OPTIONAL_COLUMNS = {
    "product_type": ("product_type",),
    "cosmetics_notification": ("cosmetics_notification",),
    "pse_type": ("pse", "type"),
    "pse_certificate": ("pse", "certificate"),
    "giteki": ("giteki",),
    "psc": ("psc",),
    "positive_list_statement": ("positive_list_statement",),
    "reduced_tax_rate": ("reduced_tax_rate",),
    "identical_goods_unit_value_jpy": ("valuation", "identical_goods_unit_value_jpy"),
    "identical_goods_export_date": ("valuation", "identical_goods_export_date"),
    "identical_goods_origin": ("valuation", "identical_goods_origin"),
    "domestic_unit_price_jpy": ("valuation", "domestic_unit_price_jpy"),
    "domestic_unit_deductions_jpy": ("valuation", "domestic_unit_deductions_jpy"),
    "production_unit_cost": ("valuation", "production_unit_cost"),
    "production_unit_profit_and_expenses": ("valuation", "production_unit_profit_and_expenses"),
    "prefer_computed": ("valuation", "prefer_computed"),
    "preferential_agreement": ("preferential_agreement",),
    "preferential_rate": ("preferential_rate",),
    # rule fields (issue 11): identical-goods basis, liquor, specific duties, target age
    "identical_goods_method": ("valuation", "identical_goods_method"),
    "alcohol_percent": ("alcohol_percent",),
    "liquor_category": ("liquor", "category"),
    "liquor_litres_per_item": ("liquor", "litres_per_item"),
    "liquor_tax_jpy": ("liquor", "tax_jpy"),
    "specific_duty_yen_per_unit": ("specific_duty", "yen_per_unit"),
    "specific_duty_unit": ("specific_duty", "unit"),
    "specific_duty_units_per_item": ("specific_duty", "units_per_item"),
    "specific_duty_combine": ("specific_duty", "combine"),
    "specific_duty_minimum_yen_per_unit": ("specific_duty", "minimum_yen_per_unit"),
    "min_age_months": ("min_age_months",),
}
BASE_COLUMNS = ("title", "hs_code", "unit_value", "origin_country", "duty_rate")
BOOLEAN_FIELDS = {"positive_list_statement", "reduced_tax_rate", "prefer_computed"}
YEN_FIELDS = {"identical_goods_unit_value_jpy", "domestic_unit_price_jpy", "domestic_unit_deductions_jpy", "liquor_tax_jpy"}
COUNT_FIELDS = {"min_age_months"}
VALUE_BASIS = ("unit_value", "identical_goods_unit_value_jpy", "domestic_unit_price_jpy", "production_unit_cost")


@dataclass
class Product:
    msku: str
    line: int
    fields: dict  # item fields (no msku/quantity), ready for Item.model_validate
    currency: str | None

    @property
    def has_value(self) -> bool:
        valuation = self.fields.get("valuation") or {}
        return self.fields.get("unit_value") is not None or any(valuation.get(k) is not None for k in VALUE_BASIS)


@dataclass
class ProductMaster:
    path: str
    products: dict[str, Product] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # msku → error lines

    def get(self, msku: str) -> Product | None:
        return self.products.get(msku)


def load_products(path: str | Path, name: str | None = None) -> ProductMaster:
    """Read and validate ``products.csv``. A missing file or header is a ``ConfigError``; bad rows are kept as errors.

    ``name`` is how messages refer to the file (default ``path``): the path as written in the config,
    so messages, and the input hash of shipments they make invalid, do not depend on the directory.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except FileNotFoundError:
        raise ConfigError(f"{path}: product master not found; create it with columns msku,title,hs_code,unit_value,"
                          "currency,origin_country,duty_rate,categories (see examples/products.csv)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {not_utf8(exc)}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the product master: {exc}") from None
    reader = csv.DictReader(records(text))
    try:
        return _read_master(reader, path, name)
    except csv.Error as exc:  # a field over csv's size limit: a binary or a wholly wrong file
        raise ConfigError(f"{path}: after line {reader.line_num}: not a product master CSV ({exc}); save the product "
                          "master as CSV UTF-8 with columns msku,title,hs_code,… (see examples/products.csv)") from None


def _read_master(reader: csv.DictReader, path: Path, name: str | None) -> ProductMaster:
    headers = [h.strip() for h in (reader.fieldnames or [])]
    if "msku" not in headers:
        separated = " (columns are separated by commas, not semicolons or tabs)" if (
            len(headers) == 1 and any(mark in headers[0] for mark in ";\t")) else ""
        raise ConfigError(f"{path}: line 1: the header has no msku column{separated} "
                          f"(got {', '.join(headers) or 'nothing'})")
    master = ProductMaster(name or str(path))
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        msku = row.get("msku", "")
        if not any(row.values()):
            continue
        where = f"{master.path}:{number}"
        if not msku:
            master.errors.setdefault("", []).append(f"{where}: msku: required field is missing")
            continue
        if msku in master.products or msku in master.errors:
            master.products.pop(msku, None)
            master.errors.setdefault(msku, []).append(f"{where}: msku: {msku!r} appears twice; keep one row per msku")
            continue
        product, errors = _parse_row(row, where, number)
        if errors:
            master.errors[msku] = errors
        else:
            master.products[msku] = product
    return master


def _parse_row(row: dict[str, str], where: str, line: int) -> tuple[Product | None, list[str]]:
    errors: list[str] = []
    fields: dict = {}
    for column in BASE_COLUMNS:
        if row.get(column):
            fields[column] = row[column]
    if row.get("categories"):
        fields["categories"] = [c.strip().lower() for c in row["categories"].split(";") if c.strip()]
    for column, target in OPTIONAL_COLUMNS.items():
        value: object = row.get(column, "")
        if value == "":
            continue
        if column in BOOLEAN_FIELDS:
            if value.lower() not in BOOLEANS:
                errors.append(f"{where}: {column}: must be true or false (got {value!r})")
                continue
            value = BOOLEANS[value.lower()]
        elif column in YEN_FIELDS or column in COUNT_FIELDS:
            value = _whole_number(value)
            if value is None:
                what = "a whole number of yen" if column in YEN_FIELDS else "a whole number"
                errors.append(f"{where}: {column}: must be {what} (got {row[column]!r:.40})")
                continue
        holder = fields
        for part in target[:-1]:
            holder = holder.setdefault(part, {})
        holder[target[-1]] = value
    currency = row.get("currency") or None
    if currency is not None and (problem := currency_problem(currency.upper())):
        errors.append(f"{where}: currency: {problem} (got {currency!r})")
    try:
        Item.model_validate({"msku": row["msku"], "quantity": 1, **fields})
    except ValidationError as exc:
        errors.extend(_column_names(line) for line in validation_lines(exc, where))
    if errors:
        return None, errors
    return Product(row["msku"], line, fields, currency.upper() if currency else None), []


def _whole_number(text: str) -> int | None:
    """``"2,980"`` → 2980; ``None`` for anything else, also for what ``str.isdigit`` takes but ``int`` refuses
    (a superscript ², 4,301 digits and more)."""
    digits = text.replace(",", "")
    try:
        return int(digits) if digits.isdigit() else None
    except ValueError:
        return None


def _column_names(line: str) -> str:
    # item field paths back to the csv column a seller edits: valuation.x → x, pse.type → pse_type
    for column, target in OPTIONAL_COLUMNS.items():
        dotted = ".".join(target)
        if len(target) > 1 and f": {dotted}:" in line:
            return line.replace(f": {dotted}:", f": {column}:", 1)
    return line
