"""The gate in CI and at the terminal: every format carries every input error and every check that could not
run; one bad file never hides the batch; each output medium is escaped for itself."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fba_jp.codes import CODES
from fba_jp.testing import declaration_data

FORMATS = ("table", "json", "junit", "sarif", "github")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def plugin_dir(tmp_path):
    """A --plugins-dir with a check that raises on shipment BOOM and one that echoes hostile text."""
    directory = tmp_path / "p"
    directory.mkdir()
    (directory / "boom.py").write_text(
        "from fba_jp import Finding, hookimpl\n"
        "@hookimpl\ndef register_checks(register):\n"
        "    register(boom, codes=['HOSTILE'])\n"
        "def boom(shipment):\n"
        "    if shipment.shipment_id == 'BOOM':\n        raise ValueError('kaboom')\n"
        "    if shipment.shipment_id == 'HOSTILE':\n"
        "        yield Finding(code='HOSTILE', severity='block', sku='S\\x1b[2J', remedy='fix\\u202eit',\n"
        "                      message='NUL\\x00 BEL\\x07 OSC\\x1b]0;owned\\x07 CSI\\x1b[31m CR\\r RLO\\u202e NL\\n::error::injected')\n"
    )
    return directory


def gate(run_cli, *args):
    return run_cli("gate", *[str(a) for a in args])


def test_one_bad_file_is_an_error_entry_in_every_format_and_the_rest_is_screened(run_cli, write_declaration):
    write_declaration(declaration_data(shipment_id="GOOD1"), "good.json")
    write_declaration({**declaration_data(shipment_id="BAD1"), "items": [{"msku": "X", "quantity": -3}]}, "bad.json")
    # what a shell passes on when a glob matches nothing: must not look like a clean run
    files = ("good.json", "bad.json", "shipments/*.json")
    out = {}
    for fmt in FORMATS:
        result = gate(run_cli, *files, "-o", fmt)
        assert result.exit_code == 3, (fmt, result.stderr)
        out[fmt] = result.stdout
    assert run_cli("gate", *files, "-o", "json").stderr.splitlines() == [
        "bad.json: items[0].quantity: must be a positive integer (got -3)", "shipments/*.json: file not found"]

    doc = json.loads(out["json"])
    assert [r["shipment_id"] for r in doc["results"]] == ["GOOD1"]
    assert doc["errors"] == [
        {"source": "bad.json", "field": "items[0].quantity", "message": "must be a positive integer (got -3)"},
        {"source": "shipments/*.json", "field": None, "message": "file not found"},
    ]
    assert doc["summary"]["errors"] == 2 and doc["summary"]["input_errors"] == 2

    run = json.loads(out["sarif"])["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 3
    notes = invocation["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == ["bad.json", "shipments/%2A.json"]
    assert {n["descriptor"]["id"] for n in notes} == {"INPUT_INVALID"} and "items[0].quantity" in notes[0]["message"]["text"]
    assert {d["id"] for d in run["tool"]["driver"]["notifications"]} == {"INPUT_INVALID", "PLUGIN_ERROR"}

    junit = ET.fromstring(out["junit"])
    assert junit.get("errors") == "2"
    bad = junit.find("testsuite[@name='bad.json']")
    assert bad.get("errors") == "1" and "items[0].quantity" in bad.find("testcase/error").get("message")

    assert "::error file=bad.json,title=INPUT_INVALID bad.json::items[0].quantity: must be a positive integer (got -3)" \
        in out["github"].splitlines()
    assert "::error file=shipments/*.json,title=INPUT_INVALID shipments/*.json::file not found" in out["github"].splitlines()

    rows = out["table"].splitlines()
    assert any(re.fullmatch(r"bad\.json\s+-\s+ERROR\s+items\[0\]\.quantity: must be a positive integer \(got -3\)", r) for r in rows)
    assert any(r.startswith("GOOD1 ") for r in rows) and "2 errors" in out["table"]


def test_a_file_whose_screening_crashes_is_its_error_and_the_others_are_reported(run_cli, write_declaration, monkeypatch):
    from fba_jp.runner import Screener

    screen = Screener.screen

    def crash_on_one(self, declaration, source, account=None):
        if declaration.shipment_id == "CRASH":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return screen(self, declaration, source, account)

    monkeypatch.setattr(Screener, "screen", crash_on_one)
    write_declaration(declaration_data(shipment_id="CRASH"), "crash.json")
    write_declaration(declaration_data(shipment_id="AFTER"), "after.json")
    result = gate(run_cli, "crash.json", "after.json", "-o", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 3 and [r["shipment_id"] for r in doc["results"]] == ["AFTER"]
    assert doc["errors"][0]["source"] == "crash.json" and "internal error: OverflowError" in doc["errors"][0]["message"]
    assert "Traceback" not in result.stderr
    debug = run_cli("--debug", "gate", "crash.json", "after.json", "-o", "json")
    assert "Traceback" in debug.stderr and "OverflowError" in debug.stderr


def test_a_database_failure_stops_the_batch_but_reports_what_was_screened(run_cli, write_declaration, monkeypatch):
    from fba_jp.errors import StoreError
    from fba_jp.store import Store

    record = Store.record_screening

    def fail_second(self, result, *args, **kwargs):
        if result.shipment_id == "TWO":
            raise StoreError(f"{self.path}: the database is locked; nothing was saved")
        return record(self, result, *args, **kwargs)

    monkeypatch.setattr(Store, "record_screening", fail_second)
    for name in ("ONE", "TWO", "THREE"):
        write_declaration(declaration_data(shipment_id=name), f"{name}.json")
    doc = json.loads(gate(run_cli, "ONE.json", "TWO.json", "THREE.json", "-o", "json").stdout)
    assert [r["shipment_id"] for r in doc["results"]] == ["ONE"]
    assert [e["source"] for e in doc["errors"]] == ["TWO.json", "THREE.json"]
    assert "database is locked" in doc["errors"][0]["message"] and "not screened" in doc["errors"][1]["message"]


def test_a_check_that_raises_exits_3_blocks_its_shipment_and_is_printed_once(run_cli, write_declaration, plugin_dir):
    write_declaration(declaration_data(shipment_id="BOOM"), "boom.json")
    write_declaration(declaration_data(shipment_id="FINE"), "fine.json")
    outputs = {}
    for fmt in FORMATS:
        for verbose in ((), ("-v",)):
            result = gate(run_cli, "boom.json", "fine.json", "--plugins-dir", plugin_dir, "-o", fmt, *verbose)
            assert result.exit_code == 3, fmt
            outputs[fmt, bool(verbose)] = result.stdout
    assert json.loads(outputs["json", False])["results"][0]["verdict"] == "blocked"
    for key in (("table", False), ("table", True), ("github", False)):
        assert outputs[key].count("kaboom") == 1, key
    junit = ET.fromstring(outputs["junit", False])
    assert junit.get("errors") == "1" and len(junit.findall(".//error")) == 1
    debug = run_cli("--debug", "gate", "boom.json", "--plugins-dir", plugin_dir, "-o", "json")
    assert "Traceback" in debug.stderr and "ValueError: kaboom" in debug.stderr


def test_debug_after_the_command_shows_a_crashing_checks_traceback(write_declaration, plugin_dir, capsys):
    from fba_jp.cli import main

    path = write_declaration(declaration_data(shipment_id="BOOM"), "boom.json")
    with pytest.raises(SystemExit) as exit:
        main(["gate", str(path), "--plugins-dir", str(plugin_dir), "--output", "json", "--debug"])
    assert exit.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: kaboom" in err and "check 'boom' of plugin" in err


def test_a_code_the_check_did_not_declare_is_a_plugin_error():
    from fba_jp import Finding, hookimpl
    from fba_jp.testing import make_declaration, screen

    class Sloppy:
        @hookimpl
        def register_checks(self, register):
            register(lambda shipment: [Finding(code="DG_LITHUM", severity="warn", message="typo")], name="sloppy",
                     codes=["DG_LITHIUM"])

    result = screen(make_declaration(), plugins=[Sloppy()])
    assert result.verdict == "blocked" and "DG_LITHUM" not in result.codes
    assert "'DG_LITHUM', which it did not declare" in result.finding("PLUGIN_ERROR").message


def test_control_characters_never_reach_the_terminal_xml_or_workflow_commands(run_cli, write_declaration, plugin_dir):
    name = "ship\x1b[2J\u202ement.json"
    write_declaration(declaration_data(shipment_id="HOSTILE"), name)
    forged = "x\n::error::forged.json"  # a missing file whose name would start a workflow command
    hostile = ("\x00", "\x07", "\x1b", "\r", "\u202e")
    for fmt in FORMATS:
        for verbose in ((), ("-v",)):
            result = gate(run_cli, name, forged, "--plugins-dir", plugin_dir, "-o", fmt, *verbose)
            assert result.exit_code == 3, fmt
            assert not any(line.startswith("::") for line in result.stderr.splitlines()), result.stderr
            out = result.stdout
            if fmt == "table":
                assert not any(c in out for c in hostile), repr(out)
                assert re.search(r"x\\n::error::forged\.json +- +ERROR +file not found", out), out
                if verbose:
                    assert "OSC\\x1b]0;owned\\x07" in out and "RLO\\u202e" in out and "NL\\n::error" in out
            if fmt == "junit":
                ET.fromstring(out)  # well-formed XML 1.0
                assert "\\x00" in out and "\\x1b" in out
            if fmt == "github":
                lines = out.splitlines()
                assert all(line.startswith(("::error ", "::warning ", "::notice ", "fba-jp: ")) for line in lines), lines
                assert not any(c in out for c in hostile)
            if fmt == "sarif":
                run = json.loads(out)["runs"][0]
                uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r["locations"]}
                assert uris == {"ship%1B%5B2J%E2%80%AEment.json"}
                notes = run["invocations"][0]["toolExecutionNotifications"]
                assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "x%0A%3A%3Aerror%3A%3Aforged.json"


def test_sarif_rules_have_a_full_description_and_a_help_uri_into_the_docs(run_cli, plugin_dir, write_declaration):
    (plugin_dir / "described.py").write_text(
        "from fba_jp import Finding, hookimpl\n"
        "@hookimpl\ndef register_checks(register):\n"
        "    register(tag, codes={'ACME_TAG': 'Every shipment is tagged, to show the description.'})\n"
        "def tag(shipment):\n    yield Finding(code='ACME_TAG', severity='info', message='tagged')\n"
    )
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.json"))
    run = json.loads(gate(run_cli, *examples, "--plugins-dir", plugin_dir, "-o", "sarif").stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    docs = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    anchors = {heading.lower() for heading in re.findall(r"^### ([A-Z0-9_]+)$", docs, flags=re.M)}
    assert len(rules) > 10
    for code, rule in rules.items():
        assert rule["fullDescription"]["text"] and rule["shortDescription"]["text"] != code, code
        if code == "ACME_TAG":
            assert rule["shortDescription"]["text"] == "Every shipment is tagged, to show the description."
            continue
        uri, anchor = rule["helpUri"].split("#")
        assert uri.endswith("/docs/codes.md") and anchor in anchors, code
        assert rule["defaultConfiguration"]["level"] == {"block": "error", "warn": "warning", "info": "note"}[CODES[code].severity]


def test_table_is_one_row_per_shipment_and_v_prints_each_remedy_once(run_cli):
    kyoto = ROOT / "examples" / "kyoto-cosmetics-blocked.json"
    sakura = ROOT / "examples" / "sakura-cleared.json"
    short = gate(run_cli, kyoto, sakura, "-o", "table").stdout.splitlines()
    assert re.fullmatch(r"shipment\s+account\s+verdict\s+codes", short[0])
    # blocking codes first, then warnings; each once although three SKUs share them
    assert re.fullmatch(r"FBA17KYOTO01\s+-\s+BLOCKED\s+LICENCE_EXPIRED, COS_\w+, COS_NO_NOTIFICATION, VAL_FALLBACK, "
                        r"VAL_DUTY_RATE_UNKNOWN", short[1])
    assert re.fullmatch(r"FBA15SAKURA3\s+-\s+CLEARED\s+-", short[2])
    assert not any("VAL_METHOD" in line or "fix" in line for line in short)
    verbose = gate(run_cli, kyoto, "-o", "table", "-v").stdout
    assert verbose.count("Renew it (or obtain a new one)") == 1
    assert "fix (RICE-SERUM-30, CAMELLIA-SHAMPOO-500, MATCHA-MASK-100): Renew it" in verbose
    assert "VAL_METHOD" in verbose and verbose.index("BLOCK LICENCE_EXPIRED") < verbose.index("info VAL_METHOD")


def test_gate_says_where_the_database_is(run_cli, write_declaration, monkeypatch):
    path = write_declaration(declaration_data())
    assert "recorded" not in gate(run_cli, path, "-o", "json").stderr  # not a terminal: stderr stays quiet
    monkeypatch.setattr("fba_jp.cli.screening.on_terminal", lambda stream=None: True)
    result = gate(run_cli, path, "-o", "json", "--db", "audit.db")
    assert result.stderr.strip() == f"recorded 1 screening in {Path('audit.db').resolve()}"
    assert "default: [storage] path in the config, else ./fba_jp.db" in " ".join(run_cli("gate", "--help").stdout.split())


@pytest.mark.parametrize("command", [
    ("report",), ("status",), ("release", "FBA1", "--code", "ACP_MISSING", "--reason", "r", "--by", "b"),
    ("acp", "list"), ("rates", "list"),
])
def test_reading_a_database_that_does_not_exist_fails_and_creates_nothing(run_cli, command):
    result = run_cli(*command, "--db", "missing.db")
    assert result.exit_code == 3 and result.stderr == (
        "fba-jp: missing.db: no such database; screen shipments first (fba-jp gate, fba-jp run) or pass --db PATH\n")
    assert not Path("missing.db").exists()


def test_an_account_that_matches_nothing_is_an_error(run_cli, write_declaration, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "acme"\nseller = {name = "Acme Trading LLC"}\n')
    gate(run_cli, write_declaration(declaration_data()), "--config", config, "-o", "json")
    assert run_cli("report", "--account", "acme", "--config", config, "-o", "json").exit_code == 0
    typo = run_cli("report", "--account", "amce", "--config", config, "-o", "json")
    assert typo.exit_code == 2 and "no account named 'amce'" in typo.stderr and "acme" in typo.stderr
    gated = gate(run_cli, write_declaration(declaration_data()), "--account", "amce", "--config", config)
    assert gated.exit_code == 3 and "no account named 'amce'" in gated.stderr and gated.stdout == ""


def test_screen_without_accounts_is_a_one_line_error(run_cli):
    for command in ("screen", "sync"):
        result = run_cli(command)
        assert result.exit_code == 3 and result.stderr.count("\n") == 1 and "no [[accounts]]" in result.stderr, command


def test_every_format_states_each_findings_fix_and_rule_for_that_finding(run_cli, write_declaration):
    """A code that several regimes raise (REG_POSSIBLY_REGULATED) has one fix and rule per finding: GitHub
    annotations and SARIF results carry their own, and a SARIF rule never shows another finding's fix."""
    items = [dict(declaration_data()["items"][0], msku="PB-1", title="10000 mAh power bank"),
             dict(declaration_data()["items"][0], msku="MUG-1", title="ceramic coffee mug")]
    path = write_declaration(declaration_data(items=items))
    found = json.loads(gate(run_cli, path, "-o", "json").stdout)["results"][0]["findings"]
    possibly = [f for f in found if f["code"] == "REG_POSSIBLY_REGULATED"]
    assert len({f["reference"] for f in possibly}) == 2  # two regimes, two laws
    github = gate(run_cli, path, "-o", "github").stdout
    run = json.loads(gate(run_cli, path, "-o", "sarif").stdout)["runs"][0]
    results = [r["message"]["text"] for r in run["results"]]
    for f in found:
        if f["severity"] != "info":
            line = next(x for x in github.splitlines() if f"title={f['code']} " in x and (f["sku"] or "") in x
                        and f["message"][:40].replace("%", "%25") in x)
            assert f"Fix: {f['remedy']}"[:60] in line and f"Rule: {f['reference']}" in line.replace("%2C", ",")
            assert any(f["message"] in text and f"Rule: {f['reference']}" in text for text in results), f["code"]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "REG_POSSIBLY_REGULATED")
    assert "help" not in rule and "Rule:" not in rule["fullDescription"]["text"]
