"""The reports of ``fba-jp report``: one self-contained HTML page (inline CSS, no network) and the JSON
result document, both streamed from the database so memory stays flat at any number of shipments.

The page is made of the partials in ``templates/partials/`` (one shipment, its findings, valuation,
document checklist and history, a summary row, the stylesheet), which ``fba-jp serve`` renders too, so
the report and the dashboard show the same thing. :func:`template_environment` is the one place their
filters and globals are set. The page opens on an index by verdict and account; each shipment's details
are collapsed under its row.

A shipment's details are about 20 KB of HTML (findings, valuation and its rounding steps, checklist), so
one page of 10,000 shipments would be 200 MB, more than a browser opens comfortably. Beyond ``per_page``
shipments (:data:`PER_PAGE`) the report is paged: the page at ``PATH`` is the index (the counts by account
and verdict, and the pages with the shipments each holds), and ``<PATH stem>-pages/1.html``, ``2.html``…
beside it hold up to ``per_page`` shipments each, with their rows and details, in report order.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic_core import to_json

from . import __version__
from .errors import OutputError
from .files import atomic_output, write_atomically
from .models import RESULT_SCHEMA, ShipmentResult, Summary

if TYPE_CHECKING:
    from jinja2 import BaseLoader, Environment


def yen(value: int | None) -> str:
    return "unknown" if value is None else f"¥{value:,}"


def template_environment(loader: BaseLoader | None = None) -> Environment:
    """The Jinja environment of the report's templates (``loader`` may add more in front of them)."""
    # here, not at the top: `fba-jp report -o json` renders no template
    from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

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
PER_PAGE = 100  # shipments on one page: about 2 MB of HTML


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


def render_html_report(results: list[ShipmentResult], title: str = "fba-jp report",
                       downloads: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """The report page; ``downloads`` maps a shipment id to its documents' (label, href) links."""
    ordered = sorted(results, key=lambda r: (VERDICT_ORDER[r.verdict], r.account or "", r.shipment_id))
    by_account = Counter((r.account or "—", r.verdict) for r in results)
    return "".join(_page(title, Summary.of(results), by_account, ordered, ordered, downloads))


def write_html_report(results: list[ShipmentResult], path: Path, title: str = "fba-jp report",
                      downloads: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    # whole or not at all: a full disk leaves the previous report, not a truncated one (fba_jp/files.py)
    return write_atomically(path, render_html_report(results, title, downloads))


def write_html_report_from_store(store, path: Path, account: str | None = None, title: str = "fba-jp report",
                                 per_page: int = PER_PAGE) -> list[Path]:
    """The report of every stored shipment's latest screening, streamed to ``path`` (whole or not at all);
    returns the files written, the page at ``path`` first.

    Up to ``per_page`` shipments, one page; more, an index page at ``path`` and the pages beside it (see the
    module docstring). Every pass over the database reads the same snapshot of it, and none is held in
    memory: the counts, then the index rows (one page) or the shipments, page by page, in report order.
    """
    path = Path(path)
    with store.snapshot():
        summary, by_account = _counts(store, account)
        if summary.shipments > per_page:
            return _write_pages(store, path, account, title, summary, by_account, per_page)
        results = (result for result, _ in store.iter_latest_results(account, report_order=True))
        with atomic_output(path) as file:
            for chunk in _page(title, summary, by_account, _index_rows(store, account), results,
                               downloads=functools.partial(_document_links, store, path.parent)):
                file.write(chunk)
    _remove_pages(pages_directory(path))  # of an earlier, longer report: this page says it all now
    return [path]


def pages_directory(path: Path) -> Path:
    """Where the pages of a paged report at ``path`` go: ``report.html`` → ``report-pages/``."""
    path = Path(path)
    return path.with_name(path.stem + "-pages")


def _write_pages(store, path: Path, account, title, summary, by_account, per_page: int) -> list[Path]:
    """The pages, written into a new directory that then replaces the old one, and the index last."""
    directory = pages_directory(path)
    if directory.exists() and not _only_pages(directory):
        raise OutputError(f"{directory}: holds files that are not report pages; move them, or write the report "
                          "elsewhere (its pages go in <report name>-pages/ beside it)")
    page_count = -(-summary.shipments // per_page)
    template = _environment().get_template("report_page.html")
    generated_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    downloads = functools.partial(_document_links, store, directory)
    try:
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{directory.name}."))
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write: {exc.strerror or exc}") from None
    pages, group_pages = [], {}
    try:
        results = (result for result, _ in store.iter_latest_results(account, report_order=True))
        for number, chunk in enumerate(_batched(results, per_page), 1):
            page = {"number": number, "href": f"{directory.name}/{number}.html", "first": chunk[0].shipment_id,
                    "last": chunk[-1].shipment_id, "groups": Counter((r.verdict, r.account or "—") for r in chunk)}
            for group in page["groups"]:
                group_pages.setdefault(group, page["href"])
            with atomic_output(staging / f"{number}.html") as file:
                for part in template.generate(title=title, page=page, page_count=page_count, results=chunk,
                                              by_account=by_account, index_href=f"../{path.name}",
                                              generated_at=generated_at, version=__version__,
                                              downloads_for=downloads):
                    file.write(part)
            pages.append(page)
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would hide the pages from a web server that serves the index
        _replace_directory(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with atomic_output(path) as file:
        for chunk in _page(title, summary, by_account, (), (), pages=pages, per_page=per_page,
                           group_href=lambda verdict, name: f"{group_pages[(verdict, name)]}#{verdict}-{name}"):
            file.write(chunk)
    return [path] + [directory / f"{page['number']}.html" for page in pages]


def _replace_directory(new: Path, directory: Path) -> None:
    """Put ``new`` at ``directory``, the old one (if any) out of the way first and then removed."""
    old = None
    try:
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
            directory.rename(old)
        new.rename(directory)
    except OSError as exc:
        if old is not None and not directory.exists():
            old.rename(directory)
        raise OutputError(f"{directory}: cannot write: {exc.strerror or exc}; the previous report is unchanged") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _only_pages(directory: Path) -> bool:
    return directory.is_dir() and all(p.suffix == ".html" and p.stem.isdigit() for p in directory.iterdir())


def _remove_pages(directory: Path) -> None:
    """Remove a report's pages directory, if it holds nothing but pages (``1.html``…): never anyone else's files."""
    if _only_pages(directory):
        shutil.rmtree(directory, ignore_errors=True)


def _batched(iterable, n: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, n)):
        yield chunk


def _document_links(store, directory: Path, result: ShipmentResult) -> list[tuple[str, str]]:
    from .documents import links  # the shipping documents issued from this screening (fba-jp documents)

    return links(store, result, directory)


def _page(title, summary, by_account, index, results, downloads=None, **paged):
    accounts = sorted({a for a, _ in by_account}) or ["—"]
    return _environment().get_template("report.html").generate(
        title=title,
        summary=summary,
        accounts=accounts,
        by_account=by_account,
        index=index,
        results=results,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        downloads_for=downloads if callable(downloads) else (lambda r: (downloads or {}).get(r.shipment_id, [])),
        **{"group_href": lambda verdict, name: f"#{verdict}-{name}", **paged},
    )


_LATEST = "from screenings s join shipments sh on sh.latest_screening_id = s.id"


def _counts(store, account: str | None) -> tuple[Summary, Counter]:
    where, params = (" where s.account = ?", [account]) if account else ("", [])
    by_account: Counter = Counter()
    errors = 0
    for name, verdict, count, errors_here in store.conn.execute(
        f"select coalesce(s.account, '—'), s.verdict, count(*), sum(json_array_length(coalesce(s.errors, '[]')))"
        f" {_LATEST}{where} group by 1, 2", params
    ):
        by_account[(name, verdict)] = count
        errors += errors_here or 0
    waived = store.conn.execute(
        f"select count(*) {_LATEST} join findings f on f.screening_id = s.id and f.waived = 1{where}", params
    ).fetchone()[0]
    totals = {v: sum(n for (_, verdict), n in by_account.items() if verdict == v) for v in VERDICT_ORDER}
    return Summary(shipments=sum(by_account.values()), waived=waived, errors=errors, **totals), by_account


def _index_rows(store, account: str | None):
    """One light row a shipment (id, account, verdict, when, open blocking and warning codes), report order."""
    where, params = (" where s.account = ?", [account]) if account else ("", [])
    cursor = store.conn.execute(
        f"""select s.shipment_id, s.account, s.verdict, s.screened_at,
                   (select group_concat(code, char(31)) from (select code from findings
                    where screening_id = s.id and severity != 'info' and not waived group by code order by min(id)))
            {_LATEST}{where}
            order by case s.verdict when 'blocked' then 0 when 'annotated' then 1 else 2 end,
                     coalesce(s.account, ''), s.shipment_id""",
        params,
    )
    for shipment_id, account_name, verdict, screened_at, codes in cursor:
        yield {"shipment_id": shipment_id, "account": account_name, "verdict": verdict, "screened_at": screened_at,
               "codes": codes.split("\x1f") if codes else []}


def stream_json_report(documents, write) -> Summary:
    """Write the ``fba-jp/result/v1`` document as UTF-8 bytes with ``write`` (a binary stream's ``write``), one
    result at a time, one result a line.

    ``documents`` are ``(result, worksheet)`` from :meth:`Store.iter_latest_documents`: each result, plain data
    in the models' field order, is written by pydantic's JSON encoder, the one ``model_dump_json`` uses, so
    its bytes are those of the result model; the stored worksheet is copied into it as it is (it was written
    by the same encoder, so it is the ``valuation`` the in-memory document would hold). The same document as
    ``--output json`` elsewhere, laid out compactly; any JSON reader sees no difference.
    """
    counts = Counter()
    write(f'{{"schema":"{RESULT_SCHEMA}","results":['.encode())
    separator = b"\n"
    for result, worksheet in documents:
        data = to_json(result)
        if worksheet is not None:
            # inside a JSON string a quote is always escaped, so this key can only be the result's own
            data = data.replace(b',"valuation":null,', b',"valuation":' + worksheet + b",", 1)
        write(separator)
        write(data)
        separator = b",\n"
        # what Summary.add counts, from the plain data
        counts["shipments"] += 1
        counts[result["verdict"]] += 1
        counts["waived"] += sum(f["waived"] for f in result["findings"])
        counts["errors"] += len(result["errors"])
    summary = Summary(**counts)
    # errors: inputs not screened (none here)
    write(f'\n],"errors":[],"summary":{summary.model_dump_json()}}}\n'.encode())
    return summary
