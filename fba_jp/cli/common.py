"""What every command module shares: the ``--config``/``--db`` options, ``--output``, exit codes.

Command modules import from here and from the library, never from each other or from the root group
(``fba_jp.cli``), so the import graph points one way: root → command module → common → library.
"""

from __future__ import annotations

import functools
import re
import sys

import click

from ..app import App
from ..errors import InputError, UsageError
from ..models import COULD_NOT_SCREEN, InputProblem, ResultDocument, ShipmentResult, Summary


def common_options(function=None, *, existing_db: bool = False):
    """``--config`` and ``--db``, which every command takes; passes ``app`` to the command.

    ``existing_db=True`` for commands that only read or amend what was screened (report, status,
    release): a database that does not exist is then an error, not a new empty file.
    """
    if function is None:
        return functools.partial(common_options, existing_db=existing_db)

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.toml (default ./config.toml if present)")
    @click.option("--db", "db_path", type=click.Path(dir_okay=False),
                  help="SQLite database (default: [storage] path in the config, else ./fba_jp.db)")
    @functools.wraps(function)
    def wrapper(config_path, db_path, **kwargs):
        plugins_dirs = kwargs.pop("plugins_dirs", ())
        # the root group loaded the plugins once to register plugin commands; reuse them
        ready = (click.get_current_context().find_object(dict) or {}).get("plugins")
        app = App(config_path, db_path, plugins_dirs, None if plugins_dirs else ready)
        app.existing_db_only = existing_db
        if kwargs.get("output") is not None:  # a mistyped --output is a usage error before anything is
            output_format(app, kwargs["output"])  # synced, screened, stored or delivered, not after
        return function(app, **kwargs)

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


verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Table output: each finding, what to do about it and the rule."
)


def emit(
    results: list[ShipmentResult],
    output: str | None,
    app: App,
    exit_code: int | None = None,
    problems: list[InputProblem] = (),
    verbose: bool = False,
) -> None:
    """Write the result document in the chosen format; ``problems`` (inputs not screened) go in it too."""
    name, render = output_format(app, output)
    problems = list(problems)
    document = ResultDocument(results=results, errors=problems, summary=Summary.of(results, problems))
    # the built-in formats take options; a plugin's format is render(document) as documented in hookspecs
    options = {
        "table": {"verbose": verbose},
        "sarif": {"exit_code": exit_code, "descriptions": app.plugins.code_descriptions()},
    }.get(name, {})
    click.echo(render(document, **options), nl=False)


def output_format(app: App, output: str | None):
    """``(name, render)`` of the ``--output`` format (default: table on a terminal, else json)."""
    from ..output import output_formats

    formats = output_formats(app.plugins.hook)
    name = output or ("table" if sys.stdout.isatty() else "json")
    if name not in formats:
        raise UsageError(f"--output: unknown format {name!r}; choose from {', '.join(sorted(formats))}")
    return name, formats[name]


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (stderr by default) is a terminal: some messages are only for a person watching."""
    return (stream or sys.stderr).isatty()


def report_problems(problems: list[InputProblem], output: str | None) -> None:
    """Each input that could not be screened as one line on stderr (CONTRACT §1), unless the table already
    shows it on the same terminal."""
    if (output or "table") == "table" and on_terminal(sys.stdout) and on_terminal():
        return
    for problem in problems:
        click.echo(one_line(problem.line), err=True)


def one_line(text: str) -> str:
    """A message for stderr: control characters visible, so no data can start a line of its own (a GitHub
    runner reads workflow commands such as ``::error`` from stderr too)."""
    from ..output.escape import terminal

    return terminal(text)


# a field path as errors.validation_lines writes it: items[2].quantity, fx_rates.USD, ["odd key"], (top level)
_NAME = r"[A-Za-z_]\w*"
_INDEX = r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
_FIELD = re.compile(rf"^(\(top level\)|(?:{_NAME}|{_INDEX})(?:\.{_NAME}|{_INDEX})*): (.*)$", re.S)


def input_problems(error: InputError, source: str) -> list[InputProblem]:
    """The ``SOURCE: field.path: message`` lines of an :class:`InputError` as structured problems."""
    problems = []
    for line in error.lines:
        rest = line[len(source) + 2:] if line.startswith(f"{source}: ") else line
        match = _FIELD.match(rest)
        field, message = (match.group(1), match.group(2)) if match else (None, rest)
        problems.append(InputProblem(source=source, field=field, message=message))
    return problems


def gate_exit_code(results: list[ShipmentResult], fail_on_warn: bool, input_failed: bool) -> int:
    """CONTRACT §1: 3 when anything could not be screened (an input, a check that raised, or a synced shipment
    whose data cannot form a declaration: ``INPUT_INVALID``), else 1 or 0."""
    if input_failed or any(r.errors or any(f.code in COULD_NOT_SCREEN for f in r.findings) for r in results):
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
