#!/usr/bin/env python3
"""Rebuild the fonts the shipping documents embed: fba_jp/documents/fonts/NotoSansJP-{Regular,Bold}.ttf.

Source: Noto Sans CJK JP 2.004 (SIL Open Font License 1.1, no reserved font name) from Debian's
``fonts-noto-cjk`` package (``apt-get install fonts-noto-cjk``), face 0 of NotoSansCJK-{Regular,Bold}.ttc.
The full faces are 16-19 MB; the documents need far less:

* Regular: every character Windows-31J (cp932) can encode — JIS X 0208 kanji and kana, NEC and IBM
  extensions such as ㈱ and ①, which is what Japanese business software writes — plus Latin-1,
  Latin Extended-A, general punctuation, currency and letter-like symbols (about 7,900 characters);
* Bold (headings and labels only; fpdf2 falls back to Regular for anything else): ASCII, Latin-1,
  punctuation, kana and the characters of ``fba_jp/documents/labels.py``.

Layout tables (GSUB/GPOS: vertical forms, ligatures) and hinting are dropped: the documents are set
horizontally by fpdf2, which does not shape text. The cubic (CFF) outlines are converted to quadratic
TrueType ones (fontTools cu2qu, max error 1 unit of 1000): the file is 40 % larger but compresses to the
same size in the wheel, and fpdf2 subsets glyf outlines for each PDF about twice as fast as CFF ones.
The output is deterministic for the same source.

    python scripts/make_fonts.py [--source-dir /usr/share/fonts/opentype/noto]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fba_jp" / "documents" / "fonts"
RANGES = [(0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x20A0, 0x20BF), (0x2100, 0x214F)]
BOLD_RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x3000, 0x30FF), (0xFF01, 0xFF5E)]


def cp932_characters() -> set[str]:
    chars = set()
    for lead in range(0x81, 0xFD):
        for trail in range(0x40, 0xFD):
            try:
                chars.update(bytes([lead, trail]).decode("cp932"))
            except UnicodeDecodeError:
                pass
    chars.update(bytes(range(0xA1, 0xE0)).decode("cp932"))  # half-width katakana
    return chars


def ranges(spans) -> set[str]:
    return {chr(c) for start, end in spans for c in range(start, end + 1)}


def make(source: Path, out: Path, characters: set[str]) -> None:
    font = TTFont(source, fontNumber=0, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in characters))
    subsetter.subset(font)
    to_truetype(font)
    font.save(out)
    cmap = font.getBestCmap()
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size:,} bytes, {len(cmap):,} characters", file=sys.stderr)


def to_truetype(font: TTFont, max_error: float = 1.0) -> None:
    """Replace the CFF table by glyf/loca with the same outlines as quadratic curves."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_error, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attribute in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                      "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    del font["CFF "]
    font.sfntVersion = "\000\001\000\000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", default="/usr/share/fonts/opentype/noto", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from fba_jp.documents.labels import all_label_text

    OUT.mkdir(parents=True, exist_ok=True)
    make(args.source_dir / "NotoSansCJK-Regular.ttc", OUT / "NotoSansJP-Regular.ttf", cp932_characters() | ranges(RANGES))
    make(args.source_dir / "NotoSansCJK-Bold.ttc", OUT / "NotoSansJP-Bold.ttf", ranges(BOLD_RANGES) | set(all_label_text()))


if __name__ == "__main__":
    main()
