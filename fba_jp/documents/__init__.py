"""Shipping documents drafted from a screened declaration: commercial invoice, packing list, checklist.

:func:`issue` writes them (PDF, HTML or CSV/JSON) and records each file's SHA-256 with the screening it
came from, so :func:`verify` can later say whether a file is one fba-jp issued, from which screening,
and whether that screening is still the shipment's latest. Blocked shipments get watermarked drafts
only (``draft=True``). The data of every format comes from one :class:`~fba_jp.documents.build.Documents`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..files import write_atomically
from ..models import Declaration, ShipmentResult
from .build import DocumentRefused, Documents, build

KINDS = ("invoice", "packing_list", "checklist")
FORMATS = ("pdf", "html", "csv", "json")
# the invoice's data round-trips through `fba-jp gate`; the packing list and checklist are for people
DATA_KINDS = {"csv": ("invoice",), "json": ("invoice",)}

__all__ = ["DocumentRefused", "Documents", "Issued", "build", "documents_for", "file_name", "issue", "issue_record",
           "links", "render", "screened_now", "verify"]


@dataclass(frozen=True)
class Issued:
    path: Path
    kind: str
    format: str
    sha256: str
    draft: bool


def file_name(shipment_id: str, kind: str, fmt: str, draft: bool) -> str:
    """``FBA15ABC-invoice.pdf`` (``-DRAFT`` before the extension for drafts); safe on every file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", shipment_id).strip(".") or "shipment"
    return f"{safe}-{kind.replace('_', '-')}{'-DRAFT' if draft else ''}.{fmt}"


def render(docs: Documents, kind: str, fmt: str) -> bytes:
    """One document in one format, as the bytes written to disk."""
    if fmt == "pdf":
        from .pdf import render_pdf

        return render_pdf(docs, kind)
    if fmt == "html":
        return render_html(docs, kind).encode("utf-8")
    from .exchange import invoice_csv, invoice_json

    if kind != "invoice":
        raise ValueError(f"{fmt} is only written for the invoice")
    return (invoice_csv if fmt == "csv" else invoice_json)(docs.declaration).encode("utf-8")


def render_html(docs: Documents, kind: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    from .. import __version__
    from .build import amount
    from .labels import DECLARATION_TEXT, NO_TRANSACTION, WATERMARK, WATERMARK_JA, label

    env = Environment(loader=PackageLoader("fba_jp", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template(f"documents/{kind}.html").render(
        docs=docs, kind=kind, label=label, amount=amount, watermark=WATERMARK, watermark_ja=WATERMARK_JA,
        no_transaction=NO_TRANSACTION, declaration_text=DECLARATION_TEXT, version=__version__,
    )


def documents_for(config, store, declaration: Declaration, result: ShipmentResult, draft: bool) -> Documents:
    """:func:`build` with the ACP and licences the screening consulted (ACP registry, account profile and
    licence registry), from ``config`` and ``store`` alone: the CLI, the demo and the dashboard call it."""
    from ..licences import records_for
    from ..runner import ScreeningContext, account_for

    # a shipment synced under an account this config does not name (the demo's database, the daemon's
    # config elsewhere) still has its documents: a synced declaration carries the profile's ACP and
    # licences, and the licence registry is keyed by the account's name. A gate file's declaration does
    # not, so without its account's profile that stays an error naming the account.
    elsewhere = (bool(result.account) and (result.source or "").startswith("spapi:")
                 and result.account not in {a.name for a in config.accounts})
    account = None if elsewhere else account_for(config, declaration, result.account)
    context = ScreeningContext(config=config, store=store, account=account)
    acp = declaration.acp or (context.lookup_acp(declaration.acp_id) if declaration.acp_id else None)
    records = context.licences(declaration) + context.filings(declaration)
    if elsewhere and store is not None:
        records += records_for(store, result.account, "licence") + records_for(store, result.account, "filing")
    return build(declaration, result, acp=acp, licences=records, draft=draft)


def screened_now(app, shipment_id: str) -> tuple[Declaration, ShipmentResult] | None:
    """The declaration and screening a stored shipment's documents are issued from, or ``None`` if it has none.

    A synced shipment of an account in the config is first screened as ``fba-jp screen`` does, from its SP-API
    data and the product master, profile and caches as they are now: papers must not show a product row since
    corrected, nor clear a shipment whose row is gone (then ``INPUT_INVALID``: :class:`InputError`, no
    documents); that screening is then the latest, screened once. Any other shipment: :func:`current_screening`
    of its stored declaration. ``app``: an :class:`~fba_jp.app.App`.
    """
    from ..sync import screen_synced

    store = app.store
    current = store.resolve(shipment_id)
    row = store.rows("select account, source from shipments where shipment_id = ?", [current])
    screened = False  # by screen_synced, whose latest screening is then what screening it now says
    if row and (row[0]["source"] or "").startswith("spapi:") and row[0]["account"] in {a.name for a in app.config.accounts}:
        report = screen_synced(app, [row[0]["account"]], only={current})
        if not report.results and report.errors:  # the account's product master or quotes could not be read
            raise InputError(f"{shipment_id}: cannot draw documents: {' '.join(report.errors)}")
        screened = bool(report.results)
    found = store.screened_declaration(shipment_id)
    if found is None or screened:
        return found
    declaration, stored = found
    return declaration, current_screening(app.config, store, app.screener(), declaration, stored)


def current_screening(config, store, screener, declaration: Declaration, stored: ShipmentResult) -> ShipmentResult:
    """The screening a stored shipment's documents are issued from: ``stored``, unless screening the same
    declaration now says otherwise (its ACP revoked, a waiver expired since), and then that new screening,
    recorded. A shipment whose account this config does not name keeps its stored screening: screened here it
    would be judged without its account's profile and registry (the demo's database, read without a config)."""
    from ..runner import same_outcome

    if stored.account and stored.account not in {a.name for a in config.accounts}:
        return stored
    fresh, canonical = screener.evaluate(declaration, stored.source, stored.account)
    if same_outcome(stored, fresh):
        return stored
    return store.record_screening(fresh, declaration, screener.plugin_names, canonical=canonical)


def issue(store, docs: Documents, out_dir: Path, fmt: str = "pdf") -> list[Issued]:
    """Write every document of ``docs`` in ``fmt`` to ``out_dir`` and record them in the audit trail.

    Each file is written whole or not at all (:mod:`fba_jp.files`), so a failure never leaves half a document.
    The files are written inside the transaction that records them, and removed again if it does not commit:
    the database being locked, full or damaged leaves no paper on disk the audit trail does not know
    (``--verify`` would say fba-jp never issued it), a file that cannot be written leaves no record.
    """
    out_dir = Path(out_dir)
    rendered = [(kind, render(docs, kind, fmt)) for kind in DATA_KINDS.get(fmt, KINDS)]
    issued: list[Issued] = []
    try:
        with store.write():  # the write lock first: a locked database is refused before any file is written
            for kind, data in rendered:
                path = out_dir / file_name(docs.shipment_id, kind, fmt, docs.draft)
                write_atomically(path, data)  # whole or not at all, 0600; a full disk is one line, exit 3
                issued.append(Issued(path, kind, fmt, hashlib.sha256(data).hexdigest(), docs.draft))
            store.record_documents([
                {**issue_record(docs, item.kind, item.format, None, item.path.name), "sha256": item.sha256,
                 "path": str(item.path.resolve()), "bytes": len(data)}
                for item, (_, data) in zip(issued, rendered)
            ])
    except BaseException:
        for item in issued:
            item.path.unlink(missing_ok=True)
        raise
    return issued


def issue_record(docs: Documents, kind: str, fmt: str, data: bytes | None, name: str) -> dict:
    """The audit-trail row of one issued document (``data``: its bytes, when not written to a file)."""
    return {
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
        "shipment_id": docs.shipment_id,
        "screening_id": docs.result.screening_id,
        "input_sha256": docs.result.input_sha256,
        "kind": kind,
        "format": fmt,
        "draft": int(docs.draft),
        "file_name": name,
        "path": None,
        "bytes": len(data) if data is not None else None,
    }


def links(store, result: ShipmentResult, relative_to: Path) -> list[tuple[str, str]]:
    """``(label, href)`` of the documents issued from this screening that are still on disk, for a report."""
    if result.screening_id is None:
        return []
    found = []
    for record in store.documents_of_screening(result.screening_id):
        path = Path(record["path"] or "")
        if record["path"] and path.is_file():
            draft = " DRAFT" if record["draft"] else ""
            found.append((f"{record['kind'].replace('_', ' ')}{draft} ({record['format'].upper()})",
                          Path(os.path.relpath(path, Path(relative_to).resolve())).as_posix()))
    return list(dict.fromkeys(found))


def verify(store, data: bytes) -> dict:
    """What the audit trail says about a file's bytes: ``{"issued": False}`` or who, when, and whether current."""
    sha = hashlib.sha256(data).hexdigest()
    records = store.documents_by_sha256(sha)
    if not records:
        return {"issued": False, "sha256": sha}
    record = records[0]
    latest = store.latest_screening(record["shipment_id"])
    issued_from = store.screening(record["screening_id"])
    # a later screening of the same declaration with the same verdict (a re-run) leaves the paper valid
    current = latest is not None and issued_from is not None and (
        latest["id"] == record["screening_id"]
        or (latest["input_sha256"] == record["input_sha256"] and latest["verdict"] == issued_from["verdict"]))
    answer = {
        "issued": True,
        "sha256": sha,
        "shipment_id": record["shipment_id"],
        "kind": record["kind"],
        "format": record["format"],
        "draft": bool(record["draft"]),
        "issued_at": record["created_at"],
        "screening_id": record["screening_id"],
        "input_sha256": record["input_sha256"],
        "current": current,
        "latest_screening_id": latest["id"] if latest else None,
    }
    if latest is not None and not current:
        answer["input_changed"] = latest["input_sha256"] != record["input_sha256"]
        answer["latest_verdict"] = latest["verdict"]
    return answer
