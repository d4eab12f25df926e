"""Screening throughput against the SQLite floor.

    python benchmarks/bench_screen.py --shipments 2000 --items 10

Generates realistic synthetic declarations (mixed regimes, currencies, IOR mistakes), screens and stores
them through the real pipeline (validation → every built-in check → valuation → one transaction per
shipment), then measures the *floor*: copying the very same result rows into a fresh database with
sqlite-utils, one transaction per shipment, no checks. Prints one JSON line.

Declarations are generated and screened one at a time, so memory must not grow with --shipments.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

from fba_jp.models import Declaration
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.store import Store

PRODUCTS = [  # (title, hs_code, duty_rate, categories)
    ("Two-person camping tent", "6306.22", "4.5", []),
    ("Insulated steel water bottle 750 ml", "9617.00", "3.2", []),
    ("Vitamin C face serum 30 ml", "3304.99", "0", ["cosmetics"]),
    ("Sencha green tea 100 g", "0902.10", "17", ["food"]),
    ("USB-C wall charger 65 W", "8504.40", "0", ["pse"]),
    ("Porcelain coffee mug", "6912.00", "2.8", []),
    ("Bluetooth wireless earbuds", "8518.30", "0", []),
    ("Wooden building blocks for toddlers", "9503.00", "0", []),
    ("Cotton T-shirt", "6109.10", None, []),
    ("Stainless chef's knife", "8211.91", "0", []),
]
IORS = ["{seller}", "{seller}", "{seller}", "Amazon Japan G.K.", "DHL Express Japan K.K.", "Tokyo Import Services K.K."]
CURRENCIES = {"USD": "150.25", "EUR": "162.10", "GBP": "190.40", "JPY": None}


def declarations(n: int, items: int, seed: int):
    rng = random.Random(seed)
    for i in range(n):
        seller = f"Seller {i % 97} LLC"
        currency = rng.choice(list(CURRENCIES))
        resident = rng.random() < 0.2
        lines = []
        for j in range(items):
            title, hs, duty, categories = PRODUCTS[(i + j) % len(PRODUCTS)]
            unit = rng.randint(100, 90000) if currency == "JPY" else f"{rng.randint(100, 9000) / 100:.2f}"
            line = {"msku": f"SKU-{i}-{j}", "title": title, "quantity": rng.randint(1, 300), "unit_value": str(unit),
                    "hs_code": hs, "origin_country": rng.choice(["CN", "US", "VN", "DE"]), "categories": categories}
            if duty is not None:
                line["duty_rate"] = duty
            lines.append(line)
        data = {
            "schema": "fba-jp/shipment/v1", "shipment_id": f"FBA15BENCH{i:07d}", "declaration_date": "2026-12-07",
            "seller": {"name": seller, "country": "JP" if resident else "US", "japan_resident": resident},
            "importer_of_record": {"name": rng.choice(IORS).format(seller=seller)},
            "consignee": {"name": seller},
            "currency": currency, "freight": "120.00" if currency != "JPY" else "18000", "insurance": "5",
            "items": lines,
        }
        if not resident and rng.random() < 0.7:
            data["acp"] = {"name": "Sakura ACP K.K.", "status": "registered", "accepted_on": "2026-09-01"}
        if CURRENCIES[currency]:
            data["fx_rates"] = {currency: CURRENCIES[currency]}
        yield data


def bench_pipeline(db_path: Path, n: int, items: int, seed: int) -> tuple[float, dict]:
    store = Store(db_path)
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    verdicts: dict[str, int] = {}
    start = time.perf_counter()
    for data in declarations(n, items, seed):
        result = screener.screen(Declaration.model_validate(data), "bench")
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed, verdicts


def bench_floor(source: Path, target: Path) -> float:
    """Copy the same rows, one transaction per shipment, with sqlite-utils and no checks."""
    src = sqlite_utils.Database(source)
    batches = []  # read first so the floor times writing only
    for screening in src.query("select * from screenings order by id"):
        batches.append((
            screening,
            list(src.query("select * from findings where screening_id = ?", [screening["id"]])),
            list(src.query("select * from valuations where screening_id = ?", [screening["id"]])),
            src["shipments"].get(screening["shipment_id"]),
        ))
    store = Store(target)  # same schema, pragmas and WAL as the real store
    db = store.db
    start = time.perf_counter()
    for screening, findings, valuations, shipment in batches:
        with db.atomic():
            db["screenings"].insert(screening)
            db["findings"].insert_all(findings)
            db["valuations"].insert_all(valuations)
            db["shipments"].upsert(shipment, pk="shipment_id")
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases (default: a temp dir)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="fba-jp-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    pipeline_db, floor_db = directory / "pipeline.db", directory / "floor.db"
    for path in (pipeline_db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    elapsed, verdicts = bench_pipeline(pipeline_db, args.shipments, args.items, args.seed)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    floor_elapsed = bench_floor(pipeline_db, floor_db)
    lines = args.shipments * args.items
    print(json.dumps({
        "shipments": args.shipments, "items_per_shipment": args.items, "item_lines": lines,
        "seconds": round(elapsed, 3), "items_per_s": round(lines / elapsed),
        "floor_seconds": round(floor_elapsed, 3), "floor_items_per_s": round(lines / floor_elapsed),
        "ratio": round(elapsed / floor_elapsed, 2), "peak_rss_mb": round(peak_rss_mb, 1), "verdicts": verdicts,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
