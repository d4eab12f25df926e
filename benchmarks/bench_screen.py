"""Screening throughput against the honest SQLite floor.

    python benchmarks/bench_screen.py --shipments 2000 --items 10

Generates synthetic declarations, screens and stores them through the real pipeline (validation →
every built-in check → valuation → one transaction per shipment), then measures two *floors*: plain
``sqlite3`` writing the very same rows (read back from the pipeline's database, so the same bytes) into
a fresh database with the same schema, pragmas and WAL, and no checks:

* ``floor_tx``: the same transaction pattern as the store: ``BEGIN IMMEDIATE``, one prepared insert per
  table (the input the first time it is seen, the screening, new finding texts, the findings, the valuation),
  the shipment upsert, its items replaced, ``COMMIT`` — once per shipment;
* ``floor_bulk``: all rows in one transaction, what SQLite can do at best.

``ratio_tx`` and ``ratio_bulk`` are the pipeline's time over each floor (wall clock; the ``cpu_``
figures are process CPU time, steadier on a loaded machine), for the per-screening path (each screening
its own transaction: ``fba-jp gate``); ``bulk_path`` has the same ratios for the bulk path (``fba-jp screen``,
``run``, the daemon: ``screen_synced`` records ``--batch`` screenings a transaction, each whole),
over the same floors. Prints one JSON line.

``--mix realistic`` (the default) models sellers who ship their own catalogue again and again: mostly
ordinary goods, a regulated product line at some sellers (usually with its licences recorded, sometimes
not), a few IOR mistakes, some items valued by the deductive method. ``--mix regulated`` is the
worst case: every product, cosmetics, food and PSE included, in every shipment, and half the
importers wrong, so every shipment is blocked with a dozen findings.

Declarations are generated and screened one at a time (generating them is timed apart and not charged to the
pipeline: it stands in for reading a file), and the floors read the rows back in chunks, so
memory must not grow with --shipments: ``rss_growth_mb`` is the peak RSS at the end of the pipeline
less the peak after its first fifth. ``db_bytes_per_shipment`` is what each screening adds to the file.

``input_only`` is a lower bound: validating each declaration and taking its input hash (canonical JSON and
sha256), which every screening must do before any check runs, added to ``floor_tx``. Its ``ratio_tx`` is what the
pipeline's would be if every check, the valuation and building the rows cost nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fba_jp.models import Declaration
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import SCREEN_BATCH, Screener, input_sha256
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
    ("camping tent", "6306.22", "4.5"),
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
    ("insulated water bottle", "9617.00", "3.2", [], "food"),  # a vacuum flask is food-contact apparatus
    ("bluetooth wireless earbuds", "8518.30", "0", ["radio"], "radio"),
]
VARIANTS = ["black", "white", "navy", "olive", "large", "small", "2-pack", "gift box"]
MISTAKEN_IORS = ["Amazon Japan G.K.", "DHL Express Japan K.K.", "Tokyo Import Services K.K."]


def declarations(n: int, items: int, seed: int, mix: str = "realistic"):
    make = realistic if mix == "realistic" else regulated
    rng = random.Random(seed)
    for i in range(n):
        yield make(rng, i, items)


class Timed:
    """An iterator whose own time (wall and CPU) is summed apart, so a benchmark can leave it out."""

    def __init__(self, iterable):
        self.iterator, self.wall, self.cpu = iter(iterable), 0.0, 0.0

    def __iter__(self):
        return self

    def __next__(self):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return next(self.iterator)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu


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


def _batched(screener, store, entries, batch):
    """What ``screen_synced`` does: evaluate each screening, record ``batch`` of them a transaction."""
    pending = []
    for data in entries:
        declaration = Declaration.model_validate(data)
        pending.append((*screener.evaluate(declaration, "bench"), declaration))
        if len(pending) >= batch:
            yield from store.record_screenings([(r, d, c) for r, c, d in pending], screener.plugin_names)
            pending = []
    yield from store.record_screenings([(r, d, c) for r, c, d in pending], screener.plugin_names)


def bench_pipeline(db_path: Path, n: int, items: int, seed: int, mix: str, batch: int = 1) -> dict:
    """Screen and store ``n`` declarations: one transaction each (``batch`` 1, what ``fba-jp gate`` does), or
    ``batch`` to a transaction as ``screen_synced`` records them (``fba-jp screen``, ``run``, the daemon)."""
    store = Store(db_path)
    screener = Screener(get_plugins(load_entrypoints=False), store=store)
    verdicts: dict[str, int] = {}
    early_peak = None
    inputs = Timed(declarations(n, items, seed, mix))
    wall, cpu = time.perf_counter(), time.process_time()
    if batch == 1:
        results = (screener.screen(Declaration.model_validate(data), "bench") for data in inputs)
    else:
        results = _batched(screener, store, inputs, batch)
    for i, result in enumerate(results):
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
        if i + 1 == max(1, n // 5):
            early_peak = peak_rss_mb()
    wall, cpu = time.perf_counter() - wall - inputs.wall, time.process_time() - cpu - inputs.cpu
    store.close()
    return {"wall": wall, "cpu": cpu, "verdicts": verdicts, "peak_rss_mb": peak_rss_mb(),
            "rss_growth_mb": peak_rss_mb() - early_peak}


def bench_input_only(n: int, items: int, seed: int, mix: str) -> tuple[float, float]:
    """Validate each declaration and take its input hash, as every screening does first (wall, CPU)."""
    inputs = Timed(declarations(n, items, seed, mix))
    wall, cpu = time.perf_counter(), time.process_time()
    for data in inputs:
        input_sha256(Declaration.model_validate(data).canonical_json())
    return time.perf_counter() - wall - inputs.wall, time.process_time() - cpu - inputs.cpu


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


# what one screening writes: its input (the first time it is seen), the screening, the texts of its findings
# not stored yet, the findings, the valuation, the shipment's row and the shipment's items
TABLES = ("declarations", "screenings", "texts", "finding_rows", "valuations", "shipments", "items")


def stored_rows(source: Path, chunk: int = 200):
    """The pipeline's rows, ``chunk`` screenings at a time: ``(columns, [{table: rows} per screening])``.

    Each declaration and text goes with the first screening that wrote it; the items are the shipment's.
    """
    src = sqlite3.connect(source)
    columns = {t: [r[1] for r in src.execute(f"pragma table_info([{t}])")] for t in TABLES}
    seen_inputs: set[str] = set()
    seen_texts: set[int] = set()
    last = 0
    while True:
        screenings = src.execute("select * from screenings where id > ? order by id limit ?", [last, chunk]).fetchall()
        if not screenings:
            break
        last = screenings[-1][0]
        ids = [s[0] for s in screenings]
        marks = ",".join("?" * len(ids))

        def by(table: str, key: str, sql: str, params) -> dict:
            out: dict = {}
            index = columns[table].index(key)
            for row in src.execute(sql, params):
                out.setdefault(row[index], []).append(row)
            return out

        findings = by("finding_rows", "screening_id",
                      f"select * from finding_rows where screening_id in ({marks}) order by id", ids)
        valuations = by("valuations", "screening_id", f"select * from valuations where screening_id in ({marks})", ids)
        shipment_ids = sorted({s[1] for s in screenings})
        id_marks = ",".join("?" * len(shipment_ids))
        shipments = by("shipments", "shipment_id", f"select * from shipments where shipment_id in ({id_marks})", shipment_ids)
        items = by("items", "shipment_id", f"select * from items where shipment_id in ({id_marks})", shipment_ids)
        shas = sorted({s[6] for s in screenings} - seen_inputs)
        inputs = by("declarations", "sha256",
                    f"select * from declarations where sha256 in ({','.join('?' * len(shas))})", shas) if shas else {}
        text_ids = sorted({t for rows in findings.values() for f in rows for t in f[6:10] if t is not None} - seen_texts)
        texts = {row[0]: row for row in src.execute(
            f"select * from texts where id in ({','.join('?' * len(text_ids))})", text_ids)} if text_ids else {}
        batch = []
        for s in screenings:
            mine = findings.get(s[0], [])
            new_texts = []
            for f in mine:
                for t in f[6:10]:
                    if t is not None and t not in seen_texts:
                        seen_texts.add(t)
                        new_texts.append(texts[t])
            batch.append({
                "declarations": inputs.get(s[6], []) if s[6] not in seen_inputs else [],
                "screenings": [s], "texts": new_texts, "finding_rows": mine, "valuations": valuations.get(s[0], []),
                "shipments": shipments[s[1]], "items": items.get(s[1], []),
            })
            seen_inputs.add(s[6])
        yield columns, batch
    src.close()


def bench_floor(source: Path, target: Path, one_transaction: bool) -> tuple[float, float]:
    """Write the same rows with plain ``sqlite3``: per shipment as the store does, or all in one transaction."""
    Store(target).close()  # same schema, indexes and WAL as the real store
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    wall = cpu = 0.0
    sql = None
    if one_transaction:
        conn.execute("BEGIN IMMEDIATE")
    for columns, batch in stored_rows(source):
        if sql is None:
            sql = {t: f"insert into [{t}] values ({', '.join('?' * len(columns[t]))})" for t in TABLES}
            updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns["shipments"][1:] if c != "first_seen_at")
            sql["shipments"] += f" on conflict(shipment_id) do update set {updates}"
        started, started_cpu = time.perf_counter(), time.process_time()
        for rows in batch:
            if not one_transaction:
                conn.execute("BEGIN IMMEDIATE")
            for table in TABLES:
                if table == "items":
                    conn.execute("delete from items where shipment_id = ?", [rows["shipments"][0][0]])
                if rows[table]:
                    conn.executemany(sql[table], rows[table])
            if not one_transaction:
                conn.execute("COMMIT")
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    if one_transaction:
        started, started_cpu = time.perf_counter(), time.process_time()
        conn.execute("COMMIT")
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    conn.close()
    return wall, cpu


def db_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("select page_count * page_size - freelist_count * page_size from pragma_page_count, "
                        "pragma_page_size, pragma_freelist_count").fetchone()[0]
    conn.close()
    return size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", choices=["realistic", "regulated"], default="realistic",
                        help="realistic catalogue (default) or every regulated product in every shipment")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases (default: a temp dir)")
    parser.add_argument("--pipeline-only", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=SCREEN_BATCH,
                        help=f"screenings a transaction on the bulk path (default {SCREEN_BATCH}, as fba-jp screen)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="fba-jp-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.db" for name in ("empty", "pipeline", "pipeline_batched", "floor_tx", "floor_bulk")}
    for path in paths.values():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    Store(paths["empty"]).close()
    if args.pipeline_only:  # the bulk path, in a process of its own (see below)
        print(json.dumps(bench_pipeline(Path(args.pipeline_only), args.shipments, args.items, args.seed, args.mix,
                                        args.batch)))
        return
    pipeline = bench_pipeline(paths["pipeline"], args.shipments, args.items, args.seed, args.mix)
    # in a fresh process: this one's classification caches are warm now, which the bulk path must not inherit
    batched = json.loads(subprocess.run(
        [sys.executable, __file__, "--pipeline-only", str(paths["pipeline_batched"]), "--shipments", str(args.shipments),
         "--items", str(args.items), "--seed", str(args.seed), "--mix", args.mix, "--batch", str(args.batch)],
        check=True, capture_output=True, text=True).stdout)
    floor_tx = bench_floor(paths["pipeline"], paths["floor_tx"], one_transaction=False)
    floor_bulk = bench_floor(paths["pipeline"], paths["floor_bulk"], one_transaction=True)
    input_only = bench_input_only(args.shipments, args.items, args.seed, args.mix)
    lines = args.shipments * args.items
    added = db_bytes(paths["pipeline"]) - db_bytes(paths["empty"])
    print(json.dumps({
        "bench": "screen", "mix": args.mix, "shipments": args.shipments, "items_per_shipment": args.items,
        "item_lines": lines,
        "seconds": round(pipeline["wall"], 3), "items_per_s": round(lines / pipeline["wall"]),
        "floor_tx_seconds": round(floor_tx[0], 3), "floor_tx_items_per_s": round(lines / floor_tx[0]),
        "floor_bulk_seconds": round(floor_bulk[0], 3), "floor_bulk_items_per_s": round(lines / floor_bulk[0]),
        "ratio_tx": round(pipeline["wall"] / floor_tx[0], 2), "ratio_bulk": round(pipeline["wall"] / floor_bulk[0], 2),
        "cpu_seconds": round(pipeline["cpu"], 3),
        "cpu_ratio_tx": round(pipeline["cpu"] / floor_tx[1], 2), "cpu_ratio_bulk": round(pipeline["cpu"] / floor_bulk[1], 2),
        "peak_rss_mb": round(pipeline["peak_rss_mb"], 1), "rss_growth_mb": round(pipeline["rss_growth_mb"], 1),
        "db_bytes_per_shipment": round(added / args.shipments), "verdicts": pipeline["verdicts"],
        "bulk_path": {  # fba-jp screen, run and the daemon: screenings recorded `batch` to a transaction
            "batch": args.batch, "seconds": round(batched["wall"], 3), "items_per_s": round(lines / batched["wall"]),
            "ratio_tx": round(batched["wall"] / floor_tx[0], 2), "ratio_bulk": round(batched["wall"] / floor_bulk[0], 2),
            "cpu_ratio_tx": round(batched["cpu"] / floor_tx[1], 2), "cpu_ratio_bulk": round(batched["cpu"] / floor_bulk[1], 2),
            "rss_growth_mb": round(batched["rss_growth_mb"], 1),
        },
        "input_only": {  # the lower bound: validation and the input hash, on top of floor_tx
            "seconds": round(input_only[0], 3), "ratio_tx": round((floor_tx[0] + input_only[0]) / floor_tx[0], 2),
            "cpu_ratio_tx": round((floor_tx[1] + input_only[1]) / floor_tx[1], 2),
        },
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
