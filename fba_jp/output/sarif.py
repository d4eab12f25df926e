"""``--output sarif``: SARIF 2.1.0 for code-scanning dashboards.

block → error, warn → warning, info → note; waived findings keep their level and carry a suppression
with the waiver's justification. Every rule has a full description and a ``helpUri`` into
``docs/codes.md`` (built-in codes) or the description its plugin declared. Inputs that could not be
screened and checks that failed are tool execution notifications, and make ``executionSuccessful`` false.
"""

import json

from .. import __version__
from ..codes import CODES, HOME_URL, help_uri
from ..models import ResultDocument
from .escape import artifact_uri

LEVEL = {"block": "error", "warn": "warning", "info": "note"}
NOTIFICATIONS = ("INPUT_INVALID", "PLUGIN_ERROR")


def _location(source: str, shipment_id: str | None = None) -> dict:
    location: dict = {}
    uri = artifact_uri(source)
    if uri is not None:
        location["physicalLocation"] = {"artifactLocation": {"uri": uri}}
    if shipment_id is not None:
        location["logicalLocations"] = [{"name": shipment_id, "kind": "shipment"}]
    return location


def _descriptor(code: str, description: str | None, reference: str = "", remedy: str = "") -> dict:
    known = CODES.get(code)
    text = description or (known.description if known else f"{code}: a finding of an fba-jp plugin.")
    descriptor = {
        "id": code,
        "shortDescription": {"text": text},
        "fullDescription": {"text": text + (f" Rule: {reference}." if reference else "")},
    }
    if known:
        descriptor["defaultConfiguration"] = {"level": LEVEL[known.severity]}
    if help_uri(code):
        descriptor["helpUri"] = help_uri(code)
    if remedy:
        descriptor["help"] = {"text": remedy}
    if reference:
        descriptor["properties"] = {"reference": reference}
    return descriptor


def render(document: ResultDocument, exit_code: int | None = None, descriptions: dict[str, str] | None = None) -> str:
    descriptions = descriptions or {}
    rules: dict[str, dict] = {}
    seen: dict[str, tuple[str, str]] = {}
    results, notifications = [], []
    for result in document.results:
        location = _location(result.source, result.shipment_id)
        for f in result.findings:
            if f.code not in rules:
                rules[f.code] = _descriptor(f.code, descriptions.get(f.code), f.reference, f.remedy)
                seen[f.code] = (f.reference, f.remedy)
            elif seen[f.code] != (f.reference, f.remedy):
                # one code, several rules (REG_POSSIBLY_REGULATED of each regime): the rule cannot speak for
                # all of them, so each result carries its own fix and rule
                rules[f.code] = _descriptor(f.code, descriptions.get(f.code))
            entry = {
                "ruleId": f.code,
                "level": LEVEL[f.severity],
                "message": {"text": f"{result.shipment_id}: {f.message}" + (f" Fix: {f.remedy}" if f.remedy else "")
                                    + (f" Rule: {f.reference}" if f.reference else "")},
                "locations": [location],
                "properties": {"shipment_id": result.shipment_id, "sku": f.sku, "plugin": f.plugin,
                               "evidence": f.evidence, "verdict": result.verdict, "reference": f.reference},
            }
            if f.waived:
                w = f.waiver or {}
                entry["suppressions"] = [{"kind": "external", "status": "accepted",
                                          "justification": f"waived by {w.get('by')}: {w.get('reason')}"}]
            results.append(entry)
        for e in result.errors:
            notifications.append({
                "level": "error",
                "message": {"text": f"{result.shipment_id}: {e.plugin}{'/' + e.check if e.check else ''}: {e.message}"},
                "descriptor": {"id": "PLUGIN_ERROR"},
                "locations": [location],
            })
    for problem in document.errors:
        notification = {"level": "error", "message": {"text": problem.line}, "descriptor": {"id": "INPUT_INVALID"}}
        location = _location(problem.source)
        if location:
            notification["locations"] = [location]
        notifications.append(notification)
    s = document.summary
    invocation = {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications,
                  "properties": {"summary": s.model_dump()}}
    if exit_code is not None:
        invocation["exitCode"] = exit_code
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fba-jp", "version": __version__, "informationUri": HOME_URL,
                "rules": sorted(rules.values(), key=lambda r: r["id"]),
                "notifications": [_descriptor(code, None) for code in NOTIFICATIONS],
            }},
            "invocations": [invocation],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
