"""Shipping documents: time to render the commercial invoice PDF of a small shipment and of 500 lines.

    python benchmarks/bench_documents.py --runs 5

The floor, measured in the same run, is fpdf2 itself writing the same text with the same embedded font,
one ``text()`` call per line and nothing else (no measuring, wrapping, borders or page layout): what any
fpdf2 document with this content costs. ``ratio`` is fba-jp's time over that floor. The figures are the
median of ``--runs`` renders (after one warm-up that loads the font), with CPU time, which is steadier on a
loaded machine. One JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fba_jp.app import App  # noqa: E402
from fba_jp.documents import documents_for, render  # noqa: E402
from fba_jp.documents.pdf import FONT, font_path, printable  # noqa: E402
from fba_jp.models import Declaration  # noqa: E402

BASE = {
    "schema": "fba-jp/shipment/v1", "shipment_id": "FBA17BENCH01", "declaration_date": "2026-12-07",
    "seller": {"name": "Kyoto Botanica Inc.", "country": "US"},
    "importer_of_record": {"name": "Kyoto Botanica Inc.", "address": "500 Market St, San Francisco CA 94105"},
    "consignee": {"name": "Kyoto Botanica Inc."},
    "acp": {"name": "さくら通関アドバイザリー株式会社", "status": "registered", "accepted_on": "2026-09-15",
            "address": "大阪府大阪市中央区本町1-2-3"},
    "currency": "USD", "freight": "410.00", "insurance": "18.50", "fx_rates": {"USD": "150.25"},
}


def declaration(lines: int) -> Declaration:
    items = [{"msku": f"SKU-{n:04d}", "title": f"Hinoki wood comb {n} 木製の櫛", "quantity": n, "unit_value": "3.20",
              "hs_code": "9615.19", "origin_country": "CN", "duty_rate": "5.3"} for n in range(1, lines + 1)]
    return Declaration.model_validate({**BASE, "items": items})


def floor_pdf(texts: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font(FONT, "", str(font_path("Regular")))
    pdf.set_font(FONT, "", 7.5)
    pdf.add_page()
    y = 20.0
    for text in texts:
        if y > 280:
            pdf.add_page()
            y = 20.0
        pdf.text(12, y, text)
        y += 3.6
    return bytes(pdf.output())


def timed(function, runs: int) -> tuple[float, float]:
    function()  # warm-up: font parsing, imports
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = App(None, ":memory:")
    result = {"benchmark": "documents", "runs": args.runs}
    for name, lines in (("small", 2), ("lines_500", 500)):
        decl = declaration(lines)
        screened = app.screener().screen(decl, "bench")
        docs = documents_for(app.config, app.store, decl, screened, draft=False)
        # the same characters the invoice prints, one line of text per table row or value
        texts = [printable(f"{line.no} {line.sku} {line.description} {line.hs_code} {line.origin} {line.quantity} "
                           f"{line.unit_value} {line.line_value}") for line in docs.lines]
        texts += [printable(f"{key} {value}") for key, value in docs.totals]
        wall, cpu = timed(lambda: render(docs, "invoice", "pdf"), args.runs)
        floor_wall, floor_cpu = timed(lambda: floor_pdf(texts), args.runs)
        result[name] = {"lines": lines, "seconds": round(wall, 4), "cpu_seconds": round(cpu, 4),
                        "floor_seconds": round(floor_wall, 4), "floor_cpu_seconds": round(floor_cpu, 4),
                        "ratio_cpu": round(cpu / floor_cpu, 2), "bytes": len(render(docs, "invoice", "pdf"))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
