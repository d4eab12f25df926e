"""The SP-API source (fba_jp/spapi.py) against respx-mocked HTTP: versions, endpoint and token URL,
pagination, the limiter, and every fault the library lets through."""

import json
import random

import httpx
import pytest
import respx
from sp_api.auth.access_token_client import cache as token_cache

from fba_jp.config import AccountConfig
from fba_jp.errors import SpApiError
from fba_jp.spapi import RATE_LIMITS, PlanUnavailable, RetryPolicy, SpApi, TokenBucket, client_limits

ENDPOINT = "https://sp.test"
TOKEN_URL = "https://lwa.test/auth/o2/token"
BASE = ENDPOINT + "/inbound/fba/2024-03-20"
REFRESH = "Atzr|unit-refresh-SECRET-1"
CLIENT_SECRET = "unit-client-SECRET-2"
JP = "A1VC38T7YXB528"


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    token_cache.clear()  # the library caches tokens per process; tests must not share them
    monkeypatch.setenv("T_REFRESH", REFRESH)
    monkeypatch.setenv("T_APP", "amzn1.application-oa2-client.unit")
    monkeypatch.setenv("T_SECRET", CLIENT_SECRET)
    yield
    token_cache.clear()


def account(**overrides):
    data = dict(
        name="unit", refresh_token="env:T_REFRESH", lwa_app_id="env:T_APP", lwa_client_secret="env:T_SECRET",
        endpoint=ENDPOINT, token_url=TOKEN_URL, seller={"name": "Unit Seller LLC", "country": "US"},
    )
    data.update(overrides)
    return AccountConfig(**data)


def make_api(sleeps, tries=4, **overrides):
    return SpApi(account(**overrides), retry=RetryPolicy(tries=tries, base_delay=0.01, max_delay=0.04),
                 sleep=sleeps.append, rng=random.Random(1))


@pytest.fixture
def amazon():
    with respx.mock(assert_all_called=False) as mock:
        mock.post(TOKEN_URL).respond(200, json={"access_token": "Atza|unit-access", "token_type": "bearer", "expires_in": 3600})
        yield mock


def plan_summary(n, updated="2026-11-10T00:00:00Z"):
    return {"inboundPlanId": f"wf{n:036d}", "name": f"plan {n}", "status": "ACTIVE", "marketplaceIds": [JP],
            "sourceAddress": {"name": "x", "addressLine1": "y", "city": "z", "countryCode": "US", "postalCode": "1"},
            "createdAt": updated, "lastUpdatedAt": updated}


def errors_body(code="QuotaExceeded", message="You exceeded your quota for the requested resource."):
    return {"errors": [{"code": code, "message": message}]}


# ----- credentials, endpoint, token URL, marketplace


def test_missing_credential_names_the_environment_variable(monkeypatch):
    monkeypatch.delenv("T_REFRESH")
    with pytest.raises(SpApiError) as info:
        SpApi(account())
    assert "T_REFRESH" in str(info.value) and "refresh_token" in str(info.value)
    assert info.value.exit_code == 3


def test_unconfigured_credential_says_what_to_add():
    with pytest.raises(SpApiError, match='lwa_client_secret = "env:VARIABLE"'):
        SpApi(account(lwa_client_secret=None))


def test_token_url_endpoint_and_jp_marketplace_are_used_whatever_the_environment(amazon, monkeypatch):
    monkeypatch.setenv("SP_API_DEFAULT_MARKETPLACE", "US")  # the library would switch to the NA endpoint
    route = amazon.get(BASE + "/inboundPlans").respond(200, json={"inboundPlans": [plan_summary(1)]})
    plans, token = make_api([]).list_inbound_plans("SHIPPED")
    assert [p["inboundPlanId"] for p in plans] == [plan_summary(1)["inboundPlanId"]] and token is None
    request = route.calls.last.request
    assert request.url.host == "sp.test"
    assert request.url.params["MarketplaceId"] == JP
    assert request.url.params["status"] == "SHIPPED"
    assert request.url.params["sortBy"] == "LAST_UPDATED_TIME" and request.url.params["sortOrder"] == "DESC"
    assert request.url.params["pageSize"] == "30"
    assert request.headers["x-amz-access-token"] == "Atza|unit-access"
    lwa = amazon.calls[0].request
    assert lwa.url == TOKEN_URL
    assert b"refresh_token=Atzr" in lwa.content  # the form went to our token URL, not api.amazon.com


def test_tokens_are_cached_per_token_url(amazon):
    other = "https://lwa-other.test/auth/o2/token"
    other_route = amazon.post(other).respond(200, json={"access_token": "Atza|other", "expires_in": 3600})
    amazon.get(BASE + "/inboundPlans").respond(200, json={"inboundPlans": []})
    make_api([]).list_inbound_plans("ACTIVE")
    make_api([]).list_inbound_plans("ACTIVE")  # same refresh token, same URL: cached
    make_api([], token_url=other).list_inbound_plans("ACTIVE")  # same refresh token, other server: new token
    lwa_calls = [c for c in amazon.calls if c.request.url.path == "/auth/o2/token"]
    assert len(lwa_calls) == 2 and other_route.call_count == 1


# ----- pagination


def test_item_lists_follow_next_token_with_the_maximum_page_size(amazon):
    pages = {
        None: {"items": [{"msku": "A", "quantity": 1}], "pagination": {"nextToken": "p2"}},
        "p2": {"items": [{"msku": "B", "quantity": 2}], "pagination": {"nextToken": "p3"}},
        "p3": {"items": [{"msku": "C", "quantity": 3}]},
    }
    route = amazon.get(BASE + "/inboundPlans/wf1/shipments/sh1/items").mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("paginationToken")])
    )
    items = make_api([]).list_shipment_items("wf1", "sh1")
    assert [i["msku"] for i in items] == ["A", "B", "C"]
    assert [c.request.url.params["pageSize"] for c in route.calls] == ["1000"] * 3


def test_a_repeated_pagination_token_stops_instead_of_looping(amazon):
    amazon.get(BASE + "/inboundPlans/wf1/items").respond(200, json={"items": [], "pagination": {"nextToken": "same"}})
    with pytest.raises(SpApiError, match="repeated a pagination token"):
        make_api([]).list_inbound_plan_items("wf1")


def test_plan_list_follow_up_pages_repeat_the_filters(amazon):
    route = amazon.get(BASE + "/inboundPlans").respond(200, json={"inboundPlans": [], "pagination": {"nextToken": "t2"}})
    api = make_api([])
    _, token = api.list_inbound_plans("ACTIVE")
    api.list_inbound_plans("ACTIVE", token)
    second = route.calls.last.request.url.params
    assert second["paginationToken"] == "t2" and second["status"] == "ACTIVE" and second["sortOrder"] == "DESC"


# ----- faults


def sequence(*responses):
    """A respx side effect answering with each response (or raising each exception) in turn."""
    queue = list(responses)

    def answer(request):
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return answer


OK_PLAN = httpx.Response(200, json={"inboundPlanId": "wf1", "name": "p", "status": "ACTIVE"})


@pytest.mark.parametrize(
    "fault, throttled",
    [
        (httpx.Response(429, json=errors_body()), 1),  # the library raises SellingApiRequestThrottledException
        (httpx.Response(429), 1),  # empty body: the library returns an empty payload instead
        (httpx.Response(503, text="<html><body>Service Unavailable</body></html>",
                        headers={"content-type": "text/html"}), 0),  # HTML body: empty payload too
        (httpx.Response(500, json=errors_body("InternalFailure", "boom")), 0),
        (httpx.ConnectError("connection refused"), 0),
        (httpx.ReadTimeout("timed out"), 0),
    ],
    ids=["429-errors-body", "429-empty-body", "503-html-body", "500-errors-body", "connect-error", "read-timeout"],
)
def test_transient_faults_are_retried_with_backoff(amazon, fault, throttled):
    route = amazon.get(BASE + "/inboundPlans/wf1").mock(side_effect=sequence(fault, fault, OK_PLAN))
    sleeps = []
    api = make_api(sleeps)
    plan = api.get_inbound_plan("wf1")
    assert plan["inboundPlanId"] == "wf1"
    assert route.call_count == 3
    assert api.stats.retries == 2 and api.stats.throttled == 2 * throttled and api.stats.calls == 3
    backoff = [s for s in sleeps if s <= 0.04]
    assert len(backoff) == 2 and all(s >= 0.005 for s in backoff)
    # after a 429 the limiter spends no more burst: the next call waits for a fresh token (2/s)
    assert len([s for s in sleeps if s > 0.3]) == 2 * throttled


def test_a_200_without_the_expected_key_is_not_taken_as_data(amazon):
    amazon.get(BASE + "/inboundPlans/wf1/shipments/sh1").mock(side_effect=sequence(httpx.Response(200, json={}), httpx.Response(
        200, json={"shipmentId": "sh1", "placementOptionId": "pl1", "source": {}, "destination": {}})))
    assert make_api([]).get_shipment("wf1", "sh1")["shipmentId"] == "sh1"


def test_persistent_throttling_fails_after_the_bounded_number_of_tries(amazon):
    route = amazon.get(BASE + "/inboundPlans").respond(429)
    sleeps = []
    api = make_api(sleeps, tries=5)
    with pytest.raises(SpApiError) as info:
        api.list_inbound_plans("ACTIVE")
    assert route.call_count == 5
    assert "listInboundPlans" in str(info.value) and "after 5 tries" in str(info.value) and "429" in str(info.value)
    backoff = [s for s in sleeps if s <= 0.04]  # the rest are the limiter's waits after each 429
    assert len(backoff) == 4 and min(backoff) >= 0.005  # bounded by max_delay


def test_bad_request_for_one_plan_is_not_retried(amazon):
    route = amazon.get(BASE + "/inboundPlans/wf-awd").respond(
        400, json=errors_body("BadRequest", "AWD inbound plans are not supported"))
    with pytest.raises(PlanUnavailable) as info:
        make_api([]).get_inbound_plan("wf-awd")
    assert route.call_count == 1 and info.value.status == 400
    assert "AWD inbound plans are not supported" in str(info.value)


def test_forbidden_is_fatal_with_a_hint(amazon):
    amazon.get(BASE + "/inboundPlans").respond(403, json=errors_body("Unauthorized", "Access denied"))
    with pytest.raises(SpApiError, match="403.*Amazon Fulfillment role"):
        make_api([]).list_inbound_plans("ACTIVE")


def test_refused_credentials_are_one_line_without_the_secrets(amazon):
    amazon.post(TOKEN_URL).respond(400, json={"error": "invalid_grant", "error_description": "bad refresh token"})
    amazon.get(BASE + "/inboundPlans").respond(200, json={"inboundPlans": []})
    with pytest.raises(SpApiError) as info:
        make_api([]).list_inbound_plans("ACTIVE")
    message = str(info.value)
    assert "invalid_grant" in message and "refresh_token" in message
    assert REFRESH not in message and CLIENT_SECRET not in message


def test_catalog_uses_2022_04_01_and_a_missing_item_is_none(amazon):
    route = amazon.get(ENDPOINT + "/catalog/2022-04-01/items/B0FOUND001").respond(
        200, json={"asin": "B0FOUND001", "summaries": [{"marketplaceId": JP, "itemName": "Tent"}]})
    amazon.get(ENDPOINT + "/catalog/2022-04-01/items/B0MISSING1").respond(404, json=errors_body("NOT_FOUND", "no item"))
    api = make_api([])
    assert api.get_catalog_item("B0FOUND001")["summaries"][0]["itemName"] == "Tent"
    assert api.get_catalog_item("B0MISSING1") is None
    params = route.calls.last.request.url.params
    assert params["marketplaceIds"] == JP and params["includedData"] == "summaries,productTypes,classifications"
    assert "MarketplaceId" not in params  # passing marketplaceIds stops the library adding its three extra keys


def test_update_shipment_name_sends_exactly_the_models_body(amazon):
    route = amazon.put(BASE + "/inboundPlans/wf1/shipments/sh1/name").respond(204)
    make_api([]).update_shipment_name("wf1", "sh1", "fba-jp: cleared")
    assert json.loads(route.calls.last.request.content) == {"name": "fba-jp: cleared"}


def test_update_shipment_name_retries_an_empty_429(amazon):
    route = amazon.put(BASE + "/inboundPlans/wf1/shipments/sh1/name").mock(
        side_effect=sequence(httpx.Response(429), httpx.Response(204)))
    api = make_api([])
    api.update_shipment_name("wf1", "sh1", "x")
    assert route.call_count == 2 and api.stats.throttled == 1


# ----- the limiter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_token_bucket_allows_the_burst_then_paces_at_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=6, clock=clock)
    assert [bucket.reserve() for _ in range(6)] == [0.0] * 6
    assert bucket.reserve() == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)  # queued behind the previous caller
    clock.now += 10  # refills, but never above the burst
    assert [bucket.reserve() for _ in range(6)] == [0.0] * 6
    assert bucket.reserve() > 0


def test_a_throttled_call_drains_the_bucket():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=30, clock=clock)
    bucket.drain()
    assert bucket.reserve() == pytest.approx(0.5)


def test_limiter_waits_are_slept_before_calls(amazon):
    amazon.get(ENDPOINT + "/catalog/2022-04-01/items/B0FOUND001").respond(200, json={"asin": "B0FOUND001"})
    sleeps = []
    api = make_api(sleeps)
    for _ in range(4):
        api.get_catalog_item("B0FOUND001")  # getCatalogItem: 2 per second, burst 2 (1 kept in reserve)
    assert len(sleeps) == 3 and all(0.3 < s <= 1.6 for s in sleeps)


def test_getshipment_runs_at_five_per_second_since_june_2025():
    assert RATE_LIMITS["getShipment"] == (5, 6)


@pytest.mark.parametrize("operation", sorted(RATE_LIMITS))
def test_client_pacing_never_empties_amazons_bucket_despite_jitter(operation):
    """Requests paced by the client's bucket, each reaching Amazon up to 90 % of a token's interval
    late or early relative to the others, always find a token in a bucket of Amazon's documented size."""
    rate, burst = RATE_LIMITS[operation]
    assert client_limits(operation)[0] < rate and (client_limits(operation)[1] < burst or burst == 1)
    client_clock, server_clock = Clock(), Clock()
    client = TokenBucket(*client_limits(operation), clock=client_clock)
    server = TokenBucket(rate, burst, clock=server_clock)
    rng = random.Random(operation)
    leave = client_clock.now
    arrivals = []
    for _ in range(200):
        leave = max(leave, client_clock.now + client.reserve())  # when the request may leave
        arrivals.append(leave + rng.uniform(0, 0.9 / rate))  # network delay differs per request
    for arrival in sorted(arrivals):
        server_clock.now = arrival
        assert server.reserve() == 0.0, "Amazon would answer 429"


def test_backoff_is_exponential_bounded_and_jittered():
    policy = RetryPolicy(tries=10, base_delay=1.0, max_delay=30.0)
    rng = random.Random(3)
    delays = [policy.delay(n, rng) for n in range(10)]
    for n, delay in enumerate(delays):
        step = min(30.0, 2.0**n)
        assert step / 2 <= delay <= step
    assert len({round(policy.delay(4, random.Random(s)), 6) for s in range(5)}) > 1
