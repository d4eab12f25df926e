"""Property-based fuzzing. Generated declarations never produce a traceback (valid → a verdict, invalid →
exit 3 with a field path, quickly, whatever the numbers or nesting); a listed name disguised with invisible,
combining or look-alike characters is still the same entity, and the gate never clears it; every output
format escapes hostile text for its own medium (XML, terminal, workflow commands, URIs).

The example counts are a small fixed budget for CI. ``scripts/stress`` multiplies them
(``FBA_JP_FUZZ_SCALE``) for a long local run.
"""

import json
import os
import re
import tomllib
import unicodedata
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fba_jp.errors import InputError
from fba_jp.inputs import parse_text
from fba_jp.plugin_manager import get_plugins
from fba_jp.runner import Screener
from fba_jp.testing import declaration_data

LINE = re.compile(r"^shipment\.json: \S.*: .+$")  # a field path, then the message, on one line
PLUGINS = get_plugins(load_entrypoints=False)
SCALE = float(os.environ.get("FBA_JP_FUZZ_SCALE", "1"))


def budget(examples: int) -> int:
    """The CI example count, scaled by ``FBA_JP_FUZZ_SCALE`` (``scripts/stress``)."""
    return max(1, int(examples * SCALE))


# numbers that pass a schema and then break code: huge or tiny exponents, 9.2e18 yen, inf, nan, many digits
awkward_numbers = st.sampled_from([
    "1e1000000", "1E+999999999", "1e-1000000", "9300000000000000000", "-0", "0.0000000000001", "1e12", "1e13",
    "10000001", "1" * 300, "inf", "-inf", "nan", "NaN", "Infinity", "1_000", " 12.5 ", "0x10", "1e", "",
]) | st.decimals(allow_nan=True, allow_infinity=True).map(str) | st.integers(-10**30, 10**30)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["2026-12-07", "2026-02-30", "3304.99", "USD", "JPY", "-1", "1e400",
                                            "Amazon Japan G.K.", "DHL", "registered", "pending", "food", ""]),
)
scalars = scalars | awkward_numbers
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
    given = declaration.canonical_json()
    result = Screener(PLUGINS).screen(declaration, "shipment.json")
    assert result.verdict in ("blocked", "annotated", "cleared")
    # the built-in plugins never change what they are handed: the screener trusts them not to (watch_input)
    assert declaration.canonical_json() == given
    return result.verdict


@settings(max_examples=budget(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_declarations())
def test_mutated_declarations_never_crash(data):
    check_one(json.dumps(data, default=str))


@settings(max_examples=budget(300), deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    try:
        parse_text(text, "shipment.json")
    except InputError as exc:
        assert all(line.startswith("shipment.json: ") for line in exc.lines)


@settings(max_examples=budget(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_declarations())
def test_cli_exit_codes_on_generated_input(run_cli, data):
    result = run_cli("gate", "-", "-o", "json", "--db", ":memory:", input=json.dumps(data, default=str))
    assert result.exit_code in (0, 1, 3)
    assert "Traceback" not in result.stderr
    if result.exit_code == 3:
        assert re.match(r"^<stdin>: \S.*: ", result.stderr), result.stderr
    else:
        assert json.loads(result.stdout)["summary"]["shipments"] == 1


# --------------------------------------------------------------------------- numbers and nesting in TOML

TOML_TEMPLATE = """schema = "fba-jp/shipment/v1"
shipment_id = "FBA15FUZZ"
currency = "USD"
seller = {{ name = "Acme Trading LLC" }}
freight = {freight}
fx_rates = {{ USD = {rate} }}
[[items]]
msku = "A"
quantity = {quantity}
unit_value = {value}
{extra}
"""
toml_numbers = st.sampled_from(["inf", "-inf", "nan", "+nan", "1e1000000", "1e-1000000", "9_300_000_000_000_000_000",
                                "1e7", "10000001", "0", "1", "38.50", "0.1e1", "1" * 5000, '"1e400"', '"12.50"'])


@settings(max_examples=budget(300), deadline=None)
@given(toml_numbers, toml_numbers, toml_numbers, toml_numbers, st.integers(0, 60))
def test_toml_numbers_and_nesting_give_a_verdict_or_one_line_per_problem(freight, rate, quantity, value, depth):
    extra = f"notes = {'[' * depth}{']' * depth}" if depth else ""
    text = TOML_TEMPLATE.format(freight=freight, rate=rate, quantity=quantity, value=value, extra=extra)
    try:
        declaration = parse_text(text, "shipment.toml", "toml")
    except InputError as exc:
        assert exc.lines and all(line.startswith("shipment.toml: ") and "\n" not in line for line in exc.lines)
        return
    assert Screener(PLUGINS).screen(declaration, "shipment.toml").verdict in ("blocked", "annotated", "cleared")


# --------------------------------------------------------------------------- names in disguise


def _listed(filename: str) -> list[str]:
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    return [name for e in data["entities"] for name in [e["name"], *e.get("aliases", [])]]


AMAZON = _listed("amazon_entities.toml")
CARRIERS = _listed("carriers.toml")
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u202a", "\u202c", "\ufe0f"]
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0303", "\u0323"]


# Look-alikes whose NFKC/case folding would land in another confusable class: the lunate sigmas ϲ Ϲ fold
# to σ (→ "o"), the long s ſ is NFKC "s" (TR39: "f"), ͺ is NFKC a space and a mark. Found by this test;
# names.py now keeps their TR39 prototype (test below).


def _look_alikes() -> dict[str, list[str]]:
    """ASCII letter → non-ASCII characters of the same case whose TR39 prototype it is (Cyrillic а for a…)."""
    from fba_jp.names import _prototypes

    alikes: dict[str, list[str]] = {}
    for source, prototype in _prototypes().items():
        if len(prototype) == 1 and prototype.isascii() and prototype.isalpha() and not source.isascii():
            if source.isupper() == prototype.isupper() and unicodedata.category(source).startswith("L"):
                alikes.setdefault(prototype, []).append(source)
    return alikes


LOOK_ALIKES = _look_alikes()


@st.composite
def disguised(draw, names):
    """A listed name with invisible characters, combining marks, look-alike letters and full-width forms."""
    original = draw(st.sampled_from(names))
    out = []
    for char in original:
        roll = draw(st.integers(0, 9))
        if roll == 0 and char in LOOK_ALIKES:
            char = draw(st.sampled_from(LOOK_ALIKES[char]))
        elif roll == 1 and char.isascii() and char.isalpha():
            char += draw(st.sampled_from(COMBINING))
        elif roll == 2 and "!" <= char <= "~":
            char = chr(ord(char) + 0xFEE0)  # full-width form: NFKC folds it back
        out.append(char)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
    return original, "".join(out)


@settings(max_examples=budget(200), deadline=None)
@given(st.sampled_from(["amazon_entities.toml", "carriers.toml"]).flatmap(
    lambda f: st.tuples(st.just(f), disguised(AMAZON if f.startswith("amazon") else CARRIERS))))
def test_a_disguised_listed_name_is_still_the_same_entity(case):
    from fba_jp.names import load_name_list

    filename, (original, disguise) = case
    names = load_name_list(filename)
    listed = names.match(original)
    assert listed is not None, original
    found = names.match(disguise)
    assert found is not None and found.name == listed.name, (original, disguise, [hex(ord(c)) for c in disguise])


@settings(max_examples=budget(40), deadline=None)
@given(disguised(AMAZON))
def test_a_disguised_amazon_consignee_never_clears(case):
    _, disguise = case
    declaration = parse_text(json.dumps(declaration_data(consignee={"name": disguise})), "shipment.json")
    result = Screener(PLUGINS).screen(declaration, "shipment.json")
    assert result.verdict == "blocked" and "CONSIGNEE_AMAZON" in [f.code for f in result.findings], disguise


@pytest.mark.parametrize("name", ["Amazon.com, In\u03f2.", "\u03f9ainiao", "\u017flexport"])
def test_a_look_alike_that_case_folding_moves_is_still_caught(name):
    from fba_jp.names import load_name_list

    listed = load_name_list("amazon_entities.toml" if "mazon" in name else "carriers.toml")
    assert listed.match(name) is not None


# --------------------------------------------------------------------------- every output format, hostile text

# the characters each medium must not carry raw, and text that tries to start a line of its own
HOSTILE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20) | st.sampled_from([
    "\x1b[2J\x1b]0;owned\x07", "\x00", "\x07", "\r", "\u202e", "\u2066", "\u2028", "\ufffe", "\x85", "%0A",
    "\n::warning::INJECTED", "\r\n::error file=x::INJECTED", "]]><!--", "</testcase>", "&amp;", "a b?#%",
])
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]")
URI_REFERENCE = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


@st.composite
def hostile_documents(draw):
    from fba_jp.models import Finding, InputProblem, ResultDocument, ShipmentResult, Summary

    text = lambda: "".join(draw(st.lists(HOSTILE, max_size=3)))  # noqa: E731
    findings = [Finding(code=draw(st.sampled_from(["IOR_AMAZON", "VAL_FALLBACK", "ACP_REGISTERED", "MY_CHECK"])),
                        severity=draw(st.sampled_from(["block", "warn", "info"])), message=text(), remedy=text(),
                        sku=text() or None, evidence=text() or None, plugin=text() or "p",
                        waived=draw(st.booleans()), waiver={"by": text(), "reason": text()})
                for _ in range(draw(st.integers(1, 3)))]
    result = ShipmentResult(shipment_id="FBA" + draw(st.text("ABC123", max_size=5)), source=text() or "x.json",
                            verdict=draw(st.sampled_from(["blocked", "annotated", "cleared"])), input_sha256="0" * 64,
                            findings=findings, errors=[], valuation=None, account=text() or None)
    problems = [InputProblem(source=text() or "bad.json", field=text() or None, message=text() or "bad")
                for _ in range(draw(st.integers(0, 2)))]
    return ResultDocument(results=[result], errors=problems, summary=Summary.of([result]))


@settings(max_examples=budget(150), deadline=None)
@given(hostile_documents())
def test_every_output_format_escapes_hostile_text_for_its_own_medium(document):
    import xml.etree.ElementTree as ET

    from fba_jp.output import BUILTIN_FORMATS

    rendered = {name: render(document) for name, render in BUILTIN_FORMATS.items()}
    assert json.loads(rendered["json"])["results"][0]["findings"][0]["message"] == document.results[0].findings[0].message
    ET.fromstring(rendered["junit"])  # well-formed XML 1.0, whatever the text held
    for line in rendered["table"].splitlines():
        assert not TERMINAL_UNSAFE.search(line), repr(line)
    for line in rendered["github"].split("\n"):
        assert "\r" not in line and not line.startswith(("::warning::INJECTED", "::error file=x::INJECTED")), repr(line)
        assert line.startswith(("::error ", "::warning ", "::notice ", "fba-jp: ")) or line == "", repr(line)
    sarif = json.loads(rendered["sarif"])
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
            for loc in r.get("locations", []) if "physicalLocation" in loc]
    assert all(URI_REFERENCE.match(uri) for uri in uris), uris
