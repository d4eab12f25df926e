"""SP-API sync wall time against Amazon's rate-limit floor.

    python benchmarks/bench_sync.py --plans 30
    python benchmarks/bench_sync.py --plans 30 --storm

Starts the loopback sandbox with Amazon's documented per-operation rate limits switched on at real
scale (``Faults(rate_limit=True, rate_scale=1)``), adds ``--plans`` changed plans for one seller, and
runs the real client sync (:func:`fba_jp.sync.sync_accounts`: python-amazon-sp-api, the production
limiter and retry policy, SQLite writes). Then it syncs again with nothing changed. Prints one JSON
line; exits 1 if a plan, shipment or item line was lost or duplicated.

**The floor.** Each operation has its own token bucket: ``rate`` requests a second, ``burst`` saved
up, full at the start. ``n`` calls of one operation therefore cannot finish before
``max(0, (n - burst) / rate)`` seconds: the first ``burst`` calls go at once, every further one waits
``1 / rate`` for a token. Buckets are independent, so calls to different operations could overlap and
the sync as a whole cannot beat the slowest bucket::

    floor = max over operations of max(0, (n_min(op) - burst(op)) / rate(op))

``n_min(op)`` is the fewest calls the data needs, counted from the sandbox's data (not from what the
client did): ``listInboundPlans`` one page per 30 plans per status (ACTIVE, SHIPPED, VOIDED; at least
one each); per plan not voided ``getInboundPlan`` + one ``listInboundPlanItems`` page per 1000
items; per open shipment ``getShipment`` + one ``listShipmentItems`` page per 1000 items; one
``getCatalogItem`` per distinct ASIN. Network time, retries and SQLite are not in the floor, so
``wall_s / floor_s`` is the price of everything but Amazon's limits. A no-change resync needs one
list page per status: 3 calls.

``--storm`` adds random 429s (half with an ``errors`` body, half empty) and 5xx (half 503 with an
HTML body, half 500 with errors JSON) on top of the limits, to show what retries cost and that
nothing is lost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from fba_jp.app import App
from fba_jp.demo import demo_credentials, loopback_without_proxy, write_demo_config
from fba_jp.sandbox import Faults, Sandbox
from fba_jp.spapi import INBOUND_PAGE_SIZE, ITEMS_PAGE_SIZE, RATE_LIMITS
from fba_jp.sync import DONE_STATUSES, SYNC_STATUSES, sync_accounts


def pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


def minimum_calls(sandbox: Sandbox, seller: str) -> Counter:
    """The fewest calls a first sync of ``seller`` can make, by operation (see the module docstring)."""
    calls: Counter = Counter()
    entries = sandbox.plans(seller)
    for status in SYNC_STATUSES:
        calls["listInboundPlans"] += pages(sum(e["plan"]["status"] == status for e in entries), INBOUND_PAGE_SIZE)
    asins = set()
    for entry in entries:
        if entry["plan"]["status"] == "VOIDED":
            continue
        calls["getInboundPlan"] += 1
        calls["listInboundPlanItems"] += pages(len(entry["items"]), ITEMS_PAGE_SIZE)
        asins |= {i["asin"] for i in entry["items"]}
        for s in entry["shipments"]:
            if s["shipment"]["status"] in DONE_STATUSES:
                continue
            calls["getShipment"] += 1
            calls["listShipmentItems"] += pages(len(s["items"]), ITEMS_PAGE_SIZE)
            asins |= {i["asin"] for i in s["items"]}
    calls["getCatalogItem"] = len(asins)
    return calls


def floor_seconds(calls: Counter) -> dict[str, float]:
    """Per operation: seconds its bucket needs for ``calls[op]`` calls."""
    return {op: round(max(0.0, (n - RATE_LIMITS[op][1]) / RATE_LIMITS[op][0]), 3) for op, n in calls.items()}


def losses(sandbox: Sandbox, seller: str, db) -> dict[str, int]:
    """What the database lacks (or has twice) compared with the sandbox's data for ``seller``."""
    served_plans, served_shipments, served_lines = sandbox.expected_sync(seller)
    stored_plans = [r[0] for r in db.execute(
        "select inbound_plan_id from spapi_plans where account = ? and error is null and plan is not null", [seller])]
    stored_shipments = [r[0] for r in db.execute(
        "select spapi_shipment_id from spapi_shipments where account = ?", [seller])]
    stored_lines = Counter()
    duplicate_lines = 0
    for shipment_id, msku, quantity in db.execute(
        "select i.shipment_id, i.msku, i.quantity from items i join shipments s using (shipment_id) where s.account = ?",
        [seller],
    ):
        duplicate_lines += (shipment_id, msku) in stored_lines
        stored_lines[(shipment_id, msku)] += quantity
    return {
        "plans_lost": len(served_plans - set(stored_plans)),
        "plans_duplicated": len(stored_plans) - len(set(stored_plans)),
        "shipments_lost": len(served_shipments - set(stored_shipments)),
        "shipments_duplicated": len(stored_shipments) - len(set(stored_shipments)),
        "item_lines_wrong": sum(served_lines[k] != stored_lines.get(k) for k in served_lines)
        + len(set(stored_lines) - set(served_lines)) + duplicate_lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=30, help="changed plans to add (default 30)")
    parser.add_argument("--seller", default="maple", help="sandbox seller (default maple)")
    parser.add_argument("--storm", action="store_true", help="random 429s (with and without errors body) and 5xx")
    parser.add_argument("--throttle-probability", type=float, default=0.1, help="--storm: random 429s per request")
    parser.add_argument("--error-probability", type=float, default=0.05, help="--storm: random 5xx per request")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    faults = Faults(rate_limit=True, rate_scale=1)
    if args.storm:
        faults.throttle_probability, faults.empty_429_ratio = args.throttle_probability, 0.5
        faults.error_probability = args.error_probability
    slept = [0.0]

    def sleep(seconds: float) -> None:  # limiter waits and retry backoff, to tell them from work
        slept[0] += seconds
        time.sleep(seconds)

    with tempfile.TemporaryDirectory(prefix="fba-jp-bench-sync-") as tmp, Sandbox(faults=faults, seed=args.seed) as sandbox:
        sandbox.add_synthetic_plans(args.seller, args.plans)
        os.environ.update({**demo_credentials(sandbox), **loopback_without_proxy()})
        app = App(str(write_demo_config(Path(tmp), sandbox)), str(Path(tmp) / "bench.db"))
        needed = minimum_calls(sandbox, args.seller)
        floors = floor_seconds(needed)
        stored_plans = sum(e["plan"]["status"] != "VOIDED" for e in sandbox.plans(args.seller))

        started = time.perf_counter()
        [report] = sync_accounts(app, [args.seller], lookback_days=None, api_options={"sleep": sleep})
        wall = time.perf_counter() - started
        first_calls, first_responses = Counter(sandbox.calls), Counter(sandbox.responses)

        started = time.perf_counter()
        [again] = sync_accounts(app, [args.seller], lookback_days=None)
        resync_wall = time.perf_counter() - started
        resync_calls = sum((sandbox.calls - first_calls).values())

        lost = losses(sandbox, args.seller, app.store.db)
        integrity = app.store.db.execute("pragma integrity_check").fetchone()[0]
        app.store.close()

    floor = max(floors.values())
    minimum = sum(needed.values())
    calls = sum(first_calls.values())
    figures = {
        "bench": "sync",
        "mode": "storm" if args.storm else "rate-limits",
        "plans": stored_plans,
        "outcome": report.outcome,
        "message": report.message,
        "wall_s": round(wall, 2),
        "floor_s": floor,
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "slept_s": round(slept[0], 2),
        "floor_by_operation_s": floors,
        "calls": calls,
        "calls_min": minimum,
        "calls_per_plan": round(calls / stored_plans, 2),
        "calls_per_plan_min": round(minimum / stored_plans, 2),
        "calls_by_operation": dict(sorted(first_calls.items())),
        "calls_min_by_operation": dict(sorted(needed.items())),
        "throttled_429": first_responses[429],
        "server_errors_5xx": sum(n for status, n in first_responses.items() if status >= 500),
        "retries": report.retries,
        **lost,
        "integrity_check": integrity,
        "resync_outcome": again.outcome,
        "resync_calls": resync_calls,
        "resync_calls_min": len(SYNC_STATUSES),
        "resync_wall_s": round(resync_wall, 2),
        "faults": {k: v for k, v in vars(faults).items() if k != "bad_plans"},
    }
    print(json.dumps(figures))
    bad = any(lost.values()) or integrity != "ok" or report.failed or again.failed
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
