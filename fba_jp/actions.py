"""Actions on verdict change: decide which screenings are news, and deliver them to every action once.

A shipment's *state* is its verdict plus its unwaived blocking codes. When a screening puts a shipment in
a state other than the one last announced (or it is new), one event is queued per action (each
``on_verdict_change`` implementation) in the ``notifications`` table, in the same transaction that
records the new state. Delivery happens afterwards; an action that fails is retried on later runs, an
action that succeeded is never repeated — also across daemon restarts.
"""

from __future__ import annotations

import hashlib
import json
import logging

from .models import ShipmentResult, VerdictChange
from .runner import ScreeningContext
from .store import Store, to_json, utcnow

log = logging.getLogger("fba_jp.actions")
MAX_ATTEMPTS = 5


def state_of(result: ShipmentResult) -> str:
    blocking = sorted({f.code for f in result.findings if f.severity == "block" and not f.waived})
    if result.errors:
        blocking = sorted(set(blocking) | {"PLUGIN_ERROR"})
    return f"{result.verdict}:{','.join(blocking)}"


def change_for(result: ShipmentResult, previous_verdict: str | None) -> VerdictChange:
    state = state_of(result)
    event_id = hashlib.sha256(f"{result.shipment_id}|{state}|{result.screening_id}".encode()).hexdigest()[:32]
    return VerdictChange(
        event_id=event_id,
        shipment_id=result.shipment_id,
        inbound_plan_id=result.inbound_plan_id,
        account=result.account,
        previous_verdict=previous_verdict,
        verdict=result.verdict,
        blocking_codes=sorted({f.code for f in result.findings if f.severity == "block" and not f.waived}),
        warning_codes=sorted({f.code for f in result.findings if f.severity == "warn" and not f.waived}),
        screened_at=result.screened_at,
        result=result,
    )


def action_names(plugins) -> list[str]:
    return [impl.plugin_name for impl in reversed(plugins.hook.on_verdict_change.get_hookimpls())]


def queue_changes(store: Store, results: list[ShipmentResult], actions: list[str]) -> list[VerdictChange]:
    """Record the new state of every changed shipment and queue one notification per action, atomically."""
    changes = []
    now = utcnow()
    with store.write():
        for result in results:
            state = state_of(result)
            previous = store.db.execute(
                "select state, verdict from notified_states where shipment_id = ?", [result.shipment_id]
            ).fetchone()
            if previous is not None and previous[0] == state:
                continue
            change = change_for(result, previous[1] if previous else None)
            store.db["notified_states"].upsert(
                {"shipment_id": result.shipment_id, "state": state, "verdict": result.verdict,
                 "screening_id": result.screening_id, "at": now},
                pk="shipment_id",
            )
            store.db["notifications"].insert_all(
                {"event_id": change.event_id, "shipment_id": change.shipment_id, "account": change.account,
                 "action": action, "status": "pending", "attempts": 0, "last_error": None,
                 "payload": change.model_dump_json(), "created_at": now, "updated_at": now}
                for action in actions
            )
            changes.append(change)
    return changes


def deliver_pending(store: Store, plugins, config, account_for=None, account: str | None = None) -> dict[str, int]:
    """Run pending (or failed, with attempts left) notifications through their actions. Returns counts.

    ``account`` limits delivery to one account's events. Each row is claimed (``sending``) in its own
    transaction first, so two daemon threads never deliver the same notification.
    """
    impls = {impl.plugin_name: impl for impl in plugins.hook.on_verdict_change.get_hookimpls()}
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    sql = "select * from notifications where status in ('pending', 'failed') and attempts < ?"
    params: list = [MAX_ATTEMPTS]
    if account is not None:
        sql, params = sql + " and account = ?", params + [account]
    for row in list(store.db.query(sql + " order by id", params)):
        with store.write():
            claimed = store.db.execute(
                "update notifications set status = 'sending', updated_at = ? where id = ? and status = ?",
                [utcnow(), row["id"], row["status"]],
            ).rowcount
        if not claimed:
            continue
        impl = impls.get(row["action"])
        if impl is None:  # the action's plugin is no longer installed
            status, error = "skipped", "action not loaded"
        else:
            change = VerdictChange.model_validate_json(row["payload"])
            context = ScreeningContext(config=config, store=store, hook=plugins.hook,
                                       account=account_for(change.account) if account_for else None)
            try:
                args = {"change": change, "context": context}
                delivered = impl.function(**{a: args[a] for a in impl.argnames})
                status, error = ("sent" if delivered else "skipped"), None
            except Exception as exc:  # noqa: BLE001 - one action's failure must not stop the others
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                log.warning("action %s failed for %s: %s", row["action"], row["shipment_id"], error)
        with store.write():
            store.db["notifications"].update(
                row["id"],
                {"status": status, "attempts": row["attempts"] + 1, "last_error": error, "updated_at": utcnow()},
            )
        counts[status] += 1
    return counts


def act_on(store: Store, plugins, config, results: list[ShipmentResult], account: str | None = None) -> dict[str, int]:
    """Queue the changes among ``results`` and deliver what is pending: what ``run`` and the daemon do."""
    changes = queue_changes(store, results, action_names(plugins))
    accounts = {a.name: a for a in config.accounts}
    counts = deliver_pending(store, plugins, config, account_for=accounts.get, account=account)
    return {"changes": len(changes), **counts}


def event_payload(change: VerdictChange) -> dict:
    """The JSON body actions send: the change plus the full result (findings, valuation)."""
    return json.loads(to_json({"schema": "fba-jp/verdict-change/v1", **change.model_dump(mode="json")}))
