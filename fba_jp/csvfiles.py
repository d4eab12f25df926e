"""CSV files as spreadsheets write them (``products.csv``, rates, freight quotes): UTF-8, with or without
Excel's byte-order mark, records split the way the CSV dialect says."""

from __future__ import annotations

import io


def records(text: str) -> io.StringIO:
    """``text`` for :mod:`csv`: a record ends where the dialect says, so a quoted field keeps its line break
    (Alt+Enter in Excel), and U+2028, a form feed or a vertical tab inside a title does not start a new row,
    as ``str.splitlines`` would."""
    return io.StringIO(text, newline="")


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Where the file stops being UTF-8, and the fix (Japanese Windows saves plain "CSV" as Shift_JIS)."""
    line = exc.object[: exc.start].count(b"\n") + 1
    return (f"line {line}: not UTF-8 text (a spreadsheet saved as plain \"CSV\" on Japanese Windows is Shift_JIS); "
            "save it as \"CSV UTF-8\"")
