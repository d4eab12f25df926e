"""``--output table``: what a person reads in a terminal."""

from ..models import ResultDocument, ShipmentResult

LABEL = {"block": "BLOCK", "warn": "WARN ", "info": "info "}
VERDICT = {"blocked": "BLOCKED", "annotated": "ANNOTATED", "cleared": "CLEARED"}


def columns(header, rows) -> str:
    """``rows`` aligned in columns under ``header``: the terminal summaries of sync, demo and status."""
    cells = [tuple(str(x) for x in row) for row in (header, *rows)]
    widths = [max(len(x) for x in column) for column in zip(*cells)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip() for row in cells)


def yen(amount) -> str:
    return "unknown" if amount is None else f"¥{amount:,}"


def render_shipment(result: ShipmentResult) -> list[str]:
    lines = [f"{result.shipment_id}  {VERDICT[result.verdict]}  ({result.source})"]
    for f in result.findings:
        label = "WAIVED" if f.waived else LABEL[f.severity]
        sku = f" [{f.sku}]" if f.sku else ""
        lines.append(f"  {label} {f.code}{sku}: {f.message}")
        if f.waived and f.waiver:
            expires = f", expires {f.waiver.get('expires_on')}" if f.waiver.get("expires_on") else ""
            lines.append(f"         waived by {f.waiver.get('by')}: {f.waiver.get('reason')}{expires}")
        elif f.remedy and f.severity != "info":
            lines.append(f"         fix: {f.remedy}")
        if f.reference and f.severity != "info":
            lines.append(f"         rule: {f.reference}")
    for e in result.errors:
        lines.append(f"  ERROR {e.plugin}{'/' + e.check if e.check else ''}: {e.message}")
    v = result.valuation
    if v is not None:
        lines.append(
            f"  value {yen(v.customs_value_jpy)} · duty {yen(v.duty_jpy)} · consumption tax "
            f"{yen(None if v.national_consumption_tax_jpy is None else v.national_consumption_tax_jpy + (v.local_consumption_tax_jpy or 0))}"
            f" · total {yen(v.total_tax_jpy)}{'' if v.complete else ' (incomplete estimate)'}"
        )
    return lines


def render(document: ResultDocument) -> str:
    lines = []
    for result in document.results:
        lines.extend(render_shipment(result))
        lines.append("")
    s = document.summary
    lines.append(
        f"{s.shipments} shipment{'s' if s.shipments != 1 else ''}: {s.blocked} blocked, {s.annotated} annotated, "
        f"{s.cleared} cleared, {s.waived} waived finding{'s' if s.waived != 1 else ''}, "
        f"{s.errors} error{'s' if s.errors != 1 else ''}"
    )
    return "\n".join(lines) + "\n"
