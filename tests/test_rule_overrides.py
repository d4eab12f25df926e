"""Per-heading config overrides of the regime and duty tables, recorded in the screening's audit row."""

import json
from decimal import Decimal

import pytest

from fba_jp.config import Config, load_config
from fba_jp.errors import ConfigError
from fba_jp.testing import make_declaration, screen


def config(**rules):
    return Config.model_validate({"rules": rules})


def one(**item):
    return make_declaration(items=[{"msku": "A", "quantity": 10, "unit_value": "20", "origin_country": "CN",
                                    "duty_rate": "0", **item}])


def stored_overrides(store, shipment_id="FBA15TEST001"):
    row = store.conn.execute("select rule_overrides from screenings where shipment_id = ? order by id desc limit 1",
                             [shipment_id]).fetchone()
    return None if row[0] is None else json.loads(row[0])


def test_a_heading_moved_to_warn_no_longer_blocks_and_the_audit_row_says_why(fba_jp_store):
    bin_ = one(hs_code="7323.93", title="Stainless steel pedal waste bin")
    assert "TBL_NO_IMPORT_NOTIFICATION" in screen(bin_).codes  # the shipped table: 7323.9x blocks
    rules = config(regimes={"tableware": {"warn": ["7323.93"]}})
    result = screen(bin_, config=rules, store=fba_jp_store)
    warning = next(f for f in result.findings if f.plugin == "tableware")
    assert warning.code == "REG_POSSIBLY_REGULATED" and "config [rules.regimes.tableware] warn '7323.93'" in warning.evidence
    expected = [{"table": "regimes/tableware", "heading": "7323.93", "action": "warn", "skus": ["A"]}]
    assert result.rule_overrides == expected and stored_overrides(fba_jp_store) == expected


def test_ignore_and_block_overrides():
    plates = one(hs_code="3924.10", title="Plastic picnic plates")
    assert not [f for f in screen(plates, config=config(regimes={"tableware": {"ignore": ["3924"]}})).findings
                if f.plugin == "tableware"]
    planter = one(hs_code="6912.00", title="Ceramic flower planter")
    result = screen(planter, config=config(regimes={"tableware": {"block": ["6912.00"]}}))
    assert "TBL_NO_IMPORT_NOTIFICATION" in result.codes


def test_a_declared_category_outranks_an_override():
    mug = one(hs_code="6912.00", title="Stoneware mug", categories=["tableware"])
    result = screen(mug, config=config(regimes={"tableware": {"ignore": ["6912"]}}))
    assert "TBL_NO_IMPORT_NOTIFICATION" in result.codes and result.rule_overrides == []


def test_duty_rate_override_is_used_and_recorded(fba_jp_store):
    ball = make_declaration(currency="JPY", fx_rates={}, items=[
        {"msku": "BALL", "quantity": 10, "unit_value": "10000", "hs_code": "9506.62", "origin_country": "CN"}])
    assert screen(ball).valuation.duty_jpy is None  # not in the shipped table: unknown
    result = screen(ball, config=config(duty_rates={"9506": "4.3"}), store=fba_jp_store)
    line = result.valuation.lines[0]
    assert line.duty_rate == Decimal("4.3") and line.duty_jpy == 4_300  # ¥100,000 × 4.3 %
    assert "config [rules.duty_rates] '9506' = 4.3" in line.model_extra["duty_rate_source"]
    assert "VAL_DUTY_RATE_UNKNOWN" not in result.codes
    expected = [{"table": "duty_rates", "heading": "9506", "action": "rate", "rate": "4.3", "skus": ["BALL"]}]
    assert result.rule_overrides == expected and stored_overrides(fba_jp_store) == expected


def test_food_override_changes_the_notification_and_the_reduced_rate_together():
    salt = make_declaration(currency="JPY", fx_rates={}, items=[
        {"msku": "SALT", "quantity": 10, "unit_value": "500", "hs_code": "2501.00", "title": "Sea salt flakes",
         "origin_country": "FR", "duty_rate": "0"}])
    plain = screen(salt)
    assert "FOOD_NO_IMPORT_NOTIFICATION" in plain.codes and plain.valuation.lines[0].consumption_tax_rate == Decimal("6.24")
    result = screen(salt, config=config(regimes={"food": {"ignore": ["2501"]}}))
    assert "FOOD_NO_IMPORT_NOTIFICATION" not in result.codes
    assert result.valuation.lines[0].consumption_tax_rate == Decimal("7.8")
    assert result.rule_overrides == [{"table": "regimes/food", "heading": "2501", "action": "ignore", "skus": ["SALT"]}]


def test_no_override_no_audit_entry_and_no_new_output_key(fba_jp_store):
    result = screen(one(hs_code="6306.22", title="Tent"), store=fba_jp_store)
    assert result.rule_overrides == [] and "rule_overrides" not in result.model_dump()
    assert stored_overrides(fba_jp_store) is None


@pytest.mark.parametrize("body,field", [
    ('[rules.regimes.tableware]\nwarn = ["7323.99"]\nignore = ["7323.99"]\n', "rules.regimes.tableware"),
    ('[rules.regimes.toys]\nblock = ["9503"]\n', "rules.regimes"),
    ('[rules.duty_rates]\n"95x" = "3"\n', "rules.duty_rates"),
])
def test_bad_overrides_fail_in_one_line_naming_the_key(tmp_path, body, field):
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    assert field in str(excinfo.value)


def test_a_stored_screening_reads_back_with_the_overrides_that_changed_it(fba_jp_store):
    """What `fba-jp report` and the unchanged-input check of `fba-jp screen` read: the stored result carries
    the same rule_overrides as the screening that wrote it (the audit says why the verdict is what it is)."""
    rules = config(regimes={"tableware": {"warn": ["7323.93"]}}, duty_rates={"7323": "3.5"})
    result = screen(one(hs_code="7323.93", title="Stainless steel pedal waste bin", duty_rate=None),
                    config=rules, store=fba_jp_store)
    assert len(result.rule_overrides) == 2
    stored = fba_jp_store.latest_results()[0]
    assert stored.rule_overrides == result.rule_overrides
    assert stored.model_dump(mode="json", exclude={"screening_id", "screened_at"}) == \
        result.model_dump(mode="json", exclude={"screening_id", "screened_at"})
    document, _ = next(fba_jp_store.iter_latest_documents())
    assert document["rule_overrides"] == result.rule_overrides
    # a screening no override changed reads back without the key, as its model_dump has none
    screen(one(hs_code="6306.22", title="Tent", duty_rate="4.5"), config=rules, store=fba_jp_store)
    document, _ = next(fba_jp_store.iter_latest_documents())
    assert "rule_overrides" not in document and fba_jp_store.latest_results()[0].rule_overrides == []


def test_screeners_with_different_configs_in_one_process_each_get_their_own_answer():
    """The memoised classification and reduced-rate answers (regimes.py, plugins/food.py) are keyed on the
    item only; the config's overrides and [valuation] settings are applied around them, per screening. Two
    Screeners used in turn (the daemon's accounts, `serve` after a config change) never see each other's."""
    from fba_jp.plugin_manager import get_plugins
    from fba_jp.runner import Screener

    salt = make_declaration(currency="JPY", fx_rates={}, items=[
        {"msku": "SALT", "quantity": 10, "unit_value": "500", "hs_code": "2501.00", "title": "Sea salt flakes",
         "origin_country": "FR"}])
    plugins = get_plugins(load_entrypoints=False)
    overridden = Screener(plugins, Config.model_validate({
        "rules": {"regimes": {"food": {"ignore": ["2501"]}}, "duty_rates": {"2501": "9"}},
        "valuation": {"small_value_excluded_hs": ["2501"]}}))
    plain = Screener(plugins, Config())

    def outcome(screener):
        result, _ = screener.evaluate(salt, "x.json")
        line = result.valuation.lines[0]
        return ("FOOD_NO_IMPORT_NOTIFICATION" in [f.code for f in result.findings], str(line.consumption_tax_rate),
                line.duty_rate, result.valuation.small_value_exemption, len(result.rule_overrides))

    for _ in range(2):  # the overridden one first, so its answers would be the ones memoised
        assert outcome(overridden) == (False, "7.8", Decimal("9"), False, 2)
        assert outcome(plain) == (True, "6.24", None, True, 0)


def test_documents_show_the_licences_of_the_regimes_the_screening_decided():
    """A ``[rules.regimes]`` override the screening applied decides which account-wide filings a document
    line shows, as it decided the findings (the stored result carries it, whatever the config says now)."""
    from fba_jp.documents.build import licences_for, regime_overrides
    from fba_jp.models import Filing

    filing = [Filing(kind="food_import_notification", number="2026-TK-000123")]  # every SKU of the account
    shown = "Food import notification"

    def line(declaration, rules=None):
        result = screen(declaration, config=config(regimes=rules) if rules else None)
        item = declaration.items[0]
        return " ".join(licences_for(item, declaration, filing, regime_overrides(result)))

    mug = one(hs_code="6912.00", title="Stoneware mug")
    assert shown in line(mug)
    assert line(mug, {"tableware": {"ignore": ["6912"]}}) == ""  # taken out of the regime: no filing on its line
    box = one(hs_code="4420.90", title="Wooden display box")
    assert line(box) == ""
    assert shown in line(box, {"tableware": {"block": ["4420"]}})
