"""``fba-jp init`` and ``fba-jp config check``: start a configuration, and check one before the daemon needs it.

The starter files ship inside the package (``fba_jp/starter/``, copied from the repository's
``config.example.toml`` and ``examples/products.csv`` when the wheel is built), so ``init`` works after
``pip install`` as well as from a clone.
"""

from __future__ import annotations

import contextlib
import json
import os
from importlib import resources
from pathlib import Path

import click

from ..config import DEFAULT_CONFIG, resolve_env
from ..errors import ConfigError, FbaJpError, OutputError
from .common import App, common_options, plugins_dir_option

# starter file → where the repository keeps it (pyproject.toml force-includes each into fba_jp/starter/)
STARTER_SOURCES = {"config.example.toml": "config.example.toml", "products.csv": "examples/products.csv"}
SECRET_ATTRIBUTES = ("refresh_token", "lwa_app_id", "lwa_client_secret")


def starter_text(name: str) -> str:
    """A starter file: the packaged copy, else (a source checkout, an editable install) the repository's."""
    packaged = resources.files("fba_jp").joinpath("starter", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / STARTER_SOURCES[name]).read_text(encoding="utf-8")


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite config.toml and products.csv if they exist.")
def init(directory, force):
    """Write a starter config.toml and a sample products.csv into DIRECTORY (default: here)."""
    target = Path(directory)
    files = {DEFAULT_CONFIG: starter_text("config.example.toml"), "products.csv": starter_text("products.csv")}
    taken = [target / name for name in files if (target / name).exists()]
    if taken and not force:
        raise FbaJpError(f"{taken[0]}: already exists; nothing was written (pass --force to overwrite)")
    for name, text in files.items():
        partial = target / f".{name}.partial"
        try:
            target.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, target / name)  # a full file or none, even when the disk fills up
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise OutputError(f"{target / name}: cannot write: {exc.strerror or exc}; choose a directory you "
                              "can write to") from None
    click.echo(f"wrote {target / DEFAULT_CONFIG} and {target / 'products.csv'}", err=True)
    click.echo(
        "next: describe each seller in an [[accounts]] table (SP-API credentials only as env: references), "
        f"list its products in products.csv, then run `fba-jp config check{'' if target == Path('.') else ' --config ' + str(target / DEFAULT_CONFIG)}`",
        err=True,
    )


@click.group("config")
def config():
    """Check config.toml, or print its JSON Schema."""


@config.command("check")
@click.option("--schema", "print_schema", is_flag=True, help="Print the JSON Schema of config.toml instead.")
@plugins_dir_option
@common_options
def config_check(app: App, print_schema):
    """Validate config.toml and each account's product master; say what is not set up yet."""
    if print_schema:
        click.echo(json.dumps(config_schema(app), indent=2, ensure_ascii=False))
        return
    path = app.config_path or DEFAULT_CONFIG
    if not Path(path).exists():
        raise ConfigError(f"{path}: config file not found; `fba-jp init` writes a starter one")
    cfg = app.config
    app.plugins.settings(cfg)  # each [plugins.NAME] table, by the plugin's model; opens no database
    problems, notes = [], []
    if cfg.schedule.cron:  # the daemon reads it with APScheduler; a crontab it refuses must not pass here
        from ..daemon import trigger_for

        try:
            trigger_for(cfg)
        except ConfigError as exc:
            problems.append(f"{path}: {exc}")
    problems += unknown_severity_codes(app, path, notes)
    for account in cfg.accounts:
        if account.products:
            from ..products import load_products

            try:
                master = load_products(cfg.resolve(account.products), account.products)
            except ConfigError as exc:
                problems.append(f"account {account.name!r}: {exc}")
            else:
                problems += [line for lines in master.errors.values() for line in lines]
                notes.append(f"account {account.name!r}: {account.products}: {len(master.products)} products")
        unset = [getattr(account, key)[4:] for key in SECRET_ATTRIBUTES
                 if getattr(account, key) and resolve_env(getattr(account, key)) is None]
        if unset:
            notes.append(f"account {account.name!r}: not set in this environment: {', '.join(unset)} "
                         "(needed by sync, run, daemon and gate --plan)")
    for line in notes:
        click.echo(line, err=True)
    if problems:
        raise ConfigError("\n".join(problems))
    accounts = ", ".join(a.name for a in cfg.accounts) or "none"
    click.echo(f"{path}: valid ({len(cfg.accounts)} account{'s' if len(cfg.accounts) != 1 else ''}: {accounts}; "
               f"database {app.database_path})")


def unknown_severity_codes(app: App, path: str, notes: list[str]) -> list[str]:
    """``[policy.severity]`` codes no loaded check reports: a typo there changes nothing, silently. A problem
    when every check declares its codes (the list is then complete), else a note."""
    from ..config import CODE_ALIASES
    from ..models import COULD_NOT_SCREEN

    checks = app.plugins.checks
    known = {code for check in checks for code in check.codes} | COULD_NOT_SCREEN | set(CODE_ALIASES.values())
    lines = [f"{path}: policy.severity.{code}: no loaded check reports this code (check the spelling; "
             "`fba-jp plugins --all` lists each check's codes)" for code in app.config.policy.severity if code not in known]
    if all(check.codes for check in checks):
        return lines
    notes.extend(lines)
    return []


def config_schema(app: App) -> dict:
    """The JSON Schema of ``config.toml``, with the ``[plugins.NAME]`` tables of the loaded plugins."""
    from ..config import Config

    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://fba-jp.invalid/schema/config/v1.json",
        **Config.model_json_schema(),
    }
    document["title"] = "fba-jp config.toml"
    document["description"] = "fba-jp configuration (config.example.toml documents every key)."
    for key in ("base_dir", "source"):
        document["properties"].pop(key, None)
    tables = {}
    for name, model in sorted(app.plugins.config_models.items()):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        document.setdefault("$defs", {}).update(schema.pop("$defs", {}))
        tables[name] = schema
    document["properties"]["plugins"] = {
        "type": "object", "properties": tables, "additionalProperties": False,
        "description": "[plugins.NAME]: the settings of each loaded plugin, validated by the model it declares.",
    }
    return document
