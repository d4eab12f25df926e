"""The ``fba-jp`` command line (CONTRACT §1).

Exit codes for gate, screen and run: 0 nothing blocked · 1 something blocked (or, with
``--fail-on-warn``, annotated) · 2 usage error · 3 could not screen (bad input, config, store, SP-API).
Errors are one line on stderr; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .config import Config, load_config
from .errors import FbaJpError, InputError, UsageError
from .inputs import read_declaration
from .models import Acp, Declaration, ResultDocument, ShipmentResult, Summary
from .output import output_formats
from .plugin_manager import Plugins, get_plugins
from .runner import Screener
from .store import Store


class App:
    """What a command needs, built lazily from ``--config``, ``--db`` and ``--plugins-dir``."""

    def __init__(self, config_path: str | None, db_path: str | None, plugins_dirs: tuple[str, ...] = ()):
        self.config_path = config_path
        self.db_path = db_path
        self.plugins_dirs = plugins_dirs

    @functools.cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @functools.cached_property
    def store(self) -> Store:
        config = self.config  # a broken config is reported even when --db makes it unnecessary here
        return Store(self.db_path or str(config.resolve(config.storage.path)))

    @functools.cached_property
    def plugins(self) -> Plugins:
        return get_plugins(self.plugins_dirs)

    def screener(self) -> Screener:
        return Screener(self.plugins, self.config, self.store)


def common_options(function):
    """``--config`` and ``--db``, which every command takes; passes ``app`` to the command."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.toml (default ./config.toml if present)")
    @click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite database (overrides [storage] path)")
    @functools.wraps(function)
    def wrapper(config_path, db_path, **kwargs):
        plugins_dirs = kwargs.pop("plugins_dirs", ())
        return function(App(config_path, db_path, plugins_dirs), **kwargs)

    return wrapper


plugins_dir_option = click.option(
    "--plugins-dir", "plugins_dirs", multiple=True, type=click.Path(file_okay=False),
    help="Load every *.py file in DIR as a plugin (repeatable).",
)


def output_option(function):
    return click.option(
        "--output", "-o", "output", default=None,
        help="table (default on a terminal), json, junit, sarif, github, or a plugin's format.",
    )(function)


class FbaJpGroup(click.Group):
    """Turns every error into one line on stderr and the contract's exit code (tracebacks only with --debug)."""

    def invoke(self, ctx):
        debug = ctx.params.get("debug", False)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except FbaJpError as exc:
            if debug:
                traceback.print_exc()
            click.echo(str(exc) if isinstance(exc, InputError) else f"fba-jp: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - last line of defence: one line, exit 3
            if debug:
                traceback.print_exc()
            click.echo(f"fba-jp: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
            ctx.exit(3)


@click.group(cls=FbaJpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fba-jp")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug):
    """fba-jp: catch Japan import problems in Amazon FBA shipments before the boxes leave."""


def emit(results: list[ShipmentResult], output: str | None, app: App, exit_code: int | None = None) -> None:
    formats = output_formats(app.plugins.hook)
    name = output or ("table" if sys.stdout.isatty() else "json")
    if name not in formats:
        raise UsageError(f"--output: unknown format {name!r}; choose from {', '.join(sorted(formats))}")
    document = ResultDocument(results=results, summary=Summary.of(results))
    render = formats[name]
    text = render(document, exit_code=exit_code) if name == "sarif" else render(document)
    click.echo(text, nl=False)


def gate_exit_code(results: list[ShipmentResult], fail_on_warn: bool, input_failed: bool) -> int:
    if input_failed:
        return 3
    if any(r.verdict == "blocked" for r in results):
        return 1
    if fail_on_warn and any(r.verdict == "annotated" for r in results):
        return 1
    return 0


@cli.command()
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
        from .sync import declarations_for_plan  # SP-API is only needed for --plan

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


@cli.command()
@click.option("--all", "include_builtin", is_flag=True, help="Include the built-in plugins.")
@plugins_dir_option
@common_options
def plugins(app: App, include_builtin):
    """List loaded plugins as JSON: name, version, hooks, checks."""
    click.echo(json.dumps(app.plugins.describe(include_builtin), indent=2))


@cli.command()
def schema():
    """Print the JSON Schema of the fba-jp/shipment/v1 declaration format."""
    document = Declaration.model_json_schema(by_alias=True)
    document["$id"] = "https://fba-jp.invalid/schema/shipment/v1.json"
    document["title"] = "fba-jp/shipment/v1"
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@cli.command()
@click.option("--account", help="Only this account's shipments.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write an HTML report here.")
@output_option
@common_options
def report(app: App, account, html_path, output):
    """Latest verdict of every stored shipment."""
    results = app.store.latest_results(account)
    if html_path:
        from .report import write_html_report

        write_html_report(results, Path(html_path), title=f"fba-jp report{' — ' + account if account else ''}")
        click.echo(f"wrote {html_path}", err=True)
    emit(results, output, app)


@cli.command()
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


@cli.group()
def acp():
    """The ACP (Attorney for Customs Procedures) registry."""


@acp.command("add")
@click.argument("acp_id")
@click.option("--name", required=True)
@click.option("--address", help="The ACP's address in Japan.")
@click.option("--customs-office", help="Customs office notified (e.g. Tokyo).")
@click.option("--notified-on", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--accepted-on", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--status", type=click.Choice(["registered", "pending", "revoked"]), default="pending", show_default=True)
@click.option("--seller", "sellers", multiple=True, help="A seller this ACP is notified for (repeatable).")
@common_options
def acp_add(app: App, acp_id, name, address, customs_office, notified_on, accepted_on, status, sellers):
    """Add an ACP record."""
    record = Acp(
        name=name, address=address, customs_office=customs_office, status=status,
        notified_on=notified_on.date() if notified_on else None,
        accepted_on=accepted_on.date() if accepted_on else None,
    )
    app.store.add_acp(acp_id, record, list(sellers))
    click.echo(json.dumps(app.store.get_acp_record(acp_id) | {"sellers": list(sellers)}, indent=2))


@acp.command("list")
@common_options
def acp_list(app: App):
    """List ACP records as JSON."""
    click.echo(json.dumps(app.store.list_acps(), indent=2, ensure_ascii=False))


@acp.command("set-status")
@click.argument("acp_id")
@click.argument("status", type=click.Choice(["registered", "pending", "revoked"]))
@click.option("--accepted-on", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--note")
@click.option("--seller", "sellers", multiple=True, help="Also record this seller as served (repeatable).")
@common_options
def acp_set_status(app: App, acp_id, status, accepted_on, note, sellers):
    """Change an ACP's status (history is kept in acp_events)."""
    record = app.store.set_acp_status(acp_id, status, accepted_on.date() if accepted_on else None, note, list(sellers))
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))


def _register_plugin_commands() -> None:
    try:
        get_plugins().hook.register_commands(cli=cli)
    except FbaJpError:
        pass  # reported again when a command loads the plugins; `fba-jp --help` must still work


def main(argv: list[str] | None = None) -> None:
    _register_plugin_commands()
    cli.main(args=argv, prog_name="fba-jp")


# Commands defined in their own modules: imported last because they import from this one.
from .daemon_cli import daemon, status  # noqa: E402
from .rates_cli import rates  # noqa: E402
from .sync_cli import demo, run, screen, sync  # noqa: E402

for _command in (sync, screen, run, demo, daemon, status, rates):
    cli.add_command(_command)
