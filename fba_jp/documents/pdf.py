"""The documents as PDF, with fpdf2 (pure Python) and the Noto Sans JP subset shipped in the package.

fpdf2 embeds only the glyphs a document uses, so a one-page invoice is tens of kilobytes. Characters
the font lacks (emoji, rare kanji outside JIS X 0208, most of Latin Extended-A) are never left to
render as empty boxes: :func:`printable` maps them to their compatibility form or base letter when the
font has it (ｶ → カ is kept as is, Š → S), drops invisible format characters and prints 〓 (geta,
the typesetter's mark for a missing glyph) otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

from .build import Documents, amount
from .labels import DECLARATION_TEXT, NO_TRANSACTION, WATERMARK, WATERMARK_JA, label

FONT = "NotoSansJP"
MISSING_GLYPH = "〓"
_BASE_LETTERS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŧ": "T", "ŧ": "t",
                 "Ŋ": "N", "ŋ": "n", "ĸ": "k", "Ŀ": "L", "ŀ": "l", "ſ": "s"}
# a description longer than this is cut in the line table and printed whole after it, so one item
# can never make a table row taller than a page
TABLE_DESCRIPTION_CHARS = 160
GREY = (102, 112, 133)
LINE = (208, 213, 221)
HEAD_FILL = (242, 244, 247)
RED = (180, 35, 24)


def font_path(style: str = "Regular"):
    return resources.files("fba_jp.documents").joinpath(f"fonts/{FONT}-{style}.ttf")


@lru_cache(maxsize=1)
def font_characters() -> frozenset[int]:
    """Code points the regular font can draw."""
    from fontTools.ttLib import TTFont

    with font_path().open("rb") as handle:
        return frozenset(TTFont(handle, lazy=True).getBestCmap())


@lru_cache(maxsize=65536)
def _printable_char(char: str) -> str:
    if ord(char) in font_characters():
        return char
    if char == "\n":
        return char
    if char in "\t\r":
        return " "
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and compatible and all(ord(c) in font_characters() for c in compatible):
        return compatible
    # Noto Sans CJK lacks most of Latin Extended-A (Š, Ł, İ…): print the base letter, which keeps a
    # Czech or Polish name readable, rather than a mark
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    base = _BASE_LETTERS.get(char, base)
    if base and base != char and all(ord(c) in font_characters() for c in base):
        return base
    if unicodedata.category(char) in ("Mn", "Me", "Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
        return ""  # combining marks, zero-width and control characters: nothing visible to lose
    return MISSING_GLYPH


def printable(text: str) -> str:
    """``text`` with every character the font can draw (see the module docstring)."""
    if all(ord(c) in font_characters() or c == "\n" for c in text):
        return text
    return "".join(_printable_char(c) for c in text)


def render_pdf(docs: Documents, kind: str) -> bytes:
    """One document (``invoice``, ``packing_list`` or ``checklist``) as PDF bytes."""
    from fpdf import FPDF

    class _Pdf(FPDF):
        def header(self):
            if docs.draft:
                self._watermark()
            self.set_font(FONT, "B", 13)
            self.set_text_color(16, 24, 40)
            self.cell(0, 6, printable(label(kind)), new_x="LMARGIN", new_y="NEXT")
            self.set_font(FONT, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 4, printable(f"{label('invoice_no')}: {docs.invoice_no}    {label('shipment')}: "
                                      f"{docs.shipment_id}    {label('page')} {self.page_no()}/{{nb}}"),
                      new_x="LMARGIN", new_y="NEXT")
            if docs.draft:
                self.set_text_color(*RED)
                self.set_font(FONT, "B", 9)
                codes = sorted({b.split(":")[0].split(" ")[0] for b in docs.blocking})
                self.multi_cell(0, 4.5, printable(f"{WATERMARK} · {WATERMARK_JA} · {label('blocking')}: "
                                                  + ", ".join(codes)), align="L", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(16, 24, 40)
            self.ln(2)

        def _watermark(self):
            with self.local_context(fill_opacity=0.16, text_color=RED):
                self.set_font(FONT, "B", 44)
                with self.rotation(35, x=self.w / 2, y=self.h / 2):
                    width = self.get_string_width(WATERMARK)
                    self.text(self.w / 2 - width / 2, self.h / 2, WATERMARK)

        def footer(self):
            self.set_y(-12)
            self.set_font(FONT, "", 7)
            self.set_text_color(*GREY)
            self.multi_cell(0, 3.2, printable(
                f"fba-jp {_version()} · {label('screening')} #{docs.result.screening_id} "
                f"({docs.result.verdict}, {docs.result.screened_at or ''}) · input sha256 "
                f"{docs.result.input_sha256[:16]}… · check this file: fba-jp documents --verify FILE"), align="L")

    pdf = _Pdf(format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FONT, "", str(font_path("Regular")))  # a package directory on disk (hatch wheels are unzipped)
    pdf.add_font(FONT, "B", str(font_path("Bold")))
    pdf.set_fallback_fonts([FONT], exact_match=False)
    pdf.set_title(f"{label(kind)} {docs.shipment_id}")
    pdf.set_creator(f"fba-jp {_version()}")
    pdf.set_author(docs.seller.name)
    pdf.set_draw_color(*LINE)
    pdf.add_page()
    pdf.widths = {}  # text widths measured so far, by font and size (see _width)
    {"invoice": _invoice, "packing_list": _packing_list, "checklist": _checklist}[kind](pdf, docs)
    return bytes(pdf.output())


def _version() -> str:
    from .. import __version__

    return __version__


def _heading(pdf, key: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 9.5)
    pdf.cell(0, 5.5, printable(label(key)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)


def _text(pdf, text: str, size: float = 8, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, size * 0.5, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")


def _blocking(pdf, docs: Documents) -> None:
    if not docs.draft:
        return
    pdf.set_text_color(*RED)
    _heading(pdf, "blocking")
    for line in docs.blocking:
        _text(pdf, f"• {line}", 7.5)
    pdf.set_text_color(16, 24, 40)
    pdf.ln(1)


# Tables are drawn here rather than with fpdf2's ``table()``: that one measures every cell's text
# character by character twice, which took 8 s for a 500-line invoice; this takes well under one.
_TOKENS = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*|\s+")


def _width(pdf, text: str) -> float:
    key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, text)
    cache = pdf.widths
    if key not in cache:
        cache[key] = pdf.get_string_width(text)
    return cache[key]


def wrap(pdf, text: str, width: float) -> list[str]:
    """Lines of ``text`` that fit ``width`` mm: Latin breaks at spaces, Japanese between any two characters."""
    lines = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for token in _TOKENS.findall(paragraph):
            size = _width(pdf, token)
            if line and used + _width(pdf, token.rstrip()) > width:
                lines.append(line.rstrip())
                line, used = "", 0.0
                if token.isspace():
                    continue
            if size > width:  # one word wider than the column: break it between characters
                for char in token:
                    char_size = _width(pdf, char)
                    if line and used + char_size > width:
                        lines.append(line)
                        line, used = "", 0.0
                    line, used = line + char, used + char_size
                continue
            line, used = line + token, used + size
        lines.append(line.rstrip())
    return lines


def grid(pdf, widths, rows, aligns=None, header=None, size=7.5, line_height=3.6, pad=1.0) -> None:
    """A bordered table; ``header`` (bold, shaded) is repeated on every page the table runs onto.

    ``rows`` are lists of cell texts; a row whose first cell is ``None`` is a shaded heading row.
    """
    aligns = aligns or ["L"] * len(widths)
    baseline = line_height * 0.5 + size * 0.352778 * 0.36  # mm: the middle of the line, plus half an x-height

    def draw(cells, head):
        pdf.set_font(FONT, "B" if head else "", size)
        wrapped = [wrap(pdf, printable(text or ""), width - 2 * pad) for text, width in zip(cells, widths)]
        room = (pdf.page_break_trigger - pdf.t_margin - 20) // line_height
        wrapped = [lines[: int(room)] for lines in wrapped]  # a row never taller than a page
        height = max(len(lines) for lines in wrapped) * line_height + 2 * pad
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            if header and not head:
                draw(header, True)
                pdf.set_font(FONT, "", size)
        x, y = pdf.l_margin, pdf.get_y()
        for lines, width, align in zip(wrapped, widths, aligns):
            pdf.rect(x, y, width, height, style="DF" if head else "D")
            for number, text in enumerate(lines):
                # text() places one line at a baseline without cell()'s layout work (a third of the time)
                left = x + pad
                if align != "L" and text:
                    room = width - 2 * pad - _width(pdf, text)
                    left += room if align == "R" else room / 2
                pdf.text(left, y + pad + number * line_height + baseline, text)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)

    pdf.set_fill_color(*HEAD_FILL)
    if header:
        if pdf.get_y() + 4 * line_height + 4 * pad > pdf.page_break_trigger:
            pdf.add_page()  # a heading row alone at the foot of a page helps no one
        draw(header, True)
    for cells in rows:
        if cells and cells[0] is None:
            draw(cells[1:], True)
        else:
            draw(cells, False)
    pdf.set_font(FONT, "", 8)


def _labels(*keys: str) -> list[str]:
    return [label(key, "\n") for key in keys]


def _pairs(pdf, rows: list[tuple[str, str]], widths=(76, 110)) -> None:
    grid(pdf, widths, [[label(key), value] for key, value in rows], size=8, line_height=4)


def _parties(pdf, docs: Documents) -> None:
    def text(block):
        return "\n".join([block.name, *block.lines])

    grid(pdf, (93, 93), [
        [None, label("seller"), label("importer")], [text(docs.seller), text(docs.importer)],
        [None, label("acp"), label("consignee")], [text(docs.acp), text(docs.consignee)],
    ], size=8, line_height=4)
    grid(pdf, (186,), [[None, label("delivery")], [text(docs.delivery)]], size=8, line_height=4)


def _invoice(pdf, docs: Documents) -> None:
    decl = docs.declaration
    _blocking(pdf, docs)
    _pairs(pdf, [
        ("invoice_no", docs.invoice_no),
        ("invoice_date", docs.issued_on.isoformat()),
        ("shipment", docs.shipment_id),
        ("plan", decl.inbound_plan_id or "—"),
        ("export_date", decl.export_date.isoformat() if decl.export_date else "—"),
        ("declaration_date", decl.declaration_date.isoformat()),
        ("incoterms", docs.incoterms),
        ("duty_paid_by", docs.duty_paid_by),
        ("currency", docs.currency),
        ("rate", docs.rate),
    ])
    pdf.ln(2)
    _parties(pdf, docs)
    _heading(pdf, "lines")
    long, rows = [], []
    for line in docs.lines:
        description = line.description
        if len(description) > TABLE_DESCRIPTION_CHARS:
            long.append(line)
            description = _cut(description, f"full text below 全文は下記 #{line.no}")
        rows.append([str(line.no), line.sku + (f"\nASIN {line.asin}" if line.asin else ""),
                     description + "".join(f"\n· {entry}" for entry in line.licences), line.hs_code, line.origin,
                     f"{line.quantity:,}", amount(line.unit_value, docs.currency),
                     amount(line.line_value, docs.currency)])
    grid(pdf, (8, 26, 62, 19, 11, 12, 20, 28), rows, aligns=("R", "L", "L", "L", "C", "R", "R", "R"),
         header=_labels("line_no", "sku", "description", "hs_code", "origin", "quantity", "unit_value", "line_value"))
    for line in long:
        _text(pdf, f"#{line.no} {line.sku}: {line.description}", 7)
    _heading(pdf, "totals")
    _pairs(pdf, docs.totals, widths=(76, 110))
    _heading(pdf, "valuation_note")
    if docs.no_transaction:
        _text(pdf, NO_TRANSACTION[0], 7.5)
        _text(pdf, NO_TRANSACTION[1], 7.5)
    if docs.methods:
        grid(pdf, (34, 52, 100), [list(row) for row in docs.methods], header=_labels("sku", "method", "reason"))
    if docs.evidence:
        _text(pdf, "Evidence kept 保存する根拠資料: " + "; ".join(docs.evidence), 7.5)
    _heading(pdf, "declaration")
    _text(pdf, DECLARATION_TEXT[0], 7.5)
    _text(pdf, DECLARATION_TEXT[1], 7.5)
    pdf.ln(8)
    pdf.set_draw_color(16, 24, 40)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 90, pdf.get_y())
    pdf.set_draw_color(*LINE)
    _text(pdf, f"{label('signature')} — for {docs.seller.name}", 7.5)


def _packing_list(pdf, docs: Documents) -> None:
    _blocking(pdf, docs)
    _pairs(pdf, [("shipment", docs.shipment_id), ("plan", docs.declaration.inbound_plan_id or "—"),
                 ("packages", docs.boxes_note if docs.boxes else "—")])
    pdf.ln(2)
    _parties(pdf, docs)
    if docs.boxes:
        grid(pdf, (40, 84, 28, 34), [[box.label, "\n".join(f"{sku} × {qty:,}" if qty else sku
                                                            for sku, qty in box.contents),
                                       box.weight, box.dimensions] for box in docs.boxes],
             aligns=("L", "L", "R", "R"), header=_labels("box", "contents", "weight", "dimensions"))
    else:
        _text(pdf, docs.boxes_note, 7.5)
    _heading(pdf, "contents")
    rows = [[str(line.no), line.sku, _cut(line.description, f"the invoice has it whole #{line.no}"), line.origin,
             f"{line.quantity:,}"] for line in docs.lines]
    rows.append([None, "", "", label("totals"), "", f"{sum(line.quantity for line in docs.lines):,}"])
    grid(pdf, (10, 40, 100, 16, 20), rows, aligns=("R", "L", "L", "C", "R"),
         header=_labels("line_no", "sku", "description", "origin", "quantity"))


def _cut(description: str, where: str) -> str:
    """A description as a table cell: whole, or cut with a mark saying where the rest is (never silently)."""
    if len(description) <= TABLE_DESCRIPTION_CHARS:
        return description
    return description[:TABLE_DESCRIPTION_CHARS] + f"… ({where})"


def _checklist(pdf, docs: Documents) -> None:
    _blocking(pdf, docs)
    _heading(pdf, "travel")
    for entry in docs.travel:
        _text(pdf, f"□ {entry}", 8)
    _heading(pdf, "keep")
    grid(pdf, (110, 76), [list(row) for row in docs.keep], header=_labels("keep", "retention"))
