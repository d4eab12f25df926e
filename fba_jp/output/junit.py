"""``--output junit``: one test suite per shipment, one test case per finding.

block → failure, warn → failure (type "warning"), waived → skipped with the waiver, info → passing case
with the message in system-out, a check that failed (``PLUGIN_ERROR``) → error. A shipment with no
findings is one passing case. Each input that could not be screened is a suite of its own with one error
case per problem. Text is made valid XML 1.0 first: control characters become visible escapes.
"""

from xml.etree import ElementTree as ET

from ..models import ResultDocument
from .escape import xml
from .table import unreported_errors


def _element(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: xml(value) for key, value in attributes.items()})
    if text is not None:
        element.text = xml(text)
    return element


def render(document: ResultDocument) -> str:
    root = ET.Element("testsuites", name="fba-jp")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def finish(suite, counts, **attributes):
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        for key, value in attributes.items():
            suite.set(key, xml(value))

    for result in document.results:
        suite = _element(root, "testsuite", name=result.shipment_id)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in result.findings:
            counts["tests"] += 1
            case = _element(suite, "testcase", classname=f"{result.shipment_id}.{f.plugin}",
                            name=f.code + (f" [{f.sku}]" if f.sku else ""))
            text = "\n".join(x for x in (f.message, f.remedy and f"fix: {f.remedy}", f.reference and f"rule: {f.reference}") if x)
            if f.waived:
                counts["skipped"] += 1
                w = f.waiver or {}
                _element(case, "skipped", text, message=f"waived by {w.get('by')}: {w.get('reason')}")
            elif f.code == "PLUGIN_ERROR":
                counts["errors"] += 1
                _element(case, "error", text, message=f.message, type="PLUGIN_ERROR")
            elif f.severity in ("block", "warn"):
                counts["failures"] += 1
                _element(case, "failure", text, message=f.message, type="blocked" if f.severity == "block" else "warning")
            else:
                _element(case, "system-out", text)
        for e in unreported_errors(result):
            counts["tests"] += 1
            counts["errors"] += 1
            case = _element(suite, "testcase", classname=f"{result.shipment_id}.{e.plugin}", name=f"error {e.check or e.plugin}")
            _element(case, "error", e.message, message=e.message, type="PLUGIN_ERROR")
        if not result.findings and not result.errors:
            counts["tests"] += 1
            _element(suite, "testcase", classname=result.shipment_id, name="cleared")
        finish(suite, counts, verdict=result.verdict)
    suites = {}
    for problem in document.errors:
        if problem.source not in suites:
            suites[problem.source] = (_element(root, "testsuite", name=problem.source), {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        suite, counts = suites[problem.source]
        counts["tests"] += 1
        counts["errors"] += 1
        case = _element(suite, "testcase", classname=problem.source, name=f"read {problem.field or problem.source}")
        _element(case, "error", problem.line, message=problem.line, type="INPUT_INVALID")
    for suite, counts in suites.values():
        finish(suite, counts, verdict="error")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
