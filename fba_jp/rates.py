"""Customs exchange rates (Customs Tariff Act Art. 4-7; Enforcement Ordinance Art. 1): weeks and CSV files.

Japan Customs publishes one rate per currency per week, Sunday to Saturday, from the average market rate
of the week before last; a declaration converts at the rate of the week that contains its date. Weeks
are counted on the Japanese calendar: a declaration date already is one, and a moment in time is first
converted to Japan time (2026-12-05T20:00Z is Sunday 2026-12-06 in Tokyo).

Rates are stored keyed by (currency, the week's Sunday) and imported from CSV files with the columns
``week_start,currency,rate``. A file is imported whole or not at all: one bad row and nothing changes.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .csvfiles import not_utf8, records
from .errors import InputError
from .models import JST, MAX_RATE, _check_magnitude

COLUMNS = ("week_start", "currency", "rate")
MAX_ERROR_LINES = 20  # a wholly wrong file should not print thousands of lines


def jst_date(moment: date | datetime) -> date:
    """The Japanese calendar date of ``moment``; a plain ``date`` is taken as already in Japan time.

    A naive ``datetime`` is refused: without a time zone the day, and so the rate week, is a guess.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()}: a date-time needs a time zone to find the day in Japan")
        return moment.astimezone(JST).date()
    return moment


def week_start(moment: date | datetime) -> date:
    """The Sunday of the customs rate week (Sunday–Saturday, Japan time) that contains ``moment``."""
    day = jst_date(moment)
    return day - timedelta(days=(day.weekday() + 1) % 7)  # Monday is weekday 0, Sunday 6


def week_end(moment: date | datetime) -> date:
    """The Saturday that ends the rate week containing ``moment``."""
    return week_start(moment) + timedelta(days=6)


@dataclass(frozen=True)
class RateRow:
    week_start: date
    currency: str
    rate: Decimal
    line: int


def read_rates_csv(path: str | Path) -> list[RateRow]:
    """Read and validate a rates CSV; every problem becomes one ``FILE:LINE: field: message`` line.

    Raises :class:`InputError` listing all bad rows, so a file is accepted only when every row is good.
    Blank lines and lines starting with ``#`` are ignored (the sample file says where its figures are from).
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # spreadsheet exports often start with a BOM
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: {not_utf8(exc)}") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc}") from None
    reader = csv.reader(records(text))
    header: list[str] | None = None
    errors: list[str] = []
    rows: list[RateRow] = []
    seen: dict[tuple[str, date], int] = {}
    for fields in _rows(reader, name):
        line = reader.line_num
        if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [f.strip().lower() for f in fields]
            missing = [c for c in COLUMNS if c not in header]
            unknown = [c for c in header if c not in COLUMNS]
            if missing or unknown or len(set(header)) != len(header):
                raise InputError(
                    f"{name}:{line}: header: must be exactly the columns {','.join(COLUMNS)} "
                    f"(got {','.join(fields)})"
                )
            continue
        if len(fields) != len(header):
            errors.append(f"{name}:{line}: row: expected {len(header)} fields ({','.join(COLUMNS)}), got {len(fields)}")
            continue
        values = dict(zip(header, (f.strip() for f in fields)))
        row_errors = []
        week = _week(values["week_start"])
        if isinstance(week, str):
            row_errors.append(f"week_start: {week}")
        currency = values["currency"].upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            row_errors.append(f"currency: must be a 3-letter ISO 4217 code such as USD (got {values['currency']!r})")
        elif currency == "JPY":
            row_errors.append("currency: JPY is the customs currency itself; it needs no rate (remove the row)")
        rate = _rate(values["rate"])
        if isinstance(rate, str):
            row_errors.append(f"rate: {rate}")
        if not row_errors:
            key = (currency, week)
            if key in seen:
                row_errors.append(f"week_start: {currency} {week} already given on line {seen[key]}; keep one row")
            else:
                seen[key] = line
                rows.append(RateRow(week, currency, rate, line))
        errors.extend(f"{name}:{line}: {problem}" for problem in row_errors)
    if header is None:
        raise InputError(f"{name}: empty file; expected a header {','.join(COLUMNS)} and one row per rate")
    if errors:
        if len(errors) > MAX_ERROR_LINES:
            errors = errors[:MAX_ERROR_LINES] + [f"{name}: … and {len(errors) - MAX_ERROR_LINES} more problems"]
        raise InputError(errors + [f"{name}: nothing imported; fix the rows above and import the file again"])
    if not rows:
        raise InputError(f"{name}: no rates after the header; add rows such as 2026-12-06,USD,150.25")
    return rows


def _rows(reader, name: str):
    try:
        yield from reader
    except csv.Error as exc:  # a field over csv's size limit: a binary or a wholly wrong file
        raise InputError(f"{name}:{reader.line_num}: not a rates CSV ({exc}); expected the columns "
                         f"{','.join(COLUMNS)}") from None


def _week(text: str) -> date | str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"must be a date YYYY-MM-DD (got {text!r})"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return f"not a calendar date (got {text!r})"
    if day != week_start(day):
        return (
            f"{text} is a {day:%A}; a customs rate week starts on Sunday "
            f"(the week containing it starts {week_start(day)})"
        )
    return day


def _rate(text: str) -> Decimal | str:
    problem = f"must be a positive decimal number such as 150.25 (got {text!r})"
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", text):
        return problem
    try:
        rate = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return problem
    if rate <= 0:
        return problem
    try:
        _check_magnitude(rate, MAX_RATE)
    except ValueError as exc:  # a yen rate beyond any currency's, or with absurd precision
        return f"{exc} (got {text[:40]!r})"
    return rate


def import_rates_csv(store, path: str | Path, rows: list[RateRow] | None = None) -> dict:
    """Validate ``path`` and store all its rates in one transaction; say what was imported and what changed.

    ``rows``: the file already read with :func:`read_rates_csv` (the CLI reads it before opening the store,
    so a bad file leaves no new database behind).
    """
    rows = read_rates_csv(path) if rows is None else rows
    changed = []
    for row in rows:
        old = store.exchange_rate(row.currency, row.week_start)
        if old is not None and old != row.rate:
            changed.append(
                {"currency": row.currency, "week_start": row.week_start.isoformat(), "old": str(old), "new": str(row.rate)}
            )
    count = store.import_rates(((r.week_start, r.currency, r.rate) for r in rows), source=Path(path).name)
    return {
        "imported": count,
        "file": str(path),
        "currencies": sorted({r.currency for r in rows}),
        "weeks": sorted({r.week_start.isoformat() for r in rows}),
        "changed": changed,
    }
