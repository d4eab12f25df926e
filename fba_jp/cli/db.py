"""``fba-jp db check`` and ``fba-jp db backup PATH``: the audit trail's health and safe copies of it."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from .common import App, common_options


@click.group()
def db():
    """Check the database, or back it up (safe while the daemon runs)."""


@db.command("check")
@common_options
def db_check(app: App):
    """Integrity, foreign keys, schema version and stored inputs; exit 3 when something is wrong."""
    from ..maintenance import check_database

    report = check_database(app.database_path)
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"{app.database_path}: " + ("ok" if report.ok else f"{len(report.problems)} problem(s); restore a "
                                           "backup (docs/deploy.md) or ask for help with the lines above"))
    click.get_current_context().exit(0 if report.ok else 3)


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@common_options
def db_backup(app: App, path):
    """Copy the database to PATH with SQLite's online backup API (one consistent snapshot)."""
    from ..maintenance import backup_database

    if Path(path).is_file() and not _is_database(Path(path)):
        # `fba-jp db backup config.toml`: replacing a backup is fine, replacing any other file is data lost
        raise UsageError(f"{path}: exists and is not an SQLite database; nothing was written (back up to a new "
                         "file, or remove it first)")
    done = backup_database(app.database_path, path)
    click.echo(f"backed up {done['source']} to {done['backup']}: {done['screenings']:,} screenings, "
               f"{done['bytes'] / 1e6:.1f} MB, quick_check ok")


def _is_database(path: Path) -> bool:
    with path.open("rb") as file:
        header = file.read(16)
    return header in (b"", b"SQLite format 3\0")
