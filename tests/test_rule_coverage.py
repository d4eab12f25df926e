"""Coverage check of the regime tables (issue 11): every heading a table lists is tested in both directions.

The products are data (``fba_jp/data/near_misses/products.toml``): each says which regime it tests and
whether that regime must block it, only warn, or stay clear. One declaration per regime screens them all.
"""

import tomllib
from importlib import resources

import pytest

from fba_jp.regimes import REGIMES, load_regime
from fba_jp.testing import make_declaration, screen

DATA = tomllib.loads(resources.files("fba_jp.data").joinpath("near_misses/products.toml").read_text(encoding="utf-8"))
PRODUCTS = DATA["products"]
BLOCKS = {"cosmetics": "COS_NO_MAH", "pse": "PSE_NO_NOTIFICATION", "food": "FOOD_NO_IMPORT_NOTIFICATION",
          "tableware": "TBL_NO_IMPORT_NOTIFICATION", "radio": "RADIO_NO_GITEKI", "psc": "PSC_NO_CONFORMITY"}


def digits(hs: str) -> str:
    return hs.replace(".", "")


def outcome(findings) -> str:
    codes = {f.code for f in findings}
    if codes & set(BLOCKS.values()):
        return "block"
    if "REG_POSSIBLY_REGULATED" in codes:
        return "warn"
    return "clear" if not findings else "other: " + ", ".join(sorted(codes))


@pytest.fixture(scope="module")
def outcomes():
    """{regime: [(product, outcome)]}, screening each regime's products in one declaration."""
    results = {}
    for regime in REGIMES:
        products = [p for p in PRODUCTS if p["regime"] == regime]
        items = [{"msku": f"P{i}", "quantity": 1, "unit_value": "10", "hs_code": p["hs"], "title": p["title"],
                  "origin_country": "CN", "duty_rate": "0",
                  **({"min_age_months": p["min_age_months"]} if "min_age_months" in p else {})}
                 for i, p in enumerate(products)]
        result = screen(make_declaration(items=items))
        results[regime] = [
            (p, outcome([f for f in result.findings if f.plugin == regime and f.sku == f"P{i}"]))
            for i, p in enumerate(products)
        ]
    return results


@pytest.mark.parametrize("regime", REGIMES)
def test_every_listed_product_blocks_warns_or_stays_clear_as_the_data_says(outcomes, regime):
    wrong = [(p["hs"], p["title"], p["expect"], got) for p, got in outcomes[regime] if got != p["expect"]]
    assert not wrong


@pytest.mark.parametrize("regime", REGIMES)
def test_every_heading_of_the_table_is_covered_in_both_directions(regime):
    table = load_regime(regime)
    mine = [p for p in PRODUCTS if p["regime"] == regime]

    def examples(heading, kind):
        return [p for p in mine if digits(p["hs"]).startswith(heading.digits)
                and (p["expect"] == "block") == (kind == "block")]

    missing = []
    for heading in table.hs:
        if len(heading.digits) >= 4 and not examples(heading, "block"):
            missing.append(f"{heading.text}: no product that blocks")
    for heading in (*table.hs_broad, *table.hs_keyword_only):
        if not examples(heading, "block"):
            missing.append(f"{heading.text}: no product that blocks with its keyword")
        if not examples(heading, "clear"):
            missing.append(f"{heading.text}: no sibling product that must not block")
    for heading in table.hs_exclude:
        if len(heading.digits) >= 4 and not [p for p in examples(heading, "clear") if p["expect"] == "clear"]:
            missing.append(f"{heading.text}: no product that stays clear")
    assert not missing


def test_the_near_miss_products_are_stamped():
    assert DATA["as_of"] and DATA["source"]
    assert {p["regime"] for p in PRODUCTS} == set(REGIMES)
    assert all(p["expect"] in ("block", "warn", "clear") for p in PRODUCTS)
