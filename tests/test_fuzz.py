"""Generated declarations never produce a traceback: valid → a verdict, invalid → exit 3 with a field path."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fba_jp.errors import InputError
from fba_jp.inputs import parse_text
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.testing import declaration_data

LINE = re.compile(r"^shipment\.json: \S.*: .+$")  # a field path, then the message, on one line
PLUGINS = get_plugins(load_entrypoints=False)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["2026-12-07", "2026-02-30", "3304.99", "USD", "JPY", "-1", "1e400",
                                            "Amazon Japan G.K.", "DHL", "registered", "pending", "food", ""]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
TOP_KEYS = list(declaration_data()) + ["acp_id", "export_date", "licences", "filings", "freight", "bogus"]
ITEM_KEYS = ["msku", "quantity", "unit_value", "hs_code", "duty_rate", "categories", "title", "origin_country",
             "valuation", "pse", "reduced_tax_rate", "typo"]


@st.composite
def mutated_declarations(draw):
    data = declaration_data()
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            data[draw(st.sampled_from(TOP_KEYS))] = draw(values)
        elif isinstance(data.get("items"), list) and data["items"] and isinstance(data["items"][0], dict):
            data["items"][0][draw(st.sampled_from(ITEM_KEYS))] = draw(values)
    if draw(st.booleans()):
        data.pop(draw(st.sampled_from(TOP_KEYS)), None)
    return data


def check_one(text):
    try:
        declaration = parse_text(text, "shipment.json")
    except InputError as exc:
        assert exc.lines and all(LINE.match(line) for line in exc.lines), exc.lines
        return "invalid"
    result = Screener(PLUGINS).screen(declaration, "shipment.json")
    assert result.verdict in ("blocked", "annotated", "cleared")
    return result.verdict


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_declarations())
def test_mutated_declarations_never_crash(data):
    check_one(json.dumps(data, default=str))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    try:
        parse_text(text, "shipment.json")
    except InputError as exc:
        assert all(line.startswith("shipment.json: ") for line in exc.lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_declarations())
def test_cli_exit_codes_on_generated_input(run_cli, data):
    result = run_cli("gate", "-", "-o", "json", "--db", ":memory:", input=json.dumps(data, default=str))
    assert result.exit_code in (0, 1, 3)
    assert "Traceback" not in result.stderr
    if result.exit_code == 3:
        assert re.match(r"^<stdin>: \S.*: ", result.stderr), result.stderr
    else:
        assert json.loads(result.stdout)["summary"]["shipments"] == 1
