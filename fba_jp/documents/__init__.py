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
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..models import Declaration, ShipmentResult
from .build import DocumentRefused, Documents, build

KINDS = ("invoice", "packing_list", "checklist")
FORMATS = ("pdf", "html", "csv", "json")
# the invoice's data round-trips through `fba-jp gate`; the packing list and checklist are for people
DATA_KINDS = {"csv": ("invoice",), "json": ("invoice",)}

__all__ = ["DocumentRefused", "Documents", "Issued", "build", "file_name", "issue", "links", "render", "verify"]


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


def documents_for(app, declaration: Declaration, result: ShipmentResult, draft: bool) -> Documents:
    """:func:`build` with the ACP and licences the screening consulted (registry, account profile)."""
    context = app.screener().context(declaration, result.account)
    acp = declaration.acp or (context.lookup_acp(declaration.acp_id) if declaration.acp_id else None)
    return build(declaration, result, acp=acp, licences=context.licences(declaration), draft=draft)


def issue(app, docs: Documents, out_dir: Path, fmt: str = "pdf") -> list[Issued]:
    """Write every document of ``docs`` in ``fmt`` to ``out_dir`` and record them in the audit trail.

    Each file is written to a temporary name and renamed, so a failure never leaves half a document.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    issued = []
    for kind in DATA_KINDS.get(fmt, KINDS):
        data = render(docs, kind, fmt)
        path = out_dir / file_name(docs.shipment_id, kind, fmt, docs.draft)
        _write_atomically(path, data)
        issued.append(Issued(path, kind, fmt, hashlib.sha256(data).hexdigest(), docs.draft))
    app.store.record_documents([
        {
            "sha256": item.sha256,
            "shipment_id": docs.shipment_id,
            "screening_id": docs.result.screening_id,
            "input_sha256": docs.result.input_sha256,
            "kind": item.kind,
            "format": item.format,
            "draft": int(item.draft),
            "file_name": item.path.name,
            "path": str(item.path.resolve()),
            "bytes": item.path.stat().st_size,
        }
        for item in issued
    ])
    return issued


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


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
