"""``fba-jp acp``: the ACP (Attorney for Customs Procedures) registry."""

from __future__ import annotations

import json

import click
from pydantic import ValidationError

from ..errors import UsageError, validation_lines
from ..models import Acp
from .common import App, common_options


@click.group()
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
    try:
        record = Acp(
            name=name, address=address, customs_office=customs_office, status=status,
            notified_on=notified_on.date() if notified_on else None,
            accepted_on=accepted_on.date() if accepted_on else None,
        )
    except ValidationError as exc:  # e.g. an empty --name: one line naming the option, exit 2
        raise UsageError("\n".join(line.replace(": ", ": --", 1) for line in validation_lines(exc, "acp add"))) from None
    app.store.add_acp(acp_id, record, list(sellers))
    click.echo(json.dumps(app.store.get_acp_record(acp_id) | {"sellers": list(sellers)}, indent=2))


@acp.command("list")
@common_options(existing_db=True)
def acp_list(app: App):
    """List ACP records as JSON."""
    click.echo(json.dumps(app.store.list_acps(), indent=2, ensure_ascii=False))


@acp.command("set-status")
@click.argument("acp_id")
@click.argument("status", type=click.Choice(["registered", "pending", "revoked"]))
@click.option("--accepted-on", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--note")
@click.option("--seller", "sellers", multiple=True, help="Also record this seller as served (repeatable).")
@common_options(existing_db=True)  # amends a record: a missing database is a wrong --db
def acp_set_status(app: App, acp_id, status, accepted_on, note, sellers):
    """Change an ACP's status (history is kept in acp_events)."""
    record = app.store.set_acp_status(acp_id, status, accepted_on.date() if accepted_on else None, note, list(sellers))
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))




@acp.command("remove-seller")
@click.argument("acp_id")
@click.argument("sellers", nargs=-1, required=True)
@click.option("--note", help="Why, for the record's history (e.g. engagement ended 2026-11-30).")
@common_options(existing_db=True)
def acp_remove_seller(app: App, acp_id, sellers, note):
    """Stop recording SELLERS as served by the ACP (the firm no longer acts for them)."""
    record = app.store.remove_acp_sellers(acp_id, list(sellers), note)
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))
