"""``fba-jp rates import CSV`` and ``fba-jp rates list``: the customs weekly exchange rates table.

Kept apart from :mod:`fba_jp.rates`, which the valuation imports without the command line.
"""

from __future__ import annotations

import json
import re
from datetime import date

import click

from .common import App, common_options
from ..errors import UsageError
from ..rates import import_rates_csv, read_rates_csv, week_end, week_start


@click.group("rates")
def rates():
    """Japan Customs weekly exchange rates (week_start,currency,rate)."""


@rates.command("import")
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False))
@common_options
def rates_import(app: App, csv_file):
    """Import rates from CSV (columns week_start,currency,rate; week_start is the week's Sunday).

    Every row is checked first; if any is wrong nothing is imported. A rate already stored for the same
    currency and week is replaced, and the output lists what changed.
    """
    rows = read_rates_csv(csv_file)  # before the store: a file that cannot be imported creates no database
    summary = import_rates_csv(app.store, csv_file, rows)
    click.echo(json.dumps(summary, indent=2))
    click.echo(
        f"imported {summary['imported']} rate{'s' if summary['imported'] != 1 else ''} "
        f"({', '.join(summary['currencies'])}) from {csv_file} into {app.store.path}"
        + (f"; {len(summary['changed'])} replaced an earlier rate" if summary["changed"] else ""),
        err=True,
    )


@rates.command("list")
@click.option("--currency", help="Only this currency, e.g. USD.")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only the week that contains this declaration date (YYYY-MM-DD).")
@common_options(existing_db=True)
def rates_list(app: App, currency, on):
    """List stored rates as JSON, oldest week first."""
    if currency is not None:
        currency = currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise UsageError(f"--currency: must be a 3-letter code such as USD (got {currency!r})")
    rows = app.store.list_rates(currency)
    if on is not None:
        sunday = week_start(on.date())
        rows = [r for r in rows if r["week_start"] == sunday.isoformat()]
    for row in rows:
        row["week_end"] = week_end(date.fromisoformat(row["week_start"])).isoformat()
    click.echo(json.dumps(rows, indent=2))
