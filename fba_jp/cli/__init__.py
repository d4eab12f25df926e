"""The ``fba-jp`` command line (CONTRACT §1): the root group, which loads each command's module on first use.

One module per command family (``screening``, ``acp``, ``rates``, ``sync``, ``daemon``); each imports
from :mod:`fba_jp.cli.common` and the library, never from here, so ``fba-jp gate`` imports neither
the SP-API client nor the scheduler. Errors are one line on stderr with the contract's exit code;
``--debug`` (anywhere on the command line) shows tracebacks.
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import sys
import traceback

import click

from .. import __version__
from ..errors import FbaJpError, InputError

# command name → "module:attribute" under fba_jp.cli, in the order `fba-jp --help` lists them
COMMANDS = {
    "gate": "screening:gate",
    "report": "screening:report",
    "release": "screening:release",
    "acp": "acp:acp",
    "rates": "rates:rates",
    "freight": "freight:freight",
    "sync": "sync:sync",
    "screen": "sync:screen",
    "run": "sync:run",
    "daemon": "daemon:daemon",
    "status": "daemon:status",
    "db": "db:db",
    "serve": "serve:serve",
    "documents": "documents:documents",
    "demo": "sync:demo",
    "plugins": "screening:plugins",
    "schema": "screening:schema",
    "init": "config:init",
    "config": "config:config",
}


class FbaJpGroup(click.Group):
    """Loads commands lazily and turns every error into one line on stderr and the contract's exit code."""

    def list_commands(self, ctx):
        return list(COMMANDS) + sorted(name for name in self.commands if name not in COMMANDS)

    def get_command(self, ctx, name):
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        self.commands[name] = command
        return command

    def invoke(self, ctx):
        debug = ctx.params.get("debug", False) or (ctx.obj or {}).get("debug", False)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`fba-jp status | head -1`): nothing more can be said to it, so say nothing;
            # stdout goes to /dev/null so the interpreter's last flush does not fail as well
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(3)
        except FbaJpError as exc:
            if debug:
                _print_traceback()
            message = str(exc) if isinstance(exc, InputError) else f"fba-jp: {exc}"
            click.echo("\n".join(_one_line(line) for line in message.split("\n")), err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - last line of defence: one line, exit 3
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
                # the output itself (stdout redirected to a full disk) could not be written
                click.echo(f"fba-jp: cannot write the output: {exc.strerror}", err=True)
                ctx.exit(3)
            if debug:
                _print_traceback()
            from ..redact import redact  # an exception from a plugin or a library may quote a secret

            click.echo(_one_line(redact(f"fba-jp: internal error: {type(exc).__name__}: {exc} "
                                        "(run with --debug for the traceback)")), err=True)
            ctx.exit(3)


@click.group(cls=FbaJpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fba-jp")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (also accepted after the command).")
@click.pass_context
def cli(ctx, debug):
    """fba-jp: catch Japan import problems in Amazon FBA shipments before the boxes leave."""
    if debug or (ctx.obj or {}).get("debug"):
        ctx.call_on_close(show_debug_log())


def show_debug_log():
    """``--debug``: the tracebacks fba-jp logs (every check that raised, every file that failed) on stderr.

    Returns the function that takes the handler off again (the CLI may run in-process, as in tests).
    """
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(lambda record: record.exc_info is not None)  # tracebacks only, not the whole debug log
    logger = logging.getLogger("fba_jp")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def remove() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return remove


def _print_traceback() -> None:
    from ..redact import redact

    click.echo(redact(traceback.format_exc()), err=True, nl=False)


def _one_line(text: str) -> str:
    from .common import one_line

    return one_line(text)


def _plugins_with_commands():
    """Load the plugins once and let them add commands; ``None`` if they cannot load (reported by the command)."""
    from ..plugin_manager import get_plugins

    try:
        plugins = get_plugins()
    except FbaJpError:
        return None  # `fba-jp --help` must still work; the command that needs the plugins reports it
    plugins.hook.register_commands(cli=cli)
    return plugins


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    # --debug is a root option, but users put it anywhere ("fba-jp gate x.json --debug")
    debug = "--debug" in args[1:]
    if debug:
        args = [args[0]] + [a for a in args[1:] if a != "--debug"] if args[0] != "--debug" else args
    # Loading the plugins imports the library and builds its models: ~60,000 objects (modules, classes, pydantic
    # schemas) that live as long as the process. The cyclic garbage collector would go over them again and
    # again and free nothing: ~40 ms, a sixth of a gate's start. So it is off while they are made, and they
    # are then moved out of its sight (gc.freeze); it is on again for the command and what the command makes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        obj = {"plugins": _plugins_with_commands(), "debug": debug}
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    cli.main(args=args, prog_name="fba-jp", obj=obj)
