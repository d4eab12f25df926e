"""What every command module shares: the ``--config``/``--db`` options, ``--output``, exit codes.

Command modules import from here and from the library, never from each other or from the root group
(``fba_jp.cli``), so the import graph points one way: root → command module → common → library.
"""

from __future__ import annotations

import functools
import sys

import click

from ..app import App
from ..errors import UsageError
from ..models import ResultDocument, ShipmentResult, Summary


def common_options(function):
    """``--config`` and ``--db``, which every command takes; passes ``app`` to the command."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.toml (default ./config.toml if present)")
    @click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite database (overrides [storage] path)")
    @functools.wraps(function)
    def wrapper(config_path, db_path, **kwargs):
        plugins_dirs = kwargs.pop("plugins_dirs", ())
        # the root group loaded the plugins once to register plugin commands; reuse them
        ready = (click.get_current_context().find_object(dict) or {}).get("plugins")
        return function(App(config_path, db_path, plugins_dirs, None if plugins_dirs else ready), **kwargs)

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


def emit(results: list[ShipmentResult], output: str | None, app: App, exit_code: int | None = None) -> None:
    from ..output import output_formats

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


class TerminalProgress:
    """One self-overwriting status line on stderr, only when stderr is a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.active = False

    def __call__(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text[:150])
        self.stream.flush()
        self.active = True

    def done(self) -> None:
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.active = False


def progress_for_terminal() -> TerminalProgress | None:
    return TerminalProgress() if sys.stderr.isatty() else None
