"""Rebuild ``fba_jp/data/confusables.json``: the TR39 prototype of every confusable character.

    python -m pip install confusable-homoglyphs && python scripts/make_confusables.py

The data is Unicode's ``confusables.txt`` as shipped by the ``confusable-homoglyphs`` package, which
stores each line ``source ; prototype`` in both directions (and wraps right-to-left characters in U+200E,
itself ignorable). The direction is recovered from what the file guarantees: a source maps to exactly one
prototype and is never a prototype itself, so a character with one partner whose partner has several (or
is a sequence) is a source; in a class of just two characters the source is the one the file lists first.

fba-jp ships the result rather than importing the package at run time: loading its 900 KB table (and the
``urllib``/``ssl`` imports that come with it) cost every ``fba-jp gate`` about 25 ms for a few thousand
mappings. ``tests/test_names.py`` checks the shipped table against the installed package.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "fba_jp" / "data" / "confusables.json"


def prototypes(data: dict) -> dict[str, str]:
    """Each source character → the prototype of its confusable class, from the package's table."""
    lrm = "\u200e"
    order = {}
    single = {}  # character → its only partner
    for position, (key, entries) in enumerate(data.items()):
        key = key.replace(lrm, "")
        order[key] = position
        if len(entries) == 1:
            single[key] = entries[0]["c"].replace(lrm, "")
    mapping = {}
    for char, other in single.items():
        if len(char) != 1:
            continue  # a sequence is only ever a prototype
        if len(other) != 1 or other not in single or order[char] < order.get(other, -1):
            mapping[char] = other
    return mapping


def package_table() -> dict:
    """The package's own data file, read as data (its modules import urllib to download updates)."""
    text = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8")
    return json.loads(text)


def document() -> dict:
    version = metadata.version("confusable-homoglyphs")
    return {
        "source": f"Unicode confusables.txt (TR39) as shipped by confusable-homoglyphs {version}; "
                  "built by scripts/make_confusables.py",
        "prototypes": dict(sorted(prototypes(package_table()).items())),
    }


def main() -> None:
    TARGET.write_text(json.dumps(document(), indent=0, sort_keys=False) + "\n", encoding="ascii")
    print(f"wrote {TARGET} ({len(document()['prototypes'])} mappings)", file=sys.stderr)


if __name__ == "__main__":
    main()
