"""The gate fails closed: nothing clears that was not checked, and what cannot be screened says so in one line."""

import json
from pathlib import Path

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


# --------------------------------------------------------------------------- numbers the schema accepts, bounded

def item_with(**fields):
    data = declaration_data()
    data["items"][0].update(fields)
    return data


# (case, file name, text, the one line's field and message)
BOUND_CASES = [
    ("huge quantity exponent", "s.json", json.dumps(item_with()).replace('"quantity": 40', '"quantity": 1e1000000'),
     "items[0].quantity: must be a positive integer at most 10,000,000 (10^7) (got 1E+1000000)"),
    ("quantity above 10^7", "s.json", json.dumps(item_with(quantity=10_000_001)),
     "items[0].quantity: must be a positive integer at most 10,000,000"),
    ("TOML inf quantity", "s.toml", 'shipment_id = "A"\ncurrency = "USD"\nseller = {name = "x"}\n'
     '[[items]]\nmsku = "a"\nquantity = inf\n', "items[0].quantity: must be a positive integer (got Infinity)"),
    ("TOML inf freight", "s.toml", 'shipment_id = "A"\ncurrency = "USD"\nseller = {name = "x"}\nfreight = inf\n'
     '[[items]]\nmsku = "a"\nquantity = 1\n', "freight: must be a finite number (got Infinity)"),
    ("TOML nan unit value", "s.toml", 'shipment_id = "A"\ncurrency = "USD"\nseller = {name = "x"}\n'
     '[[items]]\nmsku = "a"\nquantity = 1\nunit_value = nan\n', "items[0].unit_value: must be a finite number"),
    ("unit value above 10^12", "s.json", json.dumps(item_with(unit_value="1e400")),
     "items[0].unit_value: must be at most 1,000,000,000,000 (10^12)"),
    ("unit value with 1e-1000000", "s.json", json.dumps(item_with(unit_value="1e-1000000")),
     "items[0].unit_value: must have at most 12 digits after the decimal point"),
    ("yen about 9.2e18", "s.json", json.dumps(item_with(valuation={"domestic_unit_price_jpy": 9_300_000_000_000_000_000})),
     "items[0].valuation.domestic_unit_price_jpy: must be at most 1,000,000,000,000"),
    ("yen as a huge decimal", "s.toml", 'shipment_id = "A"\ncurrency = "USD"\nseller = {name = "x"}\n[[items]]\n'
     'msku = "a"\nquantity = 1\nvaluation = {identical_goods_unit_value_jpy = 1e1000000}\n',
     "items[0].valuation.identical_goods_unit_value_jpy: must be at most 1,000,000,000,000"),
    ("shipment total above 10^12", "s.json", json.dumps(item_with(quantity=10_000_000, unit_value="200000")),
     "(top level): the shipment's value (quantities × unit values + freight, insurance and other additions) is 2.000E+12 USD"),
    ("exchange rate above 10^4", "s.json", json.dumps(declaration_data(fx_rates={"USD": "1e6"})),
     "fx_rates.USD: must be at most 10,000 (10^4)"),
    ("JSON nested 1,000 deep", "s.json", json.dumps(declaration_data())[:-1] + ', "x": ' + "[" * 1000 + "]" * 1000 + "}",
     "(top level): lists and objects nest more than 32 levels deep"),
    ("TOML nested 1,000 deep", "s.toml", "x = " + "[" * 1000 + "]" * 1000 + "\n",
     "(top level): lists and objects nest more than 32 levels deep"),
    ("JSON nested 40 deep", "s.json", json.dumps(declaration_data(title=json.loads("[" * 40 + "]" * 40))),
     "(top level): lists and objects nest more than 32 levels deep"),
    ("TOML integer of 5,000 digits", "s.toml", "x = " + "9" * 5000 + "\n", "not valid TOML: Exceeds the limit"),
]


@pytest.mark.parametrize("name, text, wanted", [c[1:] for c in BOUND_CASES], ids=[c[0] for c in BOUND_CASES])
def test_magnitudes_and_nesting_are_bounded_with_one_clear_line(run_cli, tmp_path, name, text, wanted):
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_cli("gate", tmp_path / name, "-o", "json", "--db", ":memory:")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert line.startswith(f"{tmp_path / name}: ") and wanted in line, line


def test_the_largest_accepted_shipment_values_and_stores_exactly(tmp_path):
    # every bound at once: the derived yen figures still fit SQLite's integers
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener
    from fba_jp.testing import make_declaration

    declaration = make_declaration(fx_rates={"USD": "10000"}, freight="0", items=[
        {"msku": "BIG", "quantity": 10_000_000, "unit_value": "100000", "hs_code": "6306.22", "duty_rate": "1000",
         "origin_country": "CN"}])
    with Store(tmp_path / "big.db") as store:
        result = Screener(get_plugins(load_entrypoints=False), store=store).screen(declaration, "big.json")
        stored = store.db.execute("select customs_value_jpy, total_tax_jpy from valuations").fetchone()
    assert result.valuation.customs_value_jpy == 10**16 and stored[0] == 10**16
    assert stored[1] == result.valuation.total_tax_jpy > 10**16


def test_an_imported_exchange_rate_is_bounded_too(run_cli, tmp_path):
    (tmp_path / "rates.csv").write_text("week_start,currency,rate\n2026-12-06,USD,99999999999\n2026-12-06,EUR,1.0000000000000001\n")
    result = run_cli("rates", "import", tmp_path / "rates.csv", "--db", tmp_path / "r.db")
    assert result.exit_code == 3
    assert f"{tmp_path / 'rates.csv'}:2: rate: must be at most 10,000 (10^4)" in result.stderr
    assert f"{tmp_path / 'rates.csv'}:3: rate: must have at most 12 digits after the decimal point" in result.stderr


ODD_RAISES = '''
from fba_jp import hookimpl

class LibraryAbort(BaseException):
    """What some libraries raise to unwind: not an Exception."""

@hookimpl
def register_checks(register):
    def odd(shipment):
        if shipment.shipment_id == "ODD1":
            raise LibraryAbort("unwound")
        if shipment.shipment_id == "ODD2":
            raise GeneratorExit("closed")
        return []

    register(odd, name="odd")
'''


def test_a_check_raising_any_base_exception_blocks_its_shipment_and_the_gate_exits_3(run_cli, write_declaration, tmp_path):
    """Not only Exception: a BaseException subclass from a check ended the gate with a traceback, exit 1 and
    no verdict for any file, the files after it never screened."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "odd.py").write_text(ODD_RAISES)
    files = [write_declaration(declaration_data(shipment_id=sid), name=f"{sid}.json") for sid in ("ODD1", "ODD2", "FINE")]
    result = run_cli("gate", *files, "--plugins-dir", plugins, "-o", "json")
    assert result.exit_code == 3, result.stderr
    verdicts = {r["shipment_id"]: (r["verdict"], [e["message"] for e in r["errors"]])
                for r in json.loads(result.stdout)["results"]}
    assert verdicts == {"ODD1": ("blocked", ["LibraryAbort: unwound"]), "ODD2": ("blocked", ["GeneratorExit: closed"]),
                        "FINE": ("annotated", [])}  # VAL_FALLBACK: its checks all ran


def test_a_check_raising_stop_requested_outside_a_stop_is_a_plugin_error():
    """Only the daemon's stop ends a screening; a check's own StopRequested would leave every shipment after
    it unscreened at its old verdict, run after run."""
    from fba_jp.errors import StopRequested
    from fba_jp.testing import screen

    class Stops:
        @hookimpl
        def register_checks(self, register):
            def stops(shipment):
                raise StopRequested

            register(stops, name="stops")

    result = screen(declaration_data(), plugins=[Stops()])
    assert result.verdict == "blocked" and result.errors[0].message == "StopRequested: "


@pytest.mark.parametrize("hook", ["check", "valuation"])
def test_a_plugin_cannot_hand_back_its_own_block_already_waived(hook):
    """Only an audited waiver (fba-jp release) waives: a block a plugin returns with waived=True cleared the
    shipment with nothing in the waivers table."""
    from fba_jp.testing import screen

    def waived_block():
        return Finding(code="SELF_WAIVED", severity="block", message="banned goods", waived=True,
                       waiver={"reason": "trust me", "by": "plugin"})

    class Check:
        @hookimpl
        def register_checks(self, register):
            register(lambda shipment: [waived_block()], name="self_waiving", codes=["SELF_WAIVED"])

    class Valuing:
        @hookimpl
        def valuate_shipment(self, shipment, context):
            from fba_jp.plugins.valuation import valuate_shipment

            valuation = valuate_shipment(shipment, context)
            valuation.findings.append(waived_block())
            return valuation

    result = screen(declaration_data(), plugins=[Check() if hook == "check" else Valuing()])
    assert result.verdict == "blocked"
    assert "marked as waived" in result.finding("PLUGIN_ERROR").message


def test_a_check_waiting_in_context_sleep_wakes_when_the_daemon_is_asked_to_stop(tmp_path, monkeypatch):
    """The daemon's screening (screen_synced) gives checks its stop event: a check waiting in context.sleep
    used to wait on an event nothing ever set, holding SIGTERM up for as long as it asked to wait."""
    import sp_api.auth.access_token_client as token_client

    from fba_jp.app import App
    from fba_jp.demo import demo_credentials, write_demo_config
    from fba_jp.errors import StopRequested
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.sandbox import Sandbox
    from fba_jp.sync import screen_synced, sync_accounts
    import threading

    stop = threading.Event()
    went_on = []

    class Waits:
        @hookimpl
        def register_checks(self, register):
            def waits(shipment, context):
                stop.set()  # SIGTERM arrives while this check waits
                context.sleep(600)  # returns at once when wired; only a regression waits this out
                went_on.append(shipment.shipment_id)
                return []

            register(waits, name="waits")

    token_client.cache.clear()
    with Sandbox(seed=3) as sandbox:
        config = write_demo_config(tmp_path, sandbox)
        for name, value in demo_credentials(sandbox).items():
            monkeypatch.setenv(name, value)
        app = App(str(config), str(tmp_path / "s.db"), (), get_plugins(load_entrypoints=False, extra=(Waits(),)))
        sync_accounts(app, ["northwind"])
        with pytest.raises(StopRequested):
            screen_synced(app, ["northwind"], stop=stop)
        app.store.close()
    assert went_on == []


class EmptiesTheItems:
    """A check that changes the declaration it is handed (a bug in a plugin, or worse), and one after it that
    notes how many items it was shown."""

    def __init__(self, times=None):
        self.times = times  # meddle this many times, then behave (None: always)
        self.seen = []

    @hookimpl
    def register_checks(self, register):
        def meddle(shipment):
            if self.times is None or self.times > 0:
                shipment.items.clear()
                self.times = None if self.times is None else self.times - 1
            return []

        def witness(shipment):
            self.seen.append(len(shipment.items))
            return []

        register(meddle, name="meddle")
        register(witness, name="witness")


def screen_with(plugin, tmp_path):
    from fba_jp.models import Declaration
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener

    declaration = Declaration.model_validate(declaration_data())
    given = declaration.canonical_json()
    store = Store(tmp_path / "m.db")
    result = Screener(get_plugins(load_entrypoints=False, extra=(plugin,)), store=store).screen(declaration, "m.json")
    return declaration, given, store, result


def test_a_plugin_that_changes_the_declaration_blocks_it_and_the_other_checks_screen_what_was_declared(tmp_path):
    from fba_jp.runner import input_sha256

    plugin = EmptiesTheItems()
    declaration, given, store, result = screen_with(plugin, tmp_path)
    assert result.verdict == "blocked"
    [error] = result.errors
    assert (error.plugin, error.check) == ("EmptiesTheItems", "meddle")
    assert "changed the declaration or valuation it was handed" in error.message
    assert [f.code for f in result.findings if f.severity == "block"] == ["PLUGIN_ERROR"]
    assert plugin.seen[-1] == 1  # screened again: the check after the meddler saw the item that was declared
    assert declaration.canonical_json() == given  # the caller's declaration is as given again
    assert result.input_sha256 == input_sha256(given)
    assert store.declaration(result.input_sha256) == given
    assert store.db.execute("select msku from items").fetchall() == [("TENT-2P",)]  # not the emptied list


def test_a_change_that_does_not_happen_again_still_blocks(tmp_path):
    plugin = EmptiesTheItems(times=1)  # meddles in the first run only: the checks of that run were misled
    _, _, _, result = screen_with(plugin, tmp_path)
    assert plugin.seen == [0, 1]
    assert result.verdict == "blocked"
    [error] = result.errors
    assert error.check is None and "none did it again" in error.message
    [finding] = [f for f in result.findings if f.code == "PLUGIN_ERROR"]
    assert finding.message.startswith("a plugin failed")


@pytest.mark.parametrize("example", sorted(Path(__file__).parent.parent.glob("examples/*.json")), ids=lambda p: p.stem)
def test_the_built_in_plugins_never_change_what_they_are_handed(example):
    # so the screener does not look for it when only they are loaded (Screener.watch_input)
    from fba_jp.inputs import parse_text
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener

    declaration = parse_text(example.read_text(), example.name)
    given = declaration.canonical_json()
    screener = Screener(get_plugins(load_entrypoints=False))
    assert not screener.watch_input
    assert screener.screen(declaration, example.name).errors == []
    assert declaration.canonical_json() == given


def test_plugins_that_leave_the_declaration_alone_are_screened_once(tmp_path):
    plugin = EmptiesTheItems(times=0)
    _, _, _, result = screen_with(plugin, tmp_path)
    assert plugin.seen == [1] and result.errors == []


class ChangesTheImporter:
    """A valuation hook that writes to the declaration, then lets the built-in valuation answer."""

    @hookimpl(tryfirst=True)
    def valuate_shipment(self, shipment, context):
        shipment.importer_of_record.name = "Tokyo Import Services K.K."
        return None


def test_a_valuation_hook_that_changes_the_declaration_is_named(tmp_path):
    declaration, given, _, result = screen_with(ChangesTheImporter(), tmp_path)
    assert [(e.plugin, e.check) for e in result.errors] == [("ChangesTheImporter", "valuate_shipment")]
    assert result.valuation is not None  # the built-in valuation still answered, on the declaration as given
    assert declaration.canonical_json() == given


class ChangesTheValuation:
    """A check that writes to the valuation every check reads (and the audit trail keeps)."""

    def __init__(self, how):
        self.how = how

    @hookimpl
    def register_checks(self, register):
        def cheapen(shipment, context):
            self.how(context)
            return []

        register(cheapen, name="cheapen")


@pytest.mark.parametrize("how", [
    lambda context: setattr(context.valuation, "customs_value_jpy", 1),
    lambda context: context.valuation.lines.clear(),
    lambda context: setattr(context, "valuation", None),
], ids=["field", "lines", "replaced"])
def test_a_check_that_changes_the_valuation_is_named_and_the_valuation_kept_is_the_one_computed(tmp_path, how):
    _, _, store, result = screen_with(ChangesTheValuation(how), tmp_path)
    assert [(e.plugin, e.check) for e in result.errors] == [("ChangesTheValuation", "cheapen")]
    assert result.valuation is not None and result.valuation.customs_value_jpy > 1 and result.valuation.lines
    [stored] = store.db.execute("select customs_value_jpy from valuations").fetchall()
    assert stored == (result.valuation.customs_value_jpy,)


class RetitlesWhenAsked:
    """A reduced_tax_rate hook (asked by the built-in valuation about each item) that writes to the item."""

    @hookimpl
    def reduced_tax_rate(self, item, shipment):
        item.title = "biscuits"
        return None


def test_a_hook_the_valuation_asks_is_named_when_it_changes_the_item(tmp_path):
    declaration, given, _, result = screen_with(RetitlesWhenAsked(), tmp_path)
    assert [(e.plugin, e.check) for e in result.errors] == [("RetitlesWhenAsked", "reduced_tax_rate")]
    assert declaration.canonical_json() == given
