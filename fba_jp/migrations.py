"""The database schema, owned by migrations (CONTRACT §5).

Each migration is a function applied once, in the order defined here, and recorded in ``_migrations``;
the pending ones are applied together in one ``BEGIN IMMEDIATE`` transaction (see :func:`migrate`).
Never edit one that has shipped: add the next. A database that records a migration this list does not
have was written by a newer fba-jp, and is refused rather than used.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # sqlite-utils is imported only when a migration runs: most opens have none to apply
    import sqlite_utils

MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []


def migration(function):
    MIGRATIONS.append((function.__name__, function))
    return function


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db["shipments"].create(
        {
            "shipment_id": str,
            "inbound_plan_id": str,
            "account": str,
            "source": str,
            "name": str,
            "status": str,
            "declaration": str,  # latest validated declaration, JSON (no secrets: none are in it)
            "input_sha256": str,
            "first_seen_at": str,
            "updated_at": str,
            "latest_screening_id": int,
            "latest_verdict": str,
        },
        pk="shipment_id",
    )
    db["items"].create(
        {"shipment_id": str, "msku": str, "asin": str, "fnsku": str, "title": str, "quantity": int},
        pk=("shipment_id", "msku"),
    )
    db["screenings"].create(
        {
            "id": int,
            "shipment_id": str,
            "inbound_plan_id": str,
            "account": str,
            "source": str,
            "verdict": str,
            "input_sha256": str,
            "screened_at": str,
            "plugins": str,
            "errors": str,
            "fba_jp_version": str,
        },
        pk="id",
    )
    db["screenings"].create_index(["shipment_id", "id"])
    db["findings"].create(
        {
            "id": int,
            "screening_id": int,
            "code": str,
            "severity": str,
            "plugin": str,
            "sku": str,
            "message": str,
            "remedy": str,
            "reference": str,
            "evidence": str,
            "waived": int,
            "waiver_id": int,
        },
        pk="id",
        foreign_keys=[("screening_id", "screenings", "id")],
    )
    db["findings"].create_index(["screening_id"])
    db["findings"].create_index(["code"])
    db["valuations"].create(
        {
            "screening_id": int,
            "currency": str,
            "exchange_rate": str,
            "rate_week_start": str,
            "customs_value_jpy": int,
            "duty_jpy": int,
            "national_consumption_tax_jpy": int,
            "local_consumption_tax_jpy": int,
            "total_tax_jpy": int,
            "small_value_exemption": int,
            "complete": int,
            "worksheet": str,
        },
        pk="screening_id",
        foreign_keys=[("screening_id", "screenings", "id")],
    )
    db["acps"].create(
        {
            "id": str,
            "name": str,
            "address": str,
            "customs_office": str,
            "notified_on": str,
            "accepted_on": str,
            "status": str,
            "sellers": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["acp_events"].create(
        {"id": int, "acp_id": str, "at": str, "status": str, "accepted_on": str, "note": str}, pk="id"
    )
    db["waivers"].create(
        {
            "id": int,
            "shipment_id": str,
            "code": str,
            "reason": str,
            "by": str,
            "created_at": str,
            "expires_on": str,
            "input_sha256": str,
        },
        pk="id",
    )
    db["waivers"].create_index(["shipment_id"])
    db["exchange_rates"].create(
        {"currency": str, "week_start": str, "rate": str, "source": str, "imported_at": str},
        pk=("currency", "week_start"),
    )
    db["sync_state"].create(
        {"account": str, "status": str, "watermark": str, "updated_at": str}, pk=("account", "status")
    )
    db["sync_runs"].create(
        {
            "id": int,
            "account": str,
            "started_at": str,
            "finished_at": str,
            "outcome": str,
            "message": str,
            "calls": int,
            "plans": int,
            "shipments": int,
            "items": int,
            "errors": int,
            "throttled": int,
        },
        pk="id",
    )


@migration
def m002_spapi_sync(db: sqlite_utils.Database) -> None:
    """SP-API sync (fba_jp/sync.py): raw plans and shipments as fetched, and the catalog cache.

    Raw payloads are kept so ``fba-jp screen`` can rebuild declarations offline when the account
    profile or product master changes. They hold no credentials.
    """
    db["spapi_plans"].create(
        {
            "inbound_plan_id": str,
            "account": str,
            "status": str,
            "name": str,
            "created_at": str,
            "last_updated_at": str,  # Amazon's lastUpdatedAt of the version stored
            "plan": str,  # getInboundPlan, JSON
            "items": str,  # listInboundPlanItems, JSON list
            "fetched_at": str,
            "error": str,  # why SP-API refused this plan (400/404); NULL when fetched fine
        },
        pk="inbound_plan_id",
    )
    db["spapi_plans"].create_index(["account", "status"])
    db["spapi_shipments"].create(
        {
            "spapi_shipment_id": str,  # Amazon's shipmentId
            "shipment_id": str,  # shipments.shipment_id: the FBA confirmation id once there is one
            "inbound_plan_id": str,
            "account": str,
            "status": str,
            "name": str,
            "shipment": str,  # getShipment, JSON
            "items": str,  # listShipmentItems, JSON list
            "first_seen_at": str,
            "fetched_at": str,
        },
        pk="spapi_shipment_id",
    )
    db["spapi_shipments"].create_index(["account"])
    db["spapi_shipments"].create_index(["shipment_id"])
    db["catalog_items"].create(
        {
            "marketplace_id": str,
            "asin": str,
            "found": int,
            "title": str,
            "product_type": str,
            "classification": str,
            "item": str,  # getCatalogItem, JSON
            "fetched_at": str,
        },
        pk=("marketplace_id", "asin"),
    )


@migration
def m003_actions_and_daemon(db: sqlite_utils.Database) -> None:
    """Actions on verdict change (fba_jp/actions.py) and the daemon's status (fba_jp/daemon.py)."""
    # the last state each shipment was announced in: an action fires once per new state
    db["notified_states"].create(
        {"shipment_id": str, "state": str, "verdict": str, "screening_id": int, "at": str}, pk="shipment_id"
    )
    # one row per (event, action): pending → sent | skipped | failed (retried while attempts remain)
    db["notifications"].create(
        {
            "id": int,
            "event_id": str,
            "shipment_id": str,
            "account": str,
            "action": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "payload": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["notifications"].create_index(["event_id", "action"], unique=True)
    db["notifications"].create_index(["status"])
    db["daemon_accounts"].create(
        {
            "account": str,
            "last_started_at": str,
            "last_finished_at": str,
            "outcome": str,
            "message": str,
            "consecutive_failures": int,
            "backoff_until": str,
            "next_run_at": str,
        },
        pk="account",
    )
    db["heartbeat"].create({"id": int, "pid": int, "at": str, "version": str, "state": str}, pk="id")


@migration
def m004_annotations(db: sqlite_utils.Database) -> None:
    """Shipment names fba-jp changed on Amazon (plugins/annotate.py), so the seller's name can be restored."""
    db["annotations"].create(
        {"spapi_shipment_id": str, "account": str, "original_name": str, "applied_name": str, "at": str},
        pk="spapi_shipment_id",
    )


@migration
def m005_sync_run_pid(db: sqlite_utils.Database) -> None:
    """The process that runs a sync: a run left "running" by a process that is gone was interrupted."""
    db["sync_runs"].add_column("pid", int)



@migration
def m006_lookup_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for the look-ups that scanned whole tables: a sync's interrupted-run check and ``status``
    (``sync_runs`` by account), a plan's shipments (``spapi_shipments`` by plan), a title by ASIN."""
    db["sync_runs"].create_index(["account", "outcome"], if_not_exists=True)
    db["sync_runs"].create_index(["account", "id"], if_not_exists=True)
    db["spapi_shipments"].create_index(["inbound_plan_id"], if_not_exists=True)
    db["catalog_items"].create_index(["asin"], if_not_exists=True)


@migration
def m007_dashboard(db: sqlite_utils.Database) -> None:
    """``fba-jp serve``: indexes for its paginated list, the licence registry, the audit log, SKU search.

    The list pages keyset-paginate on (updated_at, shipment_id), optionally within an account and/or a
    verdict, so the first page reads the same few index entries at 100 or 100,000 shipments.
    """
    shipments = db["shipments"]
    for columns in (["updated_at", "shipment_id"], ["account", "updated_at", "shipment_id"],
                    ["latest_verdict", "updated_at", "shipment_id"],
                    ["account", "latest_verdict", "updated_at", "shipment_id"]):
        shipments.create_index(columns, if_not_exists=True)
    db["findings"].create_index(["code", "screening_id"], if_not_exists=True)
    db["notified_states"].create_index(["at"], if_not_exists=True)
    db["notifications"].create_index(["shipment_id", "id"], if_not_exists=True)
    db["acp_events"].create_index(["acp_id", "id"], if_not_exists=True)
    # Licences and filings recorded per account from the dashboard (fba_jp/licences.py). The seller's
    # config.toml stays theirs; a screening reads both. Rows are never deleted: removal is recorded.
    db["account_licences"].create(
        {
            "id": int,
            "account": str,
            "type": str,  # licence | filing
            "kind": str,
            "number": str,
            "holder": str,
            "valid_from": str,
            "valid_until": str,
            "skus": str,  # JSON list, NULL = every SKU
            "created_at": str,
            "created_by": str,
            "removed_at": str,
            "removed_by": str,
        },
        pk="id",
    )
    db["account_licences"].create_index(["account", "removed_at"])
    # Every write made through the dashboard, with the user who made it (append-only).
    db["audit_log"].create(
        {"id": int, "at": str, "user": str, "action": str, "account": str, "target": str, "detail": str}, pk="id"
    )
    db["audit_log"].create_index(["account", "id"])
    # items: the SKUs of each shipment's latest declaration, kept by the database itself so every writer
    # (gate, screen, daemon) feeds the dashboard's SKU search without a second write path
    db["items"].create_index(["msku"], if_not_exists=True)
    fill = """
        delete from items where shipment_id = new.shipment_id;
        insert or replace into items (shipment_id, msku, asin, fnsku, title, quantity)
        select new.shipment_id, json_extract(value, '$.msku'), json_extract(value, '$.asin'),
               json_extract(value, '$.fnsku'), json_extract(value, '$.title'), json_extract(value, '$.quantity')
        from json_each(new.declaration, '$.items') where json_valid(new.declaration);
    """
    db.execute(f"create trigger shipments_items_insert after insert on shipments begin {fill} end")
    db.execute(f"create trigger shipments_items_update after update of declaration on shipments begin {fill} end")
    db.execute("""
        insert or replace into items (shipment_id, msku, asin, fnsku, title, quantity)
        select s.shipment_id, json_extract(i.value, '$.msku'), json_extract(i.value, '$.asin'),
               json_extract(i.value, '$.fnsku'), json_extract(i.value, '$.title'), json_extract(i.value, '$.quantity')
        from shipments s, json_each(s.declaration, '$.items') i where json_valid(s.declaration)
    """)


@migration
def m008_leases(db: sqlite_utils.Database) -> None:
    """Leases. A delivery claims its notification for a while (``lease_until``) and names its process
    (``claimed_by``): a ``sending`` row whose process died or whose lease ran out is delivered again
    (actions.py). The ``heartbeat`` row is the daemon's lease on the database: one daemon per database
    (daemon.py); ``started_at`` says since when it holds it."""
    db["notifications"].add_column("lease_until", str)
    db["notifications"].add_column("claimed_by", int)
    db["heartbeat"].add_column("started_at", str)


@migration
def m009_boxes(db: sqlite_utils.Database) -> None:
    """Amazon's box data (listShipmentBoxes; listInboundPlanBoxes before placement), as fetched: the
    packing list, and freight by chargeable weight. ``boxes_error`` says why a shipment has none."""
    db["spapi_shipments"].add_column("boxes", str)  # JSON list; NULL: not fetched
    db["spapi_shipments"].add_column("boxes_error", str)
    db["spapi_plans"].add_column("boxes", str)


@migration
def m010_declarations_and_aliases(db: sqlite_utils.Database) -> None:
    """Content-addressed inputs and shipment-id aliases: history stays as it was written (store.py).

    ``declarations``: each distinct screened input once, keyed by its sha256, which is every screening's
    ``input_sha256`` (the join is ``screenings.input_sha256 = declarations.sha256``). ``shipment_aliases``:
    an id a shipment was known by before Amazon assigned its confirmation id → the id it has now.

    The latest declaration of each shipment is copied in when it still hashes to the shipment's latest
    input: screenings older than that kept only their hash before this migration.
    """
    from .models import Declaration  # here only: models never needs the schema

    db["declarations"].create({"sha256": str, "body": str, "stored_at": str}, pk="sha256")
    db["shipment_aliases"].create({"alias": str, "shipment_id": str, "account": str, "at": str}, pk="alias")
    db["shipment_aliases"].create_index(["shipment_id"])
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = db.execute("select input_sha256, declaration from shipments where declaration is not null").fetchall()
    for sha, stored in rows:
        try:
            canonical = Declaration.model_validate_json(stored).canonical_json()
        except ValueError:  # a declaration the model no longer accepts: it keeps only its hash
            continue
        if hashlib.sha256(canonical.encode("utf-8")).hexdigest() == sha:
            db.execute("insert or ignore into declarations (sha256, body, stored_at) values (?, ?, ?)", [sha, canonical, now])


@migration
def m011_screening_rule_overrides(db: sqlite_utils.Database) -> None:
    """``screenings.rule_overrides``: the ``[rules]`` config overrides of the shipped rule tables that
    changed a screening (JSON list of {table, heading, action, skus}; NULL when none did)."""
    db["screenings"].add_column("rule_overrides", str)


@migration
def m012_documents(db: sqlite_utils.Database) -> None:
    """Shipping documents fba-jp issued (fba_jp/documents): which file, from which screening, when."""
    db["documents"].create(
        {
            "id": int,
            "sha256": str,  # of the file's bytes, what `fba-jp documents --verify FILE` looks up
            "shipment_id": str,
            "screening_id": int,
            "input_sha256": str,  # of the declaration the screening (and so the document) was made from
            "kind": str,  # invoice | packing_list | checklist
            "format": str,  # pdf | html | csv | json
            "draft": int,
            "file_name": str,
            "bytes": int,
            "created_at": str,
            "fba_jp_version": str,
        },
        pk="id",
        foreign_keys=[("screening_id", "screenings", "id")],
    )
    db["documents"].create_index(["sha256"])
    db["documents"].create_index(["shipment_id"])


@migration
def m013_amazon_prices_and_fees(db: sqlite_utils.Database) -> None:
    """The seller's own Amazon.co.jp prices and Amazon's fees (fba_jp/pricing.py), one row per SKU and day
    (Japan time): the daily cache of the deductive value, and the evidence of the figures it used.
    ``since`` is the first day of the run of days Amazon gave the same figures."""
    db["amazon_prices"].create(
        {"account": str, "marketplace_id": str, "msku": str, "day": str, "price_jpy": int, "since": str,
         "problem": str, "evidence": str, "payload": str, "fetched_at": str},
        pk=("account", "msku", "day"),
    )
    db["amazon_fees"].create(
        {"account": str, "msku": str, "day": str, "price_jpy": int, "fees_jpy": str, "since": str, "detail": str,
         "problem": str, "payload": str, "fetched_at": str},
        pk=("account", "msku", "day"),
    )
    db["amazon_fees"].create_index(["account", "msku", "price_jpy", "day"])


@migration
def m014_document_paths(db: sqlite_utils.Database) -> None:
    """Where each issued document was written, so the report can link it (and by screening, to find them)."""
    db["documents"].add_column("path", str)
    db["documents"].create_index(["screening_id"])


@migration
def m015_freight_invoices(db: sqlite_utils.Database) -> None:
    """The actual freight (and insurance) invoices of synced shipments, entered with ``fba-jp freight set``:
    append-only (who, when, which invoice); the last row of a shipment is the one its declaration uses."""
    db["freight_invoices"].create(
        {"id": int, "shipment_id": str, "account": str, "freight": str, "freight_currency": str, "insurance": str,
         "insurance_currency": str, "invoice": str, "invoiced_on": str, "by": str, "note": str, "created_at": str},
        pk="id",
    )
    db["freight_invoices"].create_index(["account", "shipment_id", "id"])


@migration
def m016_latest_screening_index(db: sqlite_utils.Database) -> None:
    """``shipments(latest_screening_id)``: a report joins every shipment to its latest screening; without
    it the join scans the shipments table (declarations and all) before the first row comes back."""
    db["shipments"].create_index(["latest_screening_id"], if_not_exists=True)


@migration
def m017_compact_screenings(db: sqlite_utils.Database) -> None:
    """A screening in fewer bytes, and one writer for what it stores (store.py, fba_jp/texts.py).

    * ``findings`` becomes a view of ``finding_rows`` (a finding's short columns and the ids of its texts)
      joined to ``texts`` (each message, remedy, reference and evidence stored once): the same columns and
      rows as the table it replaces, which its rows move into;
    * ``shipments.declaration_sha256``: the shipment's latest declaration is its content-addressed
      ``declarations`` row (``NULL`` when the latest input formed none); ``shipments.declaration`` keeps only
      a declaration older than m010 that has no such row;
    * ``items`` are written by the store with each screening, not by the m007 triggers (which parsed the JSON
      copy of the declaration), in a table keyed by (shipment_id, msku) without a rowid;
    * ``zdicts``: the preset dictionaries worksheets are deflated with, by the Adler-32 their zlib header
      names (``fba_jp/data/worksheet.zdict``), so the database holds what it takes to read every row.
    """
    from .texts import store_texts  # here only: the schema module needs no store

    conn = db.conn
    conn.execute("create table zdicts (id integer primary key, body blob not null, file text)")
    conn.execute("insert into zdicts values (?, ?, ?)", _zlib_dictionary_row())
    conn.execute("create table texts (id integer primary key, text text not null)")
    conn.execute(
        "create table finding_rows (id integer primary key, screening_id integer references screenings(id),"
        " code text, severity text, plugin text, sku text, message_id integer, remedy_id integer,"
        " reference_id integer, evidence_id integer, waived integer, waiver_id integer)")
    cursor = conn.execute("select id, screening_id, code, severity, plugin, sku, message, remedy, reference, evidence,"
                          " waived, waiver_id from findings order by id")
    while rows := cursor.fetchmany(2000):
        ids = store_texts(conn, (t for row in rows for t in row[6:10] if t is not None))
        conn.executemany("insert into finding_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(*row[:6], *(None if t is None else ids[t] for t in row[6:10]), *row[10:]) for row in rows])
    conn.execute("drop table findings")
    conn.execute("create index idx_finding_rows_screening_id on finding_rows (screening_id)")
    conn.execute("create index idx_finding_rows_code_screening_id on finding_rows (code, screening_id)")
    # left joins on the texts' primary key: a query that reads none of the texts never touches them
    conn.execute("""
        create view findings as
        select f.id, f.screening_id, f.code, f.severity, f.plugin, f.sku, m.text as message, r.text as remedy,
               ref.text as reference, e.text as evidence, f.waived, f.waiver_id
        from finding_rows f left join texts m on m.id = f.message_id left join texts r on r.id = f.remedy_id
             left join texts ref on ref.id = f.reference_id left join texts e on e.id = f.evidence_id
    """)
    conn.execute("drop trigger if exists shipments_items_insert")
    conn.execute("drop trigger if exists shipments_items_update")
    conn.execute("alter table shipments add column declaration_sha256 text")
    conn.execute("update shipments set declaration_sha256 = input_sha256, declaration = null"
                 " where declaration is not null and input_sha256 in (select sha256 from declarations)")
    conn.execute("create table items_new (shipment_id text, msku text, asin text, fnsku text, title text,"
                 " quantity integer, primary key (shipment_id, msku)) without rowid")
    conn.execute("insert into items_new select shipment_id, msku, asin, fnsku, title, quantity from items"
                 " where shipment_id is not null and msku is not null")
    conn.execute("drop table items")
    conn.execute("alter table items_new rename to items")
    conn.execute("create index idx_items_msku on items (msku)")


@migration
def m018_zstd_worksheet_dict(db: sqlite_utils.Database) -> None:
    """``zdicts`` also holds the Zstandard dictionary worksheets are now compressed with
    (``fba_jp/data/worksheet.zstd-dict``, named by the dict_id in each frame's header), so the database holds
    what it takes to read every row, old and new.

    Its key is 2**32 + that dict_id: a zlib dictionary's key is its Adler-32, a 32-bit
    number, below 2**32, so the keys of the two kinds cannot collide. Rows already written stay as they are.
    """
    db.conn.execute("insert into zdicts values (?, ?, ?)", _zstd_dictionary_row())


def _zlib_dictionary_row() -> list:
    """m017's ``zdicts`` row: the preset zlib dictionary, keyed by its Adler-32."""
    import zlib
    from importlib import resources

    dictionary = resources.files("fba_jp.data").joinpath("worksheet.zdict").read_bytes()
    return [zlib.adler32(dictionary), dictionary, "fba_jp/data/worksheet.zdict"]


def _zstd_dictionary_row() -> list:
    """m018's ``zdicts`` row: the trained Zstandard dictionary, keyed by 2**32 + its dict_id."""
    from importlib import resources

    body = resources.files("fba_jp.data").joinpath("worksheet.zstd-dict").read_bytes()
    # a trained dictionary: its magic number, then its dict_id (RFC 8878 §5), little-endian
    dict_id = int.from_bytes(body[4:8], "little")
    return [2**32 + dict_id, body, "fba_jp/data/worksheet.zstd-dict"]


# rows migrations put into a new database, by the migration that puts them there: the snapshot path inserts them
SEED_ROWS: dict[str, Callable[[], tuple[str, list]]] = {
    "m017_compact_screenings": lambda: ("zdicts", _zlib_dictionary_row()),
    "m018_zstd_worksheet_dict": lambda: ("zdicts", _zstd_dictionary_row()),
}


class SchemaError(Exception):
    """A database whose schema fba-jp must not touch; ``str()`` says why in a phrase."""


class NewerSchemaError(SchemaError):
    """The database holds migrations this fba-jp does not know: a newer fba-jp wrote it."""

    def __init__(self, unknown: list[str]):
        self.unknown = unknown
        super().__init__(f"it was written by a newer fba-jp (schema migrations unknown to this version: {', '.join(unknown)})")


def applied_migrations(db: sqlite_utils.Database) -> list[str] | None:
    """Names recorded in ``_migrations`` in the order applied; ``None`` for a database fba-jp never set up."""
    if not db.execute("select 1 from sqlite_master where type = 'table' and name = '_migrations'").fetchone():
        return None
    return [row[0] for row in db.execute("select name from _migrations order by rowid")]


def _pending(db: sqlite_utils.Database) -> list[tuple[str, Callable]] | None:
    done = applied_migrations(db)
    if done is None:
        return None
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in done if name not in known]
    if unknown:
        raise NewerSchemaError(unknown)
    return [(name, function) for name, function in MIGRATIONS if name not in done]


def migrate(db: sqlite_utils.Database | sqlite3.Connection, snapshot: dict | None = None) -> list[str]:
    """Apply pending migrations in order, all in one ``BEGIN IMMEDIATE`` transaction; return the names applied.

    An up-to-date database is only read (so a read-only copy can be reported on). Otherwise the write lock is
    taken *before* looking again at what is applied: two processes opening a new database at once queue in
    SQLite's busy handler (the connection's timeout), and the second finds the work done. A database with
    migrations this code does not know raises :class:`NewerSchemaError` and is left untouched.

    Reading what is applied needs plain ``sqlite3`` only (``db`` may be a connection): an up-to-date
    database, every open but the first after an upgrade, is checked without importing sqlite-utils. A new
    database is created from the schema snapshot (``snapshot``, by default ``fba_jp/data/schema.json``; pass
    :data:`NO_SNAPSHOT` to apply every migration in turn), then the migrations the snapshot does not hold.
    """
    if _pending(db) == []:
        return []
    conn = db if isinstance(db, sqlite3.Connection) else db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        pending = _pending(conn)
        new, applied = pending is None, []
        if new:
            others = [row[0] for row in conn.execute(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")]
            if others:
                raise SchemaError(f"it holds another program's tables ({', '.join(others[:5])}), not fba-jp's")
            applied = _from_snapshot(conn, snapshot if snapshot is not None else load_snapshot())
            pending = MIGRATIONS[len(applied):]
        if pending:
            import sqlite_utils

            db = sqlite_utils.Database(conn)
            if new and not applied:  # a new database the snapshot did not fit
                db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
            for name, function in pending:
                function(db)
                _record(conn, name)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied + [name for name, _ in pending]


def _record(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("insert into _migrations (name, applied_at) values (?, ?)",
                 [name, datetime.now(timezone.utc).isoformat(timespec="seconds")])


# --------------------------------------------------------------------------- the schema snapshot
# A new database is created from fba_jp/data/schema.json, the schema that applying every migration in turn
# gives (written by scripts/make_schema_snapshot.py), plus the rows migrations seed (SEED_ROWS): the same
# database for ~1 ms instead of 18 migrations through sqlite-utils (~90 ms with its import) in a CI job's
# first gate. tests/test_schema_snapshot.py proves the two equal. A migration added after the snapshot was
# written still runs, after it: the snapshot says which migrations it holds.

SNAPSHOT_FILE = "schema.json"
NO_SNAPSHOT = {"migrations": [], "statements": []}  # migrate(..., snapshot=NO_SNAPSHOT): every migration in turn


def load_snapshot() -> dict:
    import json
    from importlib import resources

    return json.loads(resources.files("fba_jp.data").joinpath(SNAPSHOT_FILE).read_text(encoding="utf-8"))


def _from_snapshot(conn: sqlite3.Connection, snapshot: dict) -> list[str]:
    """Create the snapshot's schema and seed rows in an empty database; return the migrations it holds (a
    prefix of :data:`MIGRATIONS`; none if it is not one, say a snapshot older than a renamed migration)."""
    names = snapshot["migrations"]
    if not names or names != [name for name, _ in MIGRATIONS[:len(names)]]:
        return []
    for statement in snapshot["statements"]:
        conn.execute(statement)
    for name in names:
        if name in SEED_ROWS:
            table, row = SEED_ROWS[name]()
            conn.execute(f"insert into {table} values ({', '.join('?' * len(row))})", row)
        _record(conn, name)
    return list(names)


def schema_statements(conn: sqlite3.Connection) -> list[str]:
    """The statements that create ``conn``'s schema: tables, then indexes, views and triggers, each kind in
    the order SQLite holds them (the tables first, as a view or trigger may name one rebuilt after it)."""
    kinds = ("table", "index", "view", "trigger")
    rows = conn.execute("select type, sql from sqlite_master where sql is not null and name not like 'sqlite_%'"
                        " order by rowid").fetchall()
    return [sql for kind in kinds for type_, sql in rows if type_ == kind]
