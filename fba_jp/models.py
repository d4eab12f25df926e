"""Pydantic models at the edges: the declaration (`fba-jp/shipment/v1`) and the result (`fba-jp/result/v1`).

Money in a foreign currency is ``Decimal``; yen amounts are ``int``; dates are real calendar dates.
Every model forbids unknown keys so a typo in a declaration fails instead of passing silently.
"""

import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

SHIPMENT_SCHEMA = "fba-jp/shipment/v1"
RESULT_SCHEMA = "fba-jp/result/v1"
JST = timezone(timedelta(hours=9), "JST")

CATEGORIES = ("cosmetics", "pse", "food", "tableware", "radio", "psc")
Category = Literal["cosmetics", "pse", "food", "tableware", "radio", "psc"]
Severity = Literal["block", "warn", "info"]
Verdict = Literal["blocked", "annotated", "cleared"]
# Codes that mean "this shipment could not be screened": they always block, and neither a waiver nor a
# [policy.severity] override can change that (a gate that clears what it did not check is no gate).
COULD_NOT_SCREEN = frozenset({"INPUT_INVALID", "PLUGIN_ERROR"})


def today_jst() -> date:
    """Today's date in Japan, the calendar Customs uses."""
    return datetime.now(JST).date()


def _iso_day(value: Any) -> Any:
    # JSON has no date type: accept only the YYYY-MM-DD string (TOML gives a real date),
    # never a number that pydantic would read as a Unix timestamp.
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, not a date-time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("must be a date YYYY-MM-DD")


# Magnitude bounds (README, "Declarations"). Far beyond any real shipment, and small enough that every
# figure the valuation derives (value × rate × duty %) fits SQLite's 64-bit integers with room to spare;
# checked before any int(Decimal), which takes minutes on 1e1000000.
MAX_QUANTITY = 10**7  # units on one item line
MAX_AMOUNT = 10**12  # any amount, per unit or per shipment, in a foreign currency or in yen
MAX_RATE = 10**4  # yen per unit of a foreign currency (the dearest, KWD, is about 500)
MAX_PLACES = 12  # digits after the decimal point


def _check_magnitude(value: Decimal | int, limit: int, what: str = "must be") -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if value.as_tuple().exponent < -MAX_PLACES and value.normalize().as_tuple().exponent < -MAX_PLACES:
            raise ValueError(f"must have at most {MAX_PLACES} digits after the decimal point")
    if (value.copy_abs() if isinstance(value, Decimal) else abs(value)) > limit:  # abs() would round: Overflow
        raise ValueError(f"{what} at most {limit:,} (10^{len(str(limit)) - 1})")


def _decimal(limit: int) -> BeforeValidator:
    """An amount or rate as ``Decimal``, finite and within ``limit``, checked before pydantic rounds it."""

    def parse(value: Any) -> Any:
        if type(value) is not str:  # a string ("12.50") is the usual form; the checks are for the others
            value = _decimal_amount(value)
        if isinstance(value, str):
            text = value.strip()
            try:
                value = Decimal(text)
            except InvalidOperation:
                return value  # pydantic says what is wrong with it
            # fast path, ~20 amounts a declaration: 13 characters without an exponent cannot hold more
            # than MAX_PLACES digits after the point, so only finiteness and the limit are left to check
            if len(text) <= MAX_PLACES + 1 and value.is_finite() and "e" not in text and "E" not in text \
                    and value.copy_abs() <= limit:
                return value
        _check_magnitude(value if type(value) is Decimal else Decimal(value), limit)
        return value

    return BeforeValidator(parse)


def _decimal_amount(value: Any) -> Any:
    # bool is an int in Python; "true" is never an amount.
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("must be a decimal number or a string such as \"12.50\"")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _yen(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number of yen")
    if isinstance(value, Decimal) and value.is_finite():
        _check_magnitude(value, MAX_AMOUNT)
        if value == value.to_integral_value():
            return int(value)
    if not isinstance(value, int):
        raise ValueError("must be a whole number of yen (integer, no decimals)")
    _check_magnitude(value, MAX_AMOUNT)
    return value


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("must be a positive integer")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError("must be a positive integer")
        _check_magnitude(value, MAX_QUANTITY, "must be a positive integer")
        value = int(value)
    _check_magnitude(value, MAX_QUANTITY, "must be a positive integer")
    return value


def printable_id(value: str) -> bool:
    """An id a user can read and type back: printable characters (no control, format or line-separator
    characters such as NUL, ESC, U+202E or a zero-width space) and no space around it."""
    return bool(value) and value.isprintable() and value == value.strip()


def _printable_id(value: Any) -> Any:
    if isinstance(value, str) and value.strip() and not printable_id(value.strip()):
        raise ValueError("must be printable characters only (no control, zero-width or direction characters)")
    return value


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


# An empty list or dict made fresh for each declaration or item that omits the field: pydantic deep-copies
# a mutable default (``Field([])``) for each of them instead, a dozen copies a declaration. The schema
# (``fba-jp schema``) still shows the default.
NO_ITEMS: dict[str, Any] = {"default_factory": list, "json_schema_extra": {"default": []}}
NO_KEYS: dict[str, Any] = {"default_factory": dict, "json_schema_extra": {"default": {}}}

Day = Annotated[date, BeforeValidator(_iso_day)]
Amount = Annotated[Decimal, _decimal(MAX_AMOUNT), Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[Decimal, _decimal(MAX_RATE), Field(gt=0, allow_inf_nan=False)]
Yen = Annotated[int, BeforeValidator(_yen), Field(ge=0)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=500)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


@lru_cache(maxsize=4096)  # the same HS codes come back item after item
def normalise_hs_code(value: str) -> str:
    """``3304.99``, ``330499``, ``3304.99-000`` or ``330499000`` → ``3304.99`` / ``3304.99.000``."""
    digits = re.sub(r"[.\-\s]", "", value)
    if not re.fullmatch(r"\d{6}|\d{9}", digits):
        raise ValueError("must be an HS code as NNNN.NN, NNNNNN or the 9-digit Japanese code")
    hs = f"{digits[:4]}.{digits[4:6]}"
    return f"{hs}.{digits[6:]}" if len(digits) == 9 else hs


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class Seller(Strict):
    name: NonEmpty = Field(description="the seller's legal name")
    country: CountryCode | None = Field(None, description="ISO 3166 country code of the seller")
    japan_resident: StrictBool = Field(False, description=(
        "true when the seller is a company or person resident in Japan (then no ACP is needed)"))


class Party(Strict):
    name: NonEmpty = Field(description="the party's legal name")
    address: str | None = Field(None, description="the party's address")
    country: CountryCode | None = Field(None, description="ISO 3166 country code of the party")
    is_seller: StrictBool = Field(False, description="true when this party is the seller although the names differ")


class DeliveryAddress(Strict):
    """Where the carrier delivers: Amazon's fulfilment centre. Never the importer or the consignee."""

    name: NonEmpty = Field(description="the delivery name, e.g. Amazon's fulfilment centre (c/o)")
    address: str | None = Field(None, description="the fulfilment centre's address")
    fc_code: str | None = Field(None, description="Amazon's code of the fulfilment centre (e.g. NRT5)")
    country: CountryCode | None = Field(None, description="ISO 3166 country code (JP)")


class Acp(Strict):
    """An Attorney for Customs Procedures (税関事務管理人) as written in a declaration or the registry."""

    name: NonEmpty = Field(description="the ACP's name as notified to Customs")
    status: Literal["registered", "pending", "revoked"] = Field(description=(
        "registered (accepted by Customs), pending (notified, not yet accepted) or revoked"))
    accepted_on: Day | None = Field(None, description="the day Customs accepted the ACP notification (Form C-7500)")
    notified_on: Day | None = Field(None, description="the day the ACP notification was filed")
    customs_office: str | None = Field(None, description="the customs office the ACP was notified to (e.g. Tokyo)")
    address: str | None = Field(None, description="the ACP's address in Japan")


class OriginProof(Strict):
    """A proof of origin held for an EPA preferential rate: a certificate of origin, an origin declaration or
    an origin certification document (Customs Answer 1524), covering ``skus`` (all when omitted)."""

    agreement: str = Field(description=(
        "the EPA the proof is for (RCEP, CPTPP, JP-EU, …; fba_jp/data/preferential.toml)"))
    kind: Literal["certificate_of_origin", "approved_exporter_declaration", "self_certification",
                  "statement_on_origin", "importer_knowledge"] = Field(description=(
        "what kind of proof of origin it is"))
    number: NonEmpty = Field(description="the certificate's or declaration's number")
    issued_on: Day | None = Field(None, description="the day it was issued or made")
    valid_until: Day | None = Field(None, description="the last day it may be used")
    skus: list[NonEmpty] | None = Field(None, description="the items it covers (all when omitted)")

    @field_validator("agreement")
    @classmethod
    def _known_agreement(cls, value: str) -> str:
        from .preferential import agreement_codes

        if value not in agreement_codes():
            raise ValueError(f"unknown agreement {value!r}; one of {', '.join(agreement_codes())}")
        return value


class Licence(Strict):
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] = Field(description=(
        "what the licence is: cosmetics_mah, cosmetics_manufacturing, pse_importer_notification, "
        "domestic_administrator, giteki, psc, food_import_notification, …"))
    number: NonEmpty = Field(description="the licence, notification or certificate number")
    holder: str | None = Field(None, description="who holds it (for a cosmetics MAH, the Japan-based licence holder)")
    valid_from: Day | None = Field(None, description="the first day it is in force")
    valid_until: Day | None = Field(None, description="the last day it is in force")
    skus: list[NonEmpty] | None = Field(None, description="the items it covers (all when omitted)")

    def covers(self, sku: str, on: date) -> bool:
        return (self.skus is None or sku in self.skus) and self.valid_on(on)

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on <= self.valid_until
        )


class Filing(Licence):
    """A per-shipment filing such as a food import notification; without ``skus`` it covers all."""


class PseInfo(Strict):
    type: Literal["specified", "non_specified"] | None = Field(None, description=(
        "specified (◇ diamond PSE, third-party certificate needed) or non_specified (○ round PSE)"))
    certificate: str | None = Field(None, description="the conformity certificate number of a specified product")


class AmazonFigures(Strict):
    """The seller's own Amazon.co.jp price of one unit (consumption tax included) and Amazon's referral and
    FBA fees on it, as SP-API gave them, with where and since when; or why there are none (``problem``)."""

    price_jpy: Yen | None = Field(None, description=(
        "the seller's own Amazon.co.jp price of one unit, consumption tax included"))
    price_source: Annotated[str, Field(max_length=500)] | None = Field(None, description=(
        "where the price comes from (SP-API operation and offer)"))
    price_as_of: Day | None = Field(None, description="the day the price was read")
    fees_jpy: Amount | None = Field(None, description="Amazon's referral and FBA fees on that price, in yen a unit")
    fees: dict[Annotated[str, Field(max_length=100)], Amount] = Field(default={}, max_length=50, description=(
        "the fees by kind, in yen a unit"))
    fees_source: Annotated[str, Field(max_length=500)] | None = Field(None, description=(
        "where the fees come from (SP-API operation)"))
    fees_as_of: Day | None = Field(None, description="the day the fees were read")
    problem: Annotated[str, Field(max_length=1000)] | None = Field(None, description=(
        "why there is no price or no fees, when there are none"))


class ItemValuation(Strict):
    identical_goods_unit_value_jpy: Yen | None = Field(None, description=(
        "identical or similar goods: the customs value per unit Customs accepted for them, in yen"))
    identical_goods_export_date: Day | None = Field(None, description=(
        "identical or similar goods: the day they were exported (must be within the window of this "
        "shipment's)"))
    identical_goods_origin: CountryCode | None = Field(None, description=(
        "identical or similar goods: their origin country"))
    domestic_unit_price_jpy: Yen | None = Field(None, description=(
        "deductive method: the selling price of one unit in Japan, in yen"))
    domestic_unit_deductions_jpy: Yen | None = Field(None, description=(
        "deductive method: what is deducted from that price per unit (fees, profit, costs after import), "
        "in yen"))
    production_unit_cost: Amount | None = Field(None, description=(
        "computed method: the production cost of one unit, in currency"))
    production_unit_profit_and_expenses: Amount | None = Field(None, description=(
        "computed method: profit and general expenses per unit, in currency"))
    prefer_computed: StrictBool = Field(False, description=(
        "try the computed method before the deductive one for this item (the importer may ask for it)"))
    # what set the identical goods' accepted value: Art. 4-2 takes only a transaction value
    identical_goods_method: Literal[
        "transaction_value", "identical_or_similar_goods", "deductive", "computed", "fallback"
    ] | None = Field(default=None, exclude_if=_empty, description=(
        "the method that set the identical or similar goods' accepted value; only transaction_value is a basis"))
    # the deductive value from Amazon itself (an account whose agreed method is deductive)
    amazon: AmazonFigures | None = Field(default=None, exclude_if=_empty, description=(
        "the deductive value from Amazon itself: the seller's Amazon.co.jp price and Amazon's fees "
        "(filled by the SP-API sync)"))


class SpecificDuty(Strict):
    """A specific or compound duty ("15% or ¥125/l, whichever is less, at least ¥67/l").

    ``combine`` relates it to the item's ad-valorem ``duty_rate``: ``specific_only`` (no ad-valorem part),
    ``lesser`` or ``greater`` (whichever is less / higher), ``sum`` (both).
    """

    yen_per_unit: Amount = Field(description="the specific duty in yen per unit of measure")
    unit: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,9}$")] = Field(description=(
        "the unit of measure of the specific duty: l, kg, pair, piece…"))  # "l", "kg", "pair", "piece"…
    units_per_item: Annotated[Decimal, _decimal(MAX_AMOUNT), Field(gt=0, allow_inf_nan=False)] = Field(description=(
        "how many units of measure one item holds (e.g. 0.75 for a 750 ml bottle and yen per litre)"))
    combine: Literal["specific_only", "lesser", "greater", "sum"] = Field("specific_only", description=(
        "specific_only, or how it combines with duty_rate: lesser, greater or sum"))
    minimum_yen_per_unit: Amount | None = Field(None, description=(
        "a minimum duty per unit of measure, when the tariff sets one"))


class Liquor(Strict):
    """What the liquor tax (酒税) of an alcoholic item is computed from, or the tax itself."""

    category: Literal["beer", "happoshu", "wine", "sake", "spirits", "whisky", "shochu", "liqueur", "other"] = Field(description=(
        "the liquor-tax category"))
    litres_per_item: Annotated[Decimal, _decimal(MAX_AMOUNT), Field(gt=0, allow_inf_nan=False)] = Field(description=(
        "litres in one item"))
    tax_jpy: Yen | None = Field(None, description=(
        "the liquor tax of the whole item line in yen, when you know it (overrides the computation)"))  # the liquor tax of the whole item line, when the seller knows it


class Item(Strict):
    msku: NonEmpty = Field(description="your merchant SKU; unique within the declaration")
    quantity: Annotated[int, BeforeValidator(_whole_number), Field(gt=0)] = Field(description=(
        "units shipped (a positive whole number, at most 10,000,000)"))
    asin: str | None = Field(None, description="Amazon's ASIN of the product")
    fnsku: str | None = Field(None, description="Amazon's fulfilment network SKU (the label on the unit)")
    title: str | None = Field(None, description="the product title; keywords in it suggest regulated products")
    unit_value: Amount | None = Field(None, description="the value of one unit in currency, as on the invoice")
    hs_code: str | None = Field(None, description=(
        "the HS code: NNNN.NN, NNNNNN or the 9-digit Japanese statistical code"))
    origin_country: CountryCode | None = Field(None, description="ISO 3166 country code of the origin")
    duty_rate: Annotated[Decimal, _decimal(1000), Field(ge=0, le=1000)] | None = Field(None, description=(
        "the ad-valorem duty rate in percent (omitted: the default table, else unknown, never zero)"))
    reduced_tax_rate: StrictBool | None = Field(None, description=(
        "true for the reduced consumption-tax rate (food and drink, not alcohol); omitted: decided from "
        "the food table"))
    categories: list[Category] = Field(**NO_ITEMS, description=(
        "regulated categories the item belongs to: cosmetics, pse, food, tableware, radio, psc"))
    product_type: str | None = Field(None, description=(
        "Amazon's product type (from SP-API), which suggests regulated products"))
    cosmetics_notification: str | None = Field(None, description=(
        "the cosmetics product notification (化粧品製造販売届書) number"))
    pse: PseInfo | None = Field(None, description="the PSE type and certificate of an electrical product")
    giteki: str | None = Field(None, description=(
        "the Japanese radio certification (技適) number of a device that transmits"))
    psc: str | None = Field(None, description="the PSC conformity record of a specified consumer product")
    positive_list_statement: StrictBool | None = Field(None, description=(
        "true when the supplier's positive-list statement is kept for synthetic resin in contact with "
        "food"))
    valuation: ItemValuation | None = Field(None, description=(
        "data for the valuation methods before the fallback (identical goods, deductive, computed)"))
    # fields below stay out of the stored declaration and its hash while empty
    specific_duty: SpecificDuty | None = Field(default=None, exclude_if=_empty, description=(
        "a specific or compound duty (yen per unit, alone or combined with duty_rate)"))
    alcohol_percent: Annotated[Decimal, _decimal(100), Field(ge=0, le=100)] | None = Field(
        default=None, exclude_if=_empty, description="alcohol by volume in percent; 1 or more is liquor")
    liquor: Liquor | None = Field(default=None, exclude_if=_empty, description=(
        "liquor-tax category and litres per item, or the liquor tax itself"))
    # manufacturer's minimum age in months (Amazon's manufacturer_minimum_age): infant toys, children's PSC
    min_age_months: Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=1200)] | None = Field(
        default=None, exclude_if=_empty, description="the youngest age the product is for, in months (toys)")
    # a preferential (EPA) rate, charged only with the agreement's proof of origin (fba_jp/preferential.py)
    preferential_agreement: str | None = Field(default=None, exclude_if=_empty, description=(
        "the agreement of preferential_rate: RCEP, CPTPP, JP-EU, JP-UK, JP-US, … (fba_jp/data/preferential.toml)"))
    preferential_rate: Annotated[Decimal, _decimal(1000), Field(ge=0, le=1000)] | None = Field(
        default=None, exclude_if=_empty, description="the preferential duty rate in percent, lower than the MFN rate")
    # plugins' own item data, one table per plugin, validated by the item model that plugin registered
    extensions: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$", max_length=100)], dict[str, Any]] = Field(
        **NO_KEYS, exclude_if=_empty, description=(
            "data for plugins: extensions.NAME is validated by the item model plugin NAME declares (docs/plugins.md)"))

    @field_validator("preferential_agreement")
    @classmethod
    def _known_agreement(cls, value: str | None) -> str | None:
        from .preferential import agreement_codes

        if value is not None and value not in agreement_codes():
            raise ValueError(f"unknown agreement {value!r}; one of {', '.join(agreement_codes())}")
        return value

    @field_validator("preferential_rate")
    @classmethod
    def _preferential_rate(cls, value: Decimal | None, info) -> Decimal | None:
        # duty_rate and preferential_agreement are validated before this field (declaration order)
        if value is None:
            return value
        if info.data.get("preferential_agreement") is None:
            raise ValueError("a preferential rate needs its agreement: set preferential_agreement (RCEP, CPTPP, JP-EU, …)")
        mfn = info.data.get("duty_rate")
        if mfn is not None and value > mfn:
            raise ValueError(f"{value}% is above the MFN duty_rate {mfn}%; a preferential rate is never higher")
        return value

    @field_validator("hs_code")
    @classmethod
    def _hs(cls, value: str | None) -> str | None:
        return None if value is None else normalise_hs_code(value)

    @property
    def hs_digits(self) -> str:
        """The HS code as bare digits (``""`` when not declared)."""
        return (self.hs_code or "").replace(".", "")


# --------------------------------------------------------------------------- boxes

LB_IN_KG = Decimal("0.45359237")  # exact, by definition (international pound, 1959)
IN_IN_CM = Decimal("2.54")  # exact, by definition
Measure = Annotated[Decimal, _decimal(100_000), Field(gt=0, allow_inf_nan=False)]


def _unit(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class BoxContent(Strict):
    """One msku in a box and how many units of it the box holds."""

    msku: NonEmpty = Field(description="an item's msku")
    quantity: Annotated[int, BeforeValidator(_whole_number), Field(gt=0)] = Field(description=(
        "units of that item in one box"))


class BoxWeight(Strict):
    """A box's gross weight, as weighed (Amazon's ``Weight``: ``KG`` or ``LB``; either case accepted)."""

    value: Measure = Field(description="gross weight of one box")
    unit: Annotated[Literal["KG", "LB"], BeforeValidator(_unit)] = Field(description="KG or LB")

    @property
    def kg(self) -> Decimal:
        """The weight in kilograms, exactly (1 lb = 0.45359237 kg)."""
        return self.value if self.unit == "KG" else self.value * LB_IN_KG


class BoxDimensions(Strict):
    """A box's outside dimensions (Amazon's ``Dimensions``: ``CM`` or ``IN``; either case accepted)."""

    length: Measure = Field(description="outside length of one box")
    width: Measure = Field(description="outside width of one box")
    height: Measure = Field(description="outside height of one box")
    unit: Annotated[Literal["CM", "IN"], BeforeValidator(_unit)] = Field(description="CM or IN")

    @property
    def cm3(self) -> Decimal:
        """The volume in cubic centimetres, exactly (1 in = 2.54 cm)."""
        volume = self.length * self.width * self.height
        return volume if self.unit == "CM" else volume * IN_IN_CM**3


class Box(Strict):
    """One carton of the shipment: what is in it, what it weighs and measures.

    On the SP-API path it comes from Amazon's box data (Fulfillment Inbound 2024-03-20
    ``listShipmentBoxes``, or ``listInboundPlanBoxes`` before placement); in a declaration file the
    seller writes it. The packing list and commercial invoice read it, and freight by chargeable
    weight is worked out from it.
    """

    box_id: Annotated[str, Field(min_length=1, max_length=1024, description=(
        "Amazon's boxId (FBA shipment id + box number) or packageId; any unique label in a declaration"))]
    count: Annotated[int, BeforeValidator(_whole_number), Field(gt=0, le=10_000, description=(
        "number of identical boxes described by this entry (Amazon's Box.quantity); contents, weight and "
        "dimensions are per box"))] = 1
    contents: list[BoxContent] = Field(default=[], description=(
        "units per msku in one box; empty when the contents are not known (Amazon's MANUAL_PROCESS)"))
    weight: BoxWeight | None = Field(default=None, description="gross weight of one box")
    dimensions: BoxDimensions | None = Field(default=None, description="outside dimensions of one box")

    @model_validator(mode="after")
    def _one_line_per_msku(self) -> "Box":
        seen: set[str] = set()
        for content in self.contents:
            if content.msku in seen:
                raise ValueError(f"contents: msku {content.msku!r} appears twice in box {self.box_id!r}; merge the lines")
            seen.add(content.msku)
        return self


def check_boxes(boxes: list[Box], items: list["Item"]) -> list[str]:
    """Why ``boxes`` cannot be the packing of ``items`` (empty when they can).

    Box ids are unique; every msku in a box is an item of the shipment; and when every box lists its
    contents, the units in the boxes add up to each item's quantity, so the packing list and the
    invoice never disagree.
    """
    problems: list[str] = []
    ids = [box.box_id for box in boxes]
    problems += [f"box_id {i!r} appears twice; give each box its own id" for i in sorted({i for i in ids if ids.count(i) > 1})]
    quantities = {item.msku: item.quantity for item in items}
    packed: dict[str, int] = {}
    for box in boxes:
        for content in box.contents:
            if content.msku not in quantities:
                problems.append(f"box {box.box_id!r} holds msku {content.msku!r}, which is not an item of this shipment")
            packed[content.msku] = packed.get(content.msku, 0) + content.quantity * box.count
    if boxes and all(box.contents for box in boxes):
        for msku, quantity in quantities.items():
            if packed.get(msku, 0) != quantity:
                problems.append(f"the boxes hold {packed.get(msku, 0)} units of {msku!r} but the item quantity is {quantity}")
    return problems


def _currency(value: Any) -> Any:
    from .currencies import currency_problem

    if isinstance(value, str) and (problem := currency_problem(value)):
        raise ValueError(problem)
    return value


Currency = Annotated[str, BeforeValidator(_currency), Field(pattern=r"^[A-Z]{3}$")]
Percent = Annotated[Decimal, _decimal(1000), Field(ge=0, le=1000, allow_inf_nan=False)]


class Cost(Strict):
    """A cost to the Japanese port that the item values do not include (freight, insurance or another
    addition), with how it was obtained, so that an ACP can redo the arithmetic by hand.

    The figure is ``amount`` in ``currency``; or, for insurance bought at a premium rate, ``rate_percent``
    of ``insured_value_percent`` of the goods' invoice value plus freight; or unknown (``amount`` and
    ``rate_percent`` absent), and then ``missing`` says what is needed and the estimate is incomplete.
    """

    kind: Literal["freight", "insurance", "other"] = Field(description="freight, insurance or other")
    amount: Amount | None = Field(None, description="the figure, in currency")
    currency: Currency | None = Field(None, description="ISO 4217 code of amount")
    rate_percent: Annotated[Percent, Field(le=100)] | None = Field(None, description=(
        "insurance bought at a premium rate: the rate in percent of the insured value"))
    insured_value_percent: Annotated[Percent, Field(ge=100)] | None = Field(None, description=(
        "insurance: the insured value in percent of goods plus freight (usually 110)"))
    basis: Annotated[str, Field(min_length=1, max_length=2000, description="how the figure was worked out")]
    detail: list[Annotated[str, Field(max_length=500)]] = Field(default=[], max_length=10_000, description=(
        "the working, one line per box or step"))
    source: Annotated[str, Field(max_length=2000, description="where it comes from")] | None = Field(None, description=(
        "where it comes from"))
    as_of: Day | None = Field(default=None, description="date of the rate card, quote, policy or invoice")
    missing: Annotated[str, Field(min_length=1, max_length=2000)] | None = Field(None, description=(
        "when the figure is unknown: what is needed to know it"))
    allocation: Literal["value", "weight", "quantity"] = Field(default="value", description=(
        "how it is shared among the items: declared value, box weight (from boxes) or quantity"))

    @model_validator(mode="after")
    def _one_figure(self) -> "Cost":
        given = [name for name in ("amount", "rate_percent", "missing") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of amount (with currency), rate_percent (insurance) or missing "
                             f"(the figure is unknown); got {', '.join(given) or 'none'}")
        if self.amount is not None and self.currency is None:
            raise ValueError("amount needs its currency")
        if self.rate_percent is not None and self.kind != "insurance":
            raise ValueError("rate_percent is for insurance premiums only")
        return self


class ValuationAgreement(Strict):
    """The valuation basis agreed with the ACP and Customs, once per seller when the ACP is notified:
    the method, its reference and date, the evidence kept, and how each figure is obtained.

    ``deductive``: the Japan selling price (the seller's Amazon.co.jp price) less the consumption tax in
    it, Amazon's fees, ``profit_and_expenses_percent`` of the price before tax, the domestic costs after
    import (``domestic_costs_percent`` of that price and/or ``domestic_unit_costs_jpy`` a unit) and the
    duty. ``computed``: the production cost (products.csv) plus ``profit_and_expenses_percent`` of it,
    plus freight and insurance. ``fallback``: the declared value on the stated ``basis``, plus freight.
    """

    method: Literal["deductive", "computed", "fallback"] = Field(description=(
        "the method agreed: deductive, computed or fallback"))
    reference: Annotated[str, Field(min_length=1, max_length=200, description=(
        "the ACP's or Customs' reference for the agreement (e.g. a prior-consultation number)"))]
    agreed_on: Day = Field(description="the day it was agreed")
    acp: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(None, description=(
        "the ACP it was agreed with"))
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default=[], max_length=100, description=(
        "the documents kept for the method: price reports, fee statements, cost ledgers"))
    basis: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(default=None, description=(
        "fallback: the stated basis, e.g. the purchase price from the manufacturer plus freight"))
    profit_and_expenses_percent: Annotated[Percent, Field(le=100)] | None = Field(default=None, description=(
        "deductive: of the selling price before consumption tax; computed: of the production cost"))
    domestic_costs_percent: Annotated[Percent, Field(le=100)] | None = Field(default=None, description=(
        "deductive: transport, insurance and storage in Japan after import, as % of the price before tax"))
    domestic_unit_costs_jpy: Yen | None = Field(default=None, description="deductive: the same, in yen a unit")

    @model_validator(mode="after")
    def _what_the_method_needs(self) -> "ValuationAgreement":
        if self.method == "fallback" and self.basis is None:
            raise ValueError("a fallback agreement needs its basis (e.g. \"purchase price from the manufacturer plus "
                             "freight\")")
        if self.method == "deductive" and self.profit_and_expenses_percent is None:
            raise ValueError("a deductive agreement needs profit_and_expenses_percent (of the selling price before tax)")
        return self


class Declaration(Strict):
    """One shipment as the gate screens it: a declaration file, or built from SP-API data."""

    schema_: Literal["fba-jp/shipment/v1"] = Field(SHIPMENT_SCHEMA, alias="schema", description=(
        "the format of this file: always fba-jp/shipment/v1"))
    shipment_id: Annotated[str, BeforeValidator(_printable_id), Field(min_length=1, max_length=100)] = Field(description=(
        "Amazon's shipment id (FBA15…), or your own id for a shipment not yet created; printable "
        "characters"))
    inbound_plan_id: str | None = Field(None, description=(
        "the SP-API inbound plan the shipment belongs to (wf…), when there is one"))
    declaration_date: Day = Field(default_factory=today_jst, description=(
        "the day of the import declaration in Japan (YYYY-MM-DD); decides the customs exchange rate week "
        "and which licences are in force; default today in Japan"))
    export_date: Day | None = Field(None, description=(
        "the day the goods leave the origin country; the identical-goods window is measured from it "
        "(default declaration_date)"))
    seller: Seller = Field(description="the seller: who owns the goods and has the right of disposal")
    importer_of_record: Party | None = Field(None, description=(
        "the Importer of Record written on the invoice; must be the seller for FBA stock (omitted: "
        "IOR_MISSING)"))
    consignee: Party | None = Field(None, description=(
        "the invoice consignee; must be the Importer of Record, never Amazon"))
    delivery_address: DeliveryAddress | None = Field(default=None, exclude_if=_empty, description=(
        "Amazon's fulfilment centre the carrier delivers to; printed on the invoice only as the delivery address"))
    acp: Acp | None = Field(None, description=(
        "the Attorney for Customs Procedures (税関事務管理人) of a seller not resident in Japan, written out"))
    acp_id: str | None = Field(None, description=(
        "instead of acp: the id of a record in the ACP registry (fba-jp acp add)"))
    import_transaction: StrictBool = Field(False, description=(
        "true when a buyer in Japan buys the goods at import (then the invoice price is a transaction "
        "value); false for stock sent to your own FBA inventory"))
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field(description=(
        "ISO 4217 code of the item values and of freight, insurance and other_additions"))
    freight: Amount = Field(Decimal(0), description=(
        "freight to the Japanese port not included in the item values, in currency"))
    insurance: Amount = Field(Decimal(0), description=(
        "insurance to the Japanese port not included in the item values, in currency; only when actually "
        "paid"))
    other_additions: Amount = Field(Decimal(0), description=(
        "other costs to the port not included in the item values (packing, commissions), in currency"))
    fx_rates: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Rate] = Field(**NO_KEYS, description=(
        "customs exchange rates for this shipment (yen per unit of the currency); override the stored "
        "weekly rate"))
    licences: list[Licence] = Field(**NO_ITEMS, description=(
        "licences held for this shipment's goods (cosmetics_mah, pse_importer_notification, giteki, …); "
        "the account's are added"))
    filings: list[Filing] = Field(**NO_ITEMS, description=(
        "per-shipment filings such as a food import notification; without skus a filing covers every item"))
    items: Annotated[list[Item], Field(min_length=1)] = Field(description=(
        "the items (one line per msku), at least one"))
    # Fields added after v1 shipped are left out of dumps while empty, so the input hash of a declaration
    # that does not use them (and with it every stored waiver) is what it was.
    boxes: list[Box] = Field(**NO_ITEMS, exclude_if=_empty, description="the cartons and their contents (packing list)")
    valuation_agreement: ValuationAgreement | None = Field(default=None, exclude_if=_empty, description=(
        "the valuation basis agreed with the ACP and Customs ([accounts.valuation] on the SP-API path)"))
    origin_proofs: list[OriginProof] = Field(**NO_ITEMS, exclude_if=_empty, max_length=1000, description=(
        "proofs of origin held for EPA preferential rates"))
    costs: list[Cost] = Field(**NO_ITEMS, exclude_if=_empty, description=(
        "freight, insurance and other costs to the Japanese port, each with its basis, source and date "
        "(in addition to freight, insurance and other_additions)"))

    @model_validator(mode="after")
    def _unique_skus(self) -> "Declaration":
        seen: set[str] = set()
        for item in self.items:
            if item.msku in seen:
                raise ValueError(f"items: msku {item.msku!r} appears twice; merge the lines")
            seen.add(item.msku)
        if self.acp is not None and self.acp_id is not None:
            raise ValueError("give either acp or acp_id, not both")
        self._bounded_totals()
        return self

    def _bounded_totals(self) -> None:
        """Each value basis summed over the shipment stays within :data:`MAX_AMOUNT` (so do its products)."""
        foreign = self.freight + self.insurance + self.other_additions
        yen = 0
        for item in self.items:
            basis = item.valuation
            if basis is None:  # most items: no other basis (and no ItemValuation() made for each)
                foreign += item.quantity * (item.unit_value or 0)
                continue
            computed = (basis.production_unit_cost or 0) + (basis.production_unit_profit_and_expenses or 0)
            foreign += item.quantity * max(item.unit_value or 0, computed)
            yen += item.quantity * max(basis.identical_goods_unit_value_jpy or 0, basis.domestic_unit_price_jpy or 0)
        if foreign > MAX_AMOUNT:
            raise ValueError(f"the shipment's value (quantities × unit values + freight, insurance and other additions)"
                             f" is {foreign:.3E} {self.currency}; it must be at most {MAX_AMOUNT:,} (10^12)")
        if yen > MAX_AMOUNT:
            raise ValueError(f"the shipment's value in yen (quantities × yen unit values) is {yen:.3E};"
                             f" it must be at most {MAX_AMOUNT:,} (10^12)")

    @field_validator("boxes")
    @classmethod
    def _boxes_pack_the_items(cls, boxes: list[Box], info) -> list[Box]:
        items = info.data.get("items")  # absent when the items themselves are invalid
        problems = check_boxes(boxes, items) if items else []
        if problems:
            raise ValueError("; ".join(problems))
        return boxes

    def canonical_json(self) -> str:
        """The declaration as its input hash is taken: JSON with sorted keys and no spaces. Stored once per
        distinct declaration (``declarations`` table), so sha256 of the stored text is the screening's hash."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)

    @property
    def ship_date(self) -> date:
        """The date the identical-goods window is measured from (CONTRACT §2)."""
        return self.export_date or self.declaration_date


# --------------------------------------------------------------------------- results


class Finding(BaseModel):
    """One thing a check has to say about a shipment. Checks create these; the runner fills ``plugin``."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    severity: Severity
    message: str
    remedy: str = ""
    reference: str = ""
    sku: str | None = None
    evidence: str | None = None
    plugin: str | None = None
    waived: bool = False
    waiver: dict[str, Any] | None = None


class ScreeningError(BaseModel):
    """A check that could not run. Always blocks the shipment (fail closed)."""

    plugin: str
    check: str | None = None
    message: str


class ValuationLine(BaseModel):
    model_config = ConfigDict(extra="allow")

    hs_code: str | None
    skus: list[str]
    customs_value_jpy: int
    duty_rate: Decimal | None
    duty_jpy: int | None
    consumption_tax_rate: Decimal
    consumption_tax_base_jpy: int | None
    national_consumption_tax_jpy: int | None
    local_consumption_tax_jpy: int | None


class Valuation(BaseModel):
    """The customs valuation and tax estimate of one shipment (CONTRACT §3 ``valuation``).

    Extra keys (the worksheet: per-item methods and reasons, rounding steps, documents to keep)
    are allowed and kept in every output.
    """

    model_config = ConfigDict(extra="allow")

    currency: str
    exchange_rate: Decimal | None
    rate_week_start: date | None
    methods: dict[str, str]
    lines: list[ValuationLine]
    customs_value_jpy: int
    duty_jpy: int | None
    national_consumption_tax_jpy: int | None
    local_consumption_tax_jpy: int | None
    total_tax_jpy: int | None
    small_value_exemption: bool
    complete: bool
    findings: list[Finding] = Field(default_factory=list, exclude=True)


class ShipmentResult(BaseModel):
    shipment_id: str
    inbound_plan_id: str | None = None
    source: str
    account: str | None = None
    verdict: Verdict
    input_sha256: str
    findings: list[Finding]
    errors: list[ScreeningError]
    valuation: Valuation | None
    screening_id: int | None = None
    screened_at: str | None = None
    # the [rules] config overrides of the shipped tables that changed this screening (docs/rules.md)
    rule_overrides: list[dict[str, Any]] = Field(default=[], exclude_if=_empty)


class InputProblem(BaseModel):
    """An input that could not be screened at all: a file that cannot be read or validated, an account
    that could not be synced. It has no shipment result, so it is reported beside the results."""

    source: str
    field: str | None = None
    message: str

    @property
    def line(self) -> str:
        """The one-line form printed on stderr: ``SOURCE: field.path: message``."""
        return f"{self.source}: {self.field}: {self.message}" if self.field else f"{self.source}: {self.message}"


class Summary(BaseModel):
    shipments: int = 0
    blocked: int = 0
    annotated: int = 0
    cleared: int = 0
    waived: int = 0
    # every error: checks that failed (in results) plus inputs that could not be screened (input_errors)
    errors: int = 0
    input_errors: int = 0

    @classmethod
    def of(cls, results: list[ShipmentResult], problems: list[InputProblem] = ()) -> "Summary":
        summary = cls(input_errors=len(problems), errors=len(problems))
        for result in results:
            summary.add(result)
        return summary

    def add(self, result: ShipmentResult) -> None:
        """Count one more result (what a streamed report does, result by result)."""
        self.shipments += 1
        setattr(self, result.verdict, getattr(self, result.verdict) + 1)
        self.waived += sum(f.waived for f in result.findings)
        self.errors += len(result.errors)


class VerdictChange(BaseModel):
    """A shipment whose verdict is new or changed: what ``on_verdict_change`` actions receive."""

    event_id: str
    shipment_id: str
    inbound_plan_id: str | None = None
    account: str | None = None
    previous_verdict: Verdict | None
    verdict: Verdict
    blocking_codes: list[str]
    warning_codes: list[str]
    screened_at: str | None = None
    result: ShipmentResult


class ResultDocument(BaseModel):
    schema_: Literal["fba-jp/result/v1"] = Field(RESULT_SCHEMA, alias="schema")
    results: list[ShipmentResult]
    errors: list[InputProblem] = []
    summary: Summary

    model_config = ConfigDict(populate_by_name=True)
