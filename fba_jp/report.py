"""The HTML report: one self-contained page (inline CSS, no network) of the latest verdicts.

The page is made of the partials in ``templates/partials/`` (one shipment, its findings, valuation,
document checklist and history, a summary row, the stylesheet), which ``fba-jp serve`` renders too, so
the report and the dashboard show the same thing. :func:`template_environment` is the one place their
filters and globals are set.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from . import __version__
from .files import write_atomically
from .models import ShipmentResult, Summary


def yen(value: int | None) -> str:
    return "unknown" if value is None else f"¥{value:,}"


def template_environment(loader: BaseLoader | None = None) -> Environment:
    """The Jinja environment of the report's templates (``loader`` may add more in front of them)."""
    templates = PackageLoader("fba_jp", "templates")
    env = Environment(
        loader=ChoiceLoader([loader, templates]) if loader is not None else templates,
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yen"] = yen
    env.globals["checklist"] = document_checklist
    return env

VERDICT_ORDER = {"blocked": 0, "annotated": 1, "cleared": 2}


# The document that answers each regulated-product finding (what to have ready at declaration).
REGULATED_DOCUMENTS = {
    "COS_NO_MAH": "copy of the cosmetics Marketing Authorization Holder licence (化粧品製造販売業許可)",
    "COS_NO_MANUFACTURING_LICENCE": "copy of the cosmetics manufacturing licence for packaging, labelling and storage (化粧品製造業許可)",
    "COS_NO_NOTIFICATION": "copy of the product notification (化粧品製造販売届書)",
    "PSE_NO_NOTIFICATION": "METI business notification for the PSE product (電気用品製造・輸入事業届出)",
    "PSE_NO_CERTIFICATE": "conformity certificate from a registered body (specified ◇PSE product)",
    "PSE_NO_DOMESTIC_ADMIN": "domestic administrator (国内管理人) appointment and METI notification",
    "FOOD_NO_IMPORT_NOTIFICATION": "food import notification (食品等輸入届出) accepted by the quarantine station",
    "TBL_NO_IMPORT_NOTIFICATION": "food import notification for food-contact articles (食品等輸入届出), lab test results on first import",
    "TBL_NO_PL_STATEMENT": "supplier's positive-list compliance statement for the synthetic resin",
    "RADIO_NO_GITEKI": "Giteki (技適) certification number of the radio equipment",
    "PSC_NO_CONFORMITY": "PSC conformity records (and domestic administrator for overseas sellers)",
    "LICENCE_EXPIRED": "renewed licence or filing (the one on record has expired)",
}


def document_checklist(result: ShipmentResult) -> list[str]:
    """Documents the importer should have ready for this shipment (Customs Act Art. 94: keep them 5 years)."""
    docs = [
        "Commercial invoice naming the Importer of Record as consignee (Amazon only as \"c/o\" delivery address)",
        "Packing list",
        "Freight and insurance statements (costs to the Japanese port)",
    ]
    codes = {f.code for f in result.findings}
    if codes & {"ACP_REGISTERED", "ACP_MISSING", "ACP_PENDING", "ACP_REVOKED"}:
        docs.append("ACP notification accepted by Customs (Form C-7500) and the delegation contract")
    extra = (result.valuation.model_extra or {}) if result.valuation is not None else {}
    for document in extra.get("documents_to_keep", []):
        if not document.lower().startswith(("commercial invoice", "freight and insurance", "packing list")):
            docs.append(document)
    for f in result.findings:
        if f.code in REGULATED_DOCUMENTS and not f.waived:
            docs.append(f"{f.sku or 'all items'}: {REGULATED_DOCUMENTS[f.code]} — missing ({f.code})")
    return list(dict.fromkeys(docs))


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return template_environment()


def render_html_report(results: list[ShipmentResult], title: str = "fba-jp report") -> str:
    ordered = sorted(results, key=lambda r: (VERDICT_ORDER[r.verdict], r.account or "", r.shipment_id))
    by_account = Counter((r.account or "—", r.verdict) for r in results)
    accounts = sorted({r.account or "—" for r in results})
    return _environment().get_template("report.html").render(
        title=title,
        results=ordered,
        summary=Summary.of(results),
        accounts=accounts,
        by_account=by_account,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def write_html_report(results: list[ShipmentResult], path: Path, title: str = "fba-jp report") -> Path:
    # whole or not at all: a full disk leaves the previous report, not a truncated one (fba_jp/files.py)
    return write_atomically(path, render_html_report(results, title))
