"""The plugin system: isolation (fail closed), entry-point loading, allow-list, --plugins-dir, `fba-jp plugins`."""

import json
import textwrap

import pytest

from fba_jp import Finding, hookimpl
from fba_jp.plugin_manager import PluginLoadError, get_plugins
from fba_jp.testing import declaration_data, make_declaration, screen


class Exploding:
    @hookimpl
    def register_checks(self, register):
        def explode(shipment):
            if shipment.shipment_id == "BOOM":
                raise RuntimeError("lookup table missing")
            return []

        register(explode, name="explode")


def test_raising_check_blocks_only_its_shipment_with_plugin_error():
    boom = screen(make_declaration(shipment_id="BOOM"), plugins=[Exploding()])
    assert boom.verdict == "blocked"
    finding = boom.finding("PLUGIN_ERROR")
    assert finding.severity == "block" and "explode" in finding.message and "lookup table missing" in finding.message
    assert boom.errors[0].message == "RuntimeError: lookup table missing"
    # the other checks still ran on that shipment, and other shipments are unaffected
    assert "ACP_REGISTERED" in boom.codes
    assert screen(make_declaration(shipment_id="FINE"), plugins=[Exploding()]).errors == []


def test_check_returning_garbage_is_a_plugin_error():
    class Garbage:
        @hookimpl
        def register_checks(self, register):
            register(lambda shipment: ["not a finding"], name="garbage")

    result = screen(make_declaration(), plugins=[Garbage()])
    assert result.verdict == "blocked" and "expected fba_jp.Finding" in result.finding("PLUGIN_ERROR").message


def test_plugin_error_cannot_be_waived_away_by_severity_policy():
    from fba_jp.config import Config, PolicyConfig

    # config.toml refuses this override (tests/test_fail_closed.py); a Config built in code cannot sneak it in
    config = Config(policy=PolicyConfig.model_construct(fail_on_warn=False, severity={"PLUGIN_ERROR": "info"}))
    result = screen(make_declaration(shipment_id="BOOM"), plugins=[Exploding()], config=config)
    assert result.verdict == "blocked"  # errors always block: the gate fails closed
    assert result.finding("PLUGIN_ERROR").severity == "block"


def test_duplicate_check_names_and_bad_codes_are_rejected():
    class Dup:
        @hookimpl
        def register_checks(self, register):
            register(lambda s: [], name="acp")

    # both plugins named: an instance is named after its class, not its id()
    with pytest.raises(PluginLoadError, match="plugin 'acp': check name 'acp' is already registered by 'Dup'"):
        get_plugins(load_entrypoints=False, extra=(Dup(),))

    class BadCode:
        @hookimpl
        def register_checks(self, register):
            register(lambda s: [], name="x", codes=["lower_case"])

    with pytest.raises(PluginLoadError, match="UPPER_SNAKE_CASE"):
        get_plugins(load_entrypoints=False, extra=(BadCode(),))


def test_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def register_chekcs(self, register):
            pass

    with pytest.raises(PluginLoadError, match="register_chekcs"):
        get_plugins(load_entrypoints=False, extra=(Typo(),))


PLUGIN_SOURCE = textwrap.dedent('''
    from fba_jp import Finding, hookimpl

    @hookimpl
    def register_checks(register):
        register(no_lithium, codes=["ACME_LITHIUM"])

    def no_lithium(shipment):
        for item in shipment.items:
            if "lithium" in (item.title or "").lower():
                yield Finding(code="ACME_LITHIUM", severity="block", sku=item.msku,
                              message="Lithium cells need a dangerous-goods declaration.")
''')


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A plugin installed the way pip would: a module plus a dist-info with an `fba_jp` entry point."""
    site = tmp_path / "site"
    (site / "acme_lithium-1.2.0.dist-info").mkdir(parents=True)
    (site / "fba_jp_acme_lithium.py").write_text(PLUGIN_SOURCE)
    (site / "acme_lithium-1.2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-lithium\nVersion: 1.2.0\n")
    (site / "acme_lithium-1.2.0.dist-info" / "entry_points.txt").write_text("[fba_jp]\nacme_lithium = fba_jp_acme_lithium\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def lithium_declaration(write_declaration):
    data = declaration_data()
    data["items"][0]["title"] = "Lithium camping lantern"
    return write_declaration(data)


def test_entry_point_plugin_runs_in_gate(installed_plugin, run_cli, write_declaration):
    result = run_cli("gate", lithium_declaration(write_declaration), "--output", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["results"][0]["findings"]
    lithium = [f for f in findings if f["code"] == "ACME_LITHIUM"]
    assert lithium and lithium[0]["plugin"] == "acme_lithium" and lithium[0]["sku"] == "TENT-2P"


def test_plugins_command_lists_entry_point_plugin(installed_plugin, run_cli):
    listed = json.loads(run_cli("plugins").stdout)
    assert listed == [{"name": "acme_lithium", "version": "1.2.0", "builtin": False, "hooks": ["register_checks"],
                       "checks": [{"name": "no_lithium", "codes": ["ACME_LITHIUM"]}]}]
    everything = {p["name"]: p for p in json.loads(run_cli("plugins", "--all").stdout)}
    assert {"ior", "acp", "acme_lithium"} <= set(everything) and everything["ior"]["builtin"] is True


def test_allow_list_limits_entry_points_but_never_builtins(installed_plugin, run_cli, write_declaration, monkeypatch):
    monkeypatch.setenv("FBA_JP_LOAD_PLUGINS", "")
    result = run_cli("gate", lithium_declaration(write_declaration), "--output", "json")
    codes = [f["code"] for f in json.loads(result.stdout)["results"][0]["findings"]]
    assert "ACME_LITHIUM" not in codes and "ACP_REGISTERED" in codes
    monkeypatch.setenv("FBA_JP_LOAD_PLUGINS", "acme-lithium")
    assert json.loads(run_cli("plugins").stdout)[0]["name"] == "acme_lithium"


def test_broken_entry_point_stops_the_gate_with_exit_3(tmp_path, monkeypatch, run_cli, write_declaration):
    site = tmp_path / "site"
    (site / "broken-0.1.dist-info").mkdir(parents=True)
    (site / "broken_plugin.py").write_text("raise ImportError('needs numpy')\n")
    (site / "broken-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (site / "broken-0.1.dist-info" / "entry_points.txt").write_text("[fba_jp]\nbroken = broken_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    result = run_cli("gate", write_declaration(declaration_data()))
    assert result.exit_code == 3
    assert "plugin 'broken'" in result.stderr and "needs numpy" in result.stderr and "Traceback" not in result.stderr


def test_plugins_dir(tmp_path, run_cli, write_declaration):
    plugins = tmp_path / "myplugins"
    plugins.mkdir()
    (plugins / "lithium.py").write_text(PLUGIN_SOURCE)
    result = run_cli("gate", lithium_declaration(write_declaration), "--plugins-dir", plugins, "-o", "json")
    codes = [f["code"] for f in json.loads(result.stdout)["results"][0]["findings"]]
    assert "ACME_LITHIUM" in codes and result.exit_code == 1


def test_builtin_plugins_are_written_like_third_party_ones():
    plugins = get_plugins(load_entrypoints=False)
    for name in plugins.builtins:
        module = plugins.pm.get_plugin(name)
        assert module.__name__ == f"fba_jp.plugins.{name}" and module.__doc__, name
        assert plugins.pm.get_hookcallers(module), f"{name} implements no hook"


def test_finding_model_rejects_bad_severity():
    with pytest.raises(ValueError):
        Finding(code="X", severity="fatal", message="m")


# --------------------------------------------------------------------------- nothing dropped silently

SETTINGS_SOURCE = textwrap.dedent('''
    from pydantic import BaseModel, ConfigDict

    from fba_jp import Finding, hookimpl


    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        threshold: int = 10


    class Item(BaseModel):
        model_config = ConfigDict(extra="forbid")
        cells: int


    @hookimpl
    def register_models(register):
        register(config=Settings, item=Item)


    @hookimpl
    def register_checks(register):
        register(cells, codes=["ACME_CELLS"])


    def cells(shipment, context):
        limit = context.plugin_config(Settings).threshold
        for item in shipment.items:
            data = context.item_extension(item, Item)
            if data is not None and data.cells > limit:
                yield Finding(code="ACME_CELLS", severity="warn", sku=item.msku, message=f"{data.cells} cells")
''')


def install(site, dist, module, source, entry_point):
    """A plugin installed the way pip would: a module plus a dist-info with an `fba_jp` entry point."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(source)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[fba_jp]\n{entry_point} = {module}\n")


def test_an_allow_list_name_that_matches_nothing_fails_listing_what_is_installed(installed_plugin, run_cli, monkeypatch):
    monkeypatch.setenv("FBA_JP_LOAD_PLUGINS", "acme-lithum")
    result = run_cli("plugins")
    assert result.exit_code == 3 and result.stderr == (
        "fba-jp: FBA_JP_LOAD_PLUGINS: no installed plugin is named 'acme-lithum' (installed: acme_lithium (acme-lithium))\n")
    for spelling in ("acme_lithium", "ACME.Lithium", "acme-lithium"):  # compared as pip compares names
        monkeypatch.setenv("FBA_JP_LOAD_PLUGINS", spelling)
        assert [p["name"] for p in json.loads(run_cli("plugins").stdout)] == ["acme_lithium"], spelling


def test_a_taken_name_is_an_error_naming_both_plugins(tmp_path, monkeypatch, run_cli):
    install(tmp_path / "site", "acme-acp", "acme_acp", PLUGIN_SOURCE, "acp")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    result = run_cli("plugins")
    assert result.exit_code == 3
    assert "plugin 'acp' (acme-acp 1.0: acme_acp): the name is already taken by the built-in plugin fba_jp.plugins.acp" \
        in result.stderr


def test_plugin_settings_and_item_data_are_validated_and_reach_the_check(tmp_path, monkeypatch, run_cli, write_declaration):
    install(tmp_path / "site", "acme-cells", "acme_cells", SETTINGS_SOURCE, "cells")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    data = declaration_data()
    data["items"][0]["extensions"] = {"cells": {"cells": 12}}
    path = write_declaration(data)
    config = tmp_path / "config.toml"
    findings = json.loads(run_cli("gate", path, "-o", "json").stdout)["results"][0]["findings"]
    assert [f["message"] for f in findings if f["code"] == "ACME_CELLS"] == ["12 cells"]  # the default threshold, 10
    config.write_text("[plugins.cells]\nthreshold = 20\n")
    doc = json.loads(run_cli("gate", path, "-o", "json", "--config", config).stdout)
    assert "ACME_CELLS" not in [f["code"] for f in doc["results"][0]["findings"]]
    listed = json.loads(run_cli("plugins").stdout)[0]
    assert listed["config_model"] == "Settings" and listed["item_model"] == "Item"

    config.write_text("[plugins.cells]\nthreshhold = 20\n")
    typo = run_cli("gate", path, "-o", "json", "--config", config)
    assert typo.exit_code == 3 and typo.stdout == ""
    assert typo.stderr == ("fba-jp: " + str(config) + ": plugins.cells.threshhold: unknown field (check the spelling; "
                           "`fba-jp config check --schema` lists the fields) (settings of plugin 'cells')\n")
    config.write_text('[plugins.cels]\nthreshold = 20\n')
    assert "plugins.cels: no loaded plugin is named 'cels' (plugins with settings: cells" in \
        run_cli("gate", path, "--config", config).stderr
    config.write_text('[plugins.cells]\napi_token = "tok-123"\n')
    secret = run_cli("config", "check", "--config", config)
    assert secret.exit_code == 3 and "plugins.cells.api_token: secrets may only be env: references" in secret.stderr
    assert "tok-123" not in secret.stderr
    config.write_text('[[plugins.cells.hooks]]\napi_token = "tok-456"\n')  # in a list of tables
    secret = run_cli("config", "check", "--config", config)
    assert secret.exit_code == 3 and "plugins.cells.hooks[0].api_token: secrets may only be env: references" in secret.stderr
    assert "tok-456" not in secret.stderr
    printed = run_cli("config", "check", "--schema")
    assert printed.exit_code == 0, printed.stderr
    schema = json.loads(printed.stdout)
    assert schema["properties"]["plugins"]["properties"]["cells"]["properties"]["threshold"]["default"] == 10

    config.unlink()  # ./config.toml is read by default
    data["items"][0]["extensions"] = {"cells": {"cells": "many"}}
    bad = run_cli("gate", write_declaration(data), "-o", "json")
    assert bad.exit_code == 3
    assert json.loads(bad.stdout)["errors"][0]["field"] == "items[0].extensions.cells.cells"
    monkeypatch.setenv("FBA_JP_LOAD_PLUGINS", "")
    data["items"][0]["extensions"] = {"cells": {"cells": 12}}
    unloaded = run_cli("gate", write_declaration(data), "-o", "json")
    assert unloaded.exit_code == 3 and "no loaded plugin named 'cells' reads item data" in unloaded.stderr


def test_a_plugins_dir_file_is_named_after_the_file_so_its_settings_and_item_data_reach_it(tmp_path, run_cli, write_declaration):
    """docs/plugins.md: "Try it without packaging anything" — [plugins.NAME] and extensions.NAME use the file's name."""
    plugins = tmp_path / "myplugins"
    plugins.mkdir()
    (plugins / "cells.py").write_text(SETTINGS_SOURCE)
    data = declaration_data()
    data["items"][0]["extensions"] = {"cells": {"cells": 12}}
    path = write_declaration(data)
    config = tmp_path / "config.toml"
    config.write_text("[plugins.cells]\nthreshold = 5\n")
    result = run_cli("gate", path, "--plugins-dir", plugins, "--config", config, "-o", "json")
    assert result.exit_code == 0, result.stderr
    finding = next(f for f in json.loads(result.stdout)["results"][0]["findings"] if f["code"] == "ACME_CELLS")
    assert finding["plugin"] == "cells" and finding["message"] == "12 cells"
    assert [p["name"] for p in json.loads(run_cli("plugins", "--plugins-dir", plugins).stdout)] == ["cells"]
    (plugins / "acp.py").write_text(PLUGIN_SOURCE)
    taken = run_cli("plugins", "--plugins-dir", plugins)
    assert taken.exit_code == 3 and "already taken by the built-in plugin fba_jp.plugins.acp; rename the file" in taken.stderr


def test_models_must_forbid_unknown_keys():
    from pydantic import BaseModel

    class Lax(BaseModel):
        threshold: int = 1

    class Plugin:
        @hookimpl
        def register_models(self, register):
            register(config=Lax)

    with pytest.raises(PluginLoadError, match="must forbid unknown keys"):
        get_plugins(load_entrypoints=False, extra=(Plugin(),))


def test_the_pytest_plugin_costs_nothing_until_a_fixture_is_used():
    """pytest imports the pytest11 entry point in every run where fba-jp is installed."""
    import subprocess
    import sys

    code = ("import sys, pytest; before = set(sys.modules); import fba_jp.pytest_plugin; "
            "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
            "('fba_jp', 'pydantic', 'pydantic_core', 'sqlite_utils', 'sp_api', 'httpx', 'apscheduler')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['fba_jp', 'fba_jp.hookspecs', 'fba_jp.pytest_plugin']"


@pytest.mark.parametrize("source, says", [
    # a hook argument the spec does not have: one line naming the plugin, not "internal error"
    ("from fba_jp import hookimpl\n@hookimpl\ndef register_checks(register, extra):\n    pass\n",
     "plugin 'badsig' (--plugins-dir "),
    # a misspelled hook: named by its plugin name, not by the module's repr
    ("from fba_jp import hookimpl\n@hookimpl\ndef register_chekcs(register):\n    pass\n",
     "plugin 'badsig' (--plugins-dir "),
    # sys.exit() at import or in register_checks must not end the gate with exit 0
    ("import sys\nsys.exit(0)\n", "badsig.py: failed to load as a plugin: SystemExit"),
    ("import sys\nfrom fba_jp import hookimpl\n@hookimpl\ndef register_checks(register):\n    sys.exit(0)\n",
     "plugin 'badsig': register_checks failed: SystemExit"),
])
def test_a_plugin_that_fails_to_register_stops_the_gate_with_exit_3_naming_it(tmp_path, run_cli, write_declaration,
                                                                               source, says):
    plugins = tmp_path / "myplugins"
    plugins.mkdir()
    (plugins / "badsig.py").write_text(source)
    result = run_cli("gate", write_declaration(declaration_data()), "--plugins-dir", plugins)
    assert result.exit_code == 3, result.output
    assert says in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("hook", ["check", "valuation"])
def test_a_check_or_valuation_that_calls_sys_exit_blocks_its_shipment_and_the_gate_exits_3(tmp_path, run_cli,
                                                                                          write_declaration, hook):
    """sys.exit(0) inside a check is a crash like any other: it must not end the gate with 0 (fail closed)."""
    plugins = tmp_path / "myplugins"
    plugins.mkdir()
    (plugins / "quitter.py").write_text(
        "import sys\nfrom fba_jp import hookimpl\n"
        "def check_quit(shipment):\n    sys.exit(0)\n"
        "@hookimpl\ndef register_checks(register):\n    register(check_quit, name='quit')\n"
        if hook == "check" else
        "import sys\nfrom fba_jp import hookimpl\n@hookimpl\ndef valuate_shipment(shipment):\n    sys.exit(0)\n")
    result = run_cli("gate", write_declaration(declaration_data()), "--plugins-dir", plugins, "-o", "json")
    assert result.exit_code == 3, result.output
    [shipment] = json.loads(result.stdout)["results"]
    assert shipment["verdict"] == "blocked"
    assert [f["plugin"] for f in shipment["findings"] if f["code"] == "PLUGIN_ERROR"] == ["quitter"]


def test_a_check_interrupted_by_the_daemon_stopping_is_not_recorded_as_a_plugin_error():
    """context.sleep() raises StopRequested when the daemon is asked to stop: the run stops, and the shipment is
    screened again next time, rather than blocked as PLUGIN_ERROR by a plugin that did nothing wrong."""
    from fba_jp import hookimpl
    from fba_jp.errors import StopRequested

    class Waits:
        @hookimpl
        def register_checks(self, register):
            def check_waits(shipment, context):
                context.stop.set()  # the daemon is asked to stop while the check waits
                context.sleep(3600)
            register(check_waits, name="waits")

    with pytest.raises(StopRequested):
        screen(declaration_data(), plugins={"waits": Waits()})


@pytest.mark.parametrize("listed", [list, lambda eps: list(reversed(list(eps)))])
def test_entry_points_load_in_name_order_whatever_order_the_file_system_lists_them(tmp_path, monkeypatch, listed):
    import importlib.metadata

    for name in ("zeta", "alpha"):
        install(tmp_path / "site", f"acme-{name}", f"acme_{name}", PLUGIN_SOURCE.replace("no_lithium", f"no_{name}"),
                name)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    found = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: listed(found(**kw)))
    plugins = get_plugins()
    # registered alpha, then zeta, on every machine (checks, like pluggy hooks, run last-registered first)
    assert [c.plugin for c in plugins.checks if c.plugin not in plugins.builtins] == ["zeta", "alpha"]
