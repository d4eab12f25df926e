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
items; per open shipment ``getShipment`` + one ``listShipmentItems`` page per 1000 items + one
``listShipmentBoxes`` page per 1000 boxes; one ``getCatalogItem`` per distinct ASIN; and for a seller
valued deductive from Amazon (``--seller hinode``) one ``getPricing`` per 20 distinct SKUs of its open
shipments and one ``getMyFeesEstimates`` per 20 of those with a price. Network time, retries and SQLite
are not in the floor, so ``wall_s / floor_s`` is the price of everything but Amazon's limits. A
no-change resync needs one list page per status: 3 calls, and no pricing or fee call within the day
(``resync_pricing_calls``, ``resync_fee_calls``).

``--accounts N`` syncs N sellers at once (``sync_accounts`` with ``concurrency=N``), each with
``--plans`` plans of its own and, as at Amazon, its own rate limits: the floor is still one account's,
so ``wall_over_floor`` is what running N side by side costs (one process, one SQLite file, every write
queued on its lock). The sandbox then runs in a process of its own, as Amazon's servers do not share
our CPU. Losses and duplicates are counted for every account.

``--storm`` adds random 429s (half with an ``errors`` body, half empty) and 5xx (half 503 with an
HTML body, half 500 with errors JSON) on top of the limits, to show what retries cost and that
nothing is lost.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from fba_jp.app import App
from fba_jp.demo import demo_credentials, loopback_without_proxy, write_demo_config
from fba_jp.sandbox import Faults, Sandbox, load_sample
from fba_jp.spapi import INBOUND_PAGE_SIZE, ITEMS_PAGE_SIZE, PRICING_BATCH, RATE_LIMITS
from fba_jp.sync import DONE_STATUSES, SYNC_STATUSES, sync_accounts


def pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


def minimum_calls(sandbox: Sandbox, seller: str) -> Counter:
    """The fewest calls a first sync of ``seller`` can make, by operation (see the module docstring)."""
    calls: Counter = Counter()
    entries = sandbox.plans(seller)
    for status in SYNC_STATUSES:
        calls["listInboundPlans"] += pages(sum(e["plan"]["status"] == status for e in entries), INBOUND_PAGE_SIZE)
    asins, mskus = set(), set()
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
            calls["listShipmentBoxes"] += pages(len(s.get("boxes", [])), ITEMS_PAGE_SIZE)
            asins |= {i["asin"] for i in s["items"]}
            mskus |= {i["msku"] for i in s["items"]}
    calls["getCatalogItem"] = len(asins)
    listings = sandbox.data["sellers"][seller].get("listings")
    if listings:  # the sandbox lists prices only for its seller valued deductive from Amazon
        priced = [m for m in mskus if (listings.get(m) or {}).get("price") is not None]
        calls["getPricing"] = math.ceil(len(mskus) / PRICING_BATCH)
        calls["getMyFeesEstimates"] = math.ceil(len(priced) / PRICING_BATCH)
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
    parser.add_argument("--accounts", type=int, default=1, help="sync this many sellers at once (default 1)")
    args = parser.parse_args(argv)

    faults = Faults(rate_limit=True, rate_scale=1)
    if args.storm:
        faults.throttle_probability, faults.empty_429_ratio = args.throttle_probability, 0.5
        faults.error_probability = args.error_probability
    if args.accounts > 1:
        return many_accounts(args, faults)
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
        resync_pricing = (sandbox.calls - first_calls)["getPricing"]
        resync_fees = (sandbox.calls - first_calls)["getMyFeesEstimates"]

        lost = losses(sandbox, args.seller, app.store.db)
        integrity = app.store.db.execute("pragma integrity_check").fetchone()[0]
        screening = bench_screen_synced(app, args.seller, Path(tmp))
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
        "resync_pricing_calls": resync_pricing,  # within the cache day: 0
        "resync_fee_calls": resync_fees,
        "resync_wall_s": round(resync_wall, 2),
        "faults": {k: v for k, v in vars(faults).items() if not k.startswith("bad_")},
        "screen": screening,
    }
    print(json.dumps(figures))
    bad = any(lost.values()) or integrity != "ok" or report.failed or again.failed or resync_pricing or resync_fees
    return 1 if bad else 0


def bench_screen_synced(app, seller: str, tmp: Path) -> dict:
    """``fba-jp screen`` on what was synced, three times: ``first`` screens every shipment (declarations built
    from the SP-API data, every check, stored 50 a transaction) and pays the one-time costs (plugins, rule
    tables); ``unchanged`` finds nothing changed (each shipment evaluated again and compared with its stored
    screening, nothing stored); ``force`` (``screen --all``) screens and stores every one again, warm. The floor
    is bench_screen's: plain ``sqlite3`` writing the rows of one screening of each shipment, one transaction a
    shipment; ``ratio_tx`` is ``force`` over it."""
    from bench_screen import bench_floor

    from fba_jp.sync import screen_synced

    figures = {}
    for name in ("first", "unchanged", "force"):
        wall, cpu = time.perf_counter(), time.process_time()
        report = screen_synced(app, [seller], force=name == "force")
        figures[f"{name}_s"] = round(time.perf_counter() - wall, 3)
        figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 3)
        figures[f"{name}_screened"] = report.screened
    # the floor copies every stored screening: copy the first screening of each shipment only
    first_only = tmp / "first-screenings.db"
    with sqlite3.connect(app.store.path) as source, sqlite3.connect(first_only) as target:
        source.backup(target)
        target.execute("delete from screenings where id not in (select min(id) from screenings group by shipment_id)")
        target.execute("update shipments set latest_screening_id = (select min(id) from screenings s"
                       " where s.shipment_id = shipments.shipment_id)")
    floor_wall, floor_cpu = bench_floor(first_only, tmp / "floor.db", one_transaction=False)
    shipments = figures["force_screened"]
    return {"shipments": shipments, **figures, "floor_tx_s": round(floor_wall, 3),
            "force_ms_per_shipment": round(figures["force_s"] / shipments * 1000, 2) if shipments else None,
            "ratio_tx": round(figures["force_s"] / floor_wall, 2) if floor_wall else None,
            "cpu_ratio_tx": round(figures["force_cpu_s"] / floor_cpu, 2) if floor_cpu else None}


ACCOUNT = """
[[accounts]]
name = "{name}"
marketplace = "JP"
refresh_token = "env:FBA_JP_DEMO_{upper}_REFRESH_TOKEN"
lwa_app_id = "env:FBA_JP_DEMO_LWA_APP_ID"
lwa_client_secret = "env:FBA_JP_DEMO_LWA_CLIENT_SECRET"
endpoint = "{endpoint}"
token_url = "{token_url}"
seller = {{ name = "Seller {name} Ltd", country = "CA", japan_resident = false }}
importer_of_record = {{ name = "Seller {name} Ltd" }}
consignee = {{ name = "Seller {name} Ltd" }}
products = "products.csv"
currency = "USD"
"""


def serve(data: dict, faults: Faults, seed: int, pipe) -> None:
    """The sandbox in a process of its own: Amazon's servers do not share our CPU (or our GIL) either."""
    with Sandbox(data, faults=faults, seed=seed) as sandbox:
        pipe.send({"url": sandbox.url, "token_url": sandbox.token_url, "env": demo_credentials(sandbox)})
        pipe.recv()  # the sync is done
        pipe.send({"calls": dict(sandbox.calls), "responses": dict(sandbox.responses)})


def many_accounts(args, faults: Faults) -> int:
    """``--accounts N``: N sellers, each with ``--plans`` plans cut from maple's first one, synced at once."""
    data = load_sample()
    template = data["sellers"][args.seller]["plans"][0]
    names = [f"seller{n:02d}" for n in range(1, args.accounts + 1)]
    data["sellers"] = {name: {"name": name, "plans": [template]} for name in names}
    local = Sandbox(data)  # not started: the data, for the floor and the losses
    for name in names:
        local.add_synthetic_plans(name, args.plans)
        del local.plans(name)[0]  # the template: the same ids at every seller
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(local.data, faults, args.seed, child))
    server.start()
    try:
        served = parent.recv()
        with tempfile.TemporaryDirectory(prefix="fba-jp-bench-sync-") as tmp:
            write_demo_config(Path(tmp), SimpleNamespace(url=served["url"], token_url=served["token_url"]))
            config = Path(tmp) / "config.toml"  # products.csv is the demo's; the accounts are these
            config.write_text("".join(ACCOUNT.format(name=n, upper=n.upper(), endpoint=served["url"],
                                                     token_url=served["token_url"]) for n in names))
            os.environ.update({**served["env"], **loopback_without_proxy()})
            app = App(str(config), str(Path(tmp) / "bench.db"))
            needed = {name: minimum_calls(local, name) for name in names}
            floor = max(max(floor_seconds(n).values()) for n in needed.values())  # the same for each: its own limits
            # the catalog is shared: an ASIN fetched for one account is not fetched again for another
            asins = {i["asin"] for name in names for e in local.plans(name) for i in e["items"]}
            minimum = sum(sum(n.values()) - n["getCatalogItem"] for n in needed.values()) + len(asins)

            started = time.perf_counter()
            reports = sync_accounts(app, names, lookback_days=None, concurrency=args.accounts)
            wall = time.perf_counter() - started
            lost = Counter()
            for name in names:
                lost.update(losses(local, name, app.store.db))
            integrity = app.store.db.execute("pragma integrity_check").fetchone()[0]
            app.store.close()
        parent.send("done")
        counts = parent.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    responses = {int(k): v for k, v in counts["responses"].items()}
    figures = {
        "bench": "sync",
        "mode": "accounts",
        "accounts": args.accounts,
        "plans_per_account": args.plans,
        "outcomes": dict(Counter(r.outcome for r in reports)),
        "messages": sorted({r.message for r in reports if r.message}),
        "wall_s": round(wall, 2),
        "floor_s": floor,
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "sequential_floor_s": round(floor * len(names), 2),
        "calls": sum(counts["calls"].values()),
        "calls_min": minimum,
        "throttled_429": responses.get(429, 0),
        "server_errors_5xx": sum(n for status, n in responses.items() if status >= 500),
        "retries": sum(r.retries for r in reports),
        **{k: lost[k] for k in ("plans_lost", "plans_duplicated", "shipments_lost", "shipments_duplicated",
                                "item_lines_wrong")},
        "database_locked_errors": sum("locked" in " ".join([r.message or "", *r.errors]) for r in reports),
        "integrity_check": integrity,
    }
    print(json.dumps(figures))
    bad = any(lost.values()) or integrity != "ok" or any(r.failed for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
