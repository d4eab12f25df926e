"""The seller's own Amazon.co.jp prices and Amazon's fees, from SP-API, cached per day in SQLite.

For an account whose agreed valuation is ``deductive``, each sync asks Amazon once a day (Japan time)
for the SKUs of its open shipments: Product Pricing v0 ``getPricing`` (the seller's own offers, 20 SKUs a
call) and Product Fees v0 ``getMyFeesEstimates`` (FBA fees at that price, 20 a call). A resync within
the same day makes no pricing or fee call. Every answer is kept per day (``amazon_prices``,
``amazon_fees``) as the evidence behind the figures a declaration uses.

Each entry of Amazon's answer is checked on its own: one off the model (an amount that is not a
number, an offer list that is not a list) is kept with what is wrong, and only the shipments holding
that SKU are affected (their agreed method cannot be applied, and the screening says why). Messages
name the field, never its value.

The price is the offer's ``RegularPrice``: the current price without promotions, consumption tax
included (Amazon.co.jp shows prices with tax), of the seller's new FBA offer for the SKU.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from .errors import SpApiError
from .models import JST
from .spapi import PRICING_BATCH, SpApi
from .store import Store, to_json, utcnow

PRICE_SOURCE = "SP-API Product Pricing v0 getPricing (the seller's own offer, ItemType=Sku): RegularPrice"
FEES_SOURCE = "SP-API Product Fees v0 getMyFeesEstimates (fulfilled by Amazon, at that price): TotalFeesEstimate"


def today_in_japan() -> date:
    return datetime.now(JST).date()


# --------------------------------------------------------------------------- reading Amazon's answers


def _number(value: Any) -> bool:
    # JSON parsers accept NaN and Infinity, which are no amount (and would not compare)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _kind(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    return {str: "a string", dict: "an object", list: "a list", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__)


def price_of(entry: Any, msku: str) -> tuple[int | None, str | None, dict]:
    """(price in yen, problem, evidence) of one ``Price`` entry of getPricing for ``msku``."""
    if not isinstance(entry, dict):
        return None, f"Amazon's price entry is off the SP-API model (not an object: {_kind(entry)})", {}
    status = entry.get("status")
    if status != "Success":
        return None, f"Amazon has no offer for this SKU (getPricing status {str(status)[:40]})", {"status": status}
    product = entry.get("Product")
    offers = product.get("Offers") if isinstance(product, dict) else None
    if (product is not None and not isinstance(product, dict)) or (offers is not None and not isinstance(offers, list)):
        return None, "Amazon's price entry is off the SP-API model (Product.Offers is not a list)", {}
    if any(not isinstance(o, dict) for o in offers or []):
        return None, "Amazon's price entry is off the SP-API model (an offer is not an object)", {}
    offers = [o for o in offers or [] if o.get("SellerSKU") == msku] or list(offers or [])
    if not offers:
        return None, "Amazon.co.jp has no offer of the seller for this SKU yet (a new listing?)", {"status": status}
    offer = min(offers, key=lambda o: (o.get("ItemCondition") != "New", o.get("FulfillmentChannel") != "Amazon"))
    regular = offer.get("RegularPrice")
    amount = regular.get("Amount") if isinstance(regular, dict) else None
    if not isinstance(regular, dict) or not _number(amount):
        what = "RegularPrice is missing" if regular is None else f"RegularPrice.Amount is {_kind(amount)}, not a number"
        return None, f"Amazon's price entry is off the SP-API model ({what})", {}
    if regular.get("CurrencyCode") != "JPY":
        return None, f"Amazon's price is not in yen (CurrencyCode {str(regular.get('CurrencyCode'))[:10]})", {}
    price = Decimal(str(amount))
    if price <= 0 or price != price.to_integral_value():
        return None, "Amazon's price is not a positive whole number of yen", {}
    evidence = {"fulfillment_channel": offer.get("FulfillmentChannel"), "condition": offer.get("ItemCondition")}
    buying = offer.get("BuyingPrice")
    listing = buying.get("ListingPrice") if isinstance(buying, dict) else None
    if isinstance(listing, dict) and _number(listing.get("Amount")):
        evidence["buying_price_jpy"] = str(listing["Amount"])  # with promotions: evidence only
    return int(price), None, evidence


def fee_request(msku: str, price_jpy: int, marketplace_id: str) -> dict:
    """One ``FeesEstimateByIdRequest`` (productFeesV0.json) for an FBA unit sold at ``price_jpy``."""
    return {
        "IdType": "SellerSKU",
        "IdValue": msku,
        "FeesEstimateRequest": {
            "MarketplaceId": marketplace_id,
            "IsAmazonFulfilled": True,
            "Identifier": msku,
            "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": "JPY", "Amount": price_jpy}},
        },
    }


def fees_of(result: Any) -> tuple[Decimal | None, dict[str, str], str | None]:
    """(total fees in yen, fee type → final fee, problem) of one ``FeesEstimateResult``."""
    if not isinstance(result, dict):
        return None, {}, f"Amazon's fee estimate is off the SP-API model (not an object: {_kind(result)})"
    if result.get("Status") != "Success":
        error = result.get("Error") if isinstance(result.get("Error"), dict) else {}
        code = str(error.get("Code") or result.get("Status"))[:40]
        return None, {}, f"Amazon could not estimate the fees for this SKU ({code})"
    estimate = result.get("FeesEstimate")
    total = estimate.get("TotalFeesEstimate") if isinstance(estimate, dict) else None
    amount = total.get("Amount") if isinstance(total, dict) else None
    if not _number(amount):
        return None, {}, "Amazon's fee estimate is off the SP-API model (FeesEstimate.TotalFeesEstimate.Amount " \
                         f"is {_kind(amount)}, not a number)"
    if total.get("CurrencyCode") != "JPY":
        return None, {}, "Amazon's fee estimate is not in yen"
    detail = {}
    details = estimate.get("FeeDetailList")
    for fee in details if isinstance(details, list) else []:  # the breakdown is evidence only
        final = fee.get("FinalFee") if isinstance(fee, dict) else None
        if isinstance(final, dict) and _number(final.get("Amount")) and isinstance(fee.get("FeeType"), str):
            detail[fee["FeeType"][:60]] = str(final["Amount"])
    total_yen = Decimal(str(amount))
    if total_yen < 0:
        return None, {}, "Amazon's fee estimate is negative"
    return total_yen, detail, None


def _result_sku(result: Any, asked: list[str], position: int) -> str | None:
    if isinstance(result, dict):
        identifier = result.get("FeesEstimateIdentifier")
        if isinstance(identifier, dict):
            for key in ("IdValue", "SellerInputIdentifier"):
                if identifier.get(key) in asked:
                    return identifier[key]
    return asked[position] if position < len(asked) else None


# --------------------------------------------------------------------------- the daily cache


def refresh_amazon_figures(store: Store, account: str, api: SpApi, mskus: Iterable[str], day: date | None = None) -> int:
    """Fetch today's prices and fees for ``mskus`` not yet asked today; returns the calls made.

    Each batch is stored at once, so a failure keeps what was fetched; :class:`~fba_jp.errors.SpApiError`
    (no access, retries exhausted) propagates for the caller to record.
    """
    day = (day or today_in_japan()).isoformat()
    mskus = set(mskus)  # read twice below: once for prices, once for fees
    marketplace = api.marketplace.marketplace_id
    calls = 0
    asked = {r[0] for r in store.db.execute(
        "select msku from amazon_prices where account = ? and day = ?", [account, day])}
    wanted = sorted(mskus - asked)
    for start in range(0, len(wanted), PRICING_BATCH):
        batch = wanted[start:start + PRICING_BATCH]
        payload = api.get_pricing(batch)
        calls += 1
        entries = _by_sku(payload, batch)
        with store.write():
            for msku in batch:
                entry = entries.get(msku, _MISSING)
                if entry is _OFF_MODEL:
                    price, problem, evidence = None, "Amazon's price answer is off the SP-API model (payload is not a " \
                                                     "list of Price entries)", {}
                elif entry is _MISSING:
                    price, problem, evidence = None, "Amazon's price answer has no entry for this SKU", {}
                else:
                    price, problem, evidence = price_of(entry, msku)
                _store_price(store, account, marketplace, msku, day, price, problem, evidence,
                             entry if isinstance(entry, dict) else None)
    priced = {r[0]: r[1] for r in store.db.execute(
        "select p.msku, p.price_jpy from amazon_prices p where p.account = ? and p.day = ? and p.price_jpy is not null "
        "and not exists (select 1 from amazon_fees f where f.account = p.account and f.msku = p.msku and f.day = p.day "
        "and f.price_jpy = p.price_jpy)", [account, day])}
    need = sorted(m for m in priced if m in mskus)
    for start in range(0, len(need), PRICING_BATCH):
        batch = need[start:start + PRICING_BATCH]
        payload = api.get_my_fees_estimates([fee_request(m, priced[m], marketplace) for m in batch])
        calls += 1
        results = {}
        if isinstance(payload, list):
            for position, result in enumerate(payload):
                sku = _result_sku(result, batch, position)
                if sku is not None:
                    results.setdefault(sku, result)
        with store.write():
            for msku in batch:
                if not isinstance(payload, list):
                    total, detail, problem = None, {}, "Amazon's fee answer is off the SP-API model (not a list)"
                elif msku not in results:
                    total, detail, problem = None, {}, "Amazon's fee answer has no estimate for this SKU"
                else:
                    total, detail, problem = fees_of(results[msku])
                _store_fees(store, account, msku, day, priced[msku], total, detail, problem, results.get(msku))
    return calls


_MISSING, _OFF_MODEL = object(), object()


def _by_sku(payload: Any, batch: list[str]) -> dict:
    if not isinstance(payload, list):
        return dict.fromkeys(batch, _OFF_MODEL)
    entries: dict = {}
    for position, entry in enumerate(payload):
        sku = entry.get("SellerSKU") if isinstance(entry, dict) else None
        if sku not in batch:  # an entry without its SKU: by position, as Amazon answers in order
            sku = batch[position] if position < len(batch) else None
        if sku is not None:
            entries.setdefault(sku, entry)
    return entries


def _since(store: Store, table: str, account: str, msku: str, day: str, same: dict) -> str:
    """The first day of the unbroken run of earlier days with the same figures (``day`` when they changed)."""
    rows = store.db.execute(
        f"select * from [{table}] where account = ? and msku = ? and day < ? order by day desc limit 1",
        [account, msku, day]).fetchall()
    if not rows:
        return day
    columns = [c[0] for c in store.db.execute(f"select * from [{table}] limit 0").description]
    previous = dict(zip(columns, rows[0]))
    return previous["since"] if all(previous[k] == v for k, v in same.items()) else day


def _store_price(store, account, marketplace, msku, day, price, problem, evidence, entry) -> None:
    store.db["amazon_prices"].upsert({
        "account": account, "marketplace_id": marketplace, "msku": msku, "day": day, "price_jpy": price,
        "since": _since(store, "amazon_prices", account, msku, day, {"price_jpy": price, "problem": problem}),
        "problem": problem, "evidence": to_json(evidence) if evidence else None,
        "payload": to_json(entry) if entry is not None else None, "fetched_at": utcnow(),
    }, pk=("account", "msku", "day"))


def _store_fees(store, account, msku, day, price, total, detail, problem, result) -> None:
    fees = None if total is None else str(total)
    store.db["amazon_fees"].upsert({
        "account": account, "msku": msku, "day": day, "price_jpy": price, "fees_jpy": fees,
        "since": _since(store, "amazon_fees", account, msku, day,
                        {"price_jpy": price, "fees_jpy": fees, "problem": problem}),
        "detail": to_json(detail) if detail else None, "problem": problem,
        "payload": to_json(result) if result is not None else None, "fetched_at": utcnow(),
    }, pk=("account", "msku", "day"))


def amazon_figures(store: Store, account: str) -> dict[str, dict]:
    """Per msku the latest figures fetched (``AmazonFigures`` dicts), for the account's declarations.

    ``price_as_of`` / ``fees_as_of`` are the day since which Amazon has given these same figures, so a
    daily refresh that finds nothing new leaves the declarations (and their input hash) unchanged.
    """
    figures: dict[str, dict] = {}
    prices = store.db.execute(
        "select msku, price_jpy, since, problem from amazon_prices p where account = ? and day = "
        "(select max(day) from amazon_prices q where q.account = p.account and q.msku = p.msku)", [account]).fetchall()
    for msku, price, since, problem in prices:
        entry: dict = {"price_source": PRICE_SOURCE}
        if price is None:
            entry["problem"] = f"{problem} (asked on {since})"
            figures[msku] = entry
            continue
        entry.update(price_jpy=price, price_as_of=since)
        fees = store.db.execute(
            "select fees_jpy, detail, since, problem from amazon_fees where account = ? and msku = ? and price_jpy = ? "
            "order by day desc limit 1", [account, msku, price]).fetchone()
        if fees is None:
            entry["problem"] = "Amazon's fees at this price have not been fetched yet (the next sync asks for them)"
        elif fees[0] is None:
            entry["problem"] = f"{fees[3]} (asked on {fees[2]})"
        else:
            entry.update(fees_jpy=fees[0], fees=json.loads(fees[1]) if fees[1] else {}, fees_as_of=fees[2],
                         fees_source=FEES_SOURCE)
        figures[msku] = entry
    return figures


def refresh_for_account(store: Store, account, api: SpApi, mskus: Iterable[str]) -> tuple[int, str | None]:
    """:func:`refresh_amazon_figures` for a deductive account; (calls, error) — an error does not stop the sync."""
    try:
        return refresh_amazon_figures(store, account.name, api, mskus), None
    except SpApiError as exc:
        return 0, f"Amazon prices and fees not refreshed: {exc}"
