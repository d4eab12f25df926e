"""A loopback SP-API sandbox: the Fulfillment Inbound 2024-03-20 (plans, shipments, items, boxes) and
Catalog Items 2022-04-01 endpoints fba-jp uses, plus a Login-with-Amazon token endpoint, served from bundled JP sample data.

It exists so the whole daemon path (real python-amazon-sp-api client, rate limiting, retries,
storage, screening) runs without Amazon credentials or network: ``fba-jp demo`` and the
integration tests use it. It listens on 127.0.0.1 only.

Behaviour follows Amazon where fba-jp depends on it: responses have no ``payload`` wrapper,
pagination is ``paginationToken`` → ``pagination.nextToken`` (a token only works with the filters
it was issued for), ``listInboundPlans`` without ``status`` returns ACTIVE plans, error bodies are
``{"errors": [...]}``, ``updateShipmentName`` answers 204. :class:`Faults` switches on what Amazon
does on a bad day: per-operation rate limits (429 with or without an ``errors`` body), random
throttling storms, 5xx bursts with HTML bodies, latency, and plans that always answer 400.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

from ..spapi import (
    RATE_LIMITS,  # the documented usage plans: the sandbox enforces what the client expects
)

INBOUND = "/inbound/fba/2024-03-20"
CATALOG = "/catalog/2022-04-01"
PRICING = "/products/pricing/v0/price"
FEES = "/products/fees/v0/feesEstimate"
TOKEN_PATH = "/auth/o2/token"
PLAN_STATUSES = ("ACTIVE", "VOIDED", "SHIPPED")
HTML_503 = b"<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>"


def load_sample() -> dict:
    """The bundled sample data (``data/sellers.json``), its plans' update times kept recent."""
    data = json.loads(resources.files("fba_jp.sandbox").joinpath("data/sellers.json").read_text(encoding="utf-8"))
    return keep_recent(data)


def keep_recent(data: dict, max_age: timedelta = timedelta(days=30)) -> dict:
    """Shift every plan's ``createdAt``/``lastUpdatedAt`` forward when the newest is older than ``max_age``.

    The sample was written in November 2026, and a first sync only looks back a limited number of days
    (``--lookback-days``): without this the demo and the tests would find nothing a few months later.
    Order and spacing are kept; ship dates (and so declaration dates and customs rates) are not touched.
    """
    plans = [entry["plan"] for seller in data["sellers"].values() for entry in seller["plans"]]
    if not plans:
        return data
    newest = max(_time(plan["lastUpdatedAt"]) for plan in plans)
    age = datetime.now(timezone.utc) - newest
    if age <= max_age:
        return data
    shift = age - timedelta(days=1)
    for plan in plans:
        for key in ("createdAt", "lastUpdatedAt"):
            if key in plan:
                moved = _time(plan[key]) + shift
                plan[key] = moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return data


@dataclass
class Faults:
    """What can go wrong. Everything is off by default; probabilities are per API request."""

    rate_limit: bool = False  # enforce the documented per-operation rate/burst → 429
    rate_scale: float = 1.0  # multiply the documented rates (tests use a faster server)
    throttle_probability: float = 0.0  # a throttling storm: random 429s on top of the limits
    empty_429_ratio: float = 0.0  # share of 429s sent with an empty body instead of an errors body
    error_probability: float = 0.0  # random 5xx: half 503 with an HTML body, half 500 with errors JSON
    fail_next: int = 0  # the next N API requests get a 503 with an HTML body
    latency: float = 0.0  # seconds added to every response
    bad_plans: set[str] = field(default_factory=set)  # plan ids that always answer 400 (like AWD plans)
    bad_prices: set[str] = field(default_factory=set)  # SKUs whose getPricing entry is off the model
    bad_fees: set[str] = field(default_factory=set)  # SKUs whose fee estimate is off the model


class _Bucket:
    def __init__(self, rate: float, burst: int):
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Sandbox:
    """The sandbox state and server. ``with Sandbox() as sandbox:`` serves on ``sandbox.url``."""

    def __init__(self, data: dict | None = None, faults: Faults | None = None, seed: int | None = None):
        self.data = copy.deepcopy(data if data is not None else load_sample())
        self.marketplace_id = self.data.get("marketplaceId", "A1VC38T7YXB528")
        self.faults = faults or Faults()
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()  # by operation, every request that reached a handler
        self.bodies: dict[str, list] = {}  # by operation, the request bodies received (tests check them)
        self.responses: Counter[int] = Counter()  # by HTTP status
        self.refresh_tokens: dict[str, str] = {}  # refresh token → seller
        self.access_tokens: dict[str, str] = {}  # access token → seller
        self.buckets: dict[tuple[str, str], _Bucket] = {}
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ----- lifecycle

    def start(self, port: int = 0) -> "Sandbox":
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.sandbox = self  # type: ignore[attr-defined]
        # a short poll interval: stop() waits for it, and tests start and stop many sandboxes
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="fba-jp-sandbox", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> "Sandbox":
        return self.start() if self.server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    # ----- sellers, credentials and data changes (for the demo and tests)

    def sellers(self) -> list[str]:
        return list(self.data["sellers"])

    def issue_refresh_token(self, seller: str) -> str:
        """A fresh refresh token that the token endpoint maps to ``seller``."""
        if seller not in self.data["sellers"]:
            raise KeyError(f"no seller {seller!r} in the sandbox data")
        token = "Atzr|sandbox-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[token] = seller
        return token

    def plans(self, seller: str) -> list[dict]:
        return self.data["sellers"][seller]["plans"]

    def find_plan(self, plan_id: str) -> tuple[str, dict] | None:
        for seller, info in self.data["sellers"].items():
            for entry in info["plans"]:
                if entry["plan"]["inboundPlanId"] == plan_id:
                    return seller, entry
        return None

    def touch_plan(self, plan_id: str) -> str:
        """Mark a plan changed now (its ``lastUpdatedAt`` moves past every other); returns the new time."""
        with self.lock:
            _, entry = self.find_plan(plan_id)
            entry["plan"]["lastUpdatedAt"] = self._now_after(entry["plan"]["lastUpdatedAt"])
            return entry["plan"]["lastUpdatedAt"]

    def update_shipment(self, plan_id: str, shipment_id: str, **fields) -> None:
        """Change a shipment's fields (e.g. ``shipmentConfirmationId``) and touch its plan."""
        with self.lock:
            _, entry = self.find_plan(plan_id)
            for s in entry["shipments"]:
                if s["shipment"]["shipmentId"] == shipment_id:
                    s["shipment"].update(fields)
            self.touch_plan(plan_id)

    def expected_sync(self, seller: str) -> tuple[set[str], set[str], Counter]:
        """What a complete sync of ``seller`` must store: plan ids, SP-API shipment ids, and item-line
        quantities keyed by (FBA shipment id, msku). For tests and benchmarks that count losses."""
        from ..sync import DONE_STATUSES  # what sync deliberately leaves out

        plans, shipments, lines = set(), set(), Counter()
        for entry in self.plans(seller):
            if entry["plan"]["status"] == "VOIDED":
                continue
            plans.add(entry["plan"]["inboundPlanId"])
            for s in entry["shipments"]:
                if s["shipment"]["status"] in DONE_STATUSES:
                    continue
                shipments.add(s["shipment"]["shipmentId"])
                key = s["shipment"].get("shipmentConfirmationId") or s["shipment"]["shipmentId"]
                for item in s["items"]:
                    lines[(key, item["msku"])] += item["quantity"]
        return plans, shipments, lines

    def add_synthetic_plans(self, seller: str, count: int, start: datetime | None = None) -> list[str]:
        """Add ``count`` plans, one shipment each, copying the seller's first shipment's items.

        For pagination and storm tests; each plan is one minute newer than the previous.
        """
        with self.lock:
            info = self.data["sellers"].setdefault(seller, {"name": seller, "plans": []})
            template = copy.deepcopy(info["plans"][0])
            start = start or datetime(2026, 10, 1, tzinfo=timezone.utc)
            ids = []
            for n in range(count):
                entry = copy.deepcopy(template)
                key = f"{seller}-{len(info['plans'])}-{n}"
                plan_id = "wf" + str(uuid.uuid5(uuid.NAMESPACE_URL, key))
                stamp = (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
                entry["plan"].update(inboundPlanId=plan_id, name=f"synthetic plan {n + 1}", createdAt=stamp, lastUpdatedAt=stamp)
                for s in entry["shipments"]:
                    s["shipment"]["shipmentId"] = "sh" + str(uuid.uuid5(uuid.NAMESPACE_URL, key + "/s"))
                    confirmation = "FBA15" + hashlib.sha1(key.encode()).hexdigest()[:7].upper()
                    s["shipment"]["shipmentConfirmationId"] = confirmation
                    for number, box in enumerate(s.get("boxes", []), start=1):
                        box["boxId"] = f"{confirmation}U{number:06d}"
                        box["packageId"] = "pk" + str(uuid.uuid5(uuid.NAMESPACE_URL, key + box["boxId"]))
                info["plans"].append(entry)
                ids.append(plan_id)
            return ids

    @staticmethod
    def _now_after(previous: str) -> str:
        earlier = datetime.fromisoformat(previous.replace("Z", "+00:00"))
        now = max(datetime.now(timezone.utc), earlier + timedelta(milliseconds=1))
        return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # ----- request handling (called from server threads)

    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple[int, dict, bytes]:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if method == "POST" and path == TOKEN_PATH:
            return self._token(body)
        route = self._route(method, path)
        if route is None:
            return _error(404, "NotFound", f"No such resource: {method} {path}")
        operation, args = route
        with self.lock:
            self.calls[operation] += 1
            seller = self.access_tokens.get(headers.get("x-amz-access-token", ""))
            fault = self._fault(seller, operation)
        if fault is not None:
            return fault
        if seller is None:
            return _error(403, "Unauthorized", "Access to requested resource is denied.")
        handler = getattr(self, "_" + operation)
        with self.lock:
            return handler(seller, query, body, *args)

    def _route(self, method: str, path: str) -> tuple[str, tuple] | None:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if path.startswith(CATALOG + "/items/") and len(parts) == 4 and method == "GET":
            return "getCatalogItem", (parts[3],)
        if (path, method) == (PRICING, "GET"):
            return "getPricing", ()
        if (path, method) == (FEES, "POST"):
            return "getMyFeesEstimates", ()
        if not path.startswith(INBOUND + "/inboundPlans"):
            return None
        rest = parts[4:]
        table = {
            (0, "GET"): "listInboundPlans",
            (1, "GET"): "getInboundPlan",
            (2, "GET"): {"items": "listInboundPlanItems", "boxes": "listInboundPlanBoxes"}.get("".join(rest[1:2])),
            (3, "GET"): "getShipment" if rest[1:2] == ["shipments"] else None,
            (4, "GET"): ({"items": "listShipmentItems", "boxes": "listShipmentBoxes"}.get("".join(rest[3:4]))
                         if rest[1:2] == ["shipments"] else None),
            (4, "PUT"): "updateShipmentName" if rest[1:2] == ["shipments"] and rest[3:] == ["name"] else None,
        }
        operation = table.get((len(rest), method))
        if operation is None:
            return None
        ids = tuple(p for i, p in enumerate(rest) if i in (0, 2))
        return operation, ids

    def _fault(self, seller: str | None, operation: str) -> tuple[int, dict, bytes] | None:
        f = self.faults
        if f.fail_next > 0:
            f.fail_next -= 1
            return 503, {"content-type": "text/html"}, HTML_503
        throttled = f.throttle_probability and self.rng.random() < f.throttle_probability
        if not throttled and f.rate_limit and seller is not None:
            rate, burst = RATE_LIMITS[operation]
            bucket = self.buckets.setdefault((seller, operation), _Bucket(rate * f.rate_scale, burst))
            throttled = not bucket.take()
        if throttled:
            if self.rng.random() < f.empty_429_ratio:
                return 429, {}, b""
            return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        if f.error_probability and self.rng.random() < f.error_probability:
            if self.rng.random() < 0.5:
                return 503, {"content-type": "text/html"}, HTML_503
            return _error(500, "InternalFailure", "We encountered an internal error. Please try again.")
        return None

    def _token(self, body: bytes) -> tuple[int, dict, bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not form.get("client_id") or not form.get("client_secret"):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("grant_type") != "refresh_token":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"})
        with self.lock:
            seller = self.refresh_tokens.get(form.get("refresh_token", ""))
            if seller is None:
                return _json(400, {"error": "invalid_grant",
                                   "error_description": "The request has an invalid grant parameter : refresh_token"})
            access = "Atza|sandbox-" + secrets.token_urlsafe(24)
            self.access_tokens[access] = seller
        return _json(200, {"access_token": access, "token_type": "bearer", "expires_in": 3600})

    # ----- operations

    def _seller_plan(self, seller: str, plan_id: str):
        found = self.find_plan(plan_id)
        if found is None or found[0] != seller:
            return None, _error(404, "NotFound", f"Inbound plan {plan_id} was not found.")
        return found[1], None

    def _listInboundPlans(self, seller, query, body):
        status = query.get("status", "ACTIVE")
        sort_by = query.get("sortBy", "CREATION_TIME")
        order = query.get("sortOrder", "ASC")
        if status not in PLAN_STATUSES or sort_by not in ("LAST_UPDATED_TIME", "CREATION_TIME") or order not in ("ASC", "DESC"):
            return _error(400, "InvalidInput", "status, sortBy or sortOrder has an invalid value.")
        size, problem = _page_size(query, 30, default=10)
        if problem:
            return problem
        key = "lastUpdatedAt" if sort_by == "LAST_UPDATED_TIME" else "createdAt"
        plans = [e["plan"] for e in self.plans(seller) if e["plan"]["status"] == status]
        plans.sort(key=lambda p: (_time(p[key]), p["inboundPlanId"]), reverse=order == "DESC")
        filters = f"{status}|{sort_by}|{order}"
        page, token, problem = _paginate(plans, query, size, filters)
        if problem:
            return problem
        summaries = [{k: p[k] for k in ("inboundPlanId", "name", "status", "marketplaceIds", "sourceAddress",
                                        "createdAt", "lastUpdatedAt")} for p in page]
        return _json(200, _with_token({"inboundPlans": summaries}, token), operation="listInboundPlans")

    def _getInboundPlan(self, seller, query, body, plan_id):
        if plan_id in self.faults.bad_plans:
            return _error(400, "BadRequest", f"Inbound plan {plan_id} cannot be read with this API version.")
        entry, problem = self._seller_plan(seller, plan_id)
        if problem:
            return problem
        plan = copy.deepcopy(entry["plan"])
        plan["shipments"] = [{"shipmentId": s["shipment"]["shipmentId"], "status": s["shipment"]["status"]}
                             for s in entry["shipments"]]
        return _json(200, plan, operation="getInboundPlan")

    def _listInboundPlanItems(self, seller, query, body, plan_id):
        entry, problem = self._seller_plan(seller, plan_id)
        if problem:
            return problem
        return self._items_page(entry["items"], query, plan_id, "listInboundPlanItems")

    def _shipment(self, seller, plan_id, shipment_id):
        entry, problem = self._seller_plan(seller, plan_id)
        if problem:
            return None, problem
        for s in entry["shipments"]:
            if s["shipment"]["shipmentId"] == shipment_id:
                return s, None
        return None, _error(404, "NotFound", f"Shipment {shipment_id} was not found in plan {plan_id}.")

    def _getShipment(self, seller, query, body, plan_id, shipment_id):
        s, problem = self._shipment(seller, plan_id, shipment_id)
        return problem or _json(200, s["shipment"], operation="getShipment")

    def _listShipmentItems(self, seller, query, body, plan_id, shipment_id):
        s, problem = self._shipment(seller, plan_id, shipment_id)
        return problem or self._items_page(s["items"], query, plan_id + shipment_id, "listShipmentItems")

    def _listShipmentBoxes(self, seller, query, body, plan_id, shipment_id):
        s, problem = self._shipment(seller, plan_id, shipment_id)
        return problem or self._items_page(s.get("boxes", []), query, plan_id + shipment_id + "/boxes",
                                           "listShipmentBoxes", key="boxes")

    def _listInboundPlanBoxes(self, seller, query, body, plan_id):
        entry, problem = self._seller_plan(seller, plan_id)
        if problem:
            return problem
        # before placement the plan's own boxes; afterwards those of its shipments
        boxes = entry.get("boxes") or [b for s in entry["shipments"] for b in s.get("boxes", [])]
        return self._items_page(boxes, query, plan_id + "/boxes", "listInboundPlanBoxes", key="boxes")

    def _items_page(self, items, query, scope, operation, key="items"):
        size, problem = _page_size(query, 1000, default=10)
        if problem:
            return problem
        page, token, problem = _paginate(items, query, size, scope)
        return problem or _json(200, _with_token({key: page}, token), operation=operation)

    def _updateShipmentName(self, seller, query, body, plan_id, shipment_id):
        s, problem = self._shipment(seller, plan_id, shipment_id)
        if problem:
            return problem
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "InvalidInput", "The request body is not JSON.")
        name = request.get("name") if isinstance(request, dict) else None
        extra = sorted(set(request) - {"name"}) if isinstance(request, dict) else []
        if not isinstance(name, str) or not 1 <= len(name) <= 100 or extra:
            detail = f" Unexpected fields: {', '.join(extra)}." if extra else ""
            return _error(400, "InvalidInput", "Body must be {\"name\": string of 1-100 characters}." + detail)
        s["shipment"]["name"] = name
        self.touch_plan(plan_id)
        return 204, {"x-amzn-RateLimit-Limit": "2.0"}, b""

    def _listing(self, seller, sku):
        return self.data["sellers"][seller].get("listings", {}).get(sku)

    def _getPricing(self, seller, query, body):
        skus = [s for s in (query.get("Skus") or "").split(",") if s]
        if query.get("MarketplaceId") != self.marketplace_id or query.get("ItemType") != "Sku":
            return _error(400, "InvalidInput", "MarketplaceId must be the JP marketplace and ItemType Sku.")
        if not 1 <= len(skus) <= 20:
            return _error(400, "InvalidInput", "Skus must list 1 to 20 seller SKUs.")
        prices = []
        for sku in skus:
            listing = self._listing(seller, sku)
            if listing is None:
                prices.append({"status": "ClientError", "SellerSKU": sku})
                continue
            identifiers = {"MarketplaceASIN": {"MarketplaceId": self.marketplace_id, "ASIN": listing["asin"]},
                           "SKUIdentifier": {"MarketplaceId": self.marketplace_id, "SellerId": _seller_id(seller),
                                             "SellerSKU": sku}}
            offers = []
            if listing.get("price") is not None:
                price = {"CurrencyCode": "JPY", "Amount": listing["price"]}
                if sku in self.faults.bad_prices:
                    price = {"CurrencyCode": "JPY", "Amount": str(listing["price"])}  # off the model: a string
                offers.append({"BuyingPrice": {"ListingPrice": {"CurrencyCode": "JPY", "Amount": listing.get(
                                   "buyingPrice", listing["price"])},
                                               "LandedPrice": {"CurrencyCode": "JPY", "Amount": listing.get(
                                   "buyingPrice", listing["price"])},
                                               "Shipping": {"CurrencyCode": "JPY", "Amount": 0}},
                               "RegularPrice": price, "FulfillmentChannel": "Amazon", "ItemCondition": "New",
                               "ItemSubCondition": "New", "SellerSKU": sku})
            prices.append({"status": "Success", "SellerSKU": sku, "ASIN": listing["asin"],
                           "Product": {"Identifiers": identifiers, "Offers": offers}})
        return _json(200, {"payload": prices}, operation="getPricing")

    def _getMyFeesEstimates(self, seller, query, body):
        try:
            requests = json.loads(body or b"null")
        except ValueError:
            return _error(400, "InvalidInput", "The request body is not JSON.")
        self.bodies.setdefault("getMyFeesEstimates", []).append(requests)
        if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
            return _error(400, "InvalidInput", "The body must be a list of 1 to 20 FeesEstimateByIdRequest.")
        results = []
        for request in requests:
            estimate = request.get("FeesEstimateRequest") if isinstance(request, dict) else None
            price = ((estimate or {}).get("PriceToEstimateFees") or {}).get("ListingPrice") or {}
            if (not isinstance(estimate, dict) or request.get("IdType") != "SellerSKU" or not request.get("IdValue")
                    or estimate.get("MarketplaceId") != self.marketplace_id or not estimate.get("Identifier")
                    or not isinstance(price.get("Amount"), (int, float)) or price.get("CurrencyCode") != "JPY"):
                return _error(400, "InvalidInput", "Each request needs IdType SellerSKU, IdValue, and a "
                              "FeesEstimateRequest with MarketplaceId, Identifier and a JPY ListingPrice.")
            sku = request["IdValue"]
            identifier = {"MarketplaceId": self.marketplace_id, "SellerId": _seller_id(seller), "IdType": "SellerSKU",
                          "IdValue": sku, "IsAmazonFulfilled": bool(estimate.get("IsAmazonFulfilled")),
                          "PriceToEstimateFees": estimate["PriceToEstimateFees"],
                          "SellerInputIdentifier": estimate["Identifier"]}
            listing = self._listing(seller, sku)
            if listing is None or "referralPercent" not in listing:
                results.append({"Status": "ClientError", "FeesEstimateIdentifier": identifier, "Error": {
                    "Type": "Sender", "Code": "InvalidParameterValue", "Message": f"The item {sku} is not found.",
                    "Detail": []}})
                continue
            referral = int(Decimal(str(price["Amount"])) * Decimal(listing["referralPercent"]) / 100)
            fees = [("ReferralFee", referral), ("FBAFees", listing["fbaFee"])]
            total = {"CurrencyCode": "JPY", "Amount": referral + listing["fbaFee"]}
            if sku in self.faults.bad_fees:
                total = {"CurrencyCode": "JPY", "Amount": "lots"}  # off the model
            results.append({"Status": "Success", "FeesEstimateIdentifier": identifier, "FeesEstimate": {
                "TimeOfFeesEstimation": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "TotalFeesEstimate": total,
                "FeeDetailList": [{"FeeType": kind, "FeeAmount": {"CurrencyCode": "JPY", "Amount": amount},
                                   "FinalFee": {"CurrencyCode": "JPY", "Amount": amount}} for kind, amount in fees]}})
        return _json(200, results, operation="getMyFeesEstimates")

    def _getCatalogItem(self, seller, query, body, asin):
        if not query.get("marketplaceIds"):
            return _error(400, "InvalidInput", "Missing required 'marketplaceIds'.")
        if self.marketplace_id not in query["marketplaceIds"].split(","):
            return _error(400, "InvalidInput", "Invalid 'marketplaceIds' provided.")
        item = self.data["catalog"].get(asin)
        if item is None:
            return _error(404, "NOT_FOUND", f"Requested item '{asin}' not found in marketplace(s) {self.marketplace_id}.")
        wanted = set((query.get("includedData") or "summaries").split(","))
        return _json(200, {k: v for k, v in item.items() if k == "asin" or k in wanted}, operation="getCatalogItem")


# --------------------------------------------------------------------------- helpers


def _seller_id(seller: str) -> str:
    return "A" + hashlib.sha1(seller.encode()).hexdigest()[:12].upper()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json(status: int, body: dict, operation: str | None = None) -> tuple[int, dict, bytes]:
    headers = {"content-type": "application/json"}
    if operation:
        headers["x-amzn-RateLimit-Limit"] = str(float(RATE_LIMITS[operation][0]))
    return status, headers, json.dumps(body, ensure_ascii=False).encode("utf-8")


def _error(status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    return _json(status, {"errors": [{"code": code, "message": message, "details": ""}]})


def _with_token(body: dict, token: str | None) -> dict:
    if token:
        body["pagination"] = {"nextToken": token}
    return body


def _page_size(query: dict, maximum: int, default: int):
    raw = query.get("pageSize", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        return None, _error(400, "InvalidInput", f"pageSize must be an integer from 1 to {maximum}.")
    return int(raw), None


def _paginate(rows: list, query: dict, size: int, scope: str):
    offset = 0
    if query.get("paginationToken"):
        try:
            decoded = json.loads(base64.urlsafe_b64decode(query["paginationToken"].encode()))
            if decoded["s"] != scope:
                raise ValueError
            offset = int(decoded["o"])
        except (ValueError, KeyError, TypeError):
            return None, None, _error(
                400, "InvalidInput", "The pagination token is invalid or not compatible with the provided filters.")
    page = rows[offset : offset + size]
    more = offset + size < len(rows)
    token = base64.urlsafe_b64encode(json.dumps({"o": offset + size, "s": scope}).encode()).decode() if more else None
    return page, token, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, +40 ms a request

    def _serve(self) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = sandbox.handle(self.command, parts.path, query, self.headers, body)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must look like a server error, not hang
            status, headers, payload = _error(500, "InternalFailure", f"sandbox error: {type(exc).__name__}")
        with sandbox.lock:
            sandbox.responses[status] += 1
        self.send_response(status)
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), **headers, "content-length": str(len(payload))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _serve

    def log_message(self, format, *args):  # noqa: A002 - quiet: requests carry tokens in headers, not in lines, but the demo output must stay readable
        pass
