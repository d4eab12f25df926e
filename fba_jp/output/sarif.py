"""``--output sarif``: SARIF 2.1.0 for code-scanning dashboards.

block → error, warn → warning, info → note; waived findings keep their level and carry a suppression
with the waiver's justification; plugin errors are tool execution notifications.
"""

import json

from .. import __version__
from ..models import ResultDocument

LEVEL = {"block": "error", "warn": "warning", "info": "note"}


def render(document: ResultDocument, exit_code: int | None = None) -> str:
    rules: dict[str, dict] = {}
    results, notifications = [], []
    for result in document.results:
        location = {
            "physicalLocation": {"artifactLocation": {"uri": result.source}},
            "logicalLocations": [{"name": result.shipment_id, "kind": "shipment"}],
        }
        for f in result.findings:
            rules.setdefault(f.code, {"id": f.code, "shortDescription": {"text": f.code},
                                      "properties": {"reference": f.reference}})
            entry = {
                "ruleId": f.code,
                "level": LEVEL[f.severity],
                "message": {"text": f"{result.shipment_id}: {f.message}" + (f" Fix: {f.remedy}" if f.remedy else "")},
                "locations": [location],
                "properties": {"shipment_id": result.shipment_id, "sku": f.sku, "plugin": f.plugin,
                               "evidence": f.evidence, "verdict": result.verdict},
            }
            if f.waived:
                w = f.waiver or {}
                entry["suppressions"] = [{"kind": "external", "status": "accepted",
                                          "justification": f"waived by {w.get('by')}: {w.get('reason')}"}]
            results.append(entry)
        for e in result.errors:
            notifications.append({"level": "error", "message": {"text": f"{result.shipment_id}: {e.plugin}: {e.message}"}})
    s = document.summary
    invocation = {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications,
                  "properties": {"summary": s.model_dump()}}
    if exit_code is not None:
        invocation["exitCode"] = exit_code
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "fba-jp", "version": __version__, "rules": sorted(rules.values(), key=lambda r: r["id"])}},
            "invocations": [invocation],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
