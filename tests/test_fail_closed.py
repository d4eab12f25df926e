"""The gate fails closed: nothing clears that was not checked, and what cannot be screened says so in one line."""

import json

import pytest

from fba_jp import hookimpl
from fba_jp.models import Finding
from fba_jp.runner import apply_waivers, verdict_of
from fba_jp.store import Store
from fba_jp.testing import declaration_data


class Exploding:
    @hookimpl
    def register_checks(self, register):
        def boom(shipment):
            raise RuntimeError("kaboom")

        register(boom, name="boom", codes=("BOOM",))


def one_error_line(result):
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("code", ["PLUGIN_ERROR", "INPUT_INVALID"])
def test_could_not_screen_codes_cannot_be_released(run_cli, write_declaration, tmp_path, code):
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "boom.py").write_text(
        "from fba_jp import hookimpl\n"
        "@hookimpl\n"
        "def register_checks(register):\n"
        "    def boom(shipment):\n"
        "        raise RuntimeError('kaboom')\n"
        "    register(boom, name='boom')\n"
    )
    gated = run_cli("gate", write_declaration(declaration_data()), "--plugins-dir", plugin_dir, "-o", "json")
    assert json.loads(gated.stdout)["results"][0]["verdict"] == "blocked"
    released = run_cli("release", "FBA15TEST001", "--code", code, "--reason", "trust me", "--by", "ops")
    assert released.exit_code == 3
    line = one_error_line(released)
    assert f"{code} cannot be waived" in line and "could not be screened" in line
    with Store("fba_jp.db") as store:
        assert store.db["waivers"].count == 0


def test_a_could_not_screen_waiver_from_an_older_version_does_not_count():
    # a waiver row an older fba-jp accepted: still in the audit trail, never applied
    findings = [Finding(code="INPUT_INVALID", severity="block", message="no value"),
                Finding(code="ACP_PENDING", severity="block", message="pending")]
    waivers = {"INPUT_INVALID": {"id": 1}, "ACP_PENDING": {"id": 2}}
    waived = apply_waivers(findings, waivers)
    assert [f.waived for f in waived] == [False, True]
    assert verdict_of(waived, []) == "blocked"


@pytest.mark.parametrize("code", ["INPUT_INVALID", "PLUGIN_ERROR"])
def test_policy_cannot_downgrade_a_could_not_screen_code(run_cli, write_declaration, tmp_path, code):
    (tmp_path / "config.toml").write_text(f'[policy.severity]\n{code} = "info"\n')
    result = run_cli("gate", write_declaration(declaration_data()), "--config", tmp_path / "config.toml")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "policy.severity" in line and f"{code} means the shipment could not be screened" in line


@pytest.mark.parametrize("option, value", [("--by", ""), ("--by", "   "), ("--reason", ""), ("--reason", "\t \n"),
                                           ("--reason", "-"), ("--by", "ops\x1b[2J")])
def test_release_needs_real_text_for_who_and_why(run_cli, write_declaration, option, value):
    run_cli("gate", write_declaration(declaration_data(acp=None)), "-o", "json")
    args = {"--reason": "C-7500 accepted by phone", "--by": "kenji", option: value}
    result = run_cli("release", "FBA15TEST001", "--code", "ACP_MISSING", *[x for kv in args.items() for x in kv])
    assert result.exit_code == 3
    assert one_error_line(result).startswith(f"fba-jp: {option}: give real text")
    with Store("fba_jp.db") as store:
        assert store.db["waivers"].count == 0


def test_release_stores_the_text_stripped(run_cli, write_declaration):
    run_cli("gate", write_declaration(declaration_data(acp=None)), "-o", "json")
    result = run_cli("release", "FBA15TEST001", "--code", "ACP_MISSING", "--reason", "  accepted  ", "--by", " kenji ")
    assert result.exit_code == 0, result.stderr
    assert (json.loads(result.stdout)["reason"], json.loads(result.stdout)["by"]) == ("accepted", "kenji")


@pytest.mark.parametrize("shipment_id", ["FBA\x00NUL", "FBA\u202eLIAM", "FBA\u200bZW", "FBA\nNL", "FBA\x1b[31m"])
def test_shipment_ids_must_be_printable(run_cli, write_declaration, shipment_id):
    result = run_cli("gate", write_declaration(declaration_data(shipment_id=shipment_id)), "-o", "json")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "shipment.json: shipment_id: must be printable characters only" in line, line
    assert "\x00" not in line and "\x1b" not in line and "\u202e" not in line
    released = run_cli("release", shipment_id, "--code", "ACP_MISSING", "--reason", "r", "--by", "b")
    assert released.exit_code == 3 and "must be printable" in one_error_line(released)
