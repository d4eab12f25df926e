"""The report is made of the partials the dashboard renders too: same shipment, same findings, same steps."""

import re

from fba_jp.models import ShipmentResult
from fba_jp.report import render_html_report, template_environment

from conftest import EXAMPLES


def screened(run_cli, *names):
    import json

    doc = json.loads(run_cli("gate", *[EXAMPLES / n for n in names], "-o", "json").stdout)
    return [ShipmentResult.model_validate(r) for r in doc["results"]]


def test_report_is_built_from_the_shipment_partial(run_cli):
    results = screened(run_cli, "kyoto-cosmetics-blocked.json", "sakura-cleared.json")
    html = render_html_report(results)
    env = template_environment()
    for result in results:
        section = env.get_template("partials/shipment.html").render(r=result)
        assert section in html
        # the index links every shipment to its section
        assert f'<a href="#{result.shipment_id}">{result.shipment_id}</a>' in html
    # rounding steps are there, collapsed (an ACP opens them; print shows them)
    assert "Rounding steps" in html and "<details open" not in html
    blocked = next(r for r in results if r.verdict == "blocked")
    row = re.search(r'<tr class="shipment-row v-blocked">.*?</tr>', html, re.S).group(0)
    assert blocked.shipment_id in row and "COS_NO_MANUFACTURING_LICENCE" in row


def test_history_partial_shows_verdict_changes_and_inputs():
    env = template_environment()
    history = [
        {"screening_id": 2, "screened_at": "2026-12-02T09:00:00+00:00", "verdict": "cleared",
         "previous_verdict": "blocked", "input_sha256": "b" * 64, "input_changed": False,
         "waivers": [{"code": "ACP_PENDING", "by": "kenji", "reason": "accepted by <phone>", "expires_on": None}]},
        {"screening_id": 1, "screened_at": "2026-12-01T09:00:00+00:00", "verdict": "blocked",
         "previous_verdict": None, "input_sha256": "a" * 64, "input_changed": False, "waivers": []},
    ]
    html = env.get_template("partials/history.html").render(history=history)
    assert "blocked → cleared" in html and "first screening" in html
    assert 'title="' + "b" * 64 + '"' in html
    assert "accepted by &lt;phone&gt;" in html  # escaped
