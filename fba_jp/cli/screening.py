"""``fba-jp gate``, ``report``, ``release``, ``plugins`` and ``schema``: screening declarations and its results.

Exit codes of ``gate`` (CONTRACT §1): 0 nothing blocked · 1 something blocked (or, with
``--fail-on-warn``, annotated) · 2 usage error · 3 could not screen (bad input, config, store, SP-API).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from ..errors import FbaJpError, InputError, StoreError, UsageError
from ..inputs import read_declaration
from ..models import Declaration, InputProblem, ShipmentResult
from .common import (
    App,
    common_options,
    emit,
    gate_exit_code,
    input_problems,
    on_terminal,
    output_option,
    plugins_dir_option,
    report_problems,
    verbose_option,
)

log = logging.getLogger("fba_jp.cli")


@click.command()
@click.argument("files", nargs=-1)
@click.option("--plan", "plan_id", help="Screen this SP-API inbound plan instead of files.")
@click.option("--account", help="Account in config.toml whose profile (and, with --plan, credentials) to use.")
@output_option
@verbose_option
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 also when a shipment is only annotated.")
@plugins_dir_option
@common_options
def gate(app: App, files, plan_id, account, output, fail_on_warn, verbose):
    """Screen shipment declaration files (JSON or TOML; - reads JSON from stdin)."""
    if bool(files) == bool(plan_id):
        raise UsageError("gate: give declaration FILE(s) or --plan INBOUND_PLAN_ID (not both, not neither)")
    screener = app.screener()
    if account and not plan_id:
        app.config.account(account)  # a typo is an error before any file is read, not one per file
    results: list[ShipmentResult] = []
    problems: list[InputProblem] = []
    if plan_id:
        from ..sync import declarations_for_plan  # SP-API is only needed for --plan

        entries = declarations_for_plan(app, plan_id, account)
    else:
        entries = _read_files(files)
    unavailable = None
    for source, declaration, error in entries:
        if error is None and unavailable:
            error = InputError(f"{source}: not screened: {unavailable}")
        if error is None:
            try:
                results.append(screener.screen(declaration, source, account))
                continue
            except StoreError as exc:  # the database, not the file: the next files are not tried (each would wait)
                unavailable = f"the database failed on an earlier file ({exc})"
                error = InputError(f"{source}: could not be screened: {exc}")
            except Exception as exc:  # noqa: BLE001 - one file must not hide the rest of the batch
                error = _screening_error(exc, source)
        problems.extend(input_problems(error, source))
    if plan_id and not results and not problems:  # not silence: say why there is nothing to judge
        click.echo(f"fba-jp: inbound plan {plan_id} has no open shipment to screen (each is cancelled, shipped or "
                   "closed); nothing was recorded", err=True)
    code = gate_exit_code(results, fail_on_warn or app.config.policy.fail_on_warn, bool(problems))
    report_problems(problems, output)
    emit(results, output, app, exit_code=code, problems=problems, verbose=verbose)
    if results and on_terminal():  # say where the audit trail went
        click.echo(f"recorded {len(results)} screening{'s' if len(results) != 1 else ''} in {Path(app.store.path).resolve()}", err=True)
    click.get_current_context().exit(code)


def _screening_error(exc: Exception, source: str) -> InputError:
    """What stopped one file's screening, as that file's error: the others are still screened and reported
    (each screening is its own transaction, so nothing half-written stays behind)."""
    if isinstance(exc, InputError):
        return exc
    if isinstance(exc, FbaJpError):
        return InputError(f"{source}: could not be screened: {exc}")
    log.debug("screening %s failed", source, exc_info=exc)
    return InputError(f"{source}: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")


def _read_files(files):
    """Yield ``(source, declaration, None)`` or ``(source, None, InputError)``: one bad file does not stop the rest."""
    for path in files:
        try:
            declaration, source = read_declaration(path)
        except InputError as exc:
            source = "<stdin>" if path == "-" else _printable(path)
            yield source, None, InputError([_printable(line) for line in exc.lines])
        else:
            yield _printable(source), declaration, None


def _printable(path: str) -> str:
    # a file name that is not UTF-8 reaches Python as lone surrogates, which no output can encode
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@click.command()
@click.option("--all", "include_builtin", is_flag=True, help="Include the built-in plugins.")
@plugins_dir_option
@common_options
def plugins(app: App, include_builtin):
    """List loaded plugins as JSON: name, version, hooks, checks."""
    click.echo(json.dumps(app.plugins.describe(include_builtin), indent=2))


@click.command()
def schema():
    """Print the JSON Schema of the fba-jp/shipment/v1 declaration format."""
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://fba-jp.invalid/schema/shipment/v1.json",
        **Declaration.model_json_schema(by_alias=True),
    }
    document["title"] = "fba-jp/shipment/v1"
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.command()
@click.option("--account", help="Only this account's shipments.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write an HTML report here.")
@click.option("--per-page", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="HTML: shipments per page; beyond that the report at PATH is an index of pages in PATH-pages/.")
@output_option
@verbose_option
@common_options(existing_db=True)
def report(app: App, account, html_path, per_page, output, verbose):
    """Latest verdict of every stored shipment."""
    if account:
        _known_account(app, account)
    if html_path:
        from ..report import write_html_report_from_store

        title = f"fba-jp report{' — ' + account if account else ''}"
        written = write_html_report_from_store(app.store, Path(html_path), account, title=title, per_page=per_page)
        pages = f" (the index) and {len(written) - 1} pages in {written[1].parent}/" if len(written) > 1 else ""
        click.echo(f"wrote {html_path}{pages}", err=True)
    if (output or ("table" if sys.stdout.isatty() else "json")) == "json":
        from ..report import stream_json_report

        # streamed: flat memory, no models built and no worksheet decoded, at any number of shipments
        sys.stdout.flush()  # bytes from here on, straight to the stream under it
        binary = getattr(sys.stdout, "buffer", None)  # None: a text-only stdout (io.StringIO, in-process)
        write = binary.write if binary is not None else (lambda data: sys.stdout.write(data.decode("utf-8")))
        stream_json_report(app.store.iter_latest_documents(account), write)
        return
    emit(app.store.latest_results(account), output, app, verbose=verbose)


@click.command()
@click.argument("shipment_id")
@click.option("--code", required=True, help="The blocking finding code to waive, e.g. ACP_PENDING.")
@click.option("--reason", required=True, help="Why it is safe to ship anyway (kept in the audit trail).")
@click.option("--by", "by", required=True, help="Who decides (name or e-mail).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day the waiver counts (YYYY-MM-DD).")
@common_options(existing_db=True)
def release(app: App, shipment_id, code, reason, by, expires):
    """Waive one blocking finding of a shipment's current input, with an audit record."""
    waiver = app.store.add_waiver(shipment_id, code, reason, by, expires.date() if expires else None)
    click.echo(json.dumps(waiver, indent=2))
    click.echo(
        f"waived {code} for {shipment_id}; it counts until the declaration changes"
        + (f" or after {waiver['expires_on']}" if waiver["expires_on"] else "")
        + ". `fba-jp screen` (or the daemon's next run) applies it to a synced shipment; gate a declaration file again.",
        err=True,
    )


def _known_account(app: App, account: str) -> None:
    """``--account NAME`` must name an account of the config or of the database: a typo is not "nothing"."""
    configured = {a.name for a in app.config.accounts}
    stored = {row["account"] for row in app.store.rows("select distinct account from screenings where account is not null")}
    if account not in configured | stored:
        known = ", ".join(sorted(configured | stored)) or "none"
        raise UsageError(f"--account: no account named {account!r} in the config or the database (accounts: {known})")
