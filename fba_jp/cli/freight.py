"""``fba-jp freight set SHIPMENT …`` and ``fba-jp freight list SHIPMENT``: the actual freight invoice of a
synced shipment, entered after the fact.

The invoice overrides the account's ``[accounts.freight]`` terms (and its insurance, when given) for that
shipment. Every entry is a new row of ``freight_invoices`` (who, when, which invoice): the audit trail
keeps what was entered before. The shipment is screened again at once; the exit code is the gate's
(0 nothing blocked, 1 blocked, 3 could not screen).
"""

from __future__ import annotations

import json

import click

from .common import App, common_options, emit, gate_exit_code, output_option
from ..errors import InputError


@click.group("freight")
def freight():
    """The actual freight (and insurance) of a synced shipment: recorded, audited, screened again."""


@freight.command("set")
@click.argument("shipment_id")
@click.option("--amount", help="Freight to the Japanese port on the invoice, e.g. 612.40.")
@click.option("--currency", help="Currency of --amount (ISO 4217, e.g. USD or JPY).")
@click.option("--insurance", help="Insurance premium paid for the shipment, if any.")
@click.option("--insurance-currency", help="Currency of --insurance (default: --currency).")
@click.option("--invoice", "reference", required=True, help="The forwarder's invoice number (kept in the audit trail).")
@click.option("--date", "invoiced_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The invoice date (YYYY-MM-DD).")
@click.option("--by", "by", required=True, help="Who enters it (name or e-mail).")
@click.option("--note", help="Anything the ACP should know about this invoice.")
@output_option
@common_options(existing_db=True)  # the invoice of a synced shipment: no database, no shipment
def freight_set(app: App, shipment_id, amount, currency, insurance, insurance_currency, reference, invoiced_on, by,
                note, output):
    """Record the actual freight invoice of SHIPMENT_ID and screen the shipment again."""
    from ..freight import record_invoice
    from ..sync import screen_synced

    record = record_invoice(app.store, shipment_id, amount=amount, currency=currency, insurance=insurance,
                            insurance_currency=insurance_currency, reference=reference,
                            invoiced_on=invoiced_on.date(), by=by, note=note)
    click.echo(f"recorded freight invoice {record['invoice']} for {record['shipment_id']} (entry {record['id']}); "
               "screening it again", err=True)
    report = screen_synced(app, [record["account"]])
    results = [r for r in report.results if r.shipment_id == record["shipment_id"]]
    for error in report.errors:
        click.echo(f"fba-jp: {error}", err=True)
    if not results:
        raise InputError(f"{record['shipment_id']}: recorded, but the shipment is no longer open, so it was not "
                         "screened again")
    code = gate_exit_code(results, app.config.policy.fail_on_warn, bool(report.errors))
    emit(results, output, app, exit_code=code)
    click.get_current_context().exit(code)


@freight.command("list")
@click.argument("shipment_id")
@common_options(existing_db=True)
def freight_list(app: App, shipment_id):
    """The freight invoices entered for SHIPMENT_ID, oldest first (the last one counts)."""
    from ..freight import invoice_history

    click.echo(json.dumps(invoice_history(app.store, shipment_id), indent=2))
