"""``--output table``: what a person reads in a terminal.

One row per shipment (shipment, account, verdict, the codes that decide it) and one per input that could
not be screened; ``-v`` adds each shipment's findings, blocks first, with each remedy printed once for all
the SKUs it covers. Every cell goes through :func:`fba_jp.output.escape.terminal`, so data can never send
control sequences, carriage returns or bidi overrides to the terminal.
"""

from __future__ import annotations

from ..models import Finding, ResultDocument, ScreeningError, ShipmentResult
from .escape import terminal

LABEL = {"block": "BLOCK", "warn": "WARN", "info": "info"}
VERDICT = {"blocked": "BLOCKED", "annotated": "ANNOTATED", "cleared": "CLEARED"}
ORDER = {"block": 0, "warn": 1, "info": 3}  # waived findings come between warnings and infos (2)


def columns(header, rows) -> str:
    """``rows`` aligned in columns under ``header``: the terminal summaries of gate, sync, demo and status."""
    cells = [tuple(terminal(str(x)) for x in row) for row in (header, *rows)]
    widths = [max(len(x) for x in column) for column in zip(*cells)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip() for row in cells)


def yen(amount) -> str:
    return "unknown" if amount is None else f"¥{amount:,}"


def unreported_errors(result: ShipmentResult) -> list[ScreeningError]:
    """Plugin errors not already shown by their ``PLUGIN_ERROR`` finding (the runner makes both)."""
    shown = {f.plugin for f in result.findings if f.code == "PLUGIN_ERROR"}
    return [e for e in result.errors if e.plugin not in shown]


def deciding_codes(result: ShipmentResult) -> str:
    """Blocking codes, then warnings, then waived ones, each once: what decided the verdict."""
    codes: dict[str, None] = {}
    for f in sorted(result.findings, key=_rank):
        if f.severity != "info" or f.code == "PLUGIN_ERROR":
            codes.setdefault(f"{f.code} (waived)" if f.waived else f.code)
    return ", ".join(codes) or "-"


def _rank(finding: Finding) -> int:
    return 2 if finding.waived else ORDER[finding.severity]


def shipment_details(result: ShipmentResult) -> list[str]:
    """The ``-v`` block of one shipment: findings grouped by code, each remedy once with the SKUs it covers."""
    lines = [terminal(f"{result.shipment_id}  {VERDICT[result.verdict]}  ({result.source})")]
    groups: dict[tuple, list[Finding]] = {}
    for f in sorted(result.findings, key=_rank):
        groups.setdefault((_rank(f), f.code), []).append(f)
    for (rank, code), findings in groups.items():
        first = findings[0]
        label = "WAIVED" if rank == 2 else LABEL[first.severity]
        lines.append(terminal(f"  {label} {code}"))
        for f in findings:
            sku = f"{f.sku}: " if f.sku and not f.message.startswith(f.sku) else ""
            lines.append("      " + terminal(sku + f.message))
        if rank == 2:
            for waiver in _once(f.waiver for f in findings if f.waiver):
                expires = f", expires {waiver.get('expires_on')}" if waiver.get("expires_on") else ""
                lines.append("      " + terminal(f"waived by {waiver.get('by')}: {waiver.get('reason')}{expires}"))
        elif rank < 2:
            for remedy, skus in _covering(findings, "remedy").items():
                lines.append("      " + terminal(f"fix{_for(skus, findings)}: {remedy}"))
            for reference in _covering(findings, "reference"):
                lines.append("      " + terminal(f"rule: {reference}"))
    for e in unreported_errors(result):
        lines.append("  " + terminal(f"ERROR {e.plugin}{'/' + e.check if e.check else ''}: {e.message}"))
    v = result.valuation
    if v is not None:
        tax = None if v.national_consumption_tax_jpy is None else v.national_consumption_tax_jpy + (v.local_consumption_tax_jpy or 0)
        lines.append(
            f"  value {yen(v.customs_value_jpy)} · duty {yen(v.duty_jpy)} · consumption tax {yen(tax)}"
            f" · total {yen(v.total_tax_jpy)}{'' if v.complete else ' (incomplete estimate)'}"
        )
    return lines


def _covering(findings: list[Finding], attribute: str) -> dict[str, list[str]]:
    """Each distinct remedy (or reference) of a code's findings, with the SKUs it applies to."""
    covered: dict[str, list[str]] = {}
    for f in findings:
        text = getattr(f, attribute)
        if text:
            covered.setdefault(text, [])
            if f.sku:
                covered[text].append(f.sku)
    return covered


def _for(skus: list[str], findings: list[Finding]) -> str:
    return f" ({', '.join(skus)})" if len(findings) > 1 and skus else ""


def _once(waivers):
    seen = []
    for waiver in waivers:
        if waiver not in seen:
            seen.append(waiver)
    return seen


def render(document: ResultDocument, verbose: bool = False) -> str:
    rows = [(r.shipment_id, r.account or "-", VERDICT[r.verdict], deciding_codes(r)) for r in document.results]
    rows += [(p.source, "-", "ERROR", f"{p.field}: {p.message}" if p.field else p.message) for p in document.errors]
    lines = [columns(("shipment", "account", "verdict", "codes"), rows)] if rows else []
    if verbose:
        for result in document.results:
            lines += ["", *shipment_details(result)]
    else:  # a check that could not run is never left to -v
        failed = [(r, f) for r in document.results for f in r.findings if f.code == "PLUGIN_ERROR"]
        failed += [(r, e) for r in document.results for e in unreported_errors(r)]
        if failed:
            lines += ["", *(terminal(f"{r.shipment_id}: {e.message}") for r, e in failed)]
    s = document.summary
    lines += [
        *([""] if lines else []),
        f"{s.shipments} shipment{'s' if s.shipments != 1 else ''}: {s.blocked} blocked, {s.annotated} annotated, "
        f"{s.cleared} cleared, {s.waived} waived finding{'s' if s.waived != 1 else ''}, "
        f"{s.errors} error{'s' if s.errors != 1 else ''}",
    ]
    if not verbose and any(r.findings for r in document.results):
        lines.append("(-v shows each finding, what to do about it and the rule)")
    return "\n".join(lines) + "\n"
