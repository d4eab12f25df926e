"""Actions on verdict change: decide which screenings are news, and deliver them to every action once.

A shipment's *state* is its verdict plus its unwaived blocking codes. When a screening puts a shipment in
a state other than the one last announced (or it is new), one event is queued per action (each
``on_verdict_change`` implementation) in the ``notifications`` table, in the same transaction that
records the new state. Delivery happens afterwards; an action that fails is retried on later runs (up to
:data:`MAX_ATTEMPTS`), an action that succeeded is never repeated — also across daemon restarts.

Delivery is **at least once**. A row is claimed before its action runs: ``status = 'sending'``, one more
attempt, a lease (``lease_until``, :data:`LEASE` ahead) and the claiming process id (``claimed_by``). If
that process dies mid-delivery (``kill -9``, power cut), the row is not lost: the next delivery run takes
it over as soon as the process is gone (a restart that reused its pid counts as gone) or the lease has run
out, so the receiver may see the same event twice. The ``event_id`` (``X-FBA-JP-Event`` and ``Idempotency-Key`` on webhooks, ``X-FBA-JP-Event`` on
e-mails) is the idempotency key: a receiver drops an event id it has already processed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import datetime, timedelta, timezone

from .errors import StopRequested
from .models import ShipmentResult, VerdictChange
from .processes import process_exists
from .redact import redact
from .runner import ScreeningContext
from .store import Store, to_json, utcnow

log = logging.getLogger("fba_jp.actions")
MAX_ATTEMPTS = 5
# longer than any delivery takes (a webhook's retries × its timeout, at most 11 × 120 s, plus backoff); a
# claim whose process is gone is taken over at once, so the lease only matters for a process that hangs
LEASE = timedelta(minutes=30)


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


def deliver_pending(
    store: Store, plugins, config, account_for=None, account: str | None = None, stop=None,
) -> dict[str, int]:
    """Run pending (or failed, with attempts left) notifications through their actions. Returns counts.

    ``account`` limits delivery to one account's events; ``stop`` (a ``threading.Event``) ends the loop
    between two deliveries and wakes the actions' waits (``context.sleep``). Each row is claimed with a
    lease first, in its own transaction, so two processes never deliver it at once; see the module
    docstring for what happens to a claim whose process dies.
    """
    impls = {impl.plugin_name: impl for impl in plugins.hook.on_verdict_change.get_hookimpls()}
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    sql = ("select * from notifications where (status in ('pending', 'failed') and attempts < ?)"
           " or status = 'sending'")
    params: list = [MAX_ATTEMPTS]
    if account is not None:
        sql, params = f"select * from ({sql}) where account = ?", params + [account]
    for row in list(store.db.query(sql + " order by id", params)):
        if stop is not None and stop.is_set():
            raise StopRequested
        if row["status"] == "sending" and not _abandoned(row):
            continue  # another delivery holds it
        if row["attempts"] >= MAX_ATTEMPTS:  # abandoned on its last attempt: give up like any other failure
            with store.write():
                _finish(store, row["id"], "failed", f"delivery interrupted on attempt {row['attempts']}; "
                        f"{row['last_error'] or 'the process delivering it ended'}")
            counts["failed"] += 1
            continue
        if not _claim(store, row):
            continue
        impl = impls.get(row["action"])
        if impl is None:  # the action's plugin is no longer installed
            status, error = "skipped", "action not loaded"
        else:
            change = VerdictChange.model_validate_json(row["payload"])
            context = ScreeningContext(config=config, store=store, hook=plugins.hook,
                                       account=account_for(change.account) if account_for else None)
            if stop is not None:
                context.stop = stop
            try:
                args = {"change": change, "context": context}
                delivered = impl.function(**{a: args[a] for a in impl.argnames})
                status, error = ("sent" if delivered else "skipped"), None
            except StopRequested:  # not an attempt that failed: hand the row back as it was
                with store.write():
                    store.db.execute(
                        "update notifications set status = ?, attempts = ?, lease_until = null, claimed_by = null,"
                        " updated_at = ? where id = ?",
                        ["pending" if row["status"] == "sending" else row["status"], row["attempts"], utcnow(), row["id"]],
                    )
                raise
            except Exception as exc:  # noqa: BLE001 - one action's failure must not stop the others
                status, error = "failed", redact(f"{type(exc).__name__}: {exc}")
                log.warning("action %s failed for %s: %s", row["action"], row["shipment_id"], error)
        with store.write():
            _finish(store, row["id"], status, error)
        counts[status] += 1
    return counts


# when this process began claiming (no claim of its own is older): a row claimed under this pid before then was
# claimed by an earlier process that had the same pid, as a restarted container's daemon (pid 1) always does
_STARTED = utcnow()


def _abandoned(row: dict) -> bool:
    """A ``sending`` row nobody is delivering: its lease ran out, or the process that claimed it is gone
    (killed mid-delivery, including by a restart that reused its pid), or it was claimed before claims had
    leases. Under this process's own pid and since it started, another of its threads is delivering it."""
    if not row["lease_until"] or row["lease_until"] < utcnow():
        return True
    if row["claimed_by"] == os.getpid():
        return row["updated_at"] < _STARTED
    return not process_exists(row["claimed_by"])


def _claim(store: Store, row: dict) -> bool:
    """Take the row for this process: one more attempt, leased for :data:`LEASE`. ``False`` if someone was first."""
    lease_until = (datetime.now(timezone.utc) + LEASE).isoformat(timespec="seconds")
    with store.write():
        return bool(store.db.execute(
            "update notifications set status = 'sending', attempts = attempts + 1, lease_until = ?, claimed_by = ?,"
            " updated_at = ? where id = ? and status = ? and attempts = ?",
            [lease_until, os.getpid(), utcnow(), row["id"], row["status"], row["attempts"]],
        ).rowcount)


def _finish(store: Store, notification_id: int, status: str, error: str | None) -> None:
    store.db.execute(
        "update notifications set status = ?, last_error = ?, lease_until = null, claimed_by = null, updated_at = ?"
        " where id = ?",
        [status, error, utcnow(), notification_id],
    )


def act_on(
    store: Store, plugins, config, results: list[ShipmentResult], account: str | None = None, stop=None,
) -> dict[str, int]:
    """Queue the changes among ``results`` and deliver what is pending: what ``run`` and the daemon do."""
    changes = queue_changes(store, results, action_names(plugins))
    accounts = {a.name: a for a in config.accounts}
    counts = deliver_pending(store, plugins, config, account_for=accounts.get, account=account, stop=stop)
    return {"changes": len(changes), **counts}


def event_payload(change: VerdictChange) -> dict:
    """The JSON body actions send: the change plus the full result (findings, valuation)."""
    return json.loads(to_json({"schema": "fba-jp/verdict-change/v1", **change.model_dump(mode="json")}))
