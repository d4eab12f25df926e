"""``--output junit``: one test suite per shipment, one test case per finding.

block → failure, warn → failure (type "warning"), waived → skipped with the waiver, info → passing case
with the message in system-out, plugin error → error. A shipment with no findings is one passing case.
"""

from xml.etree import ElementTree as ET

from ..models import ResultDocument


def render(document: ResultDocument) -> str:
    root = ET.Element("testsuites", name="fba-jp")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in document.results:
        suite = ET.SubElement(root, "testsuite", name=result.shipment_id)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in result.findings:
            counts["tests"] += 1
            case = ET.SubElement(
                suite, "testcase", classname=f"{result.shipment_id}.{f.plugin}", name=f.code + (f" [{f.sku}]" if f.sku else "")
            )
            text = "\n".join(x for x in (f.message, f.remedy and f"fix: {f.remedy}", f.reference and f"rule: {f.reference}") if x)
            if f.waived:
                counts["skipped"] += 1
                w = f.waiver or {}
                ET.SubElement(case, "skipped", message=f"waived by {w.get('by')}: {w.get('reason')}").text = text
            elif f.severity in ("block", "warn"):
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=f.message, type="blocked" if f.severity == "block" else "warning").text = text
            else:
                ET.SubElement(case, "system-out").text = text
        for e in result.errors:
            counts["tests"] += 1
            counts["errors"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"{result.shipment_id}.{e.plugin}", name=f"error {e.check or e.plugin}")
            ET.SubElement(case, "error", message=e.message, type="PLUGIN_ERROR").text = e.message
        if not result.findings and not result.errors:
            counts["tests"] += 1
            ET.SubElement(suite, "testcase", classname=result.shipment_id, name="cleared")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("verdict", result.verdict)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
