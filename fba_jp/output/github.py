"""``--output github``: GitHub Actions workflow commands (annotations) plus a summary line."""

from ..models import ResultDocument

LEVEL = {"block": "error", "warn": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(document: ResultDocument) -> str:
    lines = []
    for result in document.results:
        file = f"file={_prop(result.source)}," if result.source and not result.source.startswith("<") else ""
        for f in result.findings:
            level = "notice" if f.waived else LEVEL[f.severity]
            title = f"{'WAIVED ' if f.waived else ''}{f.code} {result.shipment_id}{' ' + f.sku if f.sku else ''}"
            body = f.message + (f" Fix: {f.remedy}" if f.remedy and not f.waived else "")
            if f.waived and f.waiver:
                body += f" Waived by {f.waiver.get('by')}: {f.waiver.get('reason')}"
            lines.append(f"::{level} {file}title={_prop(title)}::{_data(body)}")
        for e in result.errors:
            lines.append(f"::error {file}title={_prop('PLUGIN_ERROR ' + result.shipment_id)}::{_data(e.plugin + ': ' + e.message)}")
    s = document.summary
    lines.append(
        f"fba-jp: {s.shipments} shipments, {s.blocked} blocked, {s.annotated} annotated, {s.cleared} cleared, "
        f"{s.waived} waived, {s.errors} errors"
    )
    return "\n".join(lines) + "\n"
