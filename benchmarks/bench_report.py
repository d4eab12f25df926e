"""``fba-jp report`` (JSON and HTML) at many shipments: time, throughput and peak memory.

    python benchmarks/bench_report.py --shipments 100000
    python benchmarks/bench_report.py --shipments 10000 --html

Builds a database of ``--shipments`` screened shipments: ``--distinct`` realistic declarations
(benchmarks/bench_screen.py's mix, 10 items each) are screened through the real pipeline, then their
rows are copied under new shipment ids until there are enough (the rows are what a report reads; how
they were made does not matter to it). Then, each in a fresh process (peak RSS is that process's own):

* ``fba-jp report -o json`` to /dev/null: wall and CPU seconds, shipments/s, peak RSS;
* with ``--html``, the HTML report alone (``write_html_report_from_store``, what ``--html`` runs): over
  ``--per-page`` shipments (default 100, as ``fba-jp report``) an index page and the pages beside it; their
  sizes (``index_kb``, ``page_kb`` median and largest, ``pages``) are what a browser has to open;
* the floor: plain ``sqlite3`` reading the same rows (latest screening, its findings and worksheet of every
  shipment) and writing them out as JSON text, no models: what any report must at least do.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_screen import declarations  # noqa: E402

from fba_jp.models import Declaration  # noqa: E402
from fba_jp.plugin_manager import get_plugins  # noqa: E402
from fba_jp.runner import Screener  # noqa: E402
from fba_jp.store import Store  # noqa: E402

FLOOR = r"""
import json, sqlite3, sys, zlib
import zstandard
conn = sqlite3.connect(sys.argv[1])
out = open(sys.argv[2], "w")
zdicts = dict(conn.execute("select id, body from zdicts"))
unzstd = {key - 2**32: zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(body))
          for key, body in zdicts.items() if key >= 2**32}  # Zstandard dictionaries: 2**32 + their dict_id
primed = {}
def inflate(data):
    if data[:4] == b"\x28\xb5\x2f\xfd":  # a Zstandard frame, with the dictionary its header names
        return unzstd[zstandard.get_frame_parameters(data).dict_id].decompress(data)
    if not data[1] & 0x20:  # older rows: zlib, with the preset dictionary its header names (FDICT) or none
        return zlib.decompress(data)
    if data[:6] not in primed:  # as fba-jp does: a copy of a decompressor past the header is cheaper than a new one
        primed[data[:6]] = zlib.decompressobj(zdict=zdicts[int.from_bytes(data[2:6], "big")])
        primed[data[:6]].decompress(data[:6])
    d = primed[data[:6]].copy()
    return d.decompress(data[6:]) + d.flush()
latest = "from screenings s join shipments sh on sh.latest_screening_id = s.id"
cursor = conn.execute(f"select s.* {latest} order by s.id")
names = [d[0] for d in cursor.description]
while rows := cursor.fetchmany(500):
    ids = [r[0] for r in rows]
    marks = ",".join("?" * len(ids))
    findings = {}
    for f in conn.execute(f"select * from findings where screening_id in ({marks}) order by screening_id, id", ids):
        findings.setdefault(f[1], []).append(f)
    sheets = dict(conn.execute(f"select screening_id, worksheet from valuations where screening_id in ({marks})", ids))
    for row in rows:
        sheet = sheets.get(row[0]) or ""
        sheet = inflate(sheet).decode() if isinstance(sheet, bytes) else sheet  # stored deflated
        out.write(json.dumps([dict(zip(names, row)), findings.get(row[0], [])]) + sheet + "\n")
"""

HTML = r"""
import json, sys
from fba_jp.report import write_html_report_from_store
from fba_jp.store import Store
with Store(sys.argv[1]) as store:
    written = write_html_report_from_store(store, sys.argv[2], per_page=int(sys.argv[3]))
print(json.dumps([str(p) for p in written]))
"""


def build(path: Path, shipments: int, distinct: int, seed: int) -> None:
    with Store(path) as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        for data in declarations(min(distinct, shipments), 10, seed):
            screener.screen(Declaration.model_validate(data), "bench")
    conn = _connect(path)
    columns = {t: [r[1] for r in conn.execute(f"pragma table_info([{t}])")] for t in
               ("screenings", "finding_rows", "valuations", "shipments")}
    top = count = conn.execute("select max(id) from screenings").fetchone()[0]  # one screening each
    copy = 1
    while count < shipments:
        take = min(top, shipments - count)  # copies of the first `take` screened shipments
        offset = copy * top
        conn.execute("begin")
        _copy(conn, "screenings", columns["screenings"], {"id": f"id + {offset}", "shipment_id": f"shipment_id || '-{copy}'"},
              f"id <= {take}")
        _copy(conn, "finding_rows", [c for c in columns["finding_rows"] if c != "id"],  # texts are shared
              {"screening_id": f"screening_id + {offset}"}, f"screening_id <= {take}")
        _copy(conn, "valuations", columns["valuations"], {"screening_id": f"screening_id + {offset}"},
              f"screening_id <= {take}")
        _copy(conn, "shipments", columns["shipments"], {"shipment_id": f"shipment_id || '-{copy}'",
              "latest_screening_id": f"latest_screening_id + {offset}"}, f"latest_screening_id <= {take}")
        conn.execute("commit")
        count += take
        copy += 1
    conn.close()


def _connect(path: Path):
    import sqlite3

    return sqlite3.connect(path, isolation_level=None)


def _copy(conn, table: str, columns: list[str], changed: dict[str, str], where: str) -> None:
    select = ", ".join(changed.get(c, f"[{c}]") for c in columns)
    conn.execute(f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) select {select} from [{table}] where {where}")


def measure(argv: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Wall, CPU and peak RSS of one fresh process (os.wait4: that child's own figures)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    error = process.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]} failed: {error}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10000)
    parser.add_argument("--distinct", type=int, default=300, help="declarations actually screened (default 300)")
    parser.add_argument("--html", action="store_true", help="also time the HTML report")
    parser.add_argument("--per-page", type=int, default=100, help="HTML: shipments per page (default 100)")
    parser.add_argument("--keep-html", action="store_true", help="HTML: keep the report to look at it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="keep the database here (reused if it exists)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="fba-jp-bench-report-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / f"report-{args.shipments}.db"
    if not db.exists():
        build(db, args.shipments, args.distinct, args.seed)
    n = args.shipments
    figures: dict = {"bench": "report", "shipments": n, "db_mb": round(db.stat().st_size / 2**20, 1)}
    with open(os.devnull, "w") as null:
        json_run = measure([sys.executable, "-m", "fba_jp", "report", "--db", str(db), "-o", "json"], stdout=null)
    figures["json"] = {**json_run, "shipments_per_s": round(n / json_run["wall_s"])}
    floor = measure([sys.executable, "-c", FLOOR, str(db), os.devnull])
    figures["json_floor"] = {**floor, "shipments_per_s": round(n / floor["wall_s"])}
    figures["json_over_floor"] = round(json_run["wall_s"] / floor["wall_s"], 2)
    if args.html:
        html_path = directory / f"report-{n}.html"
        listing = directory / "written.json"
        with open(listing, "w") as out:
            html = measure([sys.executable, "-c", HTML, str(db), str(html_path), str(args.per_page)], stdout=out)
        written = [Path(p) for p in json.loads(listing.read_text())]
        sizes = sorted(p.stat().st_size / 2**10 for p in written[1:])
        figures["html"] = {**html, "shipments_per_s": round(n / html["wall_s"]),
                           "html_mb": round(sum(p.stat().st_size for p in written) / 2**20, 1),
                           "index_kb": round(written[0].stat().st_size / 2**10), "pages": len(sizes),
                           "page_kb_median": round(statistics.median(sizes)) if sizes else None,
                           "page_kb_max": round(sizes[-1]) if sizes else None}
        if not args.keep_html:
            for p in written:
                p.unlink()
    figures["python"] = sys.version.split()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
