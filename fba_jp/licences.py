"""Licences and filings recorded per account in the database (the dashboard's registry).

``config.toml`` is the seller's file and stays as written: what an ACP's staff record from the
dashboard goes into the ``account_licences`` table instead, and a screening reads both (see
:meth:`fba_jp.runner.ScreeningContext.licences`). A record is never deleted; removing one stamps who
removed it and when, so the audit trail shows what a past screening relied on.
"""

from __future__ import annotations

import json

from .errors import StoreError
from .models import Filing, Licence
from .store import Store, utcnow

TYPES = {"licence": Licence, "filing": Filing}


def add_record(store: Store, account: str, type_: str, record: Licence, by: str) -> int:
    """Record a licence or filing for ``account``; return its id."""
    if type_ not in TYPES:
        raise StoreError(f"type: must be licence or filing (got {type_!r})")
    with store.write():
        cursor = store.conn.execute(
            "insert into account_licences (account, type, kind, number, holder, valid_from, valid_until, skus,"
            " created_at, created_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [account, type_, record.kind, record.number, record.holder, _iso(record.valid_from),
             _iso(record.valid_until), None if record.skus is None else json.dumps(record.skus), utcnow(), by],
        )
        return cursor.lastrowid


def remove_record(store: Store, record_id: int, by: str) -> dict:
    """Stop counting record ``record_id`` (kept, stamped as removed)."""
    row = get_record(store, record_id)
    if row is None or row["removed_at"]:
        raise StoreError(f"no licence or filing #{record_id} in force in the registry")
    with store.write():
        store.conn.execute("update account_licences set removed_at = ?, removed_by = ? where id = ?",
                         [utcnow(), by, record_id])
    return get_record(store, record_id)


def get_record(store: Store, record_id: int) -> dict | None:
    rows = list(store.rows("select * from account_licences where id = ?", [record_id]))
    return rows[0] if rows else None


def list_records(store: Store, accounts: list[str] | None = None, include_removed: bool = False) -> list[dict]:
    sql, params = "select * from account_licences where 1", []
    if accounts is not None:
        sql += f" and account in ({', '.join('?' * len(accounts))})"
        params += accounts
    if not include_removed:
        sql += " and removed_at is null"
    rows = list(store.rows(sql + " order by account, type, kind, id", params))
    for row in rows:
        row["skus"] = None if row["skus"] is None else json.loads(row["skus"])
    return rows


def records_for(store: Store, account: str, type_: str) -> list[Licence]:
    """The licences (or filings) in force in the registry for ``account``, as the models checks read."""
    model = TYPES[type_]
    return [
        model(kind=r["kind"], number=r["number"], holder=r["holder"], valid_from=r["valid_from"],
              valid_until=r["valid_until"], skus=r["skus"])
        for r in list_records(store, [account])
        if r["type"] == type_
    ]


def _iso(day) -> str | None:
    return day.isoformat() if day else None
