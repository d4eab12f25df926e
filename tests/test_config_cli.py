"""`fba-jp init` and `fba-jp config check`: a starter configuration that checks clean, and a check that says what is wrong."""

import json
import tomllib
from pathlib import Path

import jsonschema

from fba_jp.cli.config import STARTER_SOURCES, starter_text

ROOT = Path(__file__).resolve().parent.parent


def test_init_writes_a_config_that_checks_clean_and_refuses_to_overwrite(run_cli, tmp_path):
    result = run_cli("init", "shop")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "shop" / "config.toml").read_text() == (ROOT / "config.example.toml").read_text()
    assert (tmp_path / "shop" / "products.csv").read_text() == (ROOT / "examples" / "products.csv").read_text()
    assert "fba-jp config check --config shop/config.toml" in result.stderr
    checked = run_cli("config", "check", "--config", "shop/config.toml")
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.startswith("shop/config.toml: valid (1 account: northwind;")
    assert "not set in this environment: NORTHWIND_SP_API_REFRESH_TOKEN, LWA_APP_ID, LWA_CLIENT_SECRET" in checked.stderr
    (tmp_path / "shop" / "products.csv").write_text("kept\n")
    again = run_cli("init", "shop")
    assert again.exit_code == 3 and "already exists; nothing was written" in again.stderr
    assert (tmp_path / "shop" / "products.csv").read_text() == "kept\n"
    assert run_cli("init", "shop", "--force").exit_code == 0


def test_config_check_names_what_is_wrong_in_one_line_each(run_cli, tmp_path):
    assert "`fba-jp init` writes a starter one" in run_cli("config", "check").stderr
    run_cli("init")
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace("fail_on_warn = false", "fail_on_worn = false"))
    typo = run_cli("config", "check")
    assert typo.exit_code == 3
    assert typo.stderr == ("fba-jp: config.toml: policy.fail_on_worn: unknown field (check the spelling; "
                           "`fba-jp config check --schema` lists the fields)\n")
    run_cli("init", "--force")
    (tmp_path / "products.csv").write_text("msku,title,hs_code,unit_value\nTENT-2P,Tent,63062,-1\n")
    bad = run_cli("config", "check")
    assert bad.exit_code == 3 and "products.csv:2" in bad.stderr


def test_config_schema_describes_the_example_config(run_cli):
    schema = json.loads(run_cli("config", "check", "--schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["title"] == "fba-jp config.toml"
    assert "base_dir" not in schema["properties"]
    # as JSON sees it: TOML dates are YYYY-MM-DD strings
    example = json.loads(json.dumps(tomllib.loads((ROOT / "config.example.toml").read_text()), default=str))
    jsonschema.validate(example, schema)
    example["policy"]["fail_on_worn"] = True
    try:
        jsonschema.validate(example, schema)
    except jsonschema.ValidationError as exc:
        assert "fail_on_worn" in exc.message
    else:
        raise AssertionError("an unknown key passed the schema")


def test_the_starter_files_ship_in_the_wheel():
    """What `pip install .` puts in fba_jp/starter/ (.ci/run runs `fba-jp init` from such an install)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert shipped == {source: f"fba_jp/starter/{name}" for name, source in STARTER_SOURCES.items()}
    for name, source in STARTER_SOURCES.items():
        assert starter_text(name) == (ROOT / source).read_text(encoding="utf-8")


def test_config_check_names_a_misspelt_severity_code(run_cli, tmp_path):
    # `RADIO_NO_GITEKY = "warn"` would change nothing: the real code still blocks, and no one would know
    config = tmp_path / "config.toml"
    config.write_text('[policy.severity]\nRADIO_NO_GITEKY = "warn"\nCOS_NO_MAH = "warn"\nPLUGIN_ERROR = "block"\n')
    typo = run_cli("config", "check", "--config", config)
    assert typo.exit_code == 3
    assert typo.stderr.splitlines() == [
        f"fba-jp: {config}: policy.severity.RADIO_NO_GITEKY: no loaded check reports this code (check the spelling; "
        "`fba-jp plugins --all` lists each check's codes)"]
    # a plugin whose check declares no codes may report any: then the same line is a note, not a failure
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "quiet.py").write_text(
        "from fba_jp import hookimpl\n\ndef quiet(declaration, context):\n    return []\n\n"
        "@hookimpl\ndef register_checks(register):\n    register(quiet)\n")
    noted = run_cli("config", "check", "--config", config, "--plugins-dir", tmp_path / "plugins")
    assert noted.exit_code == 0, noted.stderr
    assert "policy.severity.RADIO_NO_GITEKY: no loaded check reports this code" in noted.stderr
