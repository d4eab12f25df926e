"""Incremental sync of Fulfillment Inbound 2024-03-20 plans into SQLite, and screening of what was synced.

Per account and plan status (ACTIVE, SHIPPED, VOIDED: the API returns only ACTIVE without a filter), plans
are listed newest change first (``sortBy=LAST_UPDATED_TIME``, ``sortOrder=DESC``, 30 a page) until
a page reaches the stored watermark. Plans whose ``lastUpdatedAt`` differs from the stored copy are
then fetched **oldest first** (plan, plan items, each shipment with its items and boxes, catalog
data), and each plan is written in one transaction together with the watermark moved to its
``lastUpdatedAt``. For an account whose agreed valuation is deductive from Amazon, the SKUs of its open
shipments then get their Amazon.co.jp prices and fees, once a day (:mod:`fba_jp.pricing`).

Why oldest first: the watermark means "every plan changed at or before this time is stored". With
the newest plan committed first, a run killed half-way would leave the watermark above older plans
it never fetched, and the next run would stop before reaching them. Going oldest first, each commit
keeps the statement true, so a killed run resumes exactly where it stopped: plans at or above the
watermark are listed again (the stop test is strict) and those already stored with the same
``lastUpdatedAt`` are skipped without a call. Listing first and fetching second costs one
page per 30 plans and nothing else.

VOIDED plans are only listed: a voided plan we hold has its shipments retired (no longer screened),
one we never saw is ignored; neither costs a call beyond the list pages.

A plan SP-API refuses (400/404: AWD plans, plans converted from v0) is recorded with its error and
passed; it is fetched again when its ``lastUpdatedAt`` changes or with ``full=True``. So is a plan
whose payload breaks the model where sync relies on it (ids, statuses, lists); a plan summary without
a usable id or ``lastUpdatedAt`` is passed with an error. Shipments stored from an earlier copy of such
a plan are out of date until it is read again: screening blocks them as ``INPUT_INVALID``. Item lines off the model are stored as sent
and block their shipment as ``INPUT_INVALID`` when it is screened.
Throttling, 5xx and network faults are retried in :mod:`fba_jp.spapi`; if they persist the account's
run fails, and what was committed stays committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Collection, Iterable, Iterator

from .config import DEFAULT_LOOKBACK_DAYS, AccountConfig, Config
from .declarations import (
    PLAN_ITEMS,
    AccountInputs,
    SyncedShipment,
    build_declaration,
    catalog_summary,
    catalog_text,
    shipment_key,
)
from .errors import ConfigError, InputError, SpApiError, StopRequested, StoreError, UsageError
from .freight import latest_invoices, load_quotes
from .models import JST, Declaration, Finding, ShipmentResult
from .pricing import amazon_figures, refresh_for_account
from .processes import process_exists
from .redact import redact
from .products import ProductMaster, load_products
from .spapi import MARKETPLACES, PlanUnavailable, SpApi
from .store import Store, record_alias, to_json, utcnow

log = logging.getLogger(__name__)

# VOIDED plans are listed only to retire shipments we hold: they are never fetched.
SYNC_STATUSES = ("ACTIVE", "SHIPPED", "VOIDED")
# Shipments past customs (or never going) are stored but not screened; NOT_IN_PLAN marks a
# shipment that vanished from its plan (a new placement replaced it), PLAN_VOIDED one whose plan
# was voided.
DONE_STATUSES = frozenset(
    {"ABANDONED", "CANCELLED", "DELETED", "CHECKED_IN", "RECEIVING", "DELIVERED", "CLOSED", "NOT_IN_PLAN",
     "PLAN_VOIDED"}
)
CATALOG_TTL_DAYS = 30
SYNC_PLUGIN = "sync"

Progress = Callable[[str], None]


def parse_time(value: str) -> datetime:
    """An SP-API ``date-time`` (``…Z``, any fraction digits) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass
class SyncReport:
    """What one account's sync did; also written to ``sync_runs``."""

    account: str
    run_id: int | None = None
    plans_listed: int = 0
    plans: int = 0  # changed plans fetched and stored
    shipments: int = 0
    items: int = 0
    calls: int = 0
    throttled: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    outcome: str = "running"
    message: str | None = None
    seconds: float = 0.0
    catalog_off: bool = False

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


@dataclass
class FetchedPlan:
    summary: dict
    plan: dict
    items: list[dict]
    shipments: list[tuple[dict, list[dict] | None]]  # (getShipment or summary, listShipmentItems or None)
    # listShipmentBoxes per shipmentId of the open shipments: (boxes, None) or (None, why Amazon refused)
    boxes: dict[str, tuple[list | None, str | None]] = field(default_factory=dict)
    plan_boxes: list | None = None  # listInboundPlanBoxes, fetched only for a plan without shipments


# --------------------------------------------------------------------------- sync


def sync_account(
    store: Store,
    account: AccountConfig,
    api: SpApi,
    *,
    statuses: Iterable[str] = SYNC_STATUSES,
    full: bool = False,
    lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync one account's changed plans. Never raises for SP-API faults: the report says what failed."""
    report = SyncReport(account.name)
    started = time.monotonic()
    with store.write():
        close_interrupted_runs(store, account.name)
        report.run_id = store.db["sync_runs"].insert(
            {"account": account.name, "started_at": utcnow(), "outcome": "running", "pid": os.getpid()}
        ).last_pk
    try:
        for status in statuses:
            watermark = None if full else _watermark(store, account.name, status)
            floor = None
            if watermark is None and lookback_days is not None:
                floor = datetime.now(timezone.utc) - timedelta(days=lookback_days)
            changed = _changed_plans(store, account, api, status, watermark, floor, full, report, progress)
            for number, summary in enumerate(changed, start=1):
                if progress:
                    progress(f"{account.name}: {status} plan {number}/{len(changed)} {summary['inboundPlanId']}")
                _sync_plan(store, account, api, summary, status, report)
        if deductive_from_amazon(account):  # once a day per SKU: a resync the same day makes no call
            mskus = {i["msku"] for s in synced_shipments(store, account.name) for i in s.items
                     if isinstance(i, dict) and _is_text(i.get("msku"))}
            _, error = refresh_for_account(store, account, api, mskus)
            if error:
                report.errors.append(error)
        report.outcome = "partial" if report.errors else "ok"
    except (SpApiError, ConfigError) as exc:
        report.outcome, report.message = "failed", str(exc)
    except PlanUnavailable as exc:  # a 400/404 on the plan list itself: nothing to skip to
        report.outcome, report.message = "failed", f"account {account.name!r}: {exc}"
    except BaseException:  # killed (Ctrl-C, SIGTERM): committed plans stay, the run says so
        report.outcome, report.message = "interrupted", "interrupted before the end of the run"
        raise
    finally:
        report.calls, report.throttled, report.retries = api.stats.calls, api.stats.throttled, api.stats.retries
        report.seconds = round(time.monotonic() - started, 3)
        with store.write():
            store.db["sync_runs"].update(
                report.run_id,
                {
                    "finished_at": utcnow(),
                    "outcome": report.outcome,
                    "message": report.message or ("; ".join(report.errors)[:2000] or None),
                    "calls": report.calls,
                    "plans": report.plans,
                    "shipments": report.shipments,
                    "items": report.items,
                    "errors": len(report.errors) + (1 if report.failed else 0),
                    "throttled": report.throttled,
                },
            )
    return report


def close_interrupted_runs(store: Store, account: str) -> None:
    """Mark as ``interrupted`` the account's runs left ``running`` by a process that no longer exists.

    A sync killed mid-way (SIGKILL, power cut) cannot record its end; its committed plans are kept and
    the next run resumes from the watermark. One daemon serves an account at a time (``max_instances=1``),
    so a "running" row of this very process is a leftover too.
    """
    for row in store.db.query("select id, pid from sync_runs where account = ? and outcome = 'running'", [account]):
        if row["pid"] is None or row["pid"] == os.getpid() or not process_exists(row["pid"]):
            store.db["sync_runs"].update(row["id"], {
                "outcome": "interrupted", "finished_at": utcnow(),
                "message": "the process running this sync ended before it finished; committed plans were kept",
            })


def _watermark(store: Store, account: str, status: str) -> datetime | None:
    rows = list(store.db.query("select watermark from sync_state where account = ? and status = ?", [account, status]))
    return parse_time(rows[0]["watermark"]) if rows and rows[0]["watermark"] else None


def _changed_plans(store, account, api, status, watermark, floor, full, report, progress) -> list[dict]:
    """Summaries at or above the watermark whose ``lastUpdatedAt`` differs from the stored copy, oldest first."""
    stored = {
        row["inbound_plan_id"]: row["last_updated_at"]
        for row in store.db.query("select inbound_plan_id, last_updated_at from spapi_plans where account = ?", [account.name])
    }
    changed: dict[str, dict] = {}
    token = None
    tokens_seen: set[str] = set()
    while True:
        summaries, token = api.list_inbound_plans(status, token)
        reached_end = False
        for summary in summaries:
            problem = _summary_problem(summary)
            if problem:
                report.errors.append(f"listInboundPlans ({status}): {problem}; skipped")
                continue
            updated = parse_time(summary["lastUpdatedAt"])
            if (watermark is not None and updated < watermark) or (floor is not None and updated < floor):
                reached_end = True  # DESC order: everything after this is older still
                break
            report.plans_listed += 1
            plan_id = summary["inboundPlanId"]
            if full or stored.get(plan_id) != summary["lastUpdatedAt"]:
                changed[plan_id] = summary  # a plan that moved between pages while we listed is kept once
        if progress:
            progress(f"{account.name}: {status} listed {report.plans_listed} plans, {len(changed)} changed")
        if reached_end or not token:
            break
        if token in tokens_seen:
            raise SpApiError(f"account {account.name!r}: listInboundPlans repeated a pagination token")
        tokens_seen.add(token)
    return sorted(changed.values(), key=lambda s: (parse_time(s["lastUpdatedAt"]), s["inboundPlanId"]))


def _summary_problem(summary) -> str | None:
    if not isinstance(summary, dict) or not _is_text(summary.get("inboundPlanId")):
        return f"a plan summary without an inboundPlanId (got {str(summary)[:60]})"
    try:
        parse_time(summary["lastUpdatedAt"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return f"plan {summary['inboundPlanId']}: lastUpdatedAt is not a date-time (got {_got(summary.get('lastUpdatedAt'))})"
    return None


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value)


def _got(value, width: int = 40) -> str:
    """``value``'s repr for a one-line message: redacted, then cut to ``width`` characters (cut first, a
    secret Amazon echoed would be cut in half and pass the redaction)."""
    return redact(repr(value))[:width]


def _malformed(operation: str, problem: str) -> PlanUnavailable:
    # A 200 whose payload breaks the model where sync depends on it (ids, statuses): handled like a
    # 400, so the plan is recorded with the problem and passed, never half-stored, and fetched again
    # when it changes. Item lines off the model are stored as they are: screening blocks their
    # shipment as INPUT_INVALID.
    return PlanUnavailable(operation, 200, "MalformedPayload", problem)


def _check_plan(plan: dict, plan_id: str) -> None:
    if plan.get("inboundPlanId") != plan_id:
        raise _malformed("getInboundPlan", f"inboundPlanId is {_got(plan.get('inboundPlanId'))}, not {plan_id}")
    entries = plan.get("shipments")
    if entries is not None and not isinstance(entries, list):
        raise _malformed("getInboundPlan", f"shipments is not a list (got {_got(entries)})")
    for n, entry in enumerate(entries or []):
        valid = isinstance(entry, dict) and _is_text(entry.get("shipmentId"))
        if not valid or not isinstance(entry.get("status"), (str, type(None))):
            raise _malformed("getInboundPlan", f"shipments[{n}] is not a {{shipmentId, status}} summary (got {_got(entry, 60)})")


def _check_shipment(shipment: dict, shipment_id: str) -> None:
    if shipment.get("shipmentId") != shipment_id:
        raise _malformed("getShipment", f"shipmentId is {_got(shipment.get('shipmentId'))}, not {shipment_id}")
    for key in ("shipmentConfirmationId", "status", "name"):
        if not isinstance(shipment.get(key), (str, type(None))):
            raise _malformed("getShipment", f"shipment {shipment_id}: {key} is not a string (got {_got(shipment[key])})")


def fetch_plan(
    api: SpApi, plan_id: str, summary: dict | None = None, known: Iterable[str] = (), plan_boxes: bool = False
) -> FetchedPlan:
    """Everything about one plan. Shipments already done skip their item and box calls; unknown done ones
    (e.g. cancelled before we ever saw them) are not fetched at all. With ``plan_boxes``, a plan without
    shipments yet (placement not confirmed) also has its boxes fetched (``gate --plan``)."""
    plan = api.get_inbound_plan(plan_id)
    _check_plan(plan, plan_id)
    items = api.list_inbound_plan_items(plan_id)
    known = set(known)
    shipments: list[tuple[dict, list[dict] | None]] = []
    boxes: dict[str, tuple[list | None, str | None]] = {}
    for entry in plan.get("shipments") or []:
        sid = entry["shipmentId"]
        if entry.get("status") in DONE_STATUSES:
            if sid in known:
                shipments.append(({"shipmentId": sid, "status": entry["status"]}, None))
            continue
        shipment = api.get_shipment(plan_id, sid)
        _check_shipment(shipment, sid)
        shipments.append((shipment, api.list_shipment_items(plan_id, sid)))
        boxes[sid] = _boxes(api.list_shipment_boxes, plan_id, sid)
    fetched = FetchedPlan(summary or plan, plan, items, shipments, boxes)
    if plan_boxes and not plan.get("shipments"):
        fetched.plan_boxes = _boxes(api.list_inbound_plan_boxes, plan_id)[0]
    return fetched


def _boxes(function, *ids) -> tuple[list | None, str | None]:
    # Box data is for freight and the packing list: Amazon refusing it must not cost the plan. The
    # shipment is stored without boxes and its freight is reported as unknown, with this reason.
    try:
        return function(*ids), None
    except PlanUnavailable as exc:
        return None, str(exc)


def _sync_plan(store, account, api, summary, status, report) -> None:
    plan_id = summary["inboundPlanId"]
    if status == "VOIDED":
        _retire_plan(store, account, summary)
        return
    known = [r["spapi_shipment_id"] for r in store.db.query(
        "select spapi_shipment_id from spapi_shipments where inbound_plan_id = ?", [plan_id])]
    try:
        fetched = fetch_plan(api, plan_id, summary, known)
    except PlanUnavailable as exc:
        report.errors.append(f"plan {plan_id}: {exc}")
        with store.write():
            _upsert_plan(store, account, summary, None, None, error=str(exc))
            _advance_watermark(store, account.name, status, summary["lastUpdatedAt"])
        return
    if not report.catalog_off:
        try:
            refresh_catalog(store, api, _asins(fetched))
        except SpApiError as exc:
            # enrichment only (product type, title): e.g. an app without the catalog role gets 403.
            # Say so once and sync the plans without it; the ASINs are tried again next run.
            report.errors.append(f"catalog lookups skipped for the rest of this run: {exc}")
            report.catalog_off = True
    with store.write():
        counts = store_plan(store, account, fetched)
        _advance_watermark(store, account.name, status, summary["lastUpdatedAt"])
    report.plans += 1
    report.shipments += counts[0]
    report.items += counts[1]


def _retire_plan(store: Store, account: AccountConfig, summary: dict) -> None:
    """A voided plan: its stored shipments will not ship, so they are no longer screened. No calls."""
    plan_id = summary["inboundPlanId"]
    with store.write():
        if _exists(store.db, "spapi_plans", "inbound_plan_id", plan_id):
            store.db["spapi_plans"].update(
                plan_id, {"status": "VOIDED", "last_updated_at": summary["lastUpdatedAt"], "fetched_at": utcnow()}
            )
            now = utcnow()
            for row in store.db.query("select * from spapi_shipments where inbound_plan_id = ?", [plan_id]):
                _set_status(store.db, row, "PLAN_VOIDED", now)
        _advance_watermark(store, account.name, "VOIDED", summary["lastUpdatedAt"])


def _asins(fetched: FetchedPlan) -> set[str]:
    lines = [i for _, items in fetched.shipments for i in items or []] + list(fetched.items)
    return {i["asin"] for i in lines if isinstance(i, dict) and _is_text(i.get("asin"))}


def _advance_watermark(store: Store, account: str, status: str, updated: str) -> None:
    current = _watermark(store, account, status)
    if current is None or parse_time(updated) > current:
        store.db["sync_state"].upsert(
            {"account": account, "status": status, "watermark": updated, "updated_at": utcnow()}, pk=("account", "status")
        )


def _upsert_plan(store, account, summary, plan, items, error=None, plan_boxes=None) -> None:
    source = plan or summary
    row = {
        "inbound_plan_id": source["inboundPlanId"],
        "account": account.name,
        "status": source.get("status"),
        "name": source.get("name"),
        "created_at": source.get("createdAt"),
        "last_updated_at": summary["lastUpdatedAt"],
        "fetched_at": utcnow(),
        "error": error,
    }
    if plan is not None:  # a refused fetch keeps the last good copy
        row.update(plan=to_json(plan), items=to_json(items))
        if plan_boxes is not None:
            row["boxes"] = to_json(plan_boxes)
    store.db["spapi_plans"].upsert(row, pk="inbound_plan_id")


def store_plan(store: Store, account: AccountConfig, fetched: FetchedPlan) -> tuple[int, int]:
    """Write one fetched plan (call inside ``store.write()``). Returns (shipments, items) stored."""
    plan_id = fetched.plan["inboundPlanId"]
    now = utcnow()
    _upsert_plan(store, account, fetched.summary, fetched.plan, fetched.items, plan_boxes=fetched.plan_boxes)
    db = store.db
    present = set()
    n_shipments = n_items = 0
    for shipment, items in fetched.shipments:
        sid = shipment["shipmentId"]
        present.add(sid)
        existing = db["spapi_shipments"].get(sid) if _exists(db, "spapi_shipments", "spapi_shipment_id", sid) else None
        if items is None:  # done: only the status changes
            if existing:
                _set_status(db, existing, shipment["status"], now)
            continue
        key = shipment_key(shipment)
        if existing and existing["shipment_id"] != key:
            _rename_shipment(db, existing["shipment_id"], key, account.name)
        boxes, boxes_error = fetched.boxes.get(sid, (None, None))
        db["spapi_shipments"].upsert(
            {
                "spapi_shipment_id": sid,
                "shipment_id": key,
                "inbound_plan_id": plan_id,
                "account": account.name,
                "status": shipment.get("status"),
                "name": shipment.get("name"),
                "shipment": to_json(shipment),
                "items": to_json(items),
                "boxes": None if boxes is None else to_json(boxes),
                "boxes_error": boxes_error,
                "first_seen_at": existing["first_seen_at"] if existing else now,
                "fetched_at": now,
            },
            pk="spapi_shipment_id",
        )
        row = {
            "shipment_id": key,
            "inbound_plan_id": plan_id,
            "account": account.name,
            "source": f"spapi:{account.name}/{plan_id}/{sid}",
            "name": shipment.get("name"),
            "status": shipment.get("status"),
            "updated_at": now,
        }
        if not _exists(db, "shipments", "shipment_id", key):
            row["first_seen_at"] = now
        db["shipments"].upsert(row, pk="shipment_id")
        db.execute("delete from items where shipment_id = ?", [key])
        merged = _item_lines(key, items)
        db.conn.executemany(
            "insert into items (shipment_id, msku, asin, fnsku, title, quantity) values (?, ?, ?, ?, ?, ?)",
            [(key, line["msku"], line["asin"], line["fnsku"], _cached_title(db, line["asin"]), line["quantity"])
             for line in merged.values()])
        n_shipments += 1
        n_items += len(merged)
    for row in db.query(
        "select * from spapi_shipments where inbound_plan_id = ? and status != 'NOT_IN_PLAN'", [plan_id]
    ):
        if row["spapi_shipment_id"] not in present:
            _set_status(db, row, "NOT_IN_PLAN", now)
    return n_shipments, n_items


def _item_lines(shipment_id: str, items: list) -> dict[str, dict]:
    """Rows of the ``items`` table: quantities summed per msku. Lines too far off the model to count
    (no msku, a quantity that is not a number) are left out here; the raw payload in
    ``spapi_shipments`` keeps them, and screening blocks the shipment as ``INPUT_INVALID``."""
    merged: dict[str, dict] = {}
    for item in items:
        if not isinstance(item, dict) or not _is_text(item.get("msku")):
            continue
        text = {k: item.get(k) if isinstance(item.get(k), str) else None for k in ("asin", "fnsku")}
        line = merged.setdefault(item["msku"], {"shipment_id": shipment_id, "msku": item["msku"], **text, "quantity": 0})
        quantity = item.get("quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            line["quantity"] += quantity
    return merged


def _exists(db, table: str, column: str, value: str) -> bool:
    return bool(db.execute(f"select 1 from [{table}] where [{column}] = ?", [value]).fetchone())


def _set_status(db, spapi_row: dict, status: str, now: str) -> None:
    db["spapi_shipments"].update(spapi_row["spapi_shipment_id"], {"status": status, "fetched_at": now})
    db.execute("update shipments set status = ?, updated_at = ? where shipment_id = ?", [status, now, spapi_row["shipment_id"]])


def _rename_shipment(db, old: str, new: str, account: str | None = None) -> None:
    """Amazon assigned the FBA confirmation id: move the shipment's current state to it and record the old
    id as an alias; its screenings and waivers stay as written (store.py: history is append-only)."""
    if _exists(db, "shipments", "shipment_id", new):
        return  # already known under the new id (e.g. gate-screened from a file): keep both
    for table in ("shipments", "items", "spapi_shipments"):
        db.execute(f"update [{table}] set shipment_id = ? where shipment_id = ?", [new, old])
    record_alias(db, old, new, account)


def _cached_title(db, asin: str | None) -> str | None:
    if not asin:
        return None
    row = db.execute("select title from catalog_items where asin = ?", [asin]).fetchone()
    return row[0] if row else None


def refresh_catalog(store: Store, api: SpApi, asins: Iterable[str], ttl_days: int = CATALOG_TTL_DAYS) -> None:
    """Fetch catalog data for ASINs not cached (or older than ``ttl_days``); Amazon's "no such
    item" is cached too. Each lookup is stored at once, so a failure keeps what was fetched."""
    marketplace = api.marketplace.marketplace_id
    cutoff = (datetime.now(timezone.utc) - timedelta(days=ttl_days)).isoformat(timespec="seconds")
    fresh = {
        r["asin"]
        for r in store.db.query(
            "select asin from catalog_items where marketplace_id = ? and fetched_at >= ?", [marketplace, cutoff]
        )
    }
    for asin in sorted(set(asins) - fresh):
        item = api.get_catalog_item(asin)
        info = catalog_summary(item, marketplace)
        with store.write():
            store.db["catalog_items"].upsert(
                {
                    "marketplace_id": marketplace,
                    "asin": asin,
                    "found": int(item is not None),
                    "title": info.get("title"),
                    "product_type": info.get("product_type"),
                    "classification": info.get("classification"),
                    "item": to_json(item) if item is not None else None,
                    "fetched_at": utcnow(),
                },
                pk=("marketplace_id", "asin"),
            )


def cached_catalog(store: Store, marketplace_id: str) -> dict[str, dict]:
    return {
        # rows cached before blank texts were dropped may hold one
        r["asin"]: {key: catalog_text(r[key]) for key in ("title", "product_type", "classification")}
        for r in store.db.query("select * from catalog_items where marketplace_id = ? and found = 1", [marketplace_id])
    }


# --------------------------------------------------------------------------- declarations and screening


def synced_shipments(store: Store, account: str | None = None, include_done: bool = False) -> list[SyncedShipment]:
    """Stored SP-API shipments (open ones unless ``include_done``), oldest first."""
    sql, params = "select * from spapi_shipments where items is not null", []
    if account:
        sql, params = sql + " and account = ?", [account]
    shipments = []
    for row in store.db.query(sql + " order by first_seen_at, spapi_shipment_id", params):
        if not include_done and row["status"] in DONE_STATUSES:
            continue
        shipments.append(
            SyncedShipment(
                account=row["account"],
                inbound_plan_id=row["inbound_plan_id"],
                spapi_shipment_id=row["spapi_shipment_id"],
                shipment=json.loads(row["shipment"]),
                items=json.loads(row["items"]),
                first_seen=parse_time(row["first_seen_at"]).astimezone(JST).date(),
                boxes=json.loads(row["boxes"]) if row.get("boxes") is not None else None,
                boxes_error=row.get("boxes_error"),
            )
        )
    return shipments


def account_products(config: Config, account: AccountConfig) -> ProductMaster | None:
    """The account's product master (``ConfigError`` if configured but unreadable)."""
    if not account.products:
        return None
    try:
        return load_products(config.resolve(account.products), name=account.products)
    except ConfigError as exc:
        raise ConfigError(f"account {account.name!r}: products: {exc}") from None


def deductive_from_amazon(account: AccountConfig) -> bool:
    """Whether the account's agreed valuation takes its Japan selling prices and fees from Amazon."""
    return account.valuation is not None and account.valuation.method == "deductive"


def account_inputs(store: Store, config: Config, account: AccountConfig) -> AccountInputs:
    """The account's freight quotes, actual freight invoices and Amazon prices and fees (``ConfigError`` if
    a file is unreadable)."""
    inputs = AccountInputs(amazon=amazon_figures(store, account.name) if deductive_from_amazon(account) else None,
                           invoices=latest_invoices(store, account.name))
    freight = account.freight
    if freight is not None and freight.method == "quote_file":
        try:
            inputs.quotes = load_quotes(config.resolve(freight.quotes), name=freight.quotes)
        except ConfigError as exc:
            raise ConfigError(f"account {account.name!r}: freight: {exc}") from None
    return inputs


def declaration_or_error(
    synced: SyncedShipment, account: AccountConfig, products: ProductMaster | None, catalog: dict[str, dict],
    inputs: AccountInputs | None = None,
) -> tuple[Declaration | None, InputError | None]:
    try:
        return build_declaration(synced, account, products, catalog, inputs), None
    except InputError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - Amazon data no check anticipated: this shipment, not the run
        # fail closed for this one shipment (INPUT_INVALID, unwaivable) and screen the others: a TypeError on
        # one off-model payload stopped screening for every account of the run
        log.debug("building the declaration of %s failed", synced.shipment_id, exc_info=exc)
        return None, InputError(f"{synced.source}: its SP-API data could not be turned into a declaration "
                                f"({type(exc).__name__}: {redact(str(exc))[:200]}); run with --debug for the traceback")


def unread_plan(synced: SyncedShipment, problem: str) -> InputError:
    """The shipment's plan changed on Amazon but its latest copy could not be read (``spapi_plans.error``):
    the stored shipment is out of date, so it must not be screened as if it were current (fail closed)."""
    return InputError(f"{synced.source}: Amazon's latest copy of plan {synced.inbound_plan_id} could not be read "
                      f"({problem}), so the stored SP-API data of this shipment may be out of date")


def invalid_input(synced: SyncedShipment, error: InputError) -> str:
    """The input of a shipment that cannot form a declaration, as canonical JSON: its SP-API data and what is wrong."""
    return json.dumps(
        {"input_invalid": error.lines, "shipment": synced.shipment, "items": synced.items},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )


def invalid_sha256(synced: SyncedShipment, error: InputError) -> str:
    """Input hash of a shipment that cannot form a declaration (of :func:`invalid_input`)."""
    return hashlib.sha256(invalid_input(synced, error).encode("utf-8")).hexdigest()


def input_invalid_result(synced: SyncedShipment, error: InputError, account: str, config: Config) -> ShipmentResult:
    """The ``INPUT_INVALID`` (block) result of a synced shipment whose data cannot form a declaration."""
    from .runner import verdict_of

    problems = [line.split(": ", 1)[1] if line.startswith(synced.source) else line for line in error.lines]
    finding = Finding(
        code="INPUT_INVALID",
        severity="block",  # could not screen: no policy changes that (models.COULD_NOT_SCREEN)
        plugin=SYNC_PLUGIN,
        message="The SP-API data of this shipment cannot form a declaration: " + "; ".join(problems),
        remedy=(
            "Check the plan in Seller Central; once Amazon serves it again, `fba-jp sync --full` fetches it (a plain "
            "sync fetches it only when it changes again) and the next screening uses it."
            if any("could not be read" in line for line in problems)
            else "Amazon sent item lines off the SP-API model: check the shipment in Seller Central (the next sync "
            "fetches it again when it changes); fix anything else named in the product master or config.toml."
            if any("in the SP-API data" in line for line in problems)
            else "Fix the product master or the account profile in config.toml as named, then run `fba-jp screen`."
        ),
        reference="fba-jp: fail closed",
    )
    return ShipmentResult(
        shipment_id=synced.shipment_id,
        inbound_plan_id=synced.inbound_plan_id,
        source=synced.source,
        account=account,
        verdict=verdict_of([finding], []),
        input_sha256=invalid_sha256(synced, error),
        findings=[finding],
        errors=[],
        valuation=None,
    )


@dataclass
class ScreenReport:
    results: list[ShipmentResult] = field(default_factory=list)
    screened: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)  # accounts that could not be screened


def screen_synced(app, account_names: Iterable[str] = (), force: bool = False,
                  stop: threading.Event | None = None, only: Collection[str] | None = None) -> ScreenReport:
    """Screen stored SP-API shipments of the accounts (all if none named).

    A new screening is recorded when the input changed (declaration hash, which covers the profile and
    product master), when the shipment was never screened, when the plugin set changed, or when
    screening the same input now gives another result than the one stored: what a screening reads
    besides its declaration (the ACP registry, exchange rates, waivers and their expiry, licences
    recorded in the dashboard, ``[policy]``, ``[rules]``, plugin settings, the rule data of this
    version) can change a verdict, and a stored "cleared" must not outlive its ACP. With ``force``
    (``fba-jp screen --all``) always.

    ``stop`` (the daemon's stop event) ends it before the next shipment once set: what was screened is
    recorded, then :class:`~fba_jp.errors.StopRequested` is raised. ``only`` limits it to those shipment
    ids (the dashboard's "Screen again" of one synced shipment).
    """
    from .runner import SCREEN_BATCH, input_sha256, same_outcome

    config: Config = app.config
    store: Store = app.store
    accounts = [config.account(n) for n in account_names] if account_names else list(config.accounts)
    report = ScreenReport()
    screener = app.screener(stop)  # a check waiting in context.sleep wakes when the daemon is asked to stop
    plugins_json = to_json(sorted(app.plugins.names()))
    pending: list[tuple[int, ShipmentResult, Declaration | None, str]] = []  # (place in results, …) not stored yet
    recorded = 0  # screenings committed by earlier batches of this call

    def record() -> None:  # SCREEN_BATCH screenings a transaction: each whole, the batch all or nothing
        nonlocal recorded
        try:
            stored = store.record_screenings([entry[1:] for entry in pending], screener.plugin_names)
        except StoreError as exc:
            if not recorded:
                raise
            # the store's "nothing was saved" is of this batch only: say the earlier ones are in the audit trail
            raise StoreError(f"{exc}; {recorded} screening{'s' if recorded != 1 else ''} recorded before it in this "
                             "run are kept, the other shipments were not recorded: run `fba-jp screen` again") from None
        recorded += len(stored)
        for (place, *_), result in zip(pending, stored):
            report.results[place] = result
        pending.clear()

    for account in accounts:
        try:
            products = account_products(config, account)
            inputs = account_inputs(store, config, account)
        except ConfigError as exc:
            report.errors.append(str(exc))
            continue
        # a bad row of the product master or the freight quotes: one line each naming file, row and column,
        # and exit 3; the shipments holding that msku are INPUT_INVALID, the others are screened as usual
        if products is not None:
            report.errors.extend(f"account {account.name!r}: {line}" for lines in products.errors.values() for line in lines)
        if inputs.quotes is not None:
            report.errors.extend(f"account {account.name!r}: {line}" for line in inputs.quotes.errors)
        catalog = cached_catalog(store, MARKETPLACES[account.marketplace].marketplace_id)
        unread = dict(store.conn.execute(  # plans whose last fetch failed: their stored copy is not current
            "select inbound_plan_id, error from spapi_plans where account = ? and error is not null", [account.name]))
        for synced in synced_shipments(store, account.name):
            if only is not None and synced.shipment_id not in only:
                continue
            if stop is not None and stop.is_set():
                record()
                raise StopRequested
            if synced.inbound_plan_id in unread:
                declaration, error = None, unread_plan(synced, unread[synced.inbound_plan_id])
            else:
                declaration, error = declaration_or_error(synced, account, products, catalog, inputs)
            # the canonical JSON once: its hash says whether the input changed, and evaluate() hashes it again
            canonical = declaration.canonical_json() if declaration is not None else None
            sha = input_sha256(canonical) if canonical is not None else invalid_sha256(synced, error)
            latest = store.latest_screening(synced.shipment_id)
            fresh = None  # (result, canonical) of screening it now, once
            if not force and latest and latest["input_sha256"] == sha and latest["plugins"] == plugins_json:
                stored = store.load_result(latest)
                if declaration is not None:
                    fresh = screener.evaluate(declaration, synced.source, account.name, canonical)
                if declaration is None or same_outcome(stored, fresh[0]):
                    report.results.append(stored)
                    report.unchanged += 1
                    continue
            if declaration is not None:
                result, canonical = fresh or screener.evaluate(declaration, synced.source, account.name, canonical)
            else:  # stored with no declaration: the shipment's row then holds none (an older one must not look current)
                result = input_invalid_result(synced, error, account.name, config)  # unwaivable: no waivers to apply
                canonical = invalid_input(synced, error)
            report.results.append(result)
            pending.append((len(report.results) - 1, result, declaration, canonical))
            if len(pending) >= SCREEN_BATCH:
                record()
            report.screened += 1
    record()
    return report


# --------------------------------------------------------------------------- several accounts, gate --plan


def make_api(account: AccountConfig, **options) -> SpApi:
    return SpApi(account, **options)


def sync_accounts(
    app,
    account_names: Iterable[str] = (),
    *,
    full: bool = False,
    lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
    progress: Progress | None = None,
    api_options: dict | None = None,
    concurrency: int | None = None,
    on_done: Callable[[SyncReport], None] | None = None,
) -> list[SyncReport]:
    """Sync every named account (all configured if none); one failing account does not stop the others.

    Up to ``concurrency`` accounts (default ``[sync] concurrent_accounts``) sync at the same time, each
    in its own thread with its own SP-API client (so its own rate limiters: Amazon limits each seller
    separately) and its own SQLite connection; their writes queue on the database's write lock
    (``BEGIN IMMEDIATE`` under the busy timeout). ``on_done(report)`` is called in the calling thread
    as each account finishes, so ``run`` screens one account while others still sync. Reports come back
    in the order of the accounts.
    """
    config: Config = app.config
    accounts = [config.account(n) for n in account_names] if account_names else list(config.accounts)
    if not accounts:
        raise ConfigError("no [[accounts]] in the config; add one (see config.example.toml) or pass --config")
    options = dict(full=full, lookback_days=lookback_days, api_options=api_options or {})
    workers = min(len(accounts), concurrency or config.sync.concurrent_accounts)
    if workers == 1 or app.store.path == ":memory:":  # a second connection to :memory: is another database
        reports = []
        for account in accounts:
            reports.append(_sync_one(app.store, account, progress=progress, **options))
            if on_done:
                on_done(reports[-1])
        return reports
    cancelled = threading.Event()

    def checkpoint(message: str) -> None:  # called before every plan: where a worker stops when asked
        if cancelled.is_set():
            raise SyncCancelled("another account's sync failed or the run was interrupted")
        if progress:
            progress(message)

    def work(account: AccountConfig) -> SyncReport:
        with Store(app.store.path) as store:  # a connection per thread: sqlite3 connections are not shared
            return _sync_one(store, account, progress=checkpoint, **options)

    reports: list[SyncReport | None] = [None] * len(accounts)
    with ThreadPoolExecutor(workers, thread_name_prefix="fba-jp-sync") as pool:
        futures = {pool.submit(work, account): n for n, account in enumerate(accounts)}
        try:
            for future in as_completed(futures):
                reports[futures[future]] = report = future.result()
                if on_done:
                    on_done(report)
        except BaseException:  # Ctrl-C, SIGTERM, a checkpoint's StopRequested: the others stop at their next plan
            cancelled.set()
            raise
    return reports


class SyncCancelled(Exception):
    """Raised in a worker at its next plan once the run it belongs to is giving up."""


def _sync_one(store: Store, account: AccountConfig, *, api_options: dict, progress: Progress | None,
              **sync_options) -> SyncReport:
    try:
        api = make_api(account, **api_options)
    except SpApiError as exc:  # e.g. a credential's variable is not set: recorded like any failed run
        report = SyncReport(account.name, outcome="failed", message=str(exc))
        now = utcnow()
        with store.write():
            report.run_id = store.db["sync_runs"].insert(
                {"account": account.name, "started_at": now, "finished_at": now, "outcome": "failed",
                 "message": report.message, "calls": 0, "plans": 0, "shipments": 0, "items": 0,
                 "errors": 1, "throttled": 0}
            ).last_pk
        return report
    with api:
        return sync_account(store, account, api, progress=progress, **sync_options)


def pick_account(config: Config, name: str | None) -> AccountConfig:
    if name:
        return config.account(name)
    if len(config.accounts) == 1:
        return config.accounts[0]
    if not config.accounts:
        raise ConfigError("gate --plan needs an [[accounts]] section with SP-API credentials in the config")
    raise UsageError(
        f"gate --plan: {len(config.accounts)} accounts are configured; pass --account "
        f"({', '.join(a.name for a in config.accounts)})"
    )


def declarations_for_plan(
    app, plan_id: str, account_name: str | None, api_options: dict | None = None
) -> Iterator[tuple[str, Declaration | None, InputError | None]]:
    """Fetch one inbound plan now and yield ``(source, declaration, error)`` per open shipment.

    The plan is stored like a synced one (the watermark is not moved). A plan with no shipments yet
    (placement not confirmed) is screened as one provisional declaration of the plan's items, keyed
    by the plan id, so problems show before the placement is accepted.
    """
    config: Config = app.config
    account = pick_account(config, account_name)
    products = account_products(config, account)
    inputs = account_inputs(app.store, config, account)
    with make_api(account, **(api_options or {})) as api:
        try:
            fetched = fetch_plan(api, plan_id, plan_boxes=True)
        except PlanUnavailable as exc:
            raise SpApiError(f"account {account.name!r}: inbound plan {plan_id}: {exc}") from None
        try:
            refresh_catalog(app.store, api, _asins(fetched))
        except SpApiError as exc:  # enrichment only: screen without product types rather than not at all
            log.warning("catalog lookups skipped: %s", exc)
        with app.store.write():
            store_plan(app.store, account, fetched)
        if deductive_from_amazon(account):
            lines = list(fetched.items) + [i for _, items in fetched.shipments for i in items or []]
            _, error = refresh_for_account(app.store, account, api, {
                i["msku"] for i in lines if isinstance(i, dict) and _is_text(i.get("msku"))})
            if error:
                log.warning("%s", error)
    inputs = account_inputs(app.store, config, account)  # with the prices and fees just fetched
    catalog = cached_catalog(app.store, MARKETPLACES[account.marketplace].marketplace_id)
    shipments = [s for s in synced_shipments(app.store, account.name) if s.inbound_plan_id == plan_id]
    if not shipments and not fetched.plan.get("shipments"):
        today = datetime.now(JST).date()
        shipments = [SyncedShipment(account.name, plan_id, PLAN_ITEMS, {"shipmentId": plan_id}, fetched.items, today,
                                    boxes=fetched.plan_boxes)]
    for synced in shipments:
        declaration, error = declaration_or_error(synced, account, products, catalog, inputs)
        yield synced.source, declaration, error

