"""``fba-jp daemon`` and ``fba-jp status``."""

from __future__ import annotations

import json
import logging
import sys

import click

from .common import App, common_options

from ..output.table import columns


@click.command()
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="INFO", show_default=True)
@common_options
def daemon(app: App, log_level):
    """Run sync, screen and actions for every account on the configured schedule until SIGTERM/SIGINT."""
    from ..redact import RedactUrls

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # on the handler, so every logger's records are redacted: a plugin's or a library's own logger too
    handler.addFilter(RedactUrls())
    logging.basicConfig(level=getattr(logging, log_level), handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # httpcore's DEBUG trace quotes every response's headers, where a webhook receiver may echo the URL's token
    logging.getLogger("httpcore").setLevel(logging.INFO)
    from ..daemon import run_daemon

    app.config  # fail fast on a bad config, before the scheduler starts  # noqa: B018

    def app_factory() -> App:
        fresh = App(app.config_path, app.db_path, app.plugins_dirs)
        fresh.config = app.config  # one parsed config for all jobs
        return fresh

    click.get_current_context().exit(run_daemon(app_factory))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@common_options(existing_db=True)
def status(app: App, as_json):
    """Show the daemon's heartbeat and each account's last run, outcome and next run."""
    from ..daemon import status_rows

    rows = status_rows(app.store)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    click.echo(f"daemon: {rows['daemon']}")
    header = ("account", "outcome", "last finished", "next run", "failures", "backoff until", "message")
    table = [(r["account"], r["outcome"] or "-", r["last_finished_at"] or "-", r["next_run_at"] or "-",
              str(r["consecutive_failures"] or 0), r["backoff_until"] or "-", (r["message"] or "")[:60]) for r in rows["accounts"]]
    click.echo(columns(header, table))
