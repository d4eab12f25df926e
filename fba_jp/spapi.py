"""The SP-API source: python-amazon-sp-api clients for one seller account, rate-limited and retried.

Fulfillment Inbound ``2024-03-20`` (plans, shipments, items, boxes) and Catalog Items ``2022-04-01`` are
used, always with an explicit version (the library's defaults are v0 and 2020-12-01), and for the
deductive value Product Pricing v0 ``getPricing`` and Product Fees v0 ``getMyFeesEstimates``. Facts this module relies on are in
``research/spapi.md``:

* the library raises only when a response body carries JSON ``errors``; a 429 or 503 with an empty
  or HTML body comes back as an empty payload, so every call names the key it expects and a
  response without it is a retryable fault;
* it has no endpoint or token-URL option: the endpoint is set on the client after construction and
  the token URL through ``auth_token_client_class`` (a public constructor argument);
* ``SP_API_DEFAULT_MARKETPLACE`` overrides ``marketplace=`` inside the constructor, so the
  marketplace attributes are set again afterwards;
* access tokens sit in a module-level cache keyed by the refresh token; our token client adds the
  token URL to the key so a sandbox token is never sent to Amazon (and vice versa).

Secrets are read from the environment only here, are handed straight to the library, and never
appear in messages, logs or the database.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

# The library keeps access tokens in one module-level TTLCache sized when it is imported (10 entries
# unless SP_API_AUTH_CACHE_SIZE says otherwise): with more accounts than that, accounts syncing side by
# side would evict each other's tokens and fetch a new one for nearly every request. Hence before import.
os.environ.setdefault("SP_API_AUTH_CACHE_SIZE", "1024")

import httpx  # noqa: E402
from sp_api.api import CatalogItemsV20220401, FulfillmentInboundV20240320
from sp_api.api.product_fees.product_fees import ProductFees
from sp_api.api.products.products_v0 import ProductsV0
from sp_api.auth import AccessTokenClient, AccessTokenResponse, access_token_client
from sp_api.auth._core import build_cache_key
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces, SellingApiException
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import FromCodeCredentialProvider
from sp_api.base.helpers import fill_query_params

from .config import AccountConfig
from .errors import SpApiError
from .redact import redact, remember_secret

log = logging.getLogger(__name__)

INBOUND_VERSION = "2024-03-20"
CATALOG_VERSION = "2022-04-01"
MARKETPLACES = {"JP": Marketplaces.JP}

# Amazon's default usage plans (requests per second, burst) per account-application pair: each
# operation's description in the models (research/spapi.md §2; getCatalogItem from
# catalogItems_2022-04-01.json), corrected by Amazon's changelog "Rate limit increase for some Fulfillment
# Inbound API operations" (25 June 2025: getShipment 2 → 5 rps; the models still say 2). Checked 2026-12-01.
RATE_LIMITS: dict[str, tuple[float, int]] = {
    "listInboundPlans": (2, 6),
    "getInboundPlan": (2, 6),
    "listInboundPlanItems": (2, 6),
    "getShipment": (5, 6),
    "listShipmentItems": (2, 30),
    "updateShipmentName": (2, 30),
    "getCatalogItem": (2, 2),
    # box contents, weights and dimensions for freight and the packing list: the model's 2 / 30 for
    # listShipmentBoxes, raised to 5 rps by the same 25 June 2025 changelog; listInboundPlanBoxes 2 / 6
    "listShipmentBoxes": (5, 30),
    "listInboundPlanBoxes": (2, 6),
    # the seller's own Amazon.co.jp prices and Amazon's fees, for the deductive value: up to 20 SKUs a
    # call (productPricingV0.json getPricing, productFeesV0.json getMyFeesEstimates)
    "getPricing": (0.5, 1),
    "getMyFeesEstimates": (0.5, 1),
}
# The client's buckets keep a margin under Amazon's: one token of the burst held back, so a request
# that waited for its token yet reaches Amazon a little sooner after the previous one than it left
# (network jitter) still finds a token there; and 3 % of the rate, so that reserve grows during a long
# sync instead of running at exactly the server's pace, where every jitter would cost a 429 and a retry.
RATE_MARGIN = 0.97
BURST_MARGIN = 1


def client_limits(operation: str) -> tuple[float, int]:
    """The (rate, burst) the client's bucket uses for ``operation``: Amazon's, less the margin."""
    rate, burst = RATE_LIMITS[operation]
    if burst == 1:
        # a bucket of one cannot keep a token in reserve: half the rate absorbs a whole interval of jitter
        return rate * RATE_MARGIN / 2, 1
    return rate * RATE_MARGIN, max(1, burst - BURST_MARGIN)


PRICING_BATCH = 20  # SKUs per getPricing call, and estimates per getMyFeesEstimates call (the models' maximum)
INBOUND_PAGE_SIZE = 30  # listInboundPlans maximum
ITEMS_PAGE_SIZE = 1000  # listInboundPlanItems / listShipmentItems / list…Boxes maximum
CATALOG_INCLUDED_DATA = "summaries,productTypes,classifications"


class PlanUnavailable(Exception):
    """SP-API refused one resource for good (400, 404): record it and go on with the others."""

    def __init__(self, operation: str, status: int | None, code: str | None, message: str | None):
        self.operation, self.status, self.code = operation, status, code
        # Amazon's message may quote the request (its access token): redacted before anything clips it
        super().__init__(redact(f"{operation}: HTTP {status or '?'} {code or ''}: {message or 'no message'}".replace("  ", " ")))


class TokenBucket:
    """Client-side limiter: ``rate`` tokens a second, at most ``burst`` saved up.

    ``reserve()`` takes a token and returns how long to wait before using it, so callers sleep
    outside the lock and concurrent callers queue fairly.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = float(rate), float(burst), clock
        self.tokens = float(burst)
        self.stamp = clock()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def drain(self) -> None:
        """After a 429 the server's bucket is empty: stop spending a burst it no longer has."""
        with self.lock:
            self.tokens = min(self.tokens, 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for 429, 5xx, network errors and empty payloads."""

    tries: int = 8
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        # "equal jitter": half the exponential step for sure, the other half random, so clients
        # that were throttled together do not retry together
        step = min(self.max_delay, self.base_delay * (2**attempt))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass
class CallStats:
    calls: int = 0
    throttled: int = 0
    retries: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


class _RedactRequestHeaders(logging.Filter):
    # sp_api logs the request headers (with the access token) at DEBUG; drop that record whatever
    # level someone sets on the library's logger.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Request Headers")


logging.getLogger("sp_api.base.client").addFilter(_RedactRequestHeaders())


_TOKEN_CACHE_LOCK = threading.Lock()


class LockedTokenClient(AccessTokenClient):
    """The library's LWA token client, with its shared token cache read and written under a lock.

    The cache is a cachetools ``TTLCache``, which is not thread-safe, and accounts sync in parallel
    threads. The token request itself runs outside the lock, so one account's token refresh never
    holds up another account's calls.
    """

    def get_auth(self) -> AccessTokenResponse:
        key = self._get_cache_key()
        with _TOKEN_CACHE_LOCK:
            token = access_token_client.cache.get(key)
        if token is None:
            token = self._request(self.scheme + self.host + self.path, self.data, self.headers)
            remember_secret(token.get("access_token") if isinstance(token, dict) else None)
            with _TOKEN_CACHE_LOCK:
                access_token_client.cache[key] = token
        return AccessTokenResponse(**token)


def token_client_for(token_url: str) -> type[AccessTokenClient]:
    """An LWA token client class that posts to ``token_url`` instead of https://api.amazon.com."""
    parts = urlsplit(token_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SpApiError(f"token_url {token_url!r} must be an http(s) URL such as http://127.0.0.1:8765/auth/o2/token")

    class _TokenClient(LockedTokenClient):
        scheme = f"{parts.scheme}://"
        host = parts.netloc
        path = parts.path or "/auth/o2/token"

        def _get_cache_key(self, token_flavor=""):
            return build_cache_key(self.cred.refresh_token, token_flavor + "@" + token_url)

    return _TokenClient


@functools.lru_cache(maxsize=None)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every HTTP client: loading the CA bundle costs tens of ms of CPU each time,
    and every account's sync makes three clients (inbound, catalog, LWA). Thread-safe to share."""
    return httpx.create_ssl_context()


def credentials_for(account: AccountConfig) -> dict[str, str]:
    """The account's LWA credentials from its ``env:`` references; a missing one → ``SpApiError``."""
    values = {}
    for key in ("refresh_token", "lwa_app_id", "lwa_client_secret"):
        ref = getattr(account, key)
        if ref is None:
            raise SpApiError(
                f"account {account.name!r}: {key} is not configured; add {key} = \"env:VARIABLE\" to its "
                "[[accounts]] section and export that variable"
            )
        value = account.secret(key)
        if value is None:
            raise SpApiError(
                f"account {account.name!r}: {key}: environment variable {ref[4:]} is not set "
                f"(config says {ref}); export {ref[4:]} before running"
            )
        values[key] = value
    return values


class _Marketplace:
    """Duck-typed ``Marketplaces`` member: the library only reads these three attributes."""

    def __init__(self, endpoint: str, marketplace_id: str, region: str):
        self.endpoint, self.marketplace_id, self.region = endpoint.rstrip("/"), marketplace_id, region


class SpApi:
    """SP-API calls for one account: explicit versions, per-operation limiter, retries, call counts.

    ``retry`` and ``rate_scale`` exist for tests and the sandbox demo; production uses the
    documented rates. ``sleep`` and ``rng`` are injectable so tests never sleep for real.
    """

    def __init__(
        self,
        account: AccountConfig,
        *,
        retry: RetryPolicy = RetryPolicy(),
        rate_scale: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.account = account
        self.retry = retry
        self.timeout = timeout
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = CallStats()
        self.buckets = {}
        for operation in RATE_LIMITS:
            rate, burst = client_limits(operation)
            self.buckets[operation] = TokenBucket(rate * rate_scale, burst)
        base = MARKETPLACES[account.marketplace]
        self.marketplace = _Marketplace(account.endpoint or base.endpoint, base.marketplace_id, base.region)
        self._status = threading.local()
        self._credentials = credentials_for(account)
        self._inbound: FulfillmentInboundV20240320 | None = None
        self._catalog: CatalogItemsV20220401 | None = None
        self._pricing: ProductsV0 | None = None
        self._fees: ProductFees | None = None

    # ----- clients

    def _client(self, cls, version: str):
        token_client = token_client_for(self.account.token_url) if self.account.token_url else LockedTokenClient
        try:
            client = cls(
                self.marketplace,
                credentials=self._credentials,
                credential_providers=(FromCodeCredentialProvider,),  # never fall back to other env vars or files
                version=version,
                timeout=self.timeout,
                auth_token_client_class=token_client,
                verify=tls_context(),
            )
        except KeyError as exc:  # SP_API_DEFAULT_MARKETPLACE names no marketplace
            raise SpApiError(f"SP_API_DEFAULT_MARKETPLACE={exc.args[0]!r} is not a marketplace; unset it") from None
        # SP_API_DEFAULT_MARKETPLACE silently replaces marketplace= in the constructor: undo it.
        client.endpoint = self.marketplace.endpoint
        client.marketplace_id = self.marketplace.marketplace_id
        client.region = self.marketplace.region
        # Our own httpx client, to see the HTTP status the library hides from us (it keeps only
        # headers), which tells a 429 from a 503 when the body is empty.
        client._transport = HttpxTransport(
            client=httpx.Client(timeout=self.timeout, verify=tls_context(), event_hooks={"response": [self._remember_status]})
        )
        return client

    def _remember_status(self, response: httpx.Response) -> None:
        self._status.code = response.status_code

    @property
    def inbound(self) -> FulfillmentInboundV20240320:
        if self._inbound is None:
            self._inbound = self._client(FulfillmentInboundV20240320, INBOUND_VERSION)
        return self._inbound

    @property
    def catalog(self) -> CatalogItemsV20220401:
        if self._catalog is None:
            self._catalog = self._client(CatalogItemsV20220401, CATALOG_VERSION)
        return self._catalog

    @property
    def pricing(self) -> ProductsV0:
        if self._pricing is None:
            self._pricing = self._client(ProductsV0, "v0")
        return self._pricing

    @property
    def fees(self) -> ProductFees:
        if self._fees is None:
            self._fees = self._client(ProductFees, "v0")
        return self._fees

    def close(self) -> None:
        for client in (self._inbound, self._catalog, self._pricing, self._fees):
            if client is not None:
                client.close()
                auth_transport = getattr(client._auth, "_transport", None)  # the LWA client's own pool
                if auth_transport is not None:
                    auth_transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----- the one place that talks to SP-API

    def call(self, operation: str, function: Callable, *args, expect: str | None = None, **kwargs) -> Any:
        """Call ``function`` under the operation's limiter; retry throttling and transient faults.

        ``expect`` is a key the payload must hold; without it the response is an empty-bodied
        error the library did not raise for. 400/404 raise :class:`PlanUnavailable`; auth
        failures and exhausted retries raise :class:`SpApiError`.
        """
        bucket = self.buckets[operation]
        fault = "no attempt"
        for attempt in range(self.retry.tries):
            wait = bucket.reserve()
            if wait > 0:
                self.sleep(wait)
            self.stats.calls += 1
            self.stats.by_operation[operation] = self.stats.by_operation.get(operation, 0) + 1
            self._status.code = None
            try:
                # a fresh copy each attempt: the library pops keys (e.g. "method") from what it is given
                response = function(*args, **copy.deepcopy(kwargs))
            except SellingApiException as exc:
                status = self._status.code or exc.code
                # the body's code and message are the server's text, which may quote the request (its tokens)
                exc.amzn_code = redact(str(getattr(exc, "amzn_code", "") or ""))
                exc.message = redact(str(getattr(exc, "message", "") or ""))
                detail = f"HTTP {status} {exc.amzn_code}".rstrip()
                if status == 429:
                    fault = f"throttled ({detail})"
                    self._throttled(bucket)
                elif status >= 500:
                    fault = f"server error ({detail}: {getattr(exc, 'message', '')})"
                elif status in (400, 404):
                    raise PlanUnavailable(operation, status, getattr(exc, "amzn_code", None), getattr(exc, "message", None)) from None
                elif status == 403:
                    raise SpApiError(
                        f"account {self.account.name!r}: SP-API {operation} refused access (HTTP 403 "
                        f"{getattr(exc, 'amzn_code', '')}): check that the app has the Amazon Fulfillment role and "
                        "that refresh_token belongs to this seller"
                    ) from None
                else:
                    raise SpApiError(
                        f"account {self.account.name!r}: SP-API {operation} failed: {detail}: {getattr(exc, 'message', '')}"
                    ) from None
            except AuthorizationError as exc:
                if exc.status_code == 429 or (exc.status_code or 0) >= 500:
                    fault = f"LWA token endpoint HTTP {exc.status_code}"
                else:
                    raise SpApiError(
                        f"account {self.account.name!r}: Login with Amazon refused the credentials "
                        f"({exc.status_code} {redact(str(exc.error_code))}): check refresh_token, lwa_app_id and lwa_client_secret"
                    ) from None
            except json.JSONDecodeError:
                fault = "LWA token endpoint returned a non-JSON body"  # a gateway error page
            except (AttributeError, TypeError):
                # the library parses every JSON body as an object: a list, string or number crashes
                # it. Only when a response arrived: before that, this is a bug of ours to raise.
                if self._status.code is None:
                    raise
                fault = f"HTTP {self._status.code} response whose body is not a JSON object"
            except httpx.TransportError as exc:
                fault = f"network error ({type(exc).__name__})"
            else:
                payload = response.payload if response is not None else {}
                status = self._status.code
                if expect is None and (status is None or 200 <= status < 300):
                    return response
                if expect is not None and isinstance(payload, dict) and expect in payload:
                    return response
                if status == 429:
                    fault = "throttled (HTTP 429 without an errors body)"
                    self._throttled(bucket)
                else:
                    fault = f"HTTP {status or '?'} response without {expect!r}"
            if attempt + 1 < self.retry.tries:
                self.stats.retries += 1
                delay = self.retry.delay(attempt, self.rng)
                log.info("%s: %s %s; retry %d in %.2fs", self.account.name, operation, fault, attempt + 1, delay)
                self.sleep(delay)
        raise SpApiError(
            f"account {self.account.name!r}: SP-API {operation} still failing after {self.retry.tries} tries: {fault}"
        )

    def _throttled(self, bucket: TokenBucket) -> None:
        self.stats.throttled += 1
        bucket.drain()

    # ----- operations (2024-03-20 responses have no payload wrapper)

    def list_inbound_plans(self, status: str, pagination_token: str | None = None) -> tuple[list[dict], str | None]:
        """One page of plan summaries with ``status``, newest change first."""
        # follow-up pages must repeat the filters (amzn/selling-partner-api-models#4319)
        params = {"status": status, "sortBy": "LAST_UPDATED_TIME", "sortOrder": "DESC", "pageSize": INBOUND_PAGE_SIZE}
        if pagination_token:
            params["paginationToken"] = pagination_token
        response = self.call("listInboundPlans", self.inbound.list_inbound_plans, expect="inboundPlans", **params)
        plans = response.payload["inboundPlans"]
        if not isinstance(plans, list):  # no plan can be told from another: nothing to skip to
            raise SpApiError(f"account {self.account.name!r}: SP-API listInboundPlans: inboundPlans is not a list "
                             f"(got {redact(repr(plans)):.40})")
        return plans, response.next_token

    def get_inbound_plan(self, plan_id: str) -> dict:
        return self.call("getInboundPlan", self.inbound.get_inbound_plan, plan_id, expect="inboundPlanId").payload

    def list_inbound_plan_items(self, plan_id: str) -> list[dict]:
        return self._all_items("listInboundPlanItems", self.inbound.list_inbound_plan_items, plan_id)

    def get_shipment(self, plan_id: str, shipment_id: str) -> dict:
        return self.call("getShipment", self.inbound.get_shipment, plan_id, shipment_id, expect="shipmentId").payload

    def list_shipment_items(self, plan_id: str, shipment_id: str) -> list[dict]:
        return self._all_items("listShipmentItems", self.inbound.list_shipment_items, plan_id, shipment_id)

    def list_shipment_boxes(self, plan_id: str, shipment_id: str) -> list[dict]:
        """The shipment's boxes: contents, weight and dimensions (empty until packing information is set)."""
        return self._all_items("listShipmentBoxes", self.inbound.list_shipment_boxes, plan_id, shipment_id, key="boxes")

    def list_inbound_plan_boxes(self, plan_id: str) -> list[dict]:
        """The plan's boxes before placement is confirmed (afterwards they belong to shipments)."""
        return self._all_items("listInboundPlanBoxes", self.inbound.list_inbound_plan_boxes, plan_id, key="boxes")

    def _all_items(self, operation: str, function: Callable, *ids: str, key: str = "items") -> list[dict]:
        items: list[dict] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"pageSize": ITEMS_PAGE_SIZE}
            if token:
                params["paginationToken"] = token
            response = self.call(operation, function, *ids, expect=key, **params)
            page = response.payload[key]
            if not isinstance(page, list):
                raise PlanUnavailable(operation, 200, "MalformedPayload", f"{key} is not a list (got {redact(repr(page)):.40})")
            items.extend(page)
            token = response.next_token
            if not token:
                return items
            if token in seen:
                raise SpApiError(f"account {self.account.name!r}: SP-API {operation} repeated a pagination token")
            seen.add(token)

    def get_catalog_item(self, asin: str) -> dict | None:
        """The catalog item (summaries, product types, classifications); ``None`` if Amazon has none."""
        try:
            return self.call(
                "getCatalogItem", self.catalog.get_catalog_item, asin, expect="asin",
                marketplaceIds=self.marketplace.marketplace_id, includedData=CATALOG_INCLUDED_DATA,
            ).payload
        except PlanUnavailable:
            return None

    def get_pricing(self, skus: list[str]) -> Any:
        """Product Pricing v0 ``getPricing`` for up to 20 of the seller's SKUs (``ItemType=Sku``): the
        seller's own offers. Returns the payload as Amazon sent it (a list of ``Price`` by the model);
        the caller checks each entry, so an entry off the model costs only its SKU."""
        if not 1 <= len(skus) <= PRICING_BATCH:
            raise ValueError(f"getPricing takes 1 to {PRICING_BATCH} SKUs, not {len(skus)}")
        response = self.call("getPricing", self.pricing.get_product_pricing_for_skus, list(skus),
                             MarketplaceId=self.marketplace.marketplace_id)
        return response.payload

    def get_my_fees_estimates(self, requests: list[dict]) -> Any:
        """Product Fees v0 ``getMyFeesEstimates`` for up to 20 ``FeesEstimateByIdRequest`` (JSON array).

        The body is exactly the model's: the library's own helper sends ``null`` for an absent shipping
        price or points, which the model does not allow."""
        if not 1 <= len(requests) <= PRICING_BATCH:
            raise ValueError(f"getMyFeesEstimates takes 1 to {PRICING_BATCH} requests, not {len(requests)}")
        response = self.call(
            "getMyFeesEstimates", self.fees._request, "/products/fees/v0/feesEstimate",
            data=requests, params={"method": "POST"}, add_marketplace=False, wrap_list=True,
        )
        return response.payload

    def update_shipment_name(self, plan_id: str, shipment_id: str, name: str) -> None:
        """PUT the shipment's name (204). The body is exactly the model's ``{"name"}``: the library's
        own method would add four marketplace keys to it."""
        path = fill_query_params(
            "/inbound/fba/2024-03-20/inboundPlans/{}/shipments/{}/name", plan_id, shipment_id
        )
        self.call(
            "updateShipmentName", self.inbound._request, path,
            data={"name": name, "method": "PUT"}, add_marketplace=False,
        )
