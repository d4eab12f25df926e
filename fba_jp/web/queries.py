"""The dashboard's reads: indexed, paginated, and always within the user's account scope.

The shipment list is keyset-paginated on ``(updated_at, shipment_id)`` over the indexes of migration
``m007_dashboard``: a page reads ``PAGE_SIZE`` index entries whether the database holds a hundred
shipments or a hundred thousand (``benchmarks/bench_serve.py`` measures it). Nothing on the list page
counts all rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..daemon import status_rows
from ..models import ShipmentResult, today_jst
from ..store import Store
from .auth import User

PAGE_SIZE = 50
# a SKU search collects the matching shipments and sorts them when there are at most this many;
# past that, walking the list's index until the page is full is cheaper
SEARCH_SET_LIMIT = 2000
VERDICTS = ("blocked", "annotated", "cleared")


@dataclass
class Filters:
    account: str | None = None
    verdict: str | None = None
    code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    after: tuple[str, str] | None = None  # (updated_at, shipment_id) of the last row of the previous page

    def query(self, **changes) -> dict:
        """These filters as query-string parameters (for links), with ``changes`` applied."""
        values = {
            "account": self.account, "verdict": self.verdict, "code": self.code,
            "from": self.date_from and self.date_from.isoformat(), "to": self.date_to and self.date_to.isoformat(),
            "q": self.q, "after": self.after and "~".join(self.after),
        } | changes
        return {k: v for k, v in values.items() if v}


@dataclass
class Page:
    rows: list[dict]
    next_after: str | None
    filters: Filters = field(default_factory=Filters)


def _scope(user: User, column: str = "account") -> tuple[str, list]:
    if user.unscoped:
        return "", []
    if not user.accounts:
        return " and 0", []
    return f" and {column} in ({', '.join('?' * len(user.accounts))})", list(user.accounts)


def list_shipments(store: Store, user: User, filters: Filters, limit: int = PAGE_SIZE) -> Page:
    """One page of the latest verdict of each shipment, newest first."""
    sql = ("select shipment_id, account, latest_verdict as verdict, updated_at as screened_at, latest_screening_id,"
           " inbound_plan_id, source from shipments where latest_screening_id is not null")
    where, params = _scope(user)
    sql += where
    if filters.account:
        sql, params = sql + " and account = ?", params + [filters.account]
    if filters.verdict:
        sql, params = sql + " and latest_verdict = ?", params + [filters.verdict]
    if filters.date_from:
        sql, params = sql + " and updated_at >= ?", params + [filters.date_from.isoformat()]
    if filters.date_to and filters.date_to < date.max:  # up to the last day there is: no bound
        sql, params = sql + " and updated_at < ?", params + [(filters.date_to + timedelta(days=1)).isoformat()]
    if filters.code:
        # like the SKU search: a rare code drives the query from its index, a common one is checked row by row
        if _more_than(store, "select 1 from findings where code = ?", [filters.code], SEARCH_SET_LIMIT):
            sql += " and exists (select 1 from findings f where f.screening_id = shipments.latest_screening_id and f.code = ?)"
        else:
            sql += " and latest_screening_id in (select screening_id from findings where code = ?)"
        params.append(filters.code)
    if filters.q:
        # a shipment id prefix or an exact SKU, as typed or in capitals
        variants = list(dict.fromkeys([filters.q, filters.q.upper()]))
        marks = ", ".join("?" * len(variants))
        prefix = " or ".join(["(shipment_id >= ? and shipment_id < ?)"] * len(variants))
        prefix_params = [p for v in variants for p in (v, v + "\U0010ffff")]
        if _more_than(store, f"select 1 from items where msku in ({marks})", variants, SEARCH_SET_LIMIT):
            # a SKU in many shipments: walk the list's own index and stop at the page's 50th match
            sql += (f" and ({prefix} or exists (select 1 from items i where i.shipment_id = shipments.shipment_id"
                    f" and i.msku in ({marks})))")
        else:
            # a rare SKU or an id: the few matching shipments first, then sort them
            sql += f" and shipment_id in (select shipment_id from shipments where {prefix}" \
                   f" union select shipment_id from items where msku in ({marks}))"
        params += prefix_params + variants
    if filters.after:
        sql, params = sql + " and (updated_at, shipment_id) < (?, ?)", params + list(filters.after)
    sql += " order by updated_at desc, shipment_id desc limit ?"
    rows = list(store.rows(sql, params + [limit + 1]))
    more = len(rows) > limit
    rows = rows[:limit]
    codes: dict[int, list[str]] = {}
    if rows:
        ids = [r["latest_screening_id"] for r in rows]
        for f in store.rows(
            f"select screening_id, code from findings where screening_id in ({', '.join('?' * len(ids))})"
            " and waived = 0 and severity in ('block', 'warn') order by severity, id", ids,
        ):
            codes.setdefault(f["screening_id"], [])
            if f["code"] not in codes[f["screening_id"]]:
                codes[f["screening_id"]].append(f["code"])
    for row in rows:
        row["codes"] = codes.get(row["latest_screening_id"], [])
    last = rows[-1] if more else None
    return Page(rows, f"{last['screened_at']}~{last['shipment_id']}" if last else None, filters)


def _more_than(store: Store, sql: str, params: list, limit: int) -> bool:
    """Does ``sql`` match more than ``limit`` rows? (reads at most ``limit + 1`` index entries)"""
    return store.conn.execute(f"select count(*) from ({sql} limit {limit + 1})", params).fetchone()[0] > limit


def distinct_values(store: Store, table: str, column: str) -> list[str]:
    """The distinct values of an indexed column by skipping through its index (one seek per value)."""
    sql = (f"with recursive v(x) as (select min({column}) from {table} union all "
           f"select (select min({column}) from {table} where {column} > v.x) from v where v.x is not null) "
           "select x from v where x is not null")
    return [r["x"] for r in store.rows(sql)]


def finding_codes(store: Store, user: User) -> list[str]:
    """The codes the list can filter on: every code for an unscoped user; for a scoped one, only codes of
    the latest screenings of its own shipments (another seller's codes tell what that seller ships)."""
    codes = distinct_values(store, "findings", "code")
    if user.unscoped:
        return codes
    where, params = _scope(user, "s.account")
    sql = ("select 1 from findings f join shipments s on s.latest_screening_id = f.screening_id"
           f" where f.code = ?{where} limit 1")
    return [code for code in codes if store.conn.execute(sql, [code, *params]).fetchone()]


def shipment(store: Store, user: User, shipment_id: str) -> dict | None:
    """The shipment row, or ``None`` when it does not exist *or* is outside the user's scope (same answer)."""
    rows = list(store.rows(
        "select shipment_id, account, source, inbound_plan_id, latest_verdict, latest_screening_id, declaration,"
        " declaration_sha256, first_seen_at, updated_at, input_sha256 from shipments where shipment_id = ?", [shipment_id]))
    if not rows or not user.sees(rows[0]["account"]) or rows[0]["latest_screening_id"] is None:
        return None
    return {**rows[0], "declaration": store.latest_declaration(rows[0])}  # JSON, or None


def latest_result(store: Store, row: dict) -> ShipmentResult:
    screening = list(store.rows("select * from screenings where id = ?", [row["latest_screening_id"]]))[0]
    return store.load_result(screening)


def history(store: Store, shipment_id: str, limit: int = 200) -> list[dict]:
    """Every screening of the shipment, newest first, with the change from the one before.

    Screenings and waivers keep the id they were written under, so a shipment that Amazon gave a
    confirmation id has history under its earlier ids too (``Store.shipment_ids``).
    """
    ids = store.shipment_ids(shipment_id)
    marks = ", ".join("?" * len(ids))
    rows = list(store.rows(
        "select id as screening_id, shipment_id, screened_at, verdict, input_sha256, source, fba_jp_version"
        f" from screenings where shipment_id in ({marks}) order by id desc limit ?", ids + [limit + 1]))
    waivers: dict[str, list[dict]] = {}
    for w in store.rows(f"select * from waivers where shipment_id in ({marks}) order by id", ids):
        waivers.setdefault(w["input_sha256"], []).append(w)
    for newer, older in zip(rows, rows[1:] + [None]):
        newer["previous_verdict"] = older["verdict"] if older else None
        newer["input_changed"] = bool(older) and older["input_sha256"] != newer["input_sha256"]
        newer["waivers"] = waivers.get(newer["input_sha256"], [])
    return rows[:limit]


def pending_waivers(store: Store, result: ShipmentResult) -> dict[str, dict]:
    """Waivers on the current input that the latest screening did not apply yet (recorded after it)."""
    active = store.active_waivers(result.shipment_id, result.input_sha256, today_jst())
    applied = {f.code for f in result.findings if f.waived}
    return {code: w for code, w in active.items() if code not in applied}


def status(store: Store, user: User, limit: int = 20) -> dict:
    """The daemon's heartbeat, each account's last run, and the last verdict changes and deliveries."""
    rows = status_rows(store)
    rows["accounts"] = [a for a in rows["accounts"] if user.sees(a["account"])]
    where, params = _scope(user, "s.account")
    rows["changes"] = list(store.rows(
        "select n.shipment_id, s.account, n.state, n.verdict, n.screening_id, n.at from notified_states n"
        f" join shipments s on s.shipment_id = n.shipment_id where 1{where} order by n.at desc limit ?",
        params + [limit]))
    where, params = _scope(user)
    rows["deliveries"] = list(store.rows(
        "select id, event_id, shipment_id, account, action, status, attempts, last_error, created_at, updated_at"
        # "skipped" is an action that is not configured (no webhook URL…): not a delivery to watch
        f" from notifications where status != 'skipped'{where} order by id desc limit ?", params + [limit]))
    return rows


def acps(store: Store, user: User, sellers_in_scope: set[str] | None, acp_ids_in_scope: set[str] | None) -> list[dict]:
    """The ACP registry with each record's events; a scoped user sees the ACPs of their own accounts, and of
    the sellers each serves only their own: an ACP firm's client list is not for its clients to read."""
    records = store.list_acps()
    if not user.unscoped:
        mine = sellers_in_scope or set()
        records = [r for r in records if r["id"] in (acp_ids_in_scope or set()) or set(r["sellers"]) & mine]
        for record in records:
            record["others_served"] = bool(set(record["sellers"]) - mine)
            record["sellers"] = [s for s in record["sellers"] if s in mine]
    for record in records:
        record["events"] = list(store.rows(
            "select at, status, accepted_on, note from acp_events where acp_id = ? order by id desc", [record["id"]]))
        if record.get("others_served"):
            # the firm's notes are free text about any of its clients ("suspended: Rival's invoices unpaid"):
            # a client of a shared record sees each change's status and date, not what the firm wrote
            for event in record["events"]:
                event["note"] = "(note withheld: this ACP also serves other sellers)" if event["note"] else None
    return records


def rates(store: Store, limit: int = 200) -> list[dict]:
    return list(store.rows(
        "select * from exchange_rates order by week_start desc, currency limit ?", [limit]))


def audit(store: Store, user: User, limit: int = 200) -> list[dict]:
    where, params = _scope(user)
    rows = list(store.rows(f"select * from audit_log where 1{where} order by id desc limit ?", params + [limit]))
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return rows
