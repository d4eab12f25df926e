"""Incremental sync (fba_jp/sync.py) against a respx-mocked Fulfillment Inbound API: pagination,
the watermark, refused plans, resuming a killed sync, and shipments that cannot form a declaration."""

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
import respx
from sp_api.auth.access_token_client import cache as token_cache

from fba_jp.app import App
from fba_jp.spapi import RetryPolicy, SpApi
from fba_jp.store import Store
from fba_jp.sync import screen_synced, sync_account

ENDPOINT = "https://sp.test"
TOKEN_URL = "https://lwa.test/auth/o2/token"
BASE = ENDPOINT + "/inbound/fba/2024-03-20"
JP = "A1VC38T7YXB528"
ADDRESS = {"name": "Unit Seller", "addressLine1": "1 Main St", "city": "Tacoma", "countryCode": "US", "postalCode": "98421"}

CONFIG = """
[[accounts]]
name = "unit"
refresh_token = "env:T_REFRESH"
lwa_app_id = "env:T_APP"
lwa_client_secret = "env:T_SECRET"
endpoint = "https://sp.test"
token_url = "https://lwa.test/auth/o2/token"
seller = { name = "Unit Seller LLC", country = "US", japan_resident = false }
importer_of_record = { name = "Unit Seller LLC" }
acp = { name = "Example ACP K.K.", status = "registered", accepted_on = 2026-01-05 }
products = "products.csv"
currency = "USD"
"""
PRODUCTS = """msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories
TENT-2P,Two-person tent,6306.22,38.50,USD,CN,4.5,
MUG-1,Enamel camping mug,7323.94,3.10,USD,CN,0,
"""


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    token_cache.clear()
    monkeypatch.setenv("T_REFRESH", "Atzr|sync-unit")
    monkeypatch.setenv("T_APP", "amzn1.application-oa2-client.unit")
    monkeypatch.setenv("T_SECRET", "sync-unit-secret")
    yield
    token_cache.clear()


def stamp(minute: int) -> str:
    return f"2026-11-{1 + minute // 1440:02d}T{(minute // 60) % 24:02d}:{minute % 60:02d}:00Z"


class FakeInbound:
    """Just enough of Fulfillment Inbound 2024-03-20 (and an empty catalog), with injectable faults."""

    def __init__(self, mock):
        self.plans: dict[str, dict] = {}
        self.calls: Counter[str] = Counter()
        self.requests: list[httpx.Request] = []
        self.faults: dict[tuple[str, str], object] = {}  # (operation, id) → response or exception, every time
        mock.post(TOKEN_URL).respond(200, json={"access_token": "Atza|unit", "expires_in": 3600})
        mock.get(BASE + "/inboundPlans").mock(side_effect=self.list_plans)
        mock.get(path__regex=r"/inboundPlans/(?P<plan>[\w-]+)$").mock(side_effect=self.get_plan)
        mock.get(path__regex=r"/inboundPlans/(?P<plan>[\w-]+)/items$").mock(side_effect=self.plan_items)
        mock.get(path__regex=r"/shipments/(?P<sid>[\w-]+)$").mock(side_effect=self.get_shipment)
        mock.get(path__regex=r"/shipments/(?P<sid>[\w-]+)/items$").mock(side_effect=self.shipment_items)
        mock.get(path__regex=r"/shipments/(?P<sid>[\w-]+)/boxes$").mock(side_effect=self.shipment_boxes)
        mock.get(path__regex=r"/catalog/2022-04-01/items/").mock(side_effect=self.catalog)

    def add(self, n, minute=0, status="ACTIVE", items=(("TENT-2P", 10),), confirmation=True, shipment_status="WORKING",
            at=None):
        plan_id, sid = f"wf-unit-{n:04d}", f"sh-unit-{n:04d}"
        shipment = {"shipmentId": sid, "placementOptionId": "pl1", "status": shipment_status,
                    "source": {"sourceType": "SELLER_FACILITY", "address": ADDRESS},
                    "destination": {"destinationType": "AMAZON_OPTIMIZED", "warehouseId": "NRT5"},
                    "dates": {"readyToShipWindow": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-01T23:00:00Z"}}}
        if confirmation:
            shipment["shipmentConfirmationId"] = f"FBA15U{n:06d}"
        rows = [{"msku": m, "asin": f"B0{m[:4]}0000", "fnsku": "X001", "quantity": q, "labelOwner": "SELLER",
                 "prepInstructions": []} for m, q in items]
        self.plans[plan_id] = {
            "plan": {"inboundPlanId": plan_id, "name": f"plan {n}", "status": status, "marketplaceIds": [JP],
                     "sourceAddress": ADDRESS, "createdAt": stamp(0), "lastUpdatedAt": at or stamp(minute)},
            "items": rows,
            "shipments": {sid: (shipment, rows)},
        }
        return plan_id

    def touch(self, plan_id, minute):
        self.plans[plan_id]["plan"]["lastUpdatedAt"] = stamp(minute)

    def _fault(self, operation, key):
        self.calls[operation] += 1
        fault = self.faults.get((operation, key))
        if isinstance(fault, list):  # a list: these answers first, once each
            fault = fault.pop(0) if fault else None
        if isinstance(fault, BaseException):
            raise fault
        return fault

    def list_plans(self, request):
        self.requests.append(request)
        params = request.url.params
        fault = self._fault("listInboundPlans", params.get("status", ""))
        if fault:
            return fault
        assert params["sortBy"] == "LAST_UPDATED_TIME" and params["sortOrder"] == "DESC"
        size = int(params["pageSize"])
        plans = sorted((p["plan"] for p in self.plans.values() if p["plan"]["status"] == params.get("status", "ACTIVE")),
                       key=lambda p: p["lastUpdatedAt"], reverse=True)
        offset = int(params.get("paginationToken", "0"))
        body = {"inboundPlans": plans[offset:offset + size]}
        if offset + size < len(plans):
            body["pagination"] = {"nextToken": str(offset + size)}
        return httpx.Response(200, json=body)

    def get_plan(self, request, plan):
        fault = self._fault("getInboundPlan", plan)
        if fault:
            return fault
        entry = self.plans[plan]
        shipments = [{"shipmentId": sid, "status": s["status"]} for sid, (s, _) in entry["shipments"].items()]
        return httpx.Response(200, json={**entry["plan"], "shipments": shipments})

    def plan_items(self, request, plan):
        return self._fault("listInboundPlanItems", plan) or httpx.Response(200, json={"items": self.plans[plan]["items"]})

    def _shipment(self, sid):
        for entry in self.plans.values():
            if sid in entry["shipments"]:
                return entry["shipments"][sid]
        raise KeyError(sid)

    def get_shipment(self, request, sid):
        return self._fault("getShipment", sid) or httpx.Response(200, json=self._shipment(sid)[0])

    def shipment_items(self, request, sid):
        return self._fault("listShipmentItems", sid) or httpx.Response(200, json={"items": self._shipment(sid)[1]})

    def shipment_boxes(self, request, sid):
        return self._fault("listShipmentBoxes", sid) or httpx.Response(200, json={"boxes": []})

    def catalog(self, request):
        self.calls["getCatalogItem"] += 1
        return self.catalog_answer

    catalog_answer = httpx.Response(404, json={"errors": [{"code": "NOT_FOUND", "message": "no such item"}]})


@pytest.fixture
def amazon():
    with respx.mock(assert_all_called=False) as mock:
        yield FakeInbound(mock)


@pytest.fixture
def app(tmp_path):
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    app = App(str(tmp_path / "config.toml"), str(tmp_path / "fba_jp.db"))
    yield app
    app.store.close()


def sync(app, statuses=("ACTIVE",), **kwargs):
    account = app.config.accounts[0]
    api = SpApi(account, retry=RetryPolicy(tries=3, base_delay=0.001, max_delay=0.002), rate_scale=1000,
                sleep=lambda s: None, rng=random.Random(0))
    with api:
        return sync_account(app.store, account, api, statuses=statuses, **{"lookback_days": None, **kwargs})


def count(store: Store, sql: str, params=()):
    return store.db.execute(sql, params).fetchone()[0]


def watermark(store, status="ACTIVE"):
    row = store.db.execute("select watermark from sync_state where account = 'unit' and status = ?", [status]).fetchone()
    return row and row[0]


# ----- pagination and the watermark


def test_first_sync_pages_through_all_plans_and_stores_each_once(app, amazon):
    for n in range(35):
        amazon.add(n, minute=n)
    report = sync(app)
    assert report.outcome == "ok" and report.plans == 35 and report.shipments == 35 and report.items == 35
    assert amazon.calls["listInboundPlans"] == 2  # 30 + 5
    assert [r.url.params.get("paginationToken") for r in amazon.requests] == [None, "30"]
    assert count(app.store, "select count(*) from spapi_plans") == 35
    assert count(app.store, "select count(*) from shipments") == 35
    assert watermark(app.store) == stamp(34)
    run = app.store.db["sync_runs"].get(report.run_id)
    assert (run["outcome"], run["plans"], run["shipments"], run["calls"]) == ("ok", 35, 35, report.calls)
    # 2 list pages + 5 calls a plan (plan, items, shipment, items, boxes) + 1 catalog lookup for the one ASIN
    assert report.calls == 2 + 35 * 5 + 1


def test_resync_without_changes_lists_one_page_and_fetches_nothing(app, amazon):
    for n in range(35):
        amazon.add(n, minute=n)
    sync(app)
    before = Counter(amazon.calls)
    report = sync(app)
    assert report.plans == 0 and report.calls == 1
    assert amazon.calls - before == Counter({"listInboundPlans": 1})


def test_resync_stops_paging_at_the_watermark_and_fetches_only_changed_plans(app, amazon):
    ids = [amazon.add(n, minute=n) for n in range(35)]
    sync(app)
    amazon.touch(ids[2], minute=100)  # was on page 2; now the newest
    amazon.touch(ids[30], minute=101)
    amazon.requests.clear()
    before = Counter(amazon.calls)
    report = sync(app)
    assert report.plans == 2
    assert [r.url.params.get("paginationToken") for r in amazon.requests] == [None]  # page 2 never asked for
    assert (amazon.calls - before)["getInboundPlan"] == 2
    assert watermark(app.store) == stamp(101)
    assert count(app.store, "select count(*) from spapi_plans") == 35


def test_statuses_are_queried_separately_and_each_has_its_own_watermark(app, amazon):
    amazon.add(1, minute=5, status="ACTIVE")
    amazon.add(2, minute=9, status="SHIPPED", shipment_status="IN_TRANSIT")
    report = sync(app, statuses=("ACTIVE", "SHIPPED"))
    assert report.plans == 2
    assert [r.url.params["status"] for r in amazon.requests] == ["ACTIVE", "SHIPPED"]
    assert (watermark(app.store, "ACTIVE"), watermark(app.store, "SHIPPED")) == (stamp(5), stamp(9))


def test_first_sync_lookback_ignores_plans_not_changed_for_long(app, amazon):
    now = datetime.now(timezone.utc)
    recent = amazon.add(1, at=(now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    amazon.add(2, at=(now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    amazon.add(3, at=(now - timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    report = sync(app, lookback_days=90)
    assert report.plans == 1 and [r["inbound_plan_id"] for r in app.store.db["spapi_plans"].rows] == [recent]


# ----- faults


def test_a_plan_refused_with_400_is_recorded_and_skipped(app, amazon):
    ids = [amazon.add(n, minute=n) for n in range(3)]
    amazon.faults[("getInboundPlan", ids[1])] = httpx.Response(
        400, json={"errors": [{"code": "BadRequest", "message": "AWD inbound plans are not supported"}]})
    report = sync(app)
    assert report.outcome == "partial" and report.plans == 2 and len(report.errors) == 1
    assert ids[1] in report.errors[0] and "AWD inbound plans are not supported" in report.errors[0]
    assert amazon.calls["getInboundPlan"] == 3  # a 400 is not retried
    run = app.store.db["sync_runs"].get(report.run_id)
    assert run["errors"] == 1 and run["outcome"] == "partial"
    refused = app.store.db["spapi_plans"].get(ids[1])
    assert "HTTP 400" in refused["error"] and refused["plan"] is None
    assert watermark(app.store) == stamp(2)  # passed, not a wall
    before = Counter(amazon.calls)
    assert sync(app).plans == 0 and amazon.calls - before == Counter({"listInboundPlans": 1})
    amazon.touch(ids[1], minute=50)  # it changed: try again
    del amazon.faults[("getInboundPlan", ids[1])]
    assert sync(app).plans == 1 and app.store.db["spapi_plans"].get(ids[1])["error"] is None


def test_boxes_amazon_refuses_cost_the_freight_not_the_plan(app, amazon):
    ids = [amazon.add(n, minute=n) for n in range(2)]
    amazon.faults[("listShipmentBoxes", "sh-unit-0001")] = httpx.Response(
        400, json={"errors": [{"code": "BadRequest", "message": "Packing information is not available"}]})
    report = sync(app)
    assert report.outcome == "ok" and report.plans == 2 and amazon.calls["listShipmentBoxes"] == 2
    refused = app.store.db["spapi_shipments"].get("sh-unit-0001")
    assert refused["boxes"] is None and "Packing information is not available" in refused["boxes_error"]
    assert app.store.db["spapi_shipments"].get("sh-unit-0000")["boxes"] == "[]"
    app.store.import_rates([(date(2026, 11, 29), "USD", Decimal("150"))], source="test")
    results = {r.shipment_id: r for r in screen_synced(app).results}
    for shipment_id in ("FBA15U000000", "FBA15U000001"):  # neither shipment is valued as if freight cost nothing
        [unknown] = [f for f in results[shipment_id].findings if f.code == "VAL_FREIGHT_UNKNOWN"]
        assert unknown.severity == "warn" and "[accounts.freight] is not set" in unknown.message
        assert not results[shipment_id].valuation.complete
    assert ids[1] in json.loads(app.store.latest_declaration(app.store.db["shipments"].get("FBA15U000001")))["inbound_plan_id"]


@pytest.mark.parametrize("kill", [KeyboardInterrupt(), httpx.Response(503, text="<html>down</html>")],
                         ids=["interrupted", "503-until-retries-run-out"])
def test_a_sync_killed_half_way_resumes_without_duplicates_or_gaps(app, amazon, kill):
    ids = [amazon.add(n, minute=n, items=(("TENT-2P", 10), ("MUG-1", 4))) for n in range(5)]
    amazon.faults[("getShipment", "sh-unit-0002")] = kill
    if isinstance(kill, BaseException):
        with pytest.raises(KeyboardInterrupt):
            sync(app)
        run = app.store.db.execute("select * from sync_runs order by id desc limit 1").fetchone()
        assert "interrupted" in run
    else:
        report = sync(app)
        assert report.outcome == "failed" and "getShipment" in report.message
    # oldest first: plans 0 and 1 are in, with the watermark at plan 1; nothing of plan 2 is stored
    assert sorted(r["inbound_plan_id"] for r in app.store.db["spapi_plans"].rows) == ids[:2]
    assert watermark(app.store) == stamp(1)
    assert count(app.store, "select count(*) from items") == 4
    del amazon.faults[("getShipment", "sh-unit-0002")]
    before = Counter(amazon.calls)
    report = sync(app)
    assert report.outcome == "ok" and report.plans == 3
    assert (amazon.calls - before)["getInboundPlan"] == 3  # only the plans not yet stored
    assert sorted(r["inbound_plan_id"] for r in app.store.db["spapi_plans"].rows) == ids
    assert count(app.store, "select count(*) from shipments") == 5
    assert count(app.store, "select count(*) from items") == 10
    assert count(app.store, "select count(*) from (select shipment_id, msku from items group by 1, 2 having count(*) > 1)") == 0
    assert watermark(app.store) == stamp(4)


def test_empty_bodied_429s_on_the_plan_list_are_retried(app, amazon):
    amazon.add(1, minute=1)
    amazon.faults[("listInboundPlans", "ACTIVE")] = [httpx.Response(429), httpx.Response(429)]
    report = sync(app)
    assert report.outcome == "ok" and report.plans == 1 and report.throttled == 2
    assert amazon.calls["listInboundPlans"] == 3


def test_a_catalog_the_app_may_not_read_does_not_stop_the_sync(app, amazon):
    for n in range(3):
        amazon.add(n, minute=n, items=(("TENT-2P", 1), ("MUG-1", 2)))
    amazon.catalog_answer = httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "Access denied"}]})
    report = sync(app)
    assert report.plans == 3 and report.outcome == "partial" and amazon.calls["getCatalogItem"] == 1
    assert "catalog lookups skipped" in report.errors[0] and "403" in report.errors[0]
    results = screen_synced(app).results  # screened without catalog data
    assert len(results) == 3 and not any(f.code == "INPUT_INVALID" for r in results for f in r.findings)


# ----- shipments, done statuses, renamed ids


def test_done_shipments_are_not_fetched_and_not_screened(app, amazon):
    plan_id = amazon.add(1, minute=1, shipment_status="CANCELLED")
    report = sync(app)
    assert report.plans == 1 and report.shipments == 0 and amazon.calls["getShipment"] == 0
    assert screen_synced(app).results == []
    assert app.store.db["spapi_plans"].get(plan_id)["status"] == "ACTIVE"


def test_a_voided_plan_retires_its_shipments_without_fetching_it(app, amazon):
    kept = amazon.add(1, minute=1)
    voided = amazon.add(2, minute=2)
    sync(app, statuses=("ACTIVE", "VOIDED"))
    assert len(screen_synced(app).results) == 2
    amazon.plans[voided]["plan"].update(status="VOIDED")
    amazon.touch(voided, minute=30)
    amazon.add(3, minute=40, status="VOIDED")  # voided before we ever saw it: ignored
    before = Counter(amazon.calls)
    report = sync(app, statuses=("ACTIVE", "VOIDED"))
    assert amazon.calls - before == Counter({"listInboundPlans": 2}) and report.plans == 0
    assert app.store.db["spapi_plans"].get(voided)["status"] == "VOIDED"
    assert app.store.db["shipments"].get("FBA15U000002")["status"] == "PLAN_VOIDED"
    assert [r.inbound_plan_id for r in screen_synced(app).results] == [kept]
    assert count(app.store, "select count(*) from spapi_plans") == 2 and watermark(app.store, "VOIDED") == stamp(40)


def test_confirmation_id_assigned_later_moves_the_shipment_and_aliases_its_history(app, amazon):
    plan_id = amazon.add(7, minute=1, confirmation=False)
    sync(app)
    first = screen_synced(app).results
    assert [r.shipment_id for r in first] == ["sh-unit-0007"]
    shipment, _ = amazon.plans[plan_id]["shipments"]["sh-unit-0007"]
    shipment["shipmentConfirmationId"] = "FBA15LATE001"
    amazon.touch(plan_id, minute=9)
    sync(app)
    second = screen_synced(app).results
    assert [r.shipment_id for r in second] == ["FBA15LATE001"]
    assert count(app.store, "select count(*) from shipments where shipment_id = 'sh-unit-0007'") == 0
    assert count(app.store, "select count(*) from items where shipment_id = 'FBA15LATE001'") == 1
    # history is append-only: the first screening keeps the id it was written under, found through the alias
    assert count(app.store, "select count(*) from screenings where shipment_id = 'sh-unit-0007'") == 1
    assert count(app.store, "select count(*) from screenings where shipment_id = 'FBA15LATE001'") == 1
    assert app.store.shipment_ids("FBA15LATE001") == ["FBA15LATE001", "sh-unit-0007"]
    assert app.store.resolve("sh-unit-0007") == "FBA15LATE001"
    assert app.store.latest_screening("sh-unit-0007")["id"] == second[0].screening_id
    # the dashboard's history of the shipment shows both screenings, each under the id it was written under
    from fba_jp.web.queries import history

    assert [h["shipment_id"] for h in history(app.store, "FBA15LATE001")] == ["FBA15LATE001", "sh-unit-0007"]


# ----- declarations from synced data


def test_synced_shipment_becomes_a_declaration_from_profile_and_product_master(app, amazon):
    amazon.add(3, minute=3, items=(("TENT-2P", 10), ("TENT-2P", 5), ("MUG-1", 8)))
    sync(app)
    [result] = screen_synced(app).results
    assert result.shipment_id == "FBA15U000003" and result.account == "unit"
    declaration = json.loads(app.store.latest_declaration(app.store.db["shipments"].get("FBA15U000003")))
    assert declaration["importer_of_record"]["name"] == "Unit Seller LLC"
    assert declaration["acp"]["name"] == "Example ACP K.K." and declaration["currency"] == "USD"
    assert declaration["export_date"] == "2026-12-01" and declaration["inbound_plan_id"] == "wf-unit-0003"
    tent = next(i for i in declaration["items"] if i["msku"] == "TENT-2P")
    assert tent["quantity"] == 15 and tent["hs_code"] == "6306.22" and tent["unit_value"] == "38.50"
    assert tent["duty_rate"] == "4.5" and tent["origin_country"] == "CN"


@pytest.mark.parametrize(
    "products, wanted",
    [
        ("msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories\nMUG-1,Mug,7323.94,3.10,USD,CN,0,\n",
         "msku 'TENT-2P' is not in the product master products.csv"),
        ("msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories\nTENT-2P,Tent,6306.22,,USD,CN,4.5,\n",
         "no value for 'TENT-2P' in products.csv:2"),
        ("msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories\nTENT-2P,Tent,63X6,38.50,USD,CN,4.5,\n",
         "products.csv:2: hs_code: must be an HS code"),
        ("msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories\nTENT-2P,Tent,6306.22,38.50,EUR,CN,4.5,\n",
         "priced in EUR but account 'unit' declares in USD"),
    ],
    ids=["unknown-msku", "no-value", "bad-row", "currency"],
)
def test_a_shipment_that_cannot_form_a_declaration_is_stored_as_input_invalid(app, amazon, tmp_path, products, wanted):
    (tmp_path / "products.csv").write_text(products, encoding="utf-8")
    amazon.add(4, minute=4)
    sync(app)
    report = screen_synced(app)
    [result] = report.results
    assert result.verdict == "blocked" and [f.code for f in result.findings] == ["INPUT_INVALID"]
    assert wanted in result.findings[0].message
    row = app.store.db["shipments"].get("FBA15U000004")
    assert row["latest_verdict"] == "blocked" and app.store.latest_declaration(row) is None
    assert count(app.store, "select count(*) from findings where code = 'INPUT_INVALID'") == 1
    # unchanged input: not screened again; a fixed product master: screened again, now valid
    assert screen_synced(app).screened == 0
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    again = screen_synced(app)
    assert again.screened == 1 and "INPUT_INVALID" not in [f.code for f in again.results[0].findings]


# ----- what a screening reads besides its declaration

def test_an_acp_revoked_in_the_registry_or_a_waiver_reaches_the_next_run_without_all(tmp_path, amazon):
    """An ACP firm revokes an ACP record: the next `fba-jp run` (and the daemon) must block the shipments
    naming it, though their declarations did not change; a stored "annotated" must not outlive its ACP."""
    from fba_jp.models import Acp

    (tmp_path / "config.toml").write_text(CONFIG.replace(
        'acp = { name = "Example ACP K.K.", status = "registered", accepted_on = 2026-01-05 }', 'acp_id = "sakura"'))
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    app = App(str(tmp_path / "config.toml"), str(tmp_path / "fba_jp.db"))
    app.store.add_acp("sakura", Acp(name="Sakura Customs Advisory K.K.", status="registered",
                                    accepted_on=date(2026, 9, 15)), ["Unit Seller LLC"])
    app.store.import_rates([(date(2026, 11, 29) + timedelta(weeks=n), "USD", Decimal("150.25")) for n in range(4)], "test")
    amazon.add(1)
    sync(app)
    [first] = screen_synced(app).results
    assert first.verdict == "annotated" and "ACP_REGISTERED" in [f.code for f in first.findings]
    assert screen_synced(app).screened == 0  # nothing changed: no new screening row

    app.store.set_acp_status("sakura", "revoked", note="dismissed")
    revoked = screen_synced(app)
    assert revoked.screened == 1 and revoked.results[0].verdict == "blocked"
    assert "ACP_REVOKED" in [f.code for f in revoked.results[0].findings]
    assert screen_synced(app).screened == 0

    app.store.add_waiver("FBA15U000001", "ACP_REVOKED", "new ACP notified, accepted by phone", "kenji", None)
    [waived] = screen_synced(app).results
    assert waived.verdict == "annotated" and [f.waived for f in waived.findings if f.code == "ACP_REVOKED"] == [True]
    assert count(app.store, "select count(*) from screenings") == 3
    app.store.close()


@pytest.mark.parametrize("contents", [5, "TENT-2P x10", {"msku": "TENT-2P", "quantity": 10}], ids=["int", "text", "object"])
def test_box_contents_off_the_model_block_the_shipment_instead_of_crashing_or_reading_as_empty(app, amazon, contents):
    amazon.add(5, minute=5)
    box = {"packageId": "pk1", "boxId": "FBA15U000005U000001", "items": contents,
           "weight": {"value": 12, "unit": "KG"}, "dimensions": {"length": 40, "width": 30, "height": 30,
                                                               "unitOfMeasurement": "CM"}}
    amazon.faults[("listShipmentBoxes", "sh-unit-0005")] = httpx.Response(200, json={"boxes": [box]})
    assert sync(app).outcome == "ok"
    [result] = screen_synced(app).results
    assert result.verdict == "blocked" and [f.code for f in result.findings] == ["INPUT_INVALID"]
    assert "boxes[0].items: not a list of items in the SP-API data" in result.findings[0].message


def test_a_plan_split_across_fcs_is_declared_per_shipment_with_its_own_items_and_cancelled_ones_are_not(app, amazon):
    plan_id = amazon.add(6, minute=6, items=(("TENT-2P", 10),))
    entry = amazon.plans[plan_id]
    entry["items"] = [{"msku": "TENT-2P", "quantity": 15}, {"msku": "MUG-1", "quantity": 8}]  # the plan's, all FCs
    first, _ = entry["shipments"]["sh-unit-0006"]
    for sid, confirmation, fc, status, lines in (("sh-unit-0106", "FBA15U000106", "KIX4", "WORKING", (("TENT-2P", 5), ("MUG-1", 8))),
                                                 ("sh-unit-0206", "FBA15U000206", "FSZ1", "CANCELLED", (("MUG-1", 99),))):
        shipment = {**first, "shipmentId": sid, "shipmentConfirmationId": confirmation, "status": status,
                    "destination": {"destinationType": "AMAZON_WAREHOUSE", "warehouseId": fc}}
        entry["shipments"][sid] = (shipment, [{"msku": m, "asin": "B0TEST0000", "fnsku": "X001", "quantity": q,
                                               "labelOwner": "SELLER", "prepInstructions": []} for m, q in lines])
    sync(app)
    results = {r.shipment_id: r for r in screen_synced(app).results}
    assert sorted(results) == ["FBA15U000006", "FBA15U000106"]  # the cancelled one is not screened as live
    declared = {sid: json.loads(app.store.latest_declaration(app.store.db["shipments"].get(sid))) for sid in results}
    assert {i["msku"]: i["quantity"] for i in declared["FBA15U000006"]["items"]} == {"TENT-2P": 10}
    assert {i["msku"]: i["quantity"] for i in declared["FBA15U000106"]["items"]} == {"TENT-2P": 5, "MUG-1": 8}
    assert declared["FBA15U000106"]["delivery_address"]["fc_code"] == "KIX4"
    assert all(d["inbound_plan_id"] == plan_id for d in declared.values())
