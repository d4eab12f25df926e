"""The SQLite audit trail (CONTRACT §5); the schema is in ``migrations.py``.

A screening is written in one transaction (shipment, screening, findings, valuation) so a crash never
leaves half a screening. History is append-only: re-screening adds a row.

What every screening does (record it, look up waivers, ACPs and rates) is plain ``sqlite3`` with
prepared statements; ``Store.db``, the sqlite-utils view of the same connection, is built on first use
by the commands that want its helpers, so ``fba-jp gate`` never imports sqlite-utils.

How history and current state fit together:

* **History** is ``screenings`` (with their ``findings`` and ``valuations``), ``waivers`` and
  ``declarations``: rows are inserted, never updated or deleted.
* **Inputs, content-addressed.** Every screening's exact input is in ``declarations``, stored once under
  its sha256, which is the screening's ``input_sha256``: ``screenings.input_sha256 = declarations.sha256``
  (also for waivers, which are tied to an input hash). The body is the canonical JSON that was hashed
  (``Declaration.canonical_json()``; for a synced shipment whose data could not form a declaration, the
  SP-API data and the problems), zlib-compressed (:func:`pack_input`), so anyone can check it: inflate
  it and ``sha256sum`` gives the key (``fba-jp db check`` does that for every row). Screening the same
  input again adds no bytes. Screenings recorded before migration ``m010`` may have only their hash.
* **Current state** is ``shipments`` (one row per shipment: latest declaration, verdict and screening id),
  ``items``, ``spapi_*``: these are updated in place.
* **Aliases.** When Amazon assigns a shipment's confirmation id (``FBA…``), the shipment's current-state
  rows move to the new id, and ``shipment_aliases`` maps the old id to it. Screenings and waivers written
  under the old id keep it: they say what was true when they were written. Look-ups of a shipment's
  history go through :meth:`Store.shipment_ids` / :meth:`Store.resolve`, so a waiver or a latest-screening
  query finds the rows under every id the shipment has had, and a user may name it by either.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Iterable, Iterator

from pydantic import ValidationError

from .errors import InputError, StoreError, WaiverError
from .migrations import SchemaError, migrate
from .models import (
    COULD_NOT_SCREEN,
    Acp,
    Declaration,
    Finding,
    ScreeningError,
    ShipmentResult,
    Valuation,
    printable_id,
    today_jst,
)
from .texts import store_texts

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 30
# finding texts whose ids a Store keeps (Store._texts); a few hundred are in use at a time
TEXT_IDS_KEPT = 20_000


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def to_json(value) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value):
    if isinstance(value, (Decimal, date)):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------- the store


def _create_private(path: str) -> None:
    """Create a new database file readable by its owner only (0600, whatever the umask).

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions, so they follow. An
    existing file keeps the permissions its owner chose.
    """
    if path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # another process created it just now
        pass


def advice(exc: sqlite3.Error, timeout: float | None = None) -> str:
    """What an SQLite error means for the user and what to do, in one phrase (SQLite's words stay beside it)."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        waited = f" (waited {timeout:g} s; FBA_JP_BUSY_TIMEOUT sets the wait)" if timeout is not None else ""
        return f"another process holds the database's write lock{waited}; retry when the other writer is done"
    if "readonly" in text or "read-only" in text:
        return ("this process may not write the database: check the permissions of the file and of its directory"
                " (SQLite creates -wal and -shm files there) and that the file system is not mounted read-only")
    if "no such table" in text or "no such column" in text or "has no column" in text:
        return "the database's schema is not the one fba-jp made (changed by hand or by another program?); run `fba-jp db check`"
    if "full" in text:
        return "free some disk space (or raise the quota) and retry"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "the file is damaged; run `fba-jp db check` and restore it from a backup (docs/deploy.md)"
    if "disk I/O" in text or "unable to open" in text:
        return "check that the disk, the file and its directory are there and writable"
    return "see SQLite's message"


class Store:
    """The audit-trail database. Open with ``Store(path)``; every write method is one transaction."""

    def __init__(self, path: str | Path, timeout: float | None = None):
        self.path = str(path)
        # how long a write waits for another writer; FBA_JP_BUSY_TIMEOUT (seconds) overrides it, and a
        # caller that must not wait long (the daemon stopping) passes ``timeout``
        timeout = timeout if timeout is not None else os.environ.get("FBA_JP_BUSY_TIMEOUT") or BUSY_TIMEOUT_S
        try:
            timeout = float(timeout)
            if not 0 <= timeout < float("inf"):
                raise ValueError
        except ValueError:
            raise StoreError(f"FBA_JP_BUSY_TIMEOUT must be a number of seconds such as 30 (got {timeout!r:.40})") from None
        self.timeout = timeout
        self._text_ids: dict[str, int] = {}
        try:
            _create_private(self.path)
            # a file: URI (e.g. "file:fba_jp.db?mode=ro" to only read) is taken as one
            self.conn = conn = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False,
                                               uri=self.path.startswith("file:"))
            if self.path != ":memory:":
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = wal")
                # WAL + NORMAL: a commit never corrupts the file; only the last commits before a power
                # cut can be lost (they are re-screened on the next run). FULL would fsync every screening.
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except SchemaError as exc:
            self.conn.close()
            raise StoreError(f"{self.path}: refusing to use this database: {exc}; nothing was changed") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database ({exc}): {advice(exc, timeout)}") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the database: {exc.strerror}; its directory must exist and be writable") from None

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """The same connection through sqlite-utils (imported on first use)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def rows(self, sql: str, params=()) -> list[dict]:
        """Rows of a query as dicts, with plain ``sqlite3``."""
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def close(self) -> None:
        self.conn.close()

    def check(self, quick: bool = False) -> list[str]:
        """Problems ``PRAGMA integrity_check`` (or the faster ``quick_check``) and ``foreign_key_check``
        find; ``[]`` when the database is sound."""
        pragma = "quick_check" if quick else "integrity_check"
        try:
            # SQLite's messages may span lines ("*** in database main ***\nOn tree page…"): one line each
            problems = [" ".join(row[0].split()) for row in self.conn.execute(f"PRAGMA {pragma}").fetchall() if row[0] != "ok"]
            problems += [f"{row[0]} row {row[1]}: no {row[2]} row it refers to"
                         for row in self.conn.execute("PRAGMA foreign_key_check").fetchall()]
        except sqlite3.DatabaseError as exc:  # damaged beyond what the check can walk
            problems = [str(exc)]
        return problems

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def write(self):
        """A transaction; ``sqlite3`` errors inside become a one-line :class:`StoreError`."""
        return _Transaction(self)

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Reads inside see one state of the database, whatever other writers commit meanwhile (in WAL mode a
        read transaction keeps its snapshot and blocks no writer). Inside a transaction already: that one."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    # ----- screenings

    def record_screening(
        self, result: ShipmentResult, declaration: Declaration | None, plugin_names: Iterable[str],
        canonical: str | None = None,
    ) -> ShipmentResult:
        """Store one screening (and the shipment's latest state) atomically; return it with its id.

        ``canonical`` is the exact text ``result.input_sha256`` hashes (``declaration.canonical_json()``
        by default): stored once in ``declarations`` under that hash, so the screening keeps its inputs.
        ``declaration`` is ``None`` for an input that formed no declaration (its ``canonical`` says why).
        """
        return self.record_screenings([(result, declaration, canonical)], plugin_names)[0]

    def record_screenings(
        self, screenings: Iterable[tuple[ShipmentResult, Declaration | None, str | None]], plugin_names: Iterable[str],
    ) -> list[ShipmentResult]:
        """Store several screenings, each as :meth:`record_screening` does, in one transaction: all or none.

        This is the hot path of every screening, so it uses prepared statements rather than
        sqlite-utils' per-call table introspection (see benchmarks/bench_screen.py).
        """
        now = utcnow()
        plugins = to_json(sorted(plugin_names))
        # text ids this transaction stored or found: known to the next screening only once it is committed
        # (a rollback takes the rows away), and only when this is the outermost transaction
        outermost = not self.conn.in_transaction
        found: dict[str, int] = {}
        with self.write():
            recorded = [self._write_screening(result, declaration, canonical, plugins, now, found)
                        for result, declaration, canonical in screenings]
        if outermost:
            if len(self._text_ids) + len(found) > TEXT_IDS_KEPT:
                self._text_ids.clear()
            self._text_ids.update(found)
        return recorded

    def _write_screening(self, result: ShipmentResult, declaration: Declaration | None, canonical: str | None,
                         plugins: str, now: str, found: dict[str, int]) -> ShipmentResult:
        conn = self.conn
        sha = result.input_sha256
        if canonical is None and declaration is not None:
            canonical = declaration.canonical_json()
        if canonical is not None and conn.execute(  # a re-screening of the same input adds no bytes here
                "select 1 from declarations where sha256 = ?", [sha]).fetchone() is None:
            conn.execute("insert into declarations (sha256, body, stored_at) values (?, ?, ?)",
                         [sha, pack_input(canonical), now])
        screening_id = conn.execute(_INSERT_SCREENING, [
            result.shipment_id, result.inbound_plan_id, result.account, result.source, result.verdict, sha, now,
            plugins, to_json([e.model_dump() for e in result.errors]) if result.errors else "[]", _version(),
            to_json(result.rule_overrides) if result.rule_overrides else None,
        ]).lastrowid
        if result.findings:
            ids = self._texts(result.findings, found)
            conn.executemany(_INSERT_FINDING, [
                (screening_id, f.code, f.severity, f.plugin, f.sku, ids[f.message], ids.get(f.remedy),
                 ids.get(f.reference), ids.get(f.evidence), int(f.waived), (f.waiver or {}).get("id"))
                for f in result.findings
            ])
        if result.valuation is not None:
            conn.execute(_INSERT_VALUATION, _valuation_row(screening_id, result.valuation))
        conn.execute(_UPSERT_SHIPMENT, [
            result.shipment_id, result.inbound_plan_id, result.account, result.source, sha, now, screening_id,
            result.verdict, now, sha if declaration is not None else None,
        ])
        # items: the SKUs of the shipment's latest declaration (the dashboard's SKU search)
        conn.execute("delete from items where shipment_id = ?", [result.shipment_id])
        if declaration is not None:
            conn.executemany(
                "insert or replace into items (shipment_id, msku, asin, fnsku, title, quantity) values (?, ?, ?, ?, ?, ?)",
                [(result.shipment_id, i.msku, i.asin, i.fnsku, i.title, i.quantity) for i in declaration.items])
        return result.model_copy(update={"screening_id": screening_id, "screened_at": now})

    def _texts(self, findings: list[Finding], found: dict[str, int]) -> dict[str, int]:
        """The text ids of ``findings``' messages, remedies, references and evidence, storing the new ones.

        The same few hundred texts come back screening after screening, so the ids of texts this connection
        has seen committed are kept (``_text_ids``) and only the others are looked up. A kept id cannot go
        stale: a ``texts`` row is never changed or deleted, by any process, and an id is kept only after the
        transaction that stored or read it has committed.
        """
        known = self._text_ids
        ids: dict[str, int] = {}
        missing = []
        for f in findings:
            for text in (f.message, f.remedy, f.reference, f.evidence):
                if text is not None and text not in ids:
                    id_ = known.get(text)
                    if id_ is None:
                        id_ = found.get(text)
                    if id_ is None:
                        missing.append(text)
                    else:
                        ids[text] = id_
        if missing:
            new = store_texts(self.conn, missing)
            found.update(new)
            ids.update(new)
        return ids

    def latest_declaration(self, row: dict) -> str | None:
        """The JSON of a ``shipments`` row's latest declaration, or ``None`` when its latest input formed none:
        the content-addressed row (``declaration_sha256``), or a copy kept from before migration m010."""
        if row.get("declaration_sha256"):
            return self.declaration(row["declaration_sha256"])
        return row.get("declaration")

    def latest_results(self, account: str | None = None) -> list[ShipmentResult]:
        """The latest screening of every stored shipment (optionally one account's), oldest first."""
        return [result for result, _ in self.iter_latest_results(account)]

    def iter_latest_results(
        self, account: str | None = None, *, report_order: bool = False, worksheets: str = "model", chunk: int = 500
    ) -> Iterator[tuple[ShipmentResult, str | None]]:
        """Stream ``(result, worksheet JSON)`` for the latest screening of every shipment, ``chunk`` at a time.

        Memory stays flat in the number of shipments, and each chunk takes three queries, not three per
        shipment. ``report_order``: blocked first, then annotated, cleared; by account and shipment id
        (else oldest first). ``worksheets="model"`` validates each stored worksheet into
        ``result.valuation``; ``"json"`` leaves ``valuation`` empty and hands back the stored JSON text as
        it is, for outputs that only copy it (1 ms of validation a shipment saved).
        """
        for rows in self._latest_screenings(account, report_order, chunk):
            yield from self._load_results(rows, worksheets)

    def iter_latest_documents(self, account: str | None = None, *, chunk: int = 500) -> Iterator[tuple[dict, bytes | None]]:
        """The same as :meth:`iter_latest_results` with ``worksheets="json"``, oldest first, as plain data:
        ``(result, worksheet)``, ``result`` what ``model_dump()`` gives of that result (keys in the models'
        field order; ``valuation`` ``None``), the worksheet its stored JSON as UTF-8 bytes.

        For ``fba-jp report -o json``, which only copies them out: no model is built (constructing one
        ``ShipmentResult`` and its ``Finding`` objects costs more than reading their rows) and no worksheet
        is decoded.
        """
        for rows in self._latest_screenings(account, False, chunk):
            yield from self._result_data(rows)

    def _latest_screenings(self, account: str | None, report_order: bool, chunk: int) -> Iterator[list[dict]]:
        """The ``screenings`` rows of every shipment's latest screening, ``chunk`` rows at a time."""
        # the order over ids only (a small sort), then each chunk's rows by id
        sql = "select s.id from screenings s join shipments sh on sh.latest_screening_id = s.id"
        params: list = []
        if account:
            sql += " where s.account = ?"
            params.append(account)
        if report_order:
            sql += (" order by case s.verdict when 'blocked' then 0 when 'annotated' then 1 else 2 end,"
                    " coalesce(s.account, ''), s.shipment_id")
        else:
            sql += " order by s.id"
        cursor = self.conn.execute(sql, params)  # a cursor of its own: the chunks' queries run meanwhile
        while ids := [row[0] for row in cursor.fetchmany(chunk)]:
            rows = {row["id"]: row for row in self.rows(
                f"select * from screenings where id in ({','.join('?' * len(ids))})", ids)}
            yield [rows[i] for i in ids]

    def load_result(self, row: dict) -> ShipmentResult:
        return self._load_results([row])[0][0]

    def _load_results(self, rows: list[dict], worksheets: str = "model") -> list[tuple[ShipmentResult, str | None]]:
        loaded = []
        for data, sheet in self._result_data(rows):
            sheet = None if sheet is None else sheet.decode("utf-8")
            # rows this store wrote from validated models: constructed again without re-validating them
            result = ShipmentResult.model_construct(**{
                **data,
                "findings": [Finding.model_construct(**f) for f in data["findings"]],
                "errors": [ScreeningError.model_construct(**e) for e in data["errors"]],
                "valuation": Valuation.model_validate_json(sheet) if sheet is not None and worksheets == "model" else None,
            })
            loaded.append((result, sheet))
        return loaded

    def _result_data(self, rows: list[dict]) -> list[tuple[dict, bytes | None]]:
        """Each screening row's result as plain data (see :meth:`iter_latest_documents`) and its worksheet JSON."""
        ids = [row["id"] for row in rows]
        marks = ",".join("?" * len(ids))
        findings: dict[int, list[tuple]] = {}
        for f in self.conn.execute(
                "select screening_id, code, severity, message, remedy, reference, sku, evidence, plugin, waived, waiver_id"
                f" from findings where screening_id in ({marks}) order by screening_id, id", ids):
            findings.setdefault(f[0], []).append(f)
        waiver_ids = sorted({f[10] for fs in findings.values() for f in fs if f[10]})
        waivers = {w["id"]: w for w in self.rows(
            f"select * from waivers where id in ({','.join('?' * len(waiver_ids))})", waiver_ids)} if waiver_ids else {}
        sheets = {screening_id: worksheet_bytes(sheet) for screening_id, sheet in self.conn.execute(
            f"select screening_id, worksheet from valuations where screening_id in ({marks})", ids)}
        return [({
            # the fields of ShipmentResult, Finding and ScreeningError in their order (what model_dump gives)
            "shipment_id": row["shipment_id"],
            "inbound_plan_id": row["inbound_plan_id"],
            "source": row["source"],
            "account": row["account"],
            "verdict": row["verdict"],
            "input_sha256": row["input_sha256"],
            "findings": [
                {"code": code, "severity": severity, "message": message, "remedy": remedy or "",
                 "reference": reference or "", "sku": sku, "evidence": evidence, "plugin": plugin,
                 "waived": bool(waived), "waiver": waivers.get(waiver_id)}
                for _, code, severity, message, remedy, reference, sku, evidence, plugin, waived, waiver_id
                in findings.get(row["id"], [])
            ],
            "errors": [{"plugin": e["plugin"], "check": e.get("check"), "message": e["message"]}
                       for e in _errors(row["errors"])],
            "valuation": None,
            "screening_id": row["id"],
            "screened_at": row["screened_at"],
            # only when an override changed the screening: model_dump leaves the empty list out
            **({"rule_overrides": json.loads(row["rule_overrides"])} if row.get("rule_overrides") else {}),
        }, sheets.get(row["id"])) for row in rows]

    def latest_screening(self, shipment_id: str) -> dict | None:
        """The newest screening of the shipment under any id it has had (see :meth:`shipment_ids`)."""
        current = self.resolve(shipment_id)
        rows = self.rows(f"select * from screenings where shipment_id in {_IDS} order by id desc limit 1", [current, current])
        return rows[0] if rows else None

    def declaration(self, input_sha256: str) -> str | None:
        """The exact input (canonical JSON) a screening with this ``input_sha256`` was screened on."""
        row = self.conn.execute("select body from declarations where sha256 = ?", [input_sha256]).fetchone()
        return unpack_input(row[0]) if row else None

    # ----- shipment ids: Amazon's confirmation id replaces the id a shipment was first known by

    def resolve(self, shipment_id: str) -> str:
        """The id the shipment has now (``shipment_id`` itself unless it is an alias)."""
        row = self.conn.execute("select shipment_id from shipment_aliases where alias = ?", [shipment_id]).fetchone()
        return row[0] if row else shipment_id

    def shipment_ids(self, shipment_id: str) -> list[str]:
        """Every id the shipment's history is written under: the current one first, then its aliases."""
        current = self.resolve(shipment_id)
        return [current] + [r[0] for r in self.conn.execute(
            "select alias from shipment_aliases where shipment_id = ? order by at, alias", [current])]

    # ----- shipping documents (fba_jp/documents)

    def screened_declaration(self, shipment_id: str) -> tuple[Declaration, ShipmentResult] | None:
        """The latest screening of a shipment with the exact declaration it screened, or ``None``.

        Raises :class:`InputError` when that screening is a synced shipment's ``INPUT_INVALID``: its stored
        input is the SP-API data and the problems, no declaration to draw documents from."""
        latest = self.latest_screening(shipment_id)
        body = self.declaration(latest["input_sha256"]) if latest is not None else None
        if body is None:
            return None
        try:
            declaration = Declaration.model_validate_json(body)
        except ValidationError:
            problems = json.loads(body).get("input_invalid")
            if not problems:
                raise
            raise InputError(f"{shipment_id}: its latest screening is INPUT_INVALID, so there is no declaration to "
                             f"draw documents from: {'; '.join(problems)}; fix that and run `fba-jp screen`") from None
        return declaration, self.load_result(latest)

    def record_documents(self, rows: list[dict]) -> None:
        """Record issued documents (one transaction): ``sha256``, ``screening_id``, ``kind``, ``format``…"""
        now = utcnow()
        with self.write():
            _insert(self.conn, "documents", [{**row, "created_at": now, "fba_jp_version": _version()} for row in rows])

    def screening(self, screening_id: int) -> dict | None:
        rows = self.rows("select * from screenings where id = ?", [screening_id])
        return rows[0] if rows else None

    def documents_of_screening(self, screening_id: int) -> list[dict]:
        return self.rows("select * from documents where screening_id = ? order by id", [screening_id])

    def documents_by_sha256(self, sha256: str) -> list[dict]:
        return self.rows("select * from documents where sha256 = ? order by id", [sha256])

    # ----- waivers

    def add_waiver(self, shipment_id: str, code: str, reason: str, by: str, expires_on: date | None) -> dict:
        """Waive ``code`` for the shipment's latest screened input. Raises :class:`WaiverError` if there is
        nothing to waive, the code means "could not screen", or ``reason``/``by`` is not real text."""
        if not printable_id(shipment_id):
            raise WaiverError(f"shipment id {shipment_id!r:.80}: must be printable characters without spaces around it")
        if code in COULD_NOT_SCREEN:
            raise WaiverError(
                f"{shipment_id}: {code} cannot be waived: it means the shipment could not be screened, so no check "
                "vouches for it; fix the input or the plugin and screen it again"
            )
        reason, by = _real_text(reason, "--reason"), _real_text(by, "--by")
        if expires_on is not None and expires_on < today_jst():
            raise WaiverError(f"--expires {expires_on.isoformat()}: the day is already past (today is "
                              f"{today_jst().isoformat()} in Japan), so the waiver would never count; give a later day")
        shipment_id = self.resolve(shipment_id)  # a waiver given under an old id belongs to the shipment now
        latest = self.latest_screening(shipment_id)
        if latest is None:
            raise WaiverError(f"{shipment_id}: no screening stored for this shipment; screen it first")
        codes = {
            r["code"]
            for r in self.db.query(
                "select code from findings where screening_id = ? and severity = 'block'", [latest["id"]]
            )
        }
        if code not in codes:
            raise WaiverError(
                f"{shipment_id}: the latest screening has no blocking finding {code}"
                f" (blocking codes: {', '.join(sorted(codes)) or 'none'})"
            )
        waiver = {
            "shipment_id": shipment_id,
            "code": code,
            "reason": reason,
            "by": by,
            "created_at": utcnow(),
            "expires_on": expires_on.isoformat() if expires_on else None,
            "input_sha256": latest["input_sha256"],
        }
        with self.write():
            waiver["id"] = self.db["waivers"].insert(waiver).last_pk
        return waiver

    def active_waivers(self, shipment_id: str, input_sha256: str, today: date) -> dict[str, dict]:
        """Waivers that still count: same input hash and not expired on ``today``. Keyed by code."""
        active = {}
        current = self.resolve(shipment_id)
        for w in self.rows(
            f"select * from waivers where shipment_id in {_IDS} and input_sha256 = ? order by id",
            [current, current, input_sha256],
        ):
            if w["expires_on"] is None or date.fromisoformat(w["expires_on"]) >= today:
                active[w["code"]] = w
        return active

    def _waiver(self, waiver_id: int) -> dict | None:
        rows = self.rows("select * from waivers where id = ?", [waiver_id])
        return rows[0] if rows else None

    # ----- ACP registry

    def add_acp(self, acp_id: str, acp: Acp, sellers: list[str]) -> None:
        now = utcnow()
        if self.get_acp_record(acp_id) is not None:
            raise StoreError(f"ACP {acp_id!r} already exists; use `fba-jp acp set-status` to change it")
        with self.write():
            self.db["acps"].insert(
                {
                    "id": acp_id,
                    **_acp_columns(acp),
                    "sellers": to_json(sorted(sellers)),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            self.db["acp_events"].insert(
                {"acp_id": acp_id, "at": now, "status": acp.status, "accepted_on": _iso(acp.accepted_on), "note": "added"}
            )

    def set_acp_status(
        self, acp_id: str, status: str, accepted_on: date | None = None, note: str | None = None,
        add_sellers: list[str] = (),
    ) -> dict:
        record = self.get_acp_record(acp_id)
        if record is None:
            raise StoreError(f"no ACP {acp_id!r} in the registry; add it with `fba-jp acp add`")
        now = utcnow()
        update = {"status": status, "updated_at": now}
        if accepted_on is not None:
            update["accepted_on"] = accepted_on.isoformat()
        if add_sellers:
            update["sellers"] = to_json(sorted(set(json.loads(record["sellers"] or "[]")) | set(add_sellers)))
        with self.write():
            self.db["acps"].update(acp_id, update)
            self.db["acp_events"].insert(
                {"acp_id": acp_id, "at": now, "status": status, "accepted_on": _iso(accepted_on), "note": note}
            )
        return self.get_acp_record(acp_id)

    def remove_acp_sellers(self, acp_id: str, sellers: list[str], note: str | None = None) -> dict:
        """Stop recording ``sellers`` (names as the record lists them) as served by the ACP: the firm no longer
        acts for them, so their shipments naming this ACP get ``ACP_MISSING``. The change is an ``acp_events``
        row. The last seller cannot go: a record that lists no seller serves any (records from before
        sellers were listed), so the ACP would clear everyone; revoke it instead."""
        record = self.get_acp_record(acp_id)
        if record is None:
            raise StoreError(f"no ACP {acp_id!r} in the registry; add it with `fba-jp acp add`")
        served = json.loads(record["sellers"] or "[]")
        if unknown := [s for s in sellers if s not in served]:
            listed = "; ".join(served) or "none listed (it serves any seller)"
            raise StoreError(f"ACP {acp_id!r} does not list {unknown[0]!r} as served (it lists: {listed}); "
                             "give the name exactly as `fba-jp acp list` shows it")
        remaining = [s for s in served if s not in sellers]
        if not remaining:
            raise StoreError(f"removing every seller of ACP {acp_id!r} would make it serve any seller; revoke it "
                             f"instead: `fba-jp acp set-status {acp_id} revoked`")
        now = utcnow()
        what = "stopped serving " + "; ".join(sorted(set(sellers)))
        with self.write():
            self.db["acps"].update(acp_id, {"sellers": to_json(remaining), "updated_at": now})
            self.db["acp_events"].insert({"acp_id": acp_id, "at": now, "status": record["status"], "accepted_on": None,
                                          "note": f"{what}: {note}" if note else what})
        return self.get_acp_record(acp_id)

    def get_acp_record(self, acp_id: str) -> dict | None:
        rows = self.rows("select * from acps where id = ?", [acp_id])
        return rows[0] if rows else None

    def get_acp(self, acp_id: str) -> Acp | None:
        record = self.get_acp_record(acp_id)
        if record is None:
            return None
        return Acp(
            name=record["name"],
            status=record["status"],
            accepted_on=record["accepted_on"],
            notified_on=record["notified_on"],
            customs_office=record["customs_office"],
            address=record["address"],
        )

    def list_acps(self) -> list[dict]:
        return [{**r, "sellers": json.loads(r["sellers"] or "[]")} for r in self.db.query("select * from acps order by id")]

    # ----- exchange rates

    def import_rates(self, rows: Iterable[tuple[date, str, Decimal]], source: str) -> int:
        now = utcnow()
        records = [
            {"currency": c, "week_start": w.isoformat(), "rate": str(r), "source": source, "imported_at": now}
            for w, c, r in rows
        ]
        with self.write():
            self.db["exchange_rates"].upsert_all(records, pk=("currency", "week_start"))
        return len(records)

    def exchange_rate(self, currency: str, week_start: date) -> Decimal | None:
        rows = self.rows(
            "select rate from exchange_rates where currency = ? and week_start = ?", [currency, week_start.isoformat()]
        )
        return Decimal(rows[0]["rate"]) if rows else None

    def list_rates(self, currency: str | None = None) -> list[dict]:
        sql, params = "select * from exchange_rates", []
        if currency:
            sql, params = sql + " where currency = ?", [currency]
        return list(self.db.query(sql + " order by week_start, currency", params))


_INSERT_SCREENING = (
    "insert into screenings (shipment_id, inbound_plan_id, account, source, verdict, input_sha256, screened_at,"
    " plugins, errors, fba_jp_version, rule_overrides) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FINDING = (
    "insert into finding_rows (screening_id, code, severity, plugin, sku, message_id, remedy_id, reference_id,"
    " evidence_id, waived, waiver_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# the shipment's current state; first_seen_at is kept from its first screening, declaration (a copy from
# before m010) is dropped: the latest declaration is declaration_sha256's row
_UPSERT_SHIPMENT = (
    "insert into shipments (shipment_id, inbound_plan_id, account, source, input_sha256, updated_at,"
    " latest_screening_id, latest_verdict, first_seen_at, declaration_sha256) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " on conflict(shipment_id) do update set inbound_plan_id = excluded.inbound_plan_id, account = excluded.account,"
    " source = excluded.source, input_sha256 = excluded.input_sha256, updated_at = excluded.updated_at,"
    " latest_screening_id = excluded.latest_screening_id, latest_verdict = excluded.latest_verdict,"
    " declaration_sha256 = excluded.declaration_sha256, declaration = null"
)


def pack_input(canonical: str) -> bytes:
    """A stored input: the canonical JSON, zlib-compressed (a 10-item declaration: 4.1 KB → 0.7 KB)."""
    return zlib.compress(canonical.encode("utf-8"), 1)


def unpack_input(body: bytes | str) -> str:
    """The canonical JSON of a stored input (rows copied in by migration m010 are plain text)."""
    return body if isinstance(body, str) else zlib.decompress(body).decode("utf-8")


# the ids a shipment's rows may be written under: (current id, current id) as parameters
_IDS = "(select ? union all select alias from shipment_aliases where shipment_id = ?)"


def record_alias(db: sqlite_utils.Database, old: str, new: str, account: str | None) -> None:
    """Amazon now calls shipment ``old`` by ``new`` (call inside a transaction): map the old id, and every
    id that mapped to it, to ``new``. Rows already written under ``old`` stay as they were written."""
    db.execute("update shipment_aliases set shipment_id = ? where shipment_id = ?", [new, old])
    db.execute("insert or replace into shipment_aliases (alias, shipment_id, account, at) values (?, ?, ?, ?)",
               [old, new, account, utcnow()])


def _real_text(value: str, option: str) -> str:
    """``value`` stripped, if it says something: a letter or digit, no control characters, at most 500 long."""
    text = value.strip()
    if not any(c.isalnum() for c in text) or not text.isprintable() or len(text) > 500:
        raise WaiverError(
            f"{option}: give real text for the audit trail: letters or digits, one line, at most 500 characters"
            f" (got {value!r:.60})"
        )
    return text


_INSERT_VALUATION = (
    "insert into valuations (screening_id, currency, exchange_rate, rate_week_start, customs_value_jpy, duty_jpy,"
    " national_consumption_tax_jpy, local_consumption_tax_jpy, total_tax_jpy, small_value_exemption, complete,"
    " worksheet) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _valuation_row(screening_id: int, valuation: Valuation) -> tuple:
    return (
        screening_id,
        valuation.currency,
        None if valuation.exchange_rate is None else str(valuation.exchange_rate),
        valuation.rate_week_start and valuation.rate_week_start.isoformat(),
        valuation.customs_value_jpy,
        valuation.duty_jpy,
        valuation.national_consumption_tax_jpy,
        valuation.local_consumption_tax_jpy,
        valuation.total_tax_jpy,
        int(valuation.small_value_exemption),
        int(valuation.complete),
        # pydantic's own JSON encoder (a third of the time of model_dump + json.dumps), then deflated; its
        # UTF-8 bytes as they are, the very bytes of model_dump_json() (which decodes them to a str that
        # would only be encoded again)
        pack_worksheet(valuation.__pydantic_serializer__.to_json(valuation)),
    )


# Zstandard level of stored worksheets, picked by measurement (300 10-item worksheets of the realistic mix,
# python-zstandard 0.25, with the trained dictionary): level 3 stores one in ~1.87 KB for ~0.04 ms (zlib at level 6
# with its preset dictionary: ~1.94 KB for ~0.24 ms); 4 is bigger, 5 ~2% smaller for twice the time
WORKSHEET_LEVEL = 3
WORKSHEET_DICT = "worksheet.zstd-dict"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # never the start of a zlib stream: 0x28b5 is not a multiple of 31 (RFC 1950)
# a frame header claiming more than this is damaged (a 50-item worksheet is ~110 KB): decompress() would
# allocate what it claims before finding out
MAX_WORKSHEET_BYTES = 2**28


def pack_worksheet(json_bytes: bytes) -> bytes:
    """The worksheet as stored: its JSON (UTF-8), a Zstandard frame compressed with the dictionary
    ``fba_jp/data/worksheet.zstd-dict`` and carrying its checksum.

    A 10-item worksheet is ~22 KB of JSON made of the same keys, labels, rules and document lists again and
    again: ~1.9 KB compressed against the trained dictionary, which holds most of them
    (``scripts/make_worksheet_dict.py``). The frame header names the dictionary (its dict_id), and the database
    keeps a copy of it (table ``zdicts``), so a row can always be read back. Rows written before are zlib
    streams, deflated with the preset dictionary ``worksheet.zdict`` or without one, or older still JSON text;
    :func:`unpack_worksheet` reads them all.
    """
    return _zstd_codecs().compressor.compress(json_bytes)


def _errors(stored: str | None) -> list[dict]:
    # nearly every screening ran every check: no need to parse its "[]"
    return [] if stored is None or stored == "[]" else json.loads(stored)


def unpack_worksheet(value: bytes | str | None) -> str | None:
    """The worksheet's JSON text from its stored form (deflated bytes, or text from older versions)."""
    if value is None or isinstance(value, str):
        return value
    return worksheet_bytes(value).decode("utf-8")


def worksheet_bytes(value: bytes | str | None) -> bytes | None:
    """The worksheet's JSON as UTF-8 bytes from its stored form (see :func:`unpack_worksheet`).

    A stored worksheet that is damaged (its checksum no longer matches) or names a dictionary this fba-jp
    does not have raises :class:`StoreError`: a report never shows a wrong worksheet.
    """
    if value is None or isinstance(value, str):
        return None if value is None else value.encode("utf-8")
    try:
        if value[:4] == ZSTD_MAGIC:
            return _unzstd(value)
        if value[1] & 0x20:  # FDICT: deflated with a preset dictionary, named by the 4 bytes that follow
            primed = _past_header(value[:6])
            if primed is None:
                raise StoreError(f"a worksheet was deflated with a dictionary this fba-jp does not have "
                                 f"(Adler-32 {value[2:6].hex()}); the database's zdicts table holds it")
            decompressor = primed.copy()
            data = decompressor.decompress(value[6:]) + decompressor.flush()
            if not decompressor.eof:
                raise zlib.error("the stream is cut short")
            return data
        return zlib.decompress(value)
    except zlib.error as exc:
        raise _damaged(exc) from None


def _damaged(exc: Exception) -> StoreError:
    return StoreError(f"a stored worksheet is damaged ({exc}); restore the database from a backup")


def _unzstd(frame: bytes) -> bytes:
    import zstandard

    try:
        header = zstandard.get_frame_parameters(frame)
        decompressor = _zstd_codecs().decompressors.get(header.dict_id)
        if decompressor is None:
            raise StoreError(f"a worksheet was compressed with a Zstandard dictionary this fba-jp does not have "
                             f"(dict_id {header.dict_id}); the database's zdicts table holds it")
        if header.content_size > MAX_WORKSHEET_BYTES:
            raise zstandard.ZstdError(f"its header claims {header.content_size} bytes")
        return decompressor.decompress(frame)
    except zstandard.ZstdError as exc:
        raise _damaged(exc) from None


_codecs = threading.local()


def _zstd_codecs():
    """This thread's Zstandard compressor and decompressors (by the dict_id they read; 0: no dictionary).

    They are reused, because making one costs about half as much again as compressing a worksheet, and kept
    per thread, because one may not be used by two threads at once. The dictionaries themselves are
    shared, digested once (:func:`_zstd_dicts`).
    """
    codecs = getattr(_codecs, "zstd", None)
    if codecs is None:
        import zstandard

        dictionary = _zstd_dicts()[0]
        codecs = _codecs.zstd = SimpleNamespace(
            compressor=zstandard.ZstdCompressor(level=WORKSHEET_LEVEL, dict_data=dictionary, write_checksum=True),
            decompressors={0: zstandard.ZstdDecompressor(),
                           **{d.dict_id(): zstandard.ZstdDecompressor(dict_data=d) for d in _zstd_dicts()}})
    return codecs


@lru_cache(maxsize=1)
def _zstd_dicts() -> tuple:
    """Every Zstandard dictionary a stored worksheet may name (one so far), the one to compress with first."""
    import zstandard

    dictionary = zstandard.ZstdCompressionDict(resources.files("fba_jp.data").joinpath(WORKSHEET_DICT).read_bytes())
    dictionary.precompute_compress(level=WORKSHEET_LEVEL)
    return (dictionary,)


@lru_cache(maxsize=16)
def _past_header(header: bytes):
    """A decompressor that has read the zlib header ``header`` (2 bytes, then the Adler-32 of the preset
    dictionary it names) and been given that dictionary; ``None`` for a dictionary this fba-jp does not have.

    Each worksheet is inflated by a copy of it: the state a new decompressor reaches on the same 6 bytes,
    for ~30 µs a 10-item worksheet where priming a new one with the 32 KB dictionary costs ~70 µs (a report
    reads 100,000 worksheets). The rest of the stream is inflated and checked (its Adler-32 trailer) by zlib.
    """
    dictionary = _preset_dictionaries().get(int.from_bytes(header[2:6], "big"))
    if dictionary is None:
        return None
    decompressor = zlib.decompressobj(zdict=dictionary)
    decompressor.decompress(header)  # zlib reads the header, asks for the dictionary and is given it
    return decompressor


@lru_cache(maxsize=1)
def _preset_dictionaries() -> dict[int, bytes]:
    """Every zlib preset dictionary a stored worksheet may name, by Adler-32 (one: worksheets written by
    fba-jp before Zstandard)."""
    dictionary = resources.files("fba_jp.data").joinpath("worksheet.zdict").read_bytes()
    return {zlib.adler32(dictionary): dictionary}


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> int | None:
    """Insert rows that all have the same keys; return the last rowid."""
    if not rows:
        return None
    columns = tuple(rows[0])
    sql = _insert_sql(table, columns)
    if len(rows) == 1:
        return conn.execute(sql, [rows[0][c] for c in columns]).lastrowid
    conn.executemany(sql, [[row[c] for c in columns] for row in rows])
    return None


@lru_cache(maxsize=None)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({', '.join('?' * len(columns))})"


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (a savepoint when nested).

    IMMEDIATE takes the write lock up front, so a second writer waits in SQLite's busy handler; a deferred
    ``BEGIN`` that reads first and writes later fails at once with "database is locked" when another
    connection committed in between, which the busy timeout cannot help with.
    """

    def __init__(self, store: Store):
        self.store = store
        self.nested = None

    def _error(self, exc: BaseException) -> StoreError:
        if isinstance(exc, sqlite3.Error):
            return StoreError(f"{self.store.path}: write failed ({exc}); nothing was saved — {advice(exc, self.store.timeout)}")
        return StoreError(f"{self.store.path}: write failed (a number too large to store: {exc}); nothing was saved")

    def __enter__(self):
        conn = self.store.conn
        try:
            if conn.in_transaction:
                self.nested = self.store.db.atomic()
                return self.nested.__enter__()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._error(exc) from None
        return self.store

    def __exit__(self, exc_type, exc, tb):
        conn = self.store.conn
        if self.nested is not None:
            return self.nested.__exit__(exc_type, exc, tb)
        try:
            if exc_type is None:
                conn.execute("COMMIT")
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._error(error) from None
        # the database refused the write (locked, read-only, full, damaged, another schema); an
        # IntegrityError is a bug of ours and stays one
        if type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError) or isinstance(exc, OverflowError):
            raise self._error(exc) from None
        return False


def _acp_columns(acp: Acp) -> dict:
    return {
        "name": acp.name,
        "address": acp.address,
        "customs_office": acp.customs_office,
        "notified_on": _iso(acp.notified_on),
        "accepted_on": _iso(acp.accepted_on),
        "status": acp.status,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _version() -> str:
    from . import __version__

    return __version__
