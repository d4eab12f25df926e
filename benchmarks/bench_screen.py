"""Screening throughput against the SQLite floor.

    python benchmarks/bench_screen.py --shipments 2000 --items 10

Generates synthetic declarations, screens and stores them through the real pipeline (validation →
every built-in check → valuation → one transaction per shipment), then measures the *floor*: copying
the very same result rows into a fresh database with sqlite-utils, one transaction per shipment, no
checks. Prints one JSON line.

``--mix realistic`` (the default) models sellers who ship their own catalogue again and again: mostly
ordinary goods, a regulated product line at some sellers (usually with its licences recorded, sometimes
not), a few IOR mistakes, some items valued by the deductive method. ``--mix regulated`` is the
worst case: every product, cosmetics, food and PSE included, in every shipment, and half the
importers wrong, so every shipment is blocked with a dozen findings.

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

# --mix realistic: ordinary goods, and the regulated lines with the record that lets them through
ORDINARY = [
    ("camping tent", "6306.22", "4.5"), ("insulated water bottle", "9617.00", "3.2"),
    ("cotton T-shirt", "6109.10", None), ("stainless chef's knife", "8211.91", "0"),
    ("leather wallet", "4202.31", "10"), ("yoga mat", "3918.10", "3.9"), ("backpack 25 l", "4202.92", "8"),
    ("wooden desk organiser", "4420.90", "3.2"), ("wool socks, 3 pairs", "6115.95", "5.6"),
    ("hiking trekking poles", "6602.00", "0"), ("silicone phone case", "3926.90", "3.9"),
]
REGULATED = [  # (title, hs_code, duty_rate, categories, what lets it through)
    ("vitamin C face serum 30 ml", "3304.99", "0", ["cosmetics"], "cosmetics"),
    ("sencha green tea 100 g", "0902.10", "17", ["food"], "food"),
    ("USB-C wall charger 65 W", "8504.40", "0", ["pse"], "pse"),
    ("porcelain coffee mug", "6912.00", "2.8", [], "food"),
    ("bluetooth wireless earbuds", "8518.30", "0", ["radio"], "radio"),
]
VARIANTS = ["black", "white", "navy", "olive", "large", "small", "2-pack", "gift box"]
MISTAKEN_IORS = ["Amazon Japan G.K.", "DHL Express Japan K.K.", "Tokyo Import Services K.K."]


def declarations(n: int, items: int, seed: int, mix: str = "realistic"):
    make = realistic if mix == "realistic" else regulated
    rng = random.Random(seed)
    for i in range(n):
        yield make(rng, i, items)


def regulated(rng: random.Random, i: int, items: int) -> dict:
    """The worst case: every product in every shipment, half the importers wrong."""
    seller = f"Seller {i % 97} LLC"
    currency = rng.choice(list(CURRENCIES))
    resident = rng.random() < 0.2
    lines = []
    for j in range(items):
        title, hs, duty, categories = PRODUCTS[(i + j) % len(PRODUCTS)]
        lines.append(_line(rng, currency, f"SKU-{i}-{j}", title, hs, duty, categories))
    data = _shipment(i, seller, resident, currency, rng.choice(IORS).format(seller=seller), lines)
    if not resident and rng.random() < 0.7:
        data["acp"] = {"name": "Sakura ACP K.K.", "status": "registered", "accepted_on": "2026-09-01"}
    return data


def realistic(rng: random.Random, i: int, items: int) -> dict:
    """A seller shipping its own catalogue: mostly ordinary goods, now and then a regulated line."""
    number = i % 97
    seller = f"Seller {number} LLC"
    resident = number % 5 == 0
    currency = "JPY" if resident else ("USD", "EUR", "GBP")[number % 3]
    regulated_line = REGULATED[number % len(REGULATED)] if number % 4 == 0 else None
    deductive = number % 6 == 0  # this seller declares its Amazon.co.jp prices
    lines, records = [], []
    for j in range(items):
        if regulated_line and j % 4 == 0:
            title, hs, duty, categories, needs = regulated_line
        else:
            (title, hs, duty), categories, needs = ORDINARY[(number + j) % len(ORDINARY)], [], None
        variant = VARIANTS[(number * 7 + j) % len(VARIANTS)]
        line = _line(rng, currency, f"S{number}-{hs}-{j}", f"{title} ({variant}) by Seller {number}", hs, duty,
                     categories)
        if deductive:
            price = rng.randint(1500, 30000)
            line["valuation"] = {"domestic_unit_price_jpy": price, "domestic_unit_deductions_jpy": price * 45 // 100}
        if needs and rng.random() < 0.8:  # usually recorded; sometimes forgotten
            line.update(RECORDS[needs][0])
            records.extend(r | {"skus": [line["msku"]]} for r in RECORDS[needs][1])
        lines.append(line)
    ior = rng.choice(MISTAKEN_IORS) if rng.random() < 0.08 else seller
    data = _shipment(i, seller, resident, currency, ior, lines)
    data["licences"] = [r for r in records if r["kind"] != "food_import_notification"]
    data["filings"] = [r for r in records if r["kind"] == "food_import_notification"]
    if not resident and rng.random() < 0.9:
        data["acp"] = {"name": "Sakura ACP K.K.", "status": "registered", "accepted_on": "2026-09-01"}
    return data


RECORDS = {  # what an item carries, and the licences or filings of the shipment, per regime
    "cosmetics": ({"cosmetics_notification": "13-2026-000777"}, [
        {"kind": "cosmetics_mah", "number": "13C0X10001"}, {"kind": "cosmetics_manufacturing", "number": "13CZ200002"}]),
    "food": ({}, [{"kind": "food_import_notification", "number": "2026-TK-000123"}]),
    "pse": ({"pse": {"type": "non_specified"}}, [
        {"kind": "pse_importer_notification", "number": "METI-2026-0042"},
        {"kind": "domestic_administrator", "number": "DA-2026-0007"}]),
    "radio": ({"giteki": "201-123456"}, []),
}


def _line(rng, currency, msku, title, hs, duty, categories) -> dict:
    unit = rng.randint(100, 90000) if currency == "JPY" else f"{rng.randint(100, 9000) / 100:.2f}"
    line = {"msku": msku, "title": title, "quantity": rng.randint(1, 300), "unit_value": str(unit),
            "hs_code": hs, "origin_country": rng.choice(["CN", "US", "VN", "DE"]), "categories": categories}
    if duty is not None:
        line["duty_rate"] = duty
    return line


def _shipment(i, seller, resident, currency, ior, lines) -> dict:
    data = {
        "schema": "fba-jp/shipment/v1", "shipment_id": f"FBA15BENCH{i:07d}", "declaration_date": "2026-12-07",
        "seller": {"name": seller, "country": "JP" if resident else "US", "japan_resident": resident},
        "importer_of_record": {"name": ior},
        "consignee": {"name": seller},
        "currency": currency, "freight": "120.00" if currency != "JPY" else "18000", "insurance": "5",
        "items": lines,
    }
    if CURRENCIES[currency]:
        data["fx_rates"] = {currency: CURRENCIES[currency]}
    return data


def bench_pipeline(db_path: Path, n: int, items: int, seed: int, mix: str) -> tuple[float, dict]:
    store = Store(db_path)
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    verdicts: dict[str, int] = {}
    start = time.perf_counter()
    for data in declarations(n, items, seed, mix):
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
    parser.add_argument("--mix", choices=["realistic", "regulated"], default="realistic",
                        help="realistic catalogue (default) or every regulated product in every shipment")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases (default: a temp dir)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="fba-jp-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    pipeline_db, floor_db = directory / "pipeline.db", directory / "floor.db"
    for path in (pipeline_db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    elapsed, verdicts = bench_pipeline(pipeline_db, args.shipments, args.items, args.seed, args.mix)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    floor_elapsed = bench_floor(pipeline_db, floor_db)
    lines = args.shipments * args.items
    print(json.dumps({
        "mix": args.mix, "shipments": args.shipments, "items_per_shipment": args.items, "item_lines": lines,
        "seconds": round(elapsed, 3), "items_per_s": round(lines / elapsed),
        "floor_seconds": round(floor_elapsed, 3), "floor_items_per_s": round(lines / floor_elapsed),
        "ratio": round(elapsed / floor_elapsed, 2), "peak_rss_mb": round(peak_rss_mb, 1), "verdicts": verdicts,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
