"""Every payload the sandbox serves validates against the official SP-API models (copied into
tests/spapi_models/ so this runs without the shared research folder)."""

import json
from datetime import datetime
from pathlib import Path

import httpx
import jsonschema
import pytest

from fba_jp.sandbox import Faults, Sandbox

MODELS = Path(__file__).parent / "spapi_models"
INBOUND = "/inbound/fba/2024-03-20"


def validator(model_file: str, definition: str) -> jsonschema.Draft4Validator:
    """A validator for ``#/definitions/<definition>`` of a Swagger 2.0 model (its refs resolved in the same file)."""
    model = json.loads((MODELS / model_file).read_text(encoding="utf-8"))
    schema = {"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]}
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value):  # the stock checker needs an optional package; do it ourselves
        return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo)

    @checker.checks("date", raises=ValueError)
    def _date(value):
        return not isinstance(value, str) or bool(datetime.strptime(value, "%Y-%m-%d"))

    return jsonschema.Draft4Validator(schema, format_checker=checker)


def inbound(definition):
    return validator("fulfillmentInbound_2024-03-20.json", definition)


def check(definition_validator, payload, where):
    errors = sorted(definition_validator.iter_errors(payload), key=lambda e: list(e.path))
    assert not errors, f"{where}: " + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(faults=Faults()) as sandbox:
        yield sandbox


def client_for(sandbox, seller):
    token = httpx.post(sandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": sandbox.issue_refresh_token(seller),
        "client_id": "amzn1.application-oa2-client.test", "client_secret": "test"}).json()["access_token"]
    return httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": token})


def test_the_validator_really_rejects_a_bad_payload():
    plan = {"inboundPlanId": "wf1", "name": "x", "status": "ACTIVE", "marketplaceIds": ["A1VC38T7YXB528"],
            "createdAt": "yesterday", "lastUpdatedAt": "2026-11-01T00:00:00Z"}  # no sourceAddress, bad date
    messages = [e.message for e in inbound("InboundPlanSummary").iter_errors(plan)]
    assert any("sourceAddress" in m for m in messages) and any("date-time" in m for m in messages)


def test_every_served_payload_matches_the_models(sandbox):
    checked = {}
    for seller in sandbox.sellers():
        with client_for(sandbox, seller) as client:
            for status in ("ACTIVE", "SHIPPED", "VOIDED"):
                page = client.get(INBOUND + "/inboundPlans", params={"status": status, "pageSize": 30}).json()
                check(inbound("ListInboundPlansResponse"), page, f"{seller} listInboundPlans {status}")
                checked["ListInboundPlansResponse"] = checked.get("ListInboundPlansResponse", 0) + 1
                for summary in page["inboundPlans"]:
                    plan_id = summary["inboundPlanId"]
                    plan = client.get(f"{INBOUND}/inboundPlans/{plan_id}").json()
                    check(inbound("InboundPlan"), plan, f"getInboundPlan {plan_id}")
                    items = client.get(f"{INBOUND}/inboundPlans/{plan_id}/items", params={"pageSize": 1000}).json()
                    check(inbound("ListInboundPlanItemsResponse"), items, f"listInboundPlanItems {plan_id}")
                    boxes = client.get(f"{INBOUND}/inboundPlans/{plan_id}/boxes", params={"pageSize": 1000}).json()
                    check(inbound("ListInboundPlanBoxesResponse"), boxes, f"listInboundPlanBoxes {plan_id}")
                    for entry in plan["shipments"]:
                        base = f"{INBOUND}/inboundPlans/{plan_id}/shipments/{entry['shipmentId']}"
                        check(inbound("Shipment"), client.get(base).json(), f"getShipment {entry['shipmentId']}")
                        check(inbound("ListShipmentItemsResponse"), client.get(base + "/items").json(),
                              f"listShipmentItems {entry['shipmentId']}")
                        renamed = client.put(base + "/name", json={"name": client.get(base).json().get("name") or "x"})
                        assert (renamed.status_code, renamed.content) == (204, b"")  # the model: 204, no body
                        boxes = client.get(base + "/boxes", params={"pageSize": 5}).json()
                        check(inbound("ListShipmentBoxesResponse"), boxes, f"listShipmentBoxes {entry['shipmentId']}")
                        checked["Box"] = checked.get("Box", 0) + len(boxes["boxes"])
                        checked["Shipment"] = checked.get("Shipment", 0) + 1
    assert checked["Shipment"] == 6 and checked["ListInboundPlansResponse"] == 9
    assert checked["Box"] >= 5  # first pages of 5; paging is the client tests' business


def test_prices_and_fee_estimates_match_the_pricing_and_fees_models(sandbox):
    from fba_jp.pricing import fee_request

    pricing = validator("productPricingV0.json", "GetPricingResponse")
    estimates = validator("productFeesV0.json", "GetMyFeesEstimatesResponse")
    request_body = validator("productFeesV0.json", "GetMyFeesEstimatesRequest")
    for seller in sandbox.sellers():
        skus = sorted(sandbox.data["sellers"][seller].get("listings", {})) + ["NOT-LISTED"]
        with client_for(sandbox, seller) as client:
            prices = client.get("/products/pricing/v0/price", params={
                "MarketplaceId": "A1VC38T7YXB528", "ItemType": "Sku", "Skus": ",".join(skus)}).json()
            check(pricing, prices, f"{seller} getPricing")
            assert [p["status"] for p in prices["payload"]][-1] == "ClientError"
            body = [fee_request(sku, 1280, "A1VC38T7YXB528") for sku in skus]
            check(request_body, body, "the body fba-jp sends")  # what the client sends is the model's too
            fees = client.post("/products/fees/v0/feesEstimate", json=body).json()
            check(estimates, fees, f"{seller} getMyFeesEstimates")
            assert len(fees) == len(skus)
    listed = sandbox.data["sellers"]["hinode"]["listings"]
    assert listed["NOTEBOOK-A5"]["price"] and listed["MEMO-CUBE"]["price"] is None  # a new listing: no offer yet


def test_catalog_items_match_the_catalog_model(sandbox):
    item = validator("catalogItems_2022-04-01.json", "Item")
    with client_for(sandbox, "maple") as client:
        for asin in sandbox.data["catalog"]:
            payload = client.get(f"/catalog/2022-04-01/items/{asin}", params={
                "marketplaceIds": "A1VC38T7YXB528", "includedData": "summaries,productTypes,classifications"}).json()
            check(item, payload, f"getCatalogItem {asin}")
            assert payload["summaries"][0]["itemName"] and payload["productTypes"][0]["productType"]


def test_error_bodies_match_the_error_list_model(sandbox):
    errors = inbound("ErrorList")
    with client_for(sandbox, "maple") as client:
        missing = client.get(INBOUND + "/inboundPlans/wfdoesnotexist")
        bad_size = client.get(INBOUND + "/inboundPlans", params={"pageSize": 31})
        bad_token = client.get(INBOUND + "/inboundPlans", params={"paginationToken": "garbage"})
    assert (missing.status_code, bad_size.status_code, bad_token.status_code) == (404, 400, 400)
    for response in (missing, bad_size, bad_token):
        check(errors, response.json(), str(response.request.url))
    assert "not compatible with the provided filters" in bad_token.json()["errors"][0]["message"]


def _first_plan_and_shipment(sandbox, seller):
    entry = next(e for e in sandbox.plans(seller) if e["shipments"])
    return entry["plan"]["inboundPlanId"], entry["shipments"][0]["shipment"]["shipmentId"]


def every_operation_refused(sandbox, client, seller):
    """(operation, response, model file, error definition) for a refused request to every operation fba-jp calls."""
    plan_id, shipment_id = _first_plan_and_shipment(sandbox, seller)
    plan, shipment = f"{INBOUND}/inboundPlans/{plan_id}", f"{INBOUND}/inboundPlans/{plan_id}/shipments/{shipment_id}"
    fba = "fulfillmentInbound_2024-03-20.json"
    return [
        ("listInboundPlans", client.get(INBOUND + "/inboundPlans", params={"status": "LOST"}), fba, "ErrorList"),
        ("getInboundPlan", client.get(INBOUND + "/inboundPlans/wfdoesnotexist"), fba, "ErrorList"),
        ("listInboundPlanItems", client.get(plan + "/items", params={"pageSize": 1001}), fba, "ErrorList"),
        ("listInboundPlanBoxes", client.get(plan + "/boxes", params={"paginationToken": "garbage"}), fba, "ErrorList"),
        ("getShipment", client.get(f"{plan}/shipments/shdoesnotexist"), fba, "ErrorList"),
        ("listShipmentItems", client.get(shipment + "/items", params={"pageSize": 0}), fba, "ErrorList"),
        ("listShipmentBoxes", client.get(f"{plan}/shipments/shdoesnotexist/boxes"), fba, "ErrorList"),
        ("updateShipmentName", client.put(shipment + "/name", json={"name": ""}), fba, "ErrorList"),
        ("getCatalogItem", client.get("/catalog/2022-04-01/items/B0NOTFOUND0", params={
            "marketplaceIds": "A1VC38T7YXB528"}), "catalogItems_2022-04-01.json", "ErrorList"),
        ("getPricing", client.get("/products/pricing/v0/price", params={
            "MarketplaceId": "A1VC38T7YXB528", "ItemType": "Asin", "Asins": "B0X"}), "productPricingV0.json",
         "GetPricingResponse"),
        ("getMyFeesEstimates", client.post("/products/fees/v0/feesEstimate", json={"not": "a list"}),
         "productFeesV0.json", "GetMyFeesEstimatesErrorList"),
    ]


def test_every_operation_refuses_with_an_error_body_of_its_model(sandbox):
    statuses = {}
    with client_for(sandbox, "maple") as client:
        for operation, response, model, definition in every_operation_refused(sandbox, client, "maple"):
            statuses[operation] = response.status_code
            check(validator(model, definition), response.json(), f"{operation} HTTP {response.status_code}")
        unauthorised = httpx.get(sandbox.url + INBOUND + "/inboundPlans")  # no access token: 403
        check(inbound("ErrorList"), unauthorised.json(), "HTTP 403")
    assert set(statuses.values()) <= {400, 404} and len(statuses) == 11, statuses
    assert unauthorised.status_code == 403


def test_throttling_and_server_errors_answer_error_bodies_of_the_models():
    with Sandbox(faults=Faults(throttle_probability=1.0)) as throttled:
        with client_for(throttled, "maple") as client:
            refused = every_operation_refused(throttled, client, "maple")
    with Sandbox(faults=Faults(error_probability=1.0), seed=3) as failing:
        with client_for(failing, "maple") as client:
            failed = [r for r in every_operation_refused(failing, client, "maple") if r[1].status_code == 500]
    assert {r[1].status_code for r in refused} == {429} and failed  # (the other half: 503 with an HTML page)
    for operation, response, model, definition in refused + failed:
        check(validator(model, definition), response.json(), f"{operation} HTTP {response.status_code}")


def test_the_bundled_data_is_valid_at_rest_too():
    # what the server derives (summaries, plan.shipments) aside, the stored objects validate as they are
    data = json.loads((Path(__file__).parent.parent / "fba_jp/sandbox/data/sellers.json").read_text(encoding="utf-8"))
    for seller in data["sellers"].values():
        for entry in seller["plans"]:
            check(inbound("InboundPlan"), entry["plan"], entry["plan"]["inboundPlanId"])
            for s in entry["shipments"]:
                check(inbound("Shipment"), s["shipment"], s["shipment"]["shipmentId"])
                check(inbound("ListShipmentItemsResponse"), {"items": s["items"]}, s["shipment"]["shipmentId"])
                check(inbound("ListShipmentBoxesResponse"), {"boxes": s["boxes"]}, s["shipment"]["shipmentId"])
