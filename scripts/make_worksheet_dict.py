"""Write ``fba_jp/data/worksheet.zdict``: the preset dictionary worksheets are deflated with (store.py).

    python scripts/make_worksheet_dict.py

A worksheet is mostly the same keys, labels, rules and document lists, shipment after shipment; deflate
finds those in a preset dictionary instead of in the worksheet itself, which makes a 10-item worksheet
about half as big again. The dictionary is three worksheets of benchmarks/bench_screen.py's realistic mix
(32 KB, what deflate can refer back to). It is frozen once written: every stored worksheet names its
dictionary (the Adler-32 in its zlib header), and migration m017 copies this one into the database's
``zdicts`` table, so a database holds what it takes to read it. A better dictionary later is a new file and a
new migration, never a change to this one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_screen import declarations  # noqa: E402

from fba_jp.models import Declaration  # noqa: E402
from fba_jp.plugin_manager import get_plugins  # noqa: E402
from fba_jp.runner import Screener  # noqa: E402
from fba_jp.store import Store  # noqa: E402

TARGET = ROOT / "fba_jp" / "data" / "worksheet.zdict"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "d.db") as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        sheets = [screener.screen(Declaration.model_validate(data), "dict").valuation.model_dump_json()
                  for data in declarations(30, 10, seed=7)]
    # sellers 6 (deductive prices), 8 (a regulated line) and 3 (ordinary goods in EUR), the most common last
    chosen = "".join(sheets[n] for n in (6, 8, 3)).encode("utf-8")[-32768:]
    TARGET.write_bytes(chosen)
    print(f"wrote {TARGET} ({len(chosen)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
