"""Robustness of the SP-API sync against the loopback sandbox: a ``fba-jp sync`` killed with SIGKILL
half-way, and payloads that break the SP-API model (missing keys, wrong types, unknown enums)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from sp_api.auth.access_token_client import cache as token_cache

import fba_jp.sync
from fba_jp.app import App
from fba_jp.demo import demo_credentials, loopback_without_proxy, write_demo_config
from fba_jp.rates import import_rates_csv
from fba_jp.sandbox import Faults, Sandbox
from fba_jp.spapi import RetryPolicy, SpApi
from fba_jp.store import Store
from fba_jp.sync import sync_accounts

FAST_RETRY = {"retry": RetryPolicy(tries=3, base_delay=0.001, max_delay=0.01)}
FAST = {**FAST_RETRY, "rate_scale": 50}


@pytest.fixture(autouse=True)
def clean_token_cache():
    token_cache.clear()
    yield
    token_cache.clear()




def stored(db, seller):
    plans = [r[0] for r in db.execute("select inbound_plan_id from spapi_plans where account = ?", [seller])]
    shipments = [r[0] for r in db.execute("select spapi_shipment_id from spapi_shipments where account = ?", [seller])]
    rows = db.execute("select shipment_id from shipments where account = ?", [seller]).fetchall()
    lines = db.execute(
        "select i.shipment_id, i.msku, i.quantity from items i join shipments s using (shipment_id) where s.account = ?",
        [seller],
    ).fetchall()
    return plans, shipments, rows, lines


def count_plans(db_path):
    try:
        conn = sqlite3.connect(db_path, timeout=5)
        try:
            return conn.execute("select count(*) from spapi_plans where error is null").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created or not migrated yet
        return 0


def test_a_sync_killed_with_sigkill_mid_way_resumes_with_no_duplicate_and_no_missing_row(tmp_path, monkeypatch):
    # latency and the production rate limits (getInboundPlan: burst 6, then 2 a second) keep the
    # subprocess busy long enough to be killed between commits of its plans
    sandbox = Sandbox(faults=Faults(latency=0.02), seed=3)
    sandbox.add_synthetic_plans("maple", 10)
    total = len(sandbox.plans("maple"))
    with sandbox:
        config = write_demo_config(tmp_path, sandbox)
        credentials = demo_credentials(sandbox)
        env = {**os.environ, **credentials, **loopback_without_proxy()}
        env.pop("SP_API_DEFAULT_MARKETPLACE", None)
        db = tmp_path / "killed.db"
        process = subprocess.Popen(
            [sys.executable, "-m", "fba_jp", "sync", "--account", "maple", "--config", str(config), "--db", str(db),
             "--lookback-days", "3650"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while count_plans(db) < 3 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        at_kill = count_plans(db)
        assert 3 <= at_kill < total, "the kill did not land mid-way"

        with Store(db) as store:
            assert store.db.execute("pragma integrity_check").fetchone()[0] == "ok"
            # the killed run had no chance to record its end; the next run is not confused by it
            assert [r["outcome"] for r in store.db["sync_runs"].rows] == ["running"]

        for name, value in credentials.items():
            monkeypatch.setenv(name, value)
        app = App(str(config), str(db))
        time.sleep(0.1)  # a request the killed process had in flight is counted after its latency
        before = Counter(sandbox.calls)
        [report] = sync_accounts(app, ["maple"], lookback_days=3650, api_options=FAST)
        assert report.outcome == "ok" and report.plans == total - at_kill
        # resumed where it stopped: plans committed before the kill are not fetched again
        assert (sandbox.calls - before)["getInboundPlan"] == total - at_kill

        plans, shipments, lines = sandbox.expected_sync("maple")
        got_plans, got_shipments, got_rows, got_lines = stored(app.store.db, "maple")
        assert sorted(got_plans) == sorted(plans) and len(got_plans) == total
        assert sorted(got_shipments) == sorted(shipments)
        assert len(got_rows) == len({r[0] for r in got_rows}) == len(shipments)
        assert len(got_lines) == len({(s, m) for s, m, _ in got_lines})  # no line twice
        assert {(s, m): q for s, m, q in got_lines} == dict(lines)
        assert app.store.db.execute("pragma integrity_check").fetchone()[0] == "ok"
        # the killed run is recorded as interrupted, not left "running" forever
        assert [r["outcome"] for r in app.store.db["sync_runs"].rows] == ["interrupted", "ok"]
        app.store.close()


# --------------------------------------------------------------------------- payloads off the model


class Replace:
    def __init__(self, value):
        self.value = value


class MangledSandbox(Sandbox):
    """The sandbox with one operation's 200 answers changed on the way out: ``mangle(body)`` edits the
    decoded body in place, or returns ``Replace(value)`` to send another JSON value instead."""

    def __init__(self, operation, mangle, **kwargs):
        super().__init__(**kwargs)
        self.operation, self.mangle = operation, mangle
        del self.plans("hinode")[1:]  # one plan, one shipment: every case below is about that one

    def handle(self, method, path, query, headers, body):
        status, response_headers, payload = super().handle(method, path, query, headers, body)
        route = self._route(method, path)
        if status == 200 and route and route[0] == self.operation:
            document = json.loads(payload)
            replaced = self.mangle(document)
            payload = json.dumps(replaced.value if isinstance(replaced, Replace) else document).encode()
        return status, response_headers, payload


def first_item(key, value):
    def mangle(body):
        body["items"][0][key] = value
    return mangle


def drop(key, where=lambda body: body):
    def mangle(body):
        del where(body)[key]
    return mangle


def put(key, value, where=lambda body: body):
    def mangle(body):
        where(body)[key] = value
    return mangle


def on_first_plan(change):
    def mangle(body):
        if body["inboundPlans"]:  # SHIPPED and VOIDED list nothing
            change(body["inboundPlans"][0])
    return mangle


# (case, operation, mangle, expected: (kind, text))
#   input_invalid: the shipment is blocked with INPUT_INVALID naming the field
#   refused: the plan is recorded with the problem, its shipments not stored; the rest of the run goes on
#   skipped: the plan summary is passed with an error, nothing stored
#   screened: tolerated, the shipment is screened as usual
#   failed: the account's run fails with a one-line message (nothing can be listed)
CASES = [
    ("item without msku", "listShipmentItems", drop("msku", lambda b: b["items"][0]), ("input_invalid", "items[0].msku")),
    ("quantity a string", "listShipmentItems", first_item("quantity", "12"), ("input_invalid", "items[0].quantity")),
    ("negative quantity", "listShipmentItems", first_item("quantity", -3), ("input_invalid", "(got -3)")),
    ("fractional quantity", "listShipmentItems", first_item("quantity", 2.5), ("input_invalid", "(got 2.5)")),
    ("msku a number", "listShipmentItems", first_item("msku", 42), ("input_invalid", "items[0].msku")),
    ("asin a number", "listShipmentItems", first_item("asin", 7), ("input_invalid", "items[0].asin")),
    ("item line null", "listShipmentItems", lambda b: b["items"].append(None), ("input_invalid", "items[2]: not an item")),
    ("items not a list", "listShipmentItems", put("items", {"msku": "x"}), ("refused", "items is not a list")),
    ("shipment status not in the enum", "getShipment", put("status", "TELEPORTED"), ("screened", "TELEPORTED")),
    ("shipment status an object", "getShipment", put("status", {"code": 1}), ("refused", "status is not a string")),
    ("confirmation id a number", "getShipment", put("shipmentConfirmationId", 12345),
     ("refused", "shipmentConfirmationId is not a string")),
    ("shipment id of another shipment", "getShipment", put("shipmentId", "shOTHER"), ("refused", "shipmentId is 'shOTHER'")),
    ("dates a string", "getShipment", put("dates", "soon"), ("screened", None)),
    ("ready-to-ship start a number", "getShipment", put("dates", {"readyToShipWindow": {"start": 5}}), ("screened", None)),
    ("plan without shipments", "getInboundPlan", drop("shipments"), ("no_shipments", None)),
    ("shipments not a list", "getInboundPlan", put("shipments", "sh1"), ("refused", "shipments is not a list")),
    ("shipment summary without id", "getInboundPlan", drop("shipmentId", lambda b: b["shipments"][0]),
     ("refused", "shipments[0] is not a {shipmentId, status} summary")),
    ("plan id of another plan", "getInboundPlan", put("inboundPlanId", "wfOTHER"), ("refused", "inboundPlanId is 'wfOTHER'")),
    ("plan items not a list", "listInboundPlanItems", put("items", None), ("refused", "items is not a list")),
    ("catalog item off the model", "getCatalogItem",
     lambda b: b.update(summaries="x", productTypes={"productType": 1}), ("screened", None)),
    ("plan summary without lastUpdatedAt", "listInboundPlans", on_first_plan(lambda p: p.pop("lastUpdatedAt")),
     ("skipped", "lastUpdatedAt is not a date-time")),
    ("plan summary lastUpdatedAt garbage", "listInboundPlans", on_first_plan(lambda p: p.update(lastUpdatedAt="yesterday")),
     ("skipped", "(got 'yesterday')")),
    ("plan summary not an object", "listInboundPlans", lambda b: b.update(inboundPlans=["wf1"]),
     ("skipped", "a plan summary without an inboundPlanId")),
    ("plan list not a list", "listInboundPlans", put("inboundPlans", {"wf1": {}}), ("failed", "inboundPlans is not a list")),
    # python-amazon-sp-api itself crashes on a JSON body that is not an object
    ("plan body a JSON list", "getInboundPlan", lambda b: Replace([1, 2]), ("failed", "body is not a JSON object")),
    ("items body a JSON string", "listShipmentItems", lambda b: Replace("items"), ("failed", "body is not a JSON object")),
]


@pytest.mark.parametrize("operation, mangle, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_payloads_off_the_model_never_crash_the_sync_or_the_screening(operation, mangle, expected, tmp_path, monkeypatch,
                                                                      run_cli):
    kind, text = expected
    # a payload that never gets better is retried: quickly here
    monkeypatch.setattr(fba_jp.sync, "make_api", lambda account, **options: SpApi(account, **{**options, **FAST_RETRY}))
    with MangledSandbox(operation, mangle, seed=2) as sandbox:
        config = write_demo_config(tmp_path, sandbox)
        for name, value in demo_credentials(sandbox).items():
            monkeypatch.setenv(name, value)
        db = tmp_path / "mangled.db"
        with Store(db) as store:
            import_rates_csv(store, tmp_path / "demo_rates.csv")
        # the real command line, as a seller runs it: sync, screen, act, print JSON
        result = run_cli("--debug", "run", "--account", "hinode", "--config", config, "--db", db,
                         "--lookback-days", "3650", "--output", "json")
        assert sandbox.calls[operation] >= 1, "the mangled operation was never called"
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output
    assert result.exit_code == (3 if kind in ("input_invalid", "failed") else 0), result.stderr
    results = json.loads(result.stdout)["results"]
    with Store(db) as store:
        assert store.db.execute("pragma integrity_check").fetchone()[0] == "ok"
        [run] = store.db["sync_runs"].rows
        plans = list(store.db["spapi_plans"].rows)
        shipments = list(store.db["spapi_shipments"].rows)
    if kind == "input_invalid":
        [blocked] = results
        assert blocked["verdict"] == "blocked" and [f["code"] for f in blocked["findings"]] == ["INPUT_INVALID"]
        assert text in blocked["findings"][0]["message"] and "Seller Central" in blocked["findings"][0]["remedy"]
        assert run["outcome"] == "ok"
    elif kind == "refused":
        [plan] = plans
        assert text in plan["error"] and "MalformedPayload" in plan["error"]
        assert shipments == [] and results == []
        assert run["outcome"] == "partial" and text in result.stderr  # said on the console too
    elif kind == "skipped":
        assert plans == [] and results == []
        assert run["outcome"] == "partial" and text in run["message"] and text in result.stderr
    elif kind == "failed":
        assert run["outcome"] == "failed" and text in run["message"]
        assert [line for line in result.stderr.splitlines() if text in line] == [f"fba-jp: {run['message']}"]
    elif kind == "no_shipments":
        [plan] = plans
        assert plan["error"] is None and shipments == [] and results == [] and run["outcome"] == "ok"
    else:  # screened as usual
        [cleared] = results
        assert cleared["verdict"] == "cleared" and run["outcome"] == "ok"
        if text:
            assert shipments[0]["status"] == text
