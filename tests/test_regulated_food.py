"""Food: import notification per shipment and SKU, reduced tax rate hook (plugin ``food``)."""

import pytest

from fba_jp.models import Item
from fba_jp.plugin_manager import get_plugins
from fba_jp.plugins import food
from fba_jp.testing import make_declaration, screen

TEA = {"msku": "TEA-001", "title": "Sencha green tea 100 g", "quantity": 300, "unit_value": "6.50",
       "hs_code": "0902.10", "categories": ["food"]}
FILED = {"kind": "food_import_notification", "number": "2026-TK-000123", "skus": ["TEA-001"]}


def food_findings(filings=(), items=None, **item):
    declaration = make_declaration(filings=list(filings), items=items or [{**TEA, **item}])
    result = screen(declaration)
    return result, [f for f in result.findings if f.plugin == "food"]


def test_food_without_import_notification_is_blocked():
    result, found = food_findings()
    assert result.verdict == "blocked"
    assert [(f.code, f.sku) for f in found] == [("FOOD_NO_IMPORT_NOTIFICATION", "TEA-001")]
    assert "食品等輸入届出" in found[0].remedy and "quarantine station" in found[0].remedy
    assert "business days" in found[0].remedy
    assert "Food Sanitation Act Art. 27" in found[0].reference


def test_notification_listing_the_sku_passes():
    result, found = food_findings([FILED])
    assert found == []
    assert result.verdict != "blocked"


def test_notification_without_skus_covers_every_item():
    _, found = food_findings([{**FILED, "skus": None}])
    assert found == []


def test_notification_covers_only_the_skus_it_lists():
    items = [TEA, {**TEA, "msku": "TEA-002", "title": "Hojicha roasted tea 80 g"}]
    _, found = food_findings([FILED], items=items)
    assert [(f.code, f.sku) for f in found] == [("FOOD_NO_IMPORT_NOTIFICATION", "TEA-002")]
    assert "covers only SKUs TEA-001, not TEA-002" in found[0].evidence


def test_expired_planned_import_notification_is_licence_expired():
    _, found = food_findings([{**FILED, "valid_from": "2025-12-01", "valid_until": "2026-11-30"}])
    assert [f.code for f in found] == ["LICENCE_EXPIRED"]
    assert "2026-TK-000123" in found[0].message and "2026-11-30" in found[0].message


@pytest.mark.parametrize("hs_code", ["0902.10", "090210", "090210000"])
def test_hs_code_alone_applies_the_requirements_in_every_format(hs_code):
    _, found = food_findings(categories=[], hs_code=hs_code)
    assert [f.code for f in found] == ["FOOD_NO_IMPORT_NOTIFICATION"]
    assert "heading 09" in found[0].evidence


def test_a_title_that_says_coffee_is_only_a_warning():
    result, found = food_findings(categories=[], hs_code=None, title="Colombian coffee beans 1 kg")
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith("title contains 'coffee beans'")
    assert result.verdict != "blocked"


def test_coffee_mug_is_neither_blocked_nor_warned_as_food():
    result, found = food_findings(categories=[], hs_code=None, title="Ceramic coffee mug 350 ml")
    assert found == []
    others = [(f.plugin, f.code, f.severity) for f in result.findings if f.plugin != "acp"]
    assert ("tableware", "REG_POSSIBLY_REGULATED", "warn") in others
    assert all(severity != "block" for _, _, severity in others)


def test_pet_food_is_not_food_for_people():
    _, found = food_findings(categories=[], hs_code="2309.10", title="Chicken jerky dog treats")
    assert found == []


@pytest.mark.parametrize("fields,expected", [
    ({"hs_code": "0902.10"}, True),
    ({"categories": ["food"], "title": "Assorted snacks"}, True),
    ({"hs_code": "2204.21", "categories": ["food"]}, False),   # wine: food, but the standard rate
    ({"hs_code": "2208.30"}, False),                         # whisky
    ({"hs_code": "6306.22"}, None),
    ({"title": "Colombian coffee beans"}, None),             # a keyword is not enough to change the tax
    ({"hs_code": "2402.20"}, None),                          # cigarettes are not food
])
def test_reduced_tax_rate_hook(fields, expected):
    item = Item.model_validate({"msku": "X", "quantity": 1, **fields})
    shipment = make_declaration(items=[{"msku": "X", "quantity": 1}])
    assert food.reduced_tax_rate(item=item, shipment=shipment) is expected
    if expected is not None:
        hook = get_plugins(load_entrypoints=False).hook
        assert hook.reduced_tax_rate(item=item, shipment=shipment) is expected
