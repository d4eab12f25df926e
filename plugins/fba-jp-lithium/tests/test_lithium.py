"""The lithium plugin as its author tests it, with fba_jp.testing."""

import pytest

from fba_jp.errors import ConfigError, InputError
from fba_jp.testing import make_declaration, make_item, screen

import fba_jp_lithium

PLUGIN = {"lithium": fba_jp_lithium}  # registered under its entry-point name, as pip installs it


def power_bank(**lithium):
    extensions = {"extensions": {"lithium": lithium}} if lithium else {}
    return make_declaration(items=[make_item("PB-10000", title="10000 mAh power bank", quantity=50,
                                             hs_code="8507.60", duty_rate="0", **extensions)])


def test_a_power_bank_by_air_is_cargo_aircraft_only_at_30_percent():
    result = screen(power_bank(), plugins=PLUGIN)
    finding = result.finding("DG_LITHIUM")
    assert finding.sku == "PB-10000" and finding.severity == "warn" and "power bank" in finding.evidence
    assert "only on cargo aircraft, at no more than 30 % state of charge" in finding.message
    assert "Packing Instruction 965 (UN3480)" in finding.reference


def test_a_battery_charged_above_the_limit_is_blocked():
    assert "DG_LITHIUM_CHARGE" not in screen(power_bank(state_of_charge_percent=30), plugins=PLUGIN).codes
    over = screen(power_bank(un_number="UN3480", state_of_charge_percent=50), plugins=PLUGIN)
    assert over.verdict == "blocked" and "at 50 % state of charge" in over.finding("DG_LITHIUM_CHARGE").message
    stricter = {"plugins": {"lithium": {"max_state_of_charge_percent": 25}}}
    assert "DG_LITHIUM_CHARGE" in screen(power_bank(state_of_charge_percent=30), plugins=PLUGIN, config=stricter).codes


def test_equipment_with_batteries_and_sea_freight_say_so():
    lantern = make_declaration(items=[make_item("LANTERN", title="Camping lantern with lithium battery",
                                                extensions={"lithium": {"un_number": "UN3481"}})])
    assert "Packing Instructions 966 and 967" in screen(lantern, plugins=PLUGIN).finding("DG_LITHIUM").message
    by_sea = screen(power_bank(), plugins=PLUGIN, config={"plugins": {"lithium": {"transport": "sea"}}})
    assert "IMDG" in by_sea.finding("DG_LITHIUM").reference


def test_a_tent_is_not_flagged():
    assert "DG_LITHIUM" not in screen(make_declaration(), plugins=PLUGIN).codes


def test_bad_settings_and_bad_item_data_fail_in_one_line_naming_the_field():
    with pytest.raises(ConfigError, match=r"plugins\.lithium\.transprot: unknown field .*plugin 'lithium'"):
        screen(power_bank(), plugins=PLUGIN, config={"plugins": {"lithium": {"transprot": "sea"}}})
    with pytest.raises(InputError, match=r"items\[0\]\.extensions\.lithium\.state_of_charge_percent: "):
        screen(power_bank(state_of_charge_percent=150), plugins=PLUGIN)
