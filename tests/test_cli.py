"""The command line as CI scripts use it: exit codes, formats, stdin, waivers, config errors."""

import json
import xml.etree.ElementTree as ET

import pytest

from fba_jp.store import Store
from fba_jp.testing import declaration_data

BLOCKED = dict(importer_of_record={"name": "Amazon Japan G.K."})


def gate_json(run_cli, *args):
    result = run_cli("gate", *args, "--output", "json")
    return result, json.loads(result.stdout)


def test_exit_0_1_2_3(run_cli, write_declaration):
    # 0: nothing blocked (a Japan-resident seller with a buyer in Japan and a known duty rate)
    ok = write_declaration(declaration_data(seller={"name": "Acme Trading LLC", "japan_resident": True},
                                            import_transaction=True, acp=None), "ok.json")
    blocked = write_declaration(declaration_data(**BLOCKED), "blocked.json")
    invalid = write_declaration({"shipment_id": "X"}, "invalid.json")
    assert run_cli("gate", ok, "-o", "json").exit_code in (0,)
    assert run_cli("gate", ok, blocked, "-o", "json").exit_code == 1
    assert run_cli("gate", "-o", "json").exit_code == 2
    assert run_cli("gate", ok, "--output", "nonsense").exit_code == 2
    assert run_cli("gate", ok, "--no-such-flag").exit_code == 2
    result = run_cli("gate", ok, blocked, invalid, "-o", "json")
    assert result.exit_code == 3
    # the valid files were still screened and reported
    assert json.loads(result.stdout)["summary"]["shipments"] == 2
    assert result.stderr.startswith(f"{invalid}: seller: required field is missing")


def test_fail_on_warn(run_cli, write_declaration, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[policy.severity]\nACP_MISSING = "warn"\nVAL_FALLBACK = "warn"\n')
    path = write_declaration(declaration_data(acp=None))
    result, doc = gate_json(run_cli, path, "--config", config)
    assert doc["results"][0]["verdict"] == "annotated" and result.exit_code == 0
    assert run_cli("gate", path, "-o", "json", "--config", config, "--fail-on-warn").exit_code == 1
    config.write_text('[policy]\nfail_on_warn = true\n[policy.severity]\nACP_MISSING = "warn"\n')
    assert run_cli("gate", path, "-o", "json", "--config", config).exit_code == 1


def test_stdin(run_cli):
    result = run_cli("gate", "-", "-o", "json", input=json.dumps(declaration_data(**BLOCKED)))
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["results"][0]["source"] == "<stdin>"
    bad = run_cli("gate", "-", input="{not json")
    assert bad.exit_code == 3 and bad.stderr.startswith("<stdin>: not valid JSON")


def test_json_result_document(run_cli, write_declaration):
    result, doc = gate_json(run_cli, write_declaration(declaration_data(**BLOCKED)))
    assert doc["schema"] == "fba-jp/result/v1"
    shipment = doc["results"][0]
    assert set(shipment) >= {"shipment_id", "inbound_plan_id", "source", "verdict", "input_sha256", "findings",
                             "errors", "valuation"}
    finding = next(f for f in shipment["findings"] if f["code"] == "IOR_AMAZON")
    assert set(finding) >= {"code", "severity", "plugin", "sku", "message", "remedy", "reference", "waived"}
    assert finding["plugin"] == "ior" and len(shipment["input_sha256"]) == 64
    assert doc["summary"]["blocked"] == 1


def test_every_format_shows_every_category(run_cli, write_declaration, tmp_path):
    """A block, a waived block and a plugin error must each appear in every output format."""
    plugin_dir = tmp_path / "p"
    plugin_dir.mkdir()
    (plugin_dir / "boom.py").write_text(
        "from fba_jp import hookimpl\n"
        "@hookimpl\ndef register_checks(register):\n    register(boom)\n"
        "def boom(shipment):\n    if shipment.shipment_id == 'ERR1':\n        raise ValueError('kaboom')\n    return []\n"
    )
    waived = write_declaration(declaration_data(shipment_id="WAIVE1", acp=None), "w.json")
    errored = write_declaration(declaration_data(shipment_id="ERR1"), "e.json")
    blocked = write_declaration(declaration_data(shipment_id="BLOCK1", **BLOCKED), "b.json")
    run_cli("gate", waived, "-o", "json")
    assert run_cli("release", "WAIVE1", "--code", "ACP_MISSING", "--reason", "ACP accepted by phone",
                   "--by", "qa@example.com").exit_code == 0
    for fmt in ("table", "json", "junit", "sarif", "github"):
        result = run_cli("gate", waived, errored, blocked, "--plugins-dir", plugin_dir, "-o", fmt, "-v")
        assert result.exit_code == 3, fmt  # a check that raised: could not screen
        out = result.stdout
        assert "IOR_AMAZON" in out, fmt
        assert "ACP_MISSING" in out and "ACP accepted by phone" in out, fmt
        assert "kaboom" in out, fmt
    junit = ET.fromstring(run_cli("gate", waived, errored, blocked, "--plugins-dir", plugin_dir, "-o", "junit").stdout)
    assert int(junit.get("skipped")) == 1 and int(junit.get("errors")) == 1 and int(junit.get("failures")) >= 1
    sarif = json.loads(run_cli("gate", waived, errored, blocked, "--plugins-dir", plugin_dir, "-o", "sarif").stdout)
    run = sarif["runs"][0]
    assert run["invocations"][0]["exitCode"] == 3
    assert any(r.get("suppressions") for r in run["results"])
    assert run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_release_waives_until_input_changes(run_cli, write_declaration):
    data = declaration_data(acp=None)
    path = write_declaration(data)
    assert run_cli("gate", path, "-o", "json").exit_code == 1
    released = run_cli("release", "FBA15TEST001", "--code", "ACP_MISSING", "--reason", "C-7500 accepted today",
                       "--by", "Kenji", "--expires", "2099-01-31")
    assert released.exit_code == 0 and json.loads(released.stdout)["by"] == "Kenji"
    result, doc = gate_json(run_cli, path)
    finding = next(f for f in doc["results"][0]["findings"] if f["code"] == "ACP_MISSING")
    assert finding["waived"] is True and finding["waiver"]["reason"] == "C-7500 accepted today"
    assert doc["summary"]["waived"] == 1 and doc["results"][0]["verdict"] != "blocked"
    # change the declaration: the waiver no longer counts
    data["items"][0]["quantity"] = 41
    result, doc = gate_json(run_cli, write_declaration(data))
    assert result.exit_code == 1
    assert not any(f["waived"] for f in doc["results"][0]["findings"])


def test_expired_waiver_stops_counting(run_cli, write_declaration):
    path = write_declaration(declaration_data(acp=None))
    run_cli("gate", path, "-o", "json")
    assert run_cli("release", "FBA15TEST001", "--code", "ACP_MISSING", "--reason", "r", "--by", "b",
                   "--expires", "2099-01-31").exit_code == 0
    assert run_cli("gate", path, "-o", "json").exit_code == 0
    with Store("fba_jp.db") as store, store.write():  # time passes: the last day of the waiver is behind us
        store.db.execute("update waivers set expires_on = '2020-01-01'")
    assert run_cli("gate", path, "-o", "json").exit_code == 1


def test_a_waiver_that_has_already_expired_is_refused(run_cli, write_declaration):
    """A mistyped year must not look like a release that never applies."""
    run_cli("gate", write_declaration(declaration_data(acp=None)), "-o", "json")
    past = run_cli("release", "FBA15TEST001", "--code", "ACP_MISSING", "--reason", "r", "--by", "b", "--expires", "2020-01-01")
    assert past.exit_code == 3 and past.stdout == ""
    assert "--expires 2020-01-01: the day is already past" in past.stderr
    with Store("fba_jp.db") as store:
        assert store.db.execute("select count(*) from waivers").fetchone()[0] == 0


def test_release_refuses_unknown_shipment_or_code(run_cli, write_declaration):
    run_cli("gate", write_declaration(declaration_data(acp=None)), "-o", "json")
    bad = run_cli("release", "NOPE", "--code", "ACP_MISSING", "--reason", "r", "--by", "b")
    assert bad.exit_code == 3 and "screen it first" in bad.stderr
    wrong = run_cli("release", "FBA15TEST001", "--code", "IOR_AMAZON", "--reason", "r", "--by", "b")
    assert wrong.exit_code == 3 and "ACP_MISSING" in wrong.stderr


def test_acp_registry_commands(run_cli, write_declaration):
    assert run_cli("acp", "add", "sakura", "--name", "Sakura Customs Advisory K.K.", "--status", "pending",
                   "--notified-on", "2026-11-25", "--seller", "Acme Trading LLC").exit_code == 0
    path = write_declaration(declaration_data(acp=None, acp_id="sakura"))
    assert run_cli("gate", path, "-o", "json").exit_code == 1
    assert run_cli("acp", "set-status", "sakura", "registered", "--accepted-on", "2026-12-01").exit_code == 0
    doc = json.loads(run_cli("gate", path, "-o", "json").stdout)
    assert "ACP_REGISTERED" in [f["code"] for f in doc["results"][0]["findings"]]
    listed = json.loads(run_cli("acp", "list").stdout)
    assert listed[0]["id"] == "sakura" and listed[0]["sellers"] == ["Acme Trading LLC"]
    assert run_cli("acp", "add", "sakura", "--name", "again").exit_code == 3


def test_config_errors_are_one_line_exit_3_and_never_echo_secrets(run_cli, tmp_path, write_declaration):
    path = write_declaration(declaration_data())
    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "a"\nseller = {name = "A"}\nrefresh_token = "Atzr|IwEBIsecret123"\n')
    result = run_cli("gate", path, "--config", config)
    assert result.exit_code == 3
    assert "accounts[0].refresh_token" in result.stderr and "env:" in result.stderr
    assert "IwEBIsecret123" not in result.stderr + result.stdout
    config.write_text('[policy]\nfail_on_worn = true\n')
    result = run_cli("gate", path, "--config", config)
    assert result.exit_code == 3 and "policy.fail_on_worn: unknown field" in result.stderr
    config.write_text('[storage]\npath = 3\n')
    assert "storage.path" in run_cli("gate", path, "--config", config).stderr
    config.write_text('[policy\n')
    assert "not valid TOML" in run_cli("gate", path, "--config", config).stderr
    assert "config file not found" in run_cli("gate", path, "--config", tmp_path / "missing.toml").stderr


def test_policy_severity_override(run_cli, tmp_path, write_declaration):
    config = tmp_path / "config.toml"
    config.write_text('[policy.severity]\nACP_MISSING = "warn"\n')
    result, doc = gate_json(run_cli, write_declaration(declaration_data(acp=None)), "--config", config)
    finding = next(f for f in doc["results"][0]["findings"] if f["code"] == "ACP_MISSING")
    assert finding["severity"] == "warn" and doc["results"][0]["verdict"] != "blocked"


def test_schema_command_matches_models(run_cli):
    schema = json.loads(run_cli("schema").stdout)
    assert schema["title"] == "fba-jp/shipment/v1" and schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["description"]
    # every field says what it is (pydantic Field(description=...))
    undescribed = [f"{name}.{field}" for name, model in [("Declaration", schema), *schema["$defs"].items()]
                   for field, spec in model.get("properties", {}).items() if not spec.get("description")]
    assert not undescribed, f"add Field(description=...) to: {undescribed}"
    assert {"shipment_id", "seller", "currency", "items"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


def test_report_command_shows_latest_verdicts(run_cli, write_declaration, tmp_path):
    run_cli("gate", write_declaration(declaration_data(**BLOCKED)), "-o", "json")
    doc = json.loads(run_cli("report", "-o", "json").stdout)
    assert doc["summary"]["blocked"] == 1
    html = tmp_path / "r.html"
    assert run_cli("report", "--html", html, "-o", "json").exit_code == 0
    assert "IOR_AMAZON" in html.read_text() and "<style>" in html.read_text()


@pytest.mark.parametrize("args", [["--help"], ["gate", "--help"], ["--version"]])
def test_help(run_cli, args):
    assert run_cli(*args).exit_code == 0


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`fba-jp schema | head -1`: the pipe closes before fba-jp has written; no "internal error", no traceback."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "fba_jp", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before the command writes a byte: every write meets a closed pipe
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 3
    assert stderr == ""
