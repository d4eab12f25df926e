"""Action: mark a blocked shipment on Amazon itself, by prefixing its name through SP-API.

Opt-in per account (``annotate = true``). A blocked shipment is renamed ``[JP HOLD: ACP_MISSING] <name>``
(``+N`` when more codes block), within Amazon's 100-character limit, through ``updateShipmentName``. When
the shipment is no longer blocked the seller's own name is restored, also after ``annotate`` was turned
off (a hold fba-jp put on is always lifted; nothing new is written). The original name is kept in the
``annotations`` table, so a name shortened to fit is restored whole, and renaming again is idempotent.
Shipments that did not come from SP-API (gate files), and shipments without a name (Amazon refuses an
empty name, so the seller's could not be restored), are left alone.
"""

import re

from fba_jp import hookimpl
from fba_jp.store import utcnow

MAX_NAME = 100  # updateShipmentName: name is 1–100 characters
HOLD = re.compile(r"^\[JP HOLD: [A-Z0-9_+]+\] ?")


def hold_name(original: str, codes: list[str]) -> str:
    """``[JP HOLD: CODE(+N)] original``, cut to Amazon's 100 characters."""
    prefix = f"[JP HOLD: {codes[0]}{'+' + str(len(codes) - 1) if len(codes) > 1 else ''}] "
    return (prefix + original)[:MAX_NAME].rstrip()


@hookimpl
def on_verdict_change(change, context):
    account, store = context.account, context.store
    if account is None or store is None:
        return None
    rows = list(store.db.query(
        "select spapi_shipment_id, inbound_plan_id, name from spapi_shipments where shipment_id = ? and account = ?",
        [change.shipment_id, account.name],
    ))
    if not rows:
        return None
    latest = store.db.execute(
        "select screening_id from notified_states where shipment_id = ?", [change.shipment_id]).fetchone()
    if latest is not None and latest[0] != change.result.screening_id:
        return None  # a retry of an older state: the newer state's own event names the shipment as it is now
    shipment = rows[0]
    current = shipment["name"] or ""
    record = store.db["annotations"].get(shipment["spapi_shipment_id"]) if store.db.execute(
        "select 1 from annotations where spapi_shipment_id = ?", [shipment["spapi_shipment_id"]]).fetchone() else None
    ours = record is not None and current == record["applied_name"]
    if not account.annotate and not (ours and change.verdict != "blocked"):
        # annotate is off: nothing new is written to Amazon, but a hold fba-jp put on while it was on is still
        # lifted when the shipment clears, or the seller's shipment would keep "[JP HOLD]" for good
        return None
    # the seller may have renamed the shipment since we annotated it: their new name is the original now
    original = record["original_name"] if ours else HOLD.sub("", current)
    if not original:
        return None  # a shipment without a name of its own: Amazon takes no empty name, so a hold could never be undone
    blocking = change.blocking_codes or (["PLUGIN_ERROR"] if change.verdict == "blocked" else [])
    wanted = hold_name(original, blocking) if change.verdict == "blocked" else original
    if not wanted or wanted == current:
        return None
    from fba_jp.spapi import SpApi  # only when there is something to rename

    with SpApi(account) as api:
        api.update_shipment_name(shipment["inbound_plan_id"], shipment["spapi_shipment_id"], wanted)
    with store.write():
        store.db["spapi_shipments"].update(shipment["spapi_shipment_id"], {"name": wanted})
        store.db["annotations"].upsert(
            {"spapi_shipment_id": shipment["spapi_shipment_id"], "account": account.name,
             "original_name": original, "applied_name": wanted, "at": utcnow()},
            pk="spapi_shipment_id",
        )
    return True
