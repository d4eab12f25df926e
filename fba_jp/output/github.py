"""``--output github``: GitHub Actions workflow commands (annotations) plus a summary line.

A workflow command ends at a newline, so every value is escaped as the runner expects (``%``, CR, LF;
also ``:`` and ``,`` in properties) after control characters are made visible: data can never start a
command line of its own.
"""

from ..models import ResultDocument
from .escape import terminal
from .table import unreported_errors

LEVEL = {"block": "error", "warn": "warning", "info": "notice"}


def _data(text: str) -> str:
    return terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _file(source: str) -> str:
    return f"file={_prop(source)}," if source and not source.startswith(("<", "spapi:")) else ""


def render(document: ResultDocument) -> str:
    lines = []
    for result in document.results:
        file = _file(result.source)
        for f in result.findings:
            level = "notice" if f.waived else LEVEL[f.severity]
            title = f"{'WAIVED ' if f.waived else ''}{f.code} {result.shipment_id}{' ' + f.sku if f.sku else ''}"
            body = f.message + (f" Fix: {f.remedy}" if f.remedy and not f.waived else "") + (
                f" Rule: {f.reference}" if f.reference else "")
            if f.waived and f.waiver:
                body += f" Waived by {f.waiver.get('by')}: {f.waiver.get('reason')}"
            lines.append(f"::{level} {file}title={_prop(title)}::{_data(body)}")
        for e in unreported_errors(result):
            lines.append(f"::error {file}title={_prop('PLUGIN_ERROR ' + result.shipment_id)}::{_data(e.plugin + ': ' + e.message)}")
    for problem in document.errors:
        where = f"{problem.field}: " if problem.field else ""
        lines.append(f"::error {_file(problem.source)}title={_prop('INPUT_INVALID ' + problem.source)}::{_data(where + problem.message)}")
    s = document.summary
    lines.append(
        f"fba-jp: {s.shipments} shipments, {s.blocked} blocked, {s.annotated} annotated, {s.cleared} cleared, "
        f"{s.waived} waived, {s.errors} errors"
    )
    return "\n".join(lines) + "\n"

