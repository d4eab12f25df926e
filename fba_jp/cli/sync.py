"""``fba-jp sync``, ``screen``, ``run`` and ``demo``: the SP-API side of the command line.

Exit codes of ``screen`` and ``run`` are the gate's (CONTRACT §1): 0 nothing blocked, 1 something
blocked (or annotated with ``--fail-on-warn``), 3 an account could not be synced or screened.
``sync`` exits 0 or 3. ``demo`` exits 0 when it ran, whatever the verdicts: showing blocked
shipments is its point.
"""

from __future__ import annotations

import click

from ..config import DEFAULT_LOOKBACK_DAYS
from ..errors import ConfigError
from ..models import InputProblem
from .common import (
    App,
    common_options,
    emit,
    gate_exit_code,
    one_line,
    output_option,
    plugins_dir_option,
    progress_for_terminal,
    verbose_option,
)

account_option = click.option(
    "--account", "accounts", multiple=True, help="Only this account (repeatable; default: every account in the config)."
)


def sync_table(reports) -> str:
    from ..output.table import columns

    header = ("account", "outcome", "plans", "shipments", "items", "calls", "throttled", "errors", "seconds")
    rows = [
        (r.account, r.outcome, r.plans, r.shipments, r.items, r.calls, r.throttled,
         len(r.errors) + int(r.failed), f"{r.seconds:.1f}")
        for r in reports
    ]
    return columns(header, rows) + "\n"


def report_sync_problems(reports) -> list[InputProblem]:
    """Print what the sync skipped or could not do; return the accounts that could not be synced."""
    failed = []
    for r in reports:
        for error in r.errors:
            click.echo(one_line(f"fba-jp: account {r.account!r}: skipped {error}"), err=True)
        if r.failed:
            click.echo(one_line(f"fba-jp: {r.message}"), err=True)
            failed.append(InputProblem(source=f"spapi:{r.account}", message=r.message or "the sync failed"))
    return failed


def run_sync(app: App, accounts, full: bool, lookback_days: int | None, on_done=None):
    from ..sync import sync_accounts

    progress = progress_for_terminal()
    try:
        return sync_accounts(app, accounts, full=full, lookback_days=lookback_days, progress=progress, on_done=on_done)
    finally:
        if progress:
            progress.done()


def run_screen(app: App, accounts, force: bool, report=None):
    """Screen (unless ``report`` holds screenings already made) and say what was screened; return the
    report and the accounts that could not be screened."""
    from ..sync import screen_synced

    if not app.config.accounts:
        raise ConfigError("no [[accounts]] in the config; add one (see config.example.toml) or pass --config")
    report = report or screen_synced(app, accounts, force=force)
    for error in report.errors:
        click.echo(one_line(f"fba-jp: {error}"), err=True)
    click.echo(f"screened {report.screened} shipment(s); {report.unchanged} unchanged since their last screening", err=True)
    return report, [InputProblem(source=app.config_path or "config.toml", message=error) for error in report.errors]


def sync_options(function):
    function = click.option(
        "--lookback-days", type=click.IntRange(min=1), default=DEFAULT_LOOKBACK_DAYS, show_default=True,
        help="On an account's first sync, ignore plans not changed for this many days.",
    )(function)
    return click.option(
        "--full", is_flag=True,
        help="Ignore watermarks and stored copies: list and fetch every plan again (within --lookback-days).",
    )(function)


def screen_options(function):
    function = click.option("--fail-on-warn", is_flag=True, help="Exit 1 also when a shipment is only annotated.")(function)
    function = verbose_option(function)
    function = output_option(function)
    return click.option(
        "--all", "force", is_flag=True,
        help="Record a new screening of every open synced shipment, even one whose result would not change "
        "(without it, a shipment is screened again when its input, the ACP registry, rates, waivers, "
        "licences or the config change its result).",
    )(function)


@click.command()
@account_option
@sync_options
@common_options
def sync(app: App, accounts, full, lookback_days):
    """Pull changed inbound plans from SP-API into the database."""
    reports = run_sync(app, accounts, full, lookback_days)
    click.echo(sync_table(reports), nl=False)
    report_sync_problems(reports)
    click.get_current_context().exit(3 if any(r.failed for r in reports) else 0)


@click.command()
@account_option
@screen_options
@plugins_dir_option
@common_options
def screen(app: App, accounts, force, output, fail_on_warn, verbose):
    """Screen synced shipments whose input changed or that were never screened."""
    report, problems = run_screen(app, accounts, force)
    code = gate_exit_code(report.results, fail_on_warn or app.config.policy.fail_on_warn, bool(problems))
    emit(report.results, output, app, exit_code=code, problems=problems, verbose=verbose)
    click.get_current_context().exit(code)


@click.command()
@account_option
@sync_options
@screen_options
@plugins_dir_option
@common_options
def run(app: App, accounts, full, lookback_days, force, output, fail_on_warn, verbose):
    """Sync, then screen: what the daemon does on every tick."""
    from ..sync import ScreenReport, screen_synced

    by_account = {}

    def screen(sync_report) -> None:  # each account as soon as its sync is done, while others still sync
        by_account[sync_report.account] = screen_synced(app, [sync_report.account], force=force)

    reports = run_sync(app, accounts, full, lookback_days, on_done=screen)
    click.echo(sync_table(reports), nl=False, err=True)
    problems = report_sync_problems(reports)
    report = ScreenReport()
    for sync_report in reports:  # in the accounts' order, whichever finished first
        part = by_account[sync_report.account]
        report.results += part.results
        report.screened += part.screened
        report.unchanged += part.unchanged
        report.errors += part.errors
    report, unscreened = run_screen(app, accounts, force, report)
    problems += unscreened
    from ..actions import act_on

    acted = act_on(app.store, app.plugins, app.config, report.results)
    click.echo(f"{acted['changes']} verdict change(s): {acted['sent']} action(s) delivered, {acted['failed']} failed", err=True)
    code = gate_exit_code(report.results, fail_on_warn or app.config.policy.fail_on_warn, bool(problems))
    emit(report.results, output, app, exit_code=code, problems=problems, verbose=verbose)
    click.get_current_context().exit(code)


@click.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="fba-jp-demo.db", show_default=True,
              help="SQLite database to write (reused on the next run: the second sync is incremental).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default="fba-jp-demo.html",
              show_default=True, help="HTML report to write.")
@click.option("--faults", is_flag=True,
              help="Make the sandbox misbehave like Amazon on a bad day (rate limits, 429 storms, 503 bursts).")
def demo(db_path, report_path, faults):
    """Run the whole daemon path on the built-in SP-API sandbox: no credentials, no network."""
    from ..demo import run_demo

    run_demo(db_path, report_path, faults=faults, progress=progress_for_terminal())
    click.get_current_context().exit(0)
