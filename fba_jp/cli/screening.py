"""``fba-jp gate``, ``report``, ``release``, ``plugins`` and ``schema``: screening declarations and its results.

Exit codes of ``gate`` (CONTRACT §1): 0 nothing blocked · 1 something blocked (or, with
``--fail-on-warn``, annotated) · 2 usage error · 3 could not screen (bad input, config, store, SP-API).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import InputError, UsageError
from ..inputs import read_declaration
from ..models import Declaration, ShipmentResult
from .common import App, common_options, emit, gate_exit_code, output_option, plugins_dir_option


@click.command()
@click.argument("files", nargs=-1)
@click.option("--plan", "plan_id", help="Screen this SP-API inbound plan instead of files.")
@click.option("--account", help="Account in config.toml whose profile (and, with --plan, credentials) to use.")
@output_option
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 also when a shipment is only annotated.")
@plugins_dir_option
@common_options
def gate(app: App, files, plan_id, account, output, fail_on_warn):
    """Screen shipment declaration files (JSON or TOML; - reads JSON from stdin)."""
    if bool(files) == bool(plan_id):
        raise UsageError("gate: give declaration FILE(s) or --plan INBOUND_PLAN_ID (not both, not neither)")
    screener = app.screener()
    results: list[ShipmentResult] = []
    input_failed = False
    if plan_id:
        from ..sync import declarations_for_plan  # SP-API is only needed for --plan

        entries = declarations_for_plan(app, plan_id, account)
    else:
        entries = _read_files(files)
    for source, declaration, error in entries:
        if error is not None:
            input_failed = True
            for line in error.lines:
                click.echo(line, err=True)
            continue
        results.append(screener.screen(declaration, source, account))
    code = gate_exit_code(results, fail_on_warn or app.config.policy.fail_on_warn, input_failed)
    emit(results, output, app, exit_code=code)
    click.get_current_context().exit(code)


def _read_files(files):
    """Yield ``(source, declaration, None)`` or ``(source, None, InputError)``: one bad file does not stop the rest."""
    for path in files:
        try:
            declaration, source = read_declaration(path)
        except InputError as exc:
            yield path, None, exc
        else:
            yield source, declaration, None


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
    document = Declaration.model_json_schema(by_alias=True)
    document["$id"] = "https://fba-jp.invalid/schema/shipment/v1.json"
    document["title"] = "fba-jp/shipment/v1"
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.command()
@click.option("--account", help="Only this account's shipments.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write an HTML report here.")
@output_option
@common_options
def report(app: App, account, html_path, output):
    """Latest verdict of every stored shipment."""
    if html_path:
        from ..report import write_html_report_from_store

        write_html_report_from_store(app.store, Path(html_path), account, title=f"fba-jp report{' — ' + account if account else ''}")
        click.echo(f"wrote {html_path}", err=True)
    if (output or ("table" if sys.stdout.isatty() else "json")) == "json":
        from ..report import stream_json_report

        # streamed: flat memory and no re-validation of stored worksheets, at any number of shipments
        stream_json_report(app.store.iter_latest_results(account, worksheets="json"), sys.stdout)
        return
    emit(app.store.latest_results(account), output, app)


@click.command()
@click.argument("shipment_id")
@click.option("--code", required=True, help="The blocking finding code to waive, e.g. ACP_PENDING.")
@click.option("--reason", required=True, help="Why it is safe to ship anyway (kept in the audit trail).")
@click.option("--by", "by", required=True, help="Who decides (name or e-mail).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day the waiver counts (YYYY-MM-DD).")
@common_options
def release(app: App, shipment_id, code, reason, by, expires):
    """Waive one blocking finding of a shipment's current input, with an audit record."""
    waiver = app.store.add_waiver(shipment_id, code, reason, by, expires.date() if expires else None)
    click.echo(json.dumps(waiver, indent=2))
    click.echo(
        f"waived {code} for {shipment_id}; it counts until the declaration changes"
        + (f" or after {waiver['expires_on']}" if waiver["expires_on"] else "")
        + ". Screen the shipment again to apply it.",
        err=True,
    )


