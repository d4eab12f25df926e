"""Write the dictionaries stored worksheets are compressed with (store.py), each frozen once written.

    python scripts/make_worksheet_dict.py zstd    # fba_jp/data/worksheet.zstd-dict: what worksheets are written with
    python scripts/make_worksheet_dict.py zlib    # fba_jp/data/worksheet.zdict: what they were written with until 0.2

A worksheet is mostly the same keys, labels, rules and document lists, shipment after shipment; the
compressor finds those in a dictionary instead of in the worksheet itself, which makes a 10-item worksheet
about half as big again.

* ``zstd``: a dictionary trained by Zstandard (``zstandard.train_dictionary``, 32 KB, deterministic) on
  worksheets of both of benchmarks/bench_screen.py's mixes (realistic and regulated) at 1, 10 and 50 items,
  generated with seed 7, not the benchmark's seed 1, so the benchmark is not measured on its own training data.
  Migration m018 copies it into the database's ``zdicts`` table.
* ``zlib``: three worksheets of the realistic mix (32 KB, what deflate can refer back to), seed 7; migration
  m017 copies it into ``zdicts``.

Both are frozen once written: every stored worksheet names its dictionary (the dict_id in its Zstandard frame
header, the Adler-32 in its zlib header) and the database holds a copy of it, so a database holds what it
takes to read it. This script never overwrites one: it says whether it still makes the same bytes. A better
dictionary later is a new file and a new migration, never a change to one of these.
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

DATA = ROOT / "fba_jp" / "data"
SEED = 7
# (mix, items, worksheets): mostly 10-item shipments of the realistic mix, what sellers ship most; a few 1-item
# ones, or their short worksheets would crowd out the lines of long ones
ZSTD_SAMPLES = (("realistic", 1, 60), ("realistic", 10, 200), ("realistic", 50, 40),
                ("regulated", 1, 20), ("regulated", 10, 70), ("regulated", 50, 15))


def worksheets(n: int, items: int, mix: str = "realistic") -> list[bytes]:
    """The JSON worksheets (UTF-8, as stored) of ``n`` shipments of ``mix`` screened through the pipeline
    (evaluated against a store, not recorded: recording would compress them with the dictionary being made)."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "d.db") as store:
        screener = Screener(get_plugins(load_entrypoints=False), store=store)
        return [screener.evaluate(Declaration.model_validate(data), "dict")[0].valuation.model_dump_json().encode()
                for data in declarations(n, items, SEED, mix)]


def zstd_dict() -> bytes:
    import zstandard

    samples = [sheet for mix, items, n in ZSTD_SAMPLES for sheet in worksheets(n, items, mix)]
    return zstandard.train_dictionary(32768, samples).as_bytes()


def zlib_dict() -> bytes:
    sheets = worksheets(30, 10)
    # sellers 6 (deductive prices), 8 (a regulated line) and 3 (ordinary goods in EUR), the most common last
    return b"".join(sheets[n] for n in (6, 8, 3))[-32768:]


def main(argv: list[str]) -> None:
    makers = {"zstd": ("worksheet.zstd-dict", zstd_dict), "zlib": ("worksheet.zdict", zlib_dict)}
    if len(argv) != 1 or argv[0] not in makers:
        raise SystemExit(f"usage: {Path(__file__).name} zstd|zlib")
    name, make = makers[argv[0]]
    target, made = DATA / name, make()
    if not target.exists():
        target.write_bytes(made)
        print(f"wrote {target} ({len(made)} bytes)", file=sys.stderr)
    elif target.read_bytes() == made:
        print(f"{target}: frozen, and this script still makes the same {len(made)} bytes", file=sys.stderr)
    else:
        print(f"{target}: frozen, left as it is (this script now makes other bytes: the worksheets changed)",
              file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
