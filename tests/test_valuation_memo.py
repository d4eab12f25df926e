"""The valuation's memoised look-ups answer exactly as the look-ups they stand for, and the public
``reduced_tax_rate`` hook is still asked about every item (issue 15: the valuation's fast paths)."""

import pytest

from fba_jp import hookimpl
from fba_jp.models import Item
from fba_jp.plugins import food
from fba_jp.regimes import load_regime
from fba_jp.testing import declaration_data, make_declaration, screen
from fba_jp.valuation import food_by_hs, is_liquor

# HS codes under every kind of food heading, excluded headings, alcohol, and none at all; titles that are
# food words, not-keywords (医薬部外品), a tableware word food yields to, and plain goods
HS_CODES = [None, "0902.10", "2101.11", "2106.90", "2203.00", "2204.21", "2208.30", "2309.10", "2402.20",
            "2501.00", "3503.00", "3924.10", "6306.22", "6911.10", "9503.00"]
TITLES = [None, "Colombian coffee beans", "coffee mug", "edible sea salt", "gelatin sheets",
          "医薬部外品 ドリンク", "camping tent", "green tea bags"]


def _full_answer(item):
    """The food plugin's answer worked out without any memo or shortcut (its documented rule)."""
    regime = load_regime("food")
    if is_liquor(item) or regime.table_hs("reduced_rate_exclude_hs", item) is not None:
        return False
    match = regime.classify(item)
    if match is not None and match.applies:
        return True
    if match is None and food_by_hs(item):
        return False
    return None


@pytest.mark.parametrize("hs_code", HS_CODES)
@pytest.mark.parametrize("categories", [[], ["food"], ["tableware"]])
def test_food_answer_is_the_full_classification(hs_code, categories):
    for title in TITLES:
        for extra in ({}, {"alcohol_percent": "12"}, {"alcohol_percent": "0.5"}):
            item = Item.model_validate({"msku": "X", "quantity": 1, "hs_code": hs_code, "title": title,
                                        "categories": categories, **extra})
            shipment = make_declaration(items=[{"msku": "X", "quantity": 1}])
            expected = _full_answer(item)
            assert food.reduced_tax_rate(item=item, shipment=shipment) is expected, (hs_code, title, extra)
            assert food.reduced_tax_rate(item=item, shipment=shipment) is expected  # memoised: same again


def test_a_third_party_reduced_tax_rate_plugin_is_asked_about_every_item():
    asked = []

    class Counting:
        @hookimpl(tryfirst=True)
        def reduced_tax_rate(self, item, shipment):
            asked.append(item.msku)
            return None if item.msku == "TENT" else True  # its answer wins where it gives one

    items = [{"msku": sku, "quantity": 1, "unit_value": "10", "hs_code": "6306.22", "duty_rate": "0"}
             for sku in ("TENT", "TENT2", "TENT3")]
    for _ in range(2):  # asked again in every screening, though the products are the same
        valuation = screen(declaration_data(items=items), plugins=[Counting()]).valuation
    assert asked == ["TENT", "TENT2", "TENT3"] * 2
    rates = {sku: line.consumption_tax_rate for line in valuation.lines for sku in line.skus}
    assert str(rates["TENT"]) == "7.8" and str(rates["TENT2"]) == str(rates["TENT3"]) == "6.24"


@pytest.mark.parametrize("prefer_computed", [False, True])
@pytest.mark.parametrize("window_days", [0, 31, 366])
@pytest.mark.parametrize("fields", [{}, {"unit_value": None}], ids=["unit value", "no unit value"])
@pytest.mark.parametrize("transaction", [False, True], ids=["FBA stock", "import transaction"])
def test_an_item_without_valuation_data_gets_the_reasons_every_method_gives(prefer_computed, window_days, fields,
                                                                           transaction):
    """choose_method's short path for items without valuation data (the constants _NO_DATA, worked out once at
    import) says what walking every method says of the same item with empty valuation data, whatever the
    [valuation] window and prefer_computed: a reason that came to depend on them would otherwise go stale."""
    from fba_jp.models import Declaration
    from fba_jp.valuation import choose_method

    data = declaration_data(import_transaction=transaction, items=[
        {"msku": "A", "quantity": 3, "unit_value": "12.50", "hs_code": "6306.22", "origin_country": "CN", **fields},
        {"msku": "B", "quantity": 3, "unit_value": "12.50", "hs_code": "6306.22", "origin_country": "CN",
         "valuation": {}, **fields}])
    data["items"] = [{k: v for k, v in item.items() if v is not None} for item in data["items"]]
    shipment = Declaration.model_validate(data)
    short, walked = (choose_method(item, shipment, window_days, prefer_computed) for item in shipment.items)
    assert shipment.items[0].valuation is None and shipment.items[1].valuation is not None
    assert short._replace(sku="B") == walked
