"""How items are put into regulated-product regimes (fba_jp/regimes.py and the tables in data/regimes/)."""

import json
import re
import sys
from datetime import date
from pathlib import Path

import pytest

from fba_jp.models import Item, Licence
from fba_jp.plugin_manager import get_plugins
from fba_jp.regimes import REGIMES, load_regime, lookup
from fba_jp.testing import make_declaration, screen

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
REGIME_CODES = [
    "COS_NO_MAH", "COS_NO_MANUFACTURING_LICENCE", "COS_NO_NOTIFICATION", "PSE_NO_NOTIFICATION", "PSE_NO_CERTIFICATE", "PSE_NO_DOMESTIC_ADMIN",
    "FOOD_NO_IMPORT_NOTIFICATION", "TBL_NO_IMPORT_NOTIFICATION", "RADIO_NO_GITEKI", "PSC_NO_CONFORMITY",
    "PSE_TYPE_UNKNOWN", "TBL_NO_PL_STATEMENT", "REG_POSSIBLY_REGULATED", "LICENCE_EXPIRED",
]
DEFAULT_SEVERITY = {code: "block" for code in REGIME_CODES} | {
    "PSE_TYPE_UNKNOWN": "warn", "TBL_NO_PL_STATEMENT": "warn", "REG_POSSIBLY_REGULATED": "warn",
}


def item(**fields) -> Item:
    return Item.model_validate({"msku": "SKU-1", "quantity": 1, **fields})


def regimes_of(**fields) -> dict[str, tuple[bool, str]]:
    """{regime: (requirements apply, evidence)} for an item."""
    it = item(**fields)
    return {name: (m.applies, m.evidence) for name in REGIMES if (m := load_regime(name).classify(it))}


@pytest.mark.parametrize("name", REGIMES)
def test_every_table_is_stamped_and_well_formed(name):
    path = ROOT / "fba_jp" / "data" / "regimes" / f"{name}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["regime"] == name
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(data["as_of"]))
    assert data["source"].strip() and data["law"].strip()
    assert data["hs"] and data["keywords"] and data["product_types"]
    for product_type in data["product_types"]:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", product_type), product_type
    regime = load_regime(name)
    assert set(regime.yields_to) <= set(REGIMES) - {name}


def test_category_outranks_hs_outranks_product_type_outranks_keyword():
    assert regimes_of(title="face serum", categories=["cosmetics"])["cosmetics"] == (True, "declared category 'cosmetics'")
    assert regimes_of(title="face serum", hs_code="3304.99")["cosmetics"] == (True, "HS 3304.99 is under heading 3304")
    assert regimes_of(title="face serum", product_type="skin_moisturizer")["cosmetics"] == (
        False, "product_type 'SKIN_MOISTURIZER'")
    assert regimes_of(title="face serum")["cosmetics"] == (False, "title contains 'serum'")


def test_keywords_match_whole_words_and_plurals_only():
    assert "tableware" in regimes_of(title="Set of 4 stoneware mugs")
    assert "tableware" not in regimes_of(title="Vanilla cupcake scented candle")
    assert "tableware" not in regimes_of(title="Gold plated necklace")
    assert "food" not in regimes_of(title="Steam teapot-shaped ornament")  # "tea" inside "teapot"
    assert "radio" in regimes_of(title="Dual-band Wi-Fi 6 router")  # hyphens read as spaces
    assert "pse" in regimes_of(title="USB-C wall CHARGER 65W")


def test_japanese_keywords_match_without_spaces():
    assert regimes_of(title="宇治抹茶 30g")["food"] == (False, "title contains '抹茶'")
    assert regimes_of(title="モバイルバッテリー 10000mAh 大容量")["pse"] == (False, "title contains 'モバイルバッテリー'")
    assert regimes_of(title="木製ベビーベッド 収納付き")["psc"] == (False, "title contains 'ベビーベッド'")
    assert regimes_of(title="ＵＳＢ充電器")["pse"] == (False, "title contains '充電器'")  # full-width letters


def test_coffee_mug_is_tableware_only_by_keyword_and_never_food():
    found = regimes_of(title="Ceramic coffee mug 350 ml")
    assert found == {"tableware": (False, "title contains 'mug'")}


def test_food_words_describing_other_goods_are_not_food():
    assert "food" not in regimes_of(title="Vitamin C face serum")          # yields to cosmetics
    assert "food" not in regimes_of(title="Rice cooker 5.5 cups 100V")     # yields to pse
    assert "food" not in regimes_of(title="Walnut coffee table, 120 cm")   # masked phrase
    assert "food" not in regimes_of(title="Tea tree oil shampoo")
    assert regimes_of(title="Colombian coffee beans 1 kg")["food"] == (False, "title contains 'coffee beans'")


def test_excluded_headings_take_the_item_out_whatever_the_title():
    assert "food" not in regimes_of(title="Chicken jerky dog treats", hs_code="2309.10")
    assert "food" not in regimes_of(title="Cigars", hs_code="240210")
    assert "cosmetics" not in regimes_of(title="Sandalwood incense sticks", hs_code="3307.41")
    assert "tableware" not in regimes_of(title="Aluminium soap dish", hs_code="7615.20")


def test_broad_heading_alone_warns_and_with_a_keyword_applies():
    assert regimes_of(title="USB-C data cable 1 m", hs_code="8544.42")["pse"][0] is False
    applies, evidence = regimes_of(title="Extension cord 3 m", hs_code="8544.42")["pse"]
    assert applies and evidence == "HS 8544.42 is under heading 8544 and title contains 'extension cord'"
    assert regimes_of(title="Wooden jigsaw puzzle, ages 5+", hs_code="9503.00")["psc"][0] is False
    assert regimes_of(title="Wooden jigsaw puzzle, ages 5+", hs_code="9503.00").get("food") is None


@pytest.mark.parametrize("hs_code", ["3304.99", "330499", "330499000", "3304.99-000"])
def test_hs_code_in_every_accepted_format_classifies_the_same(hs_code):
    applies, evidence = regimes_of(title="Moisture essence", hs_code=hs_code)["cosmetics"]
    assert applies and "heading 3304" in evidence


def test_lookup_distinguishes_expired_other_skus_and_not_yet_valid():
    on = date(2026, 12, 7)
    records = [
        Licence(kind="giteki", number="R-1", skus=["A"]),
        Licence(kind="giteki", number="R-2", skus=["B"], valid_until=date(2026, 1, 31)),
        Licence(kind="giteki", number="R-3", skus=["C"], valid_from=date(2027, 1, 1)),
    ]
    assert lookup(records, "giteki", "A", on).valid.number == "R-1"
    last_day = Licence(kind="giteki", number="R-9", valid_until=on)
    assert lookup([last_day], "giteki", "A", on).ok  # valid through its last day
    expired = lookup(records, "giteki", "B", on)
    assert not expired.ok and expired.expired.number == "R-2" and "expired on 2026-01-31" in expired.why_missing
    future = lookup(records, "giteki", "C", on)
    assert not future.ok and future.expired is None and "valid only from 2027-01-01" in future.why_missing
    other = lookup(records, "giteki", "D", on)
    assert not other.ok and "covers only SKUs A, not D" in other.why_missing
    assert "no psc in the declaration's licences" in lookup(records, "psc", "A", on).why_missing


def test_every_regulated_code_is_declared_by_a_check_and_produced():
    declared = {code for check in get_plugins(load_entrypoints=False).checks for code in check.codes}
    assert set(REGIME_CODES) <= declared
    expired = "2026-01-31"
    declaration = make_declaration(
        licences=[{"kind": "giteki", "number": "R 201-000001", "skus": ["BT-1"], "valid_until": expired}],
        items=[
            {"msku": "SERUM-1", "quantity": 1, "title": "Face serum", "hs_code": "3304.99"},
            {"msku": "CHG-1", "quantity": 1, "title": "USB charger", "hs_code": "8504.40"},
            {"msku": "CHG-2", "quantity": 1, "title": "AC adapter", "hs_code": "8504.40",
             "pse": {"type": "specified"}},
            {"msku": "TEA-1", "quantity": 1, "title": "Green tea", "hs_code": "0902.10"},
            {"msku": "CUP-1", "quantity": 1, "title": "Plastic cup", "hs_code": "3924.10"},
            {"msku": "BT-1", "quantity": 1, "title": "Bluetooth tracker", "hs_code": "8517.62"},
            {"msku": "LASER-1", "quantity": 1, "title": "Laser pointer", "hs_code": "9013.20"},
            {"msku": "RADIO-1", "quantity": 1, "title": "Wi-Fi smart plug", "hs_code": "8517.62"},
            {"msku": "BEANS-1", "quantity": 1, "title": "Coffee beans"},
        ],
    )
    result = screen(declaration)
    produced = {f.code: f.severity for f in result.findings}
    assert {code: produced.get(code) for code in REGIME_CODES} == DEFAULT_SEVERITY
    for finding in result.findings:
        if finding.code in REGIME_CODES:
            assert finding.sku and finding.evidence and finding.reference and finding.remedy


@pytest.mark.parametrize("example,verdict", [("kyoto-cosmetics-blocked.json", "blocked"),
                                             ("tokyo-tea-annotated.json", "annotated")])
def test_examples_show_a_blocked_and_an_annotated_regulated_shipment(example, verdict):
    data = json.loads((ROOT / "examples" / example).read_text(encoding="utf-8"))
    result = screen(data)
    regime_findings = [f for f in result.findings if f.plugin in REGIMES]
    blocks = {f.code for f in regime_findings if f.severity == "block"}
    if verdict == "blocked":
        assert result.verdict == "blocked"
        assert blocks == {"COS_NO_MANUFACTURING_LICENCE", "COS_NO_NOTIFICATION", "LICENCE_EXPIRED"}
        assert "HINOKI-COMB" not in {f.sku for f in regime_findings}
    else:
        assert result.verdict != "blocked", [f.code for f in result.findings if f.severity == "block"]
        assert blocks == set()
        assert [(f.code, f.sku) for f in regime_findings] == [("TBL_NO_PL_STATEMENT", "SHAKER-500")]
