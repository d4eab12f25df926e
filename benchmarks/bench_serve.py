"""The dashboard's shipment list: server time of the first page at 1,000 and 100,000 shipments.

    python benchmarks/bench_serve.py [--sizes 1000 100000] [--requests 40]

Screens the example declarations through the real pipeline, then grows the database to each size by
copying those screenings (shipments, screenings, findings) under new ids, ten accounts, dates spread
over a year; the ``items`` trigger fills the SKU index as it would for real. Each page is requested
in-process through the ASGI app (Starlette's test client: no network, so this is server time) and the
median of ``--requests`` is reported, for the unfiltered list, blocked only, one account, a finding
code, a SKU search and the second page (keyset cursor). The floor, measured in the same run, is plain
``sqlite3`` running the page's two queries on the same file: what the page cannot be faster than.
Requests to the small and the large database alternate, so both see the same load on a shared machine;
wall and process-CPU medians are printed. ``ratio_large_over_small`` near 1 means the page costs the
same at 100× the shipments. One JSON line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "list": "/shipments",
    "blocked": "/shipments?verdict=blocked",
    "account": "/shipments?account=acct3",
    "code": "/shipments?code=IOR_AMAZON",
    "search_sku": "/shipments?q=HINOKI-COMB",
    "page_2": None,  # the first page's Next link
}


def seed_database(path: Path) -> None:
    from fba_jp.app import App
    from fba_jp.inputs import read_declaration

    app = App(None, str(path))
    screener = app.screener()
    for file in sorted((ROOT / "examples").glob("*.json")):
        declaration, source = read_declaration(str(file))
        screener.screen(declaration, source)
    app.store.close()


def grow(seed: Path, target: Path, size: int) -> None:
    """Copy the seed's screenings under new ids until the database holds ``size`` shipments."""
    target.write_bytes(seed.read_bytes())
    from fba_jp.store import Store

    Store(target).close()  # WAL and migrations as the server will see them
    conn = sqlite3.connect(target)
    shipments = conn.execute("select * from shipments").fetchall()
    columns = [d[0] for d in conn.execute("select * from shipments").description]
    screenings = {r[0]: r for r in conn.execute("select * from screenings")}
    screening_columns = [d[0] for d in conn.execute("select * from screenings").description]
    findings = {}  # the stored rows (texts by id: copies share them, as repeated findings do)
    for row in conn.execute("select * from finding_rows"):
        findings.setdefault(row[1], []).append(row)
    finding_columns = [d[0] for d in conn.execute("select * from finding_rows").description]
    next_screening = conn.execute("select max(id) from screenings").fetchone()[0] + 1
    conn.execute("begin")
    s_idx, sc_idx = {c: i for i, c in enumerate(columns)}, {c: i for i, c in enumerate(screening_columns)}
    for n in range(size - len(shipments)):
        base = shipments[n % len(shipments)]
        shipment_id = f"FBA{n:09d}X"
        day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00"
        account = f"acct{n % 10}"
        screening = list(screenings[base[s_idx["latest_screening_id"]]])
        screening[sc_idx["id"]] = next_screening
        screening[sc_idx["shipment_id"]] = shipment_id
        screening[sc_idx["account"]] = account
        screening[sc_idx["screened_at"]] = day
        conn.execute(f"insert into screenings ({', '.join(screening_columns)}) values ({', '.join('?' * len(screening))})",
                     screening)
        rows = [[None, next_screening, *f[2:]] for f in findings.get(base[s_idx["latest_screening_id"]], [])]
        conn.executemany(f"insert into finding_rows ({', '.join(finding_columns)}) values ({', '.join('?' * len(finding_columns))})",
                         rows)
        conn.execute("insert into items select ?, msku, asin, fnsku, title, quantity from items where shipment_id = ?",
                     [shipment_id, base[s_idx["shipment_id"]]])
        row = list(base)
        row[s_idx["shipment_id"]], row[s_idx["account"]] = shipment_id, account
        row[s_idx["updated_at"]] = row[s_idx["first_seen_at"]] = day
        row[s_idx["latest_screening_id"]] = next_screening
        conn.execute(f"insert into shipments ({', '.join(columns)}) values ({', '.join('?' * len(row))})", row)
        next_screening += 1
    conn.commit()
    conn.execute("analyze")
    conn.close()


def timed(function) -> tuple[float, float]:
    """(wall ms, process CPU ms) of one call; CPU time is what other processes' load disturbs least."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def interleaved(functions: list, requests: int) -> list[dict]:
    """Median wall and CPU ms of each function, called in turn so each sees the same machine load."""
    samples = [[] for _ in functions]
    for _ in range(requests):
        for sample, function in zip(samples, functions):
            sample.append(timed(function))
    return [{"wall": round(statistics.median(w for w, _ in sample), 3),
             "cpu": round(statistics.median(c for _, c in sample), 3)} for sample in samples]


def sql_floor(path: Path):
    """Plain sqlite3: the first page's keyset query and its codes query, nothing else."""
    conn = sqlite3.connect(path)

    def page():
        rows = conn.execute(
            "select shipment_id, account, latest_verdict, updated_at, latest_screening_id, inbound_plan_id, source"
            " from shipments where latest_screening_id is not null order by updated_at desc, shipment_id desc limit 51"
        ).fetchall()
        ids = [r[4] for r in rows[:50]]
        conn.execute(f"select screening_id, code from findings where screening_id in ({', '.join('?' * len(ids))})"
                     " and waived = 0 and severity in ('block', 'warn') order by severity, id", ids).fetchall()

    return page


def page_calls(path: Path) -> dict:
    """name → a function that requests that page once (checked to answer 200 and warmed up first)."""
    from fba_jp.config import Config
    from fba_jp.web.app import create_app

    with warnings.catch_warnings():  # Starlette 1.x would rather its test client ran on httpx2
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    client = TestClient(create_app(Config(), str(path)), base_url="http://127.0.0.1")
    calls = {}
    for name, url in PAGES.items():
        url = url or client.get("/shipments.json").json()["next"]
        for _ in range(3):  # templates compiled, caches warm
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        calls[name] = lambda url=url: client.get(url)
    calls["sql_floor"] = sql_floor(path)
    return calls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fba-jp-bench-serve-") as tmp:
        tmp = Path(tmp)
        seed_database(tmp / "seed.db")
        calls = []
        for size in args.sizes:
            grow(tmp / "seed.db", tmp / f"db-{size}.db", size)
            calls.append(page_calls(tmp / f"db-{size}.db"))
        small, large = {}, {}
        for name in calls[0]:
            small[name], large[name] = interleaved([calls[0][name], calls[1][name]], args.requests)
    print(json.dumps({
        "benchmark": "serve",
        "page_size": 50,
        "requests": args.requests,
        "shipments": args.sizes,
        "ms_small": {k: v["wall"] for k, v in small.items()},
        "ms_large": {k: v["wall"] for k, v in large.items()},
        "ratio_large_over_small": {k: round(large[k]["wall"] / small[k]["wall"], 2) for k in small},
        "cpu_ms_small": {k: v["cpu"] for k, v in small.items()},
        "cpu_ms_large": {k: v["cpu"] for k, v in large.items()},
        "cpu_ratio_large_over_small": {k: round(large[k]["cpu"] / max(small[k]["cpu"], 1e-3), 2) for k in small},
        "list_over_sql_floor": [round(small["list"]["wall"] / small["sql_floor"]["wall"], 1),
                                round(large["list"]["wall"] / large["sql_floor"]["wall"], 1)],
    }))


if __name__ == "__main__":
    sys.exit(main())
