"""The HTML report: one self-contained page (inline CSS, no network) of the latest verdicts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from . import __version__
from .models import ShipmentResult, Summary

_env = Environment(
    loader=PackageLoader("fba_jp", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["yen"] = lambda v: "unknown" if v is None else f"¥{v:,}"

VERDICT_ORDER = {"blocked": 0, "annotated": 1, "cleared": 2}


def document_checklist(result: ShipmentResult) -> list[str]:
    """Documents the importer should have ready for this shipment (Customs Act Art. 94: keep 5 years)."""
    docs = [
        "Commercial invoice naming the Importer of Record as consignee (Amazon only as \"c/o\" delivery address)",
        "Packing list",
        "Freight and insurance statements (costs to the Japanese port)",
    ]
    codes = {f.code for f in result.findings}
    if codes & {"ACP_REGISTERED", "ACP_MISSING", "ACP_PENDING", "ACP_REVOKED"}:
        docs.append("ACP notification accepted by Customs (Form C-7500) and the delegation contract")
    if result.valuation is not None:
        docs.extend(result.valuation.model_extra.get("documents_to_keep", []) if result.valuation.model_extra else [])
    for f in result.findings:
        if f.code.startswith(("COS_", "PSE_", "FOOD_", "TBL_", "RADIO_", "PSC_", "LICENCE_", "REG_")):
            docs.append(f"{f.sku or 'shipment'}: {f.remedy or f.message}")
    return list(dict.fromkeys(docs))


def render_html_report(results: list[ShipmentResult], title: str = "fba-jp report") -> str:
    ordered = sorted(results, key=lambda r: (VERDICT_ORDER[r.verdict], r.account or "", r.shipment_id))
    by_account = Counter((r.account or "—", r.verdict) for r in results)
    accounts = sorted({r.account or "—" for r in results})
    return _env.get_template("report.html").render(
        title=title,
        results=ordered,
        summary=Summary.of(results),
        accounts=accounts,
        by_account=by_account,
        checklist=document_checklist,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def write_html_report(results: list[ShipmentResult], path: Path, title: str = "fba-jp report") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html_report(results, title), encoding="utf-8")
    return path
