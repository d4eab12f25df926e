"""Tableware and food-contact articles: import notification, positive list (plugin ``tableware``)."""

import pytest

from fba_jp.testing import make_declaration, screen

MUG = {"msku": "MUG-350", "title": "Stoneware mug 350 ml", "quantity": 120, "unit_value": "3.10",
       "hs_code": "6912.00", "categories": ["tableware"]}
FILED = {"kind": "food_import_notification", "number": "2026-OS-000481", "skus": ["MUG-350"]}


def tableware(filings=(), items=None, **item):
    result = screen(make_declaration(filings=list(filings), items=items or [{**MUG, **item}]))
    return result, [f for f in result.findings if f.plugin == "tableware"]


def test_tableware_without_import_notification_is_blocked():
    result, found = tableware()
    assert result.verdict == "blocked"
    assert [(f.code, f.sku) for f in found] == [("TBL_NO_IMPORT_NOTIFICATION", "MUG-350")]
    assert "lead and cadmium" in found[0].remedy and "1–2 weeks" in found[0].remedy
    assert "Food Sanitation Act" in found[0].reference


def test_notification_covering_the_sku_passes():
    result, found = tableware([FILED])
    assert found == []
    assert result.verdict != "blocked"


def test_notification_for_other_skus_does_not_cover():
    items = [MUG, {**MUG, "msku": "BOWL-15", "title": "Porcelain rice bowl 15 cm", "hs_code": "6911.10"}]
    _, found = tableware([FILED], items=items)
    assert [(f.code, f.sku) for f in found] == [("TBL_NO_IMPORT_NOTIFICATION", "BOWL-15")]
    assert "covers only SKUs MUG-350, not BOWL-15" in found[0].evidence


def test_expired_notification_is_licence_expired():
    _, found = tableware([{**FILED, "valid_until": "2026-05-31"}])
    assert [f.code for f in found] == ["LICENCE_EXPIRED"]


@pytest.mark.parametrize("hs_code", ["6912.00", "691200", "691200000"])
def test_hs_code_alone_applies_the_requirements_in_every_format(hs_code):
    _, found = tableware(categories=[], hs_code=hs_code)
    assert [f.code for f in found] == ["TBL_NO_IMPORT_NOTIFICATION"]


def test_plastic_without_positive_list_statement_warns():
    result, found = tableware([{**FILED, "skus": ["CUP-P"]}], msku="CUP-P", hs_code="3924.10",
                              title="Reusable cup 400 ml", categories=[])
    assert [(f.code, f.severity) for f in found] == [("TBL_NO_PL_STATEMENT", "warn")]
    assert "positive list" in found[0].message and "HS 3924.10" in found[0].evidence
    assert result.verdict != "blocked"
    _, found = tableware([FILED], title="Melamine mug 300 ml")
    assert [f.code for f in found] == ["TBL_NO_PL_STATEMENT"]
    assert found[0].evidence.startswith("title contains 'melamine'")
    _, found = tableware([FILED], title="Melamine mug 300 ml", positive_list_statement=True)
    assert found == []


def test_ceramic_is_not_asked_for_a_positive_list_statement():
    _, found = tableware([FILED], positive_list_statement=None)
    assert found == []


def test_keyword_alone_only_warns_and_says_so():
    result, found = tableware(categories=[], hs_code=None, title="Ceramic coffee mug 350 ml")
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith("title contains 'mug'")
    assert "tableware" in found[0].message
    assert result.verdict != "blocked"


def test_cutlery_heading_applies_only_with_a_tableware_word():
    _, found = tableware(categories=[], hs_code="8215.99", title="Stainless steel spoon set of 6")
    assert [f.code for f in found] == ["TBL_NO_IMPORT_NOTIFICATION"]
    _, found = tableware(categories=[], hs_code="8211.93", title="Folding pocket knife")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"]


@pytest.mark.parametrize("title", ["Suction cup hooks, 10 pack", "Licence plate frame", "Stainless dog bowl"])
def test_things_named_cup_plate_or_bowl_that_never_touch_food_are_ignored(title):
    _, found = tableware(categories=[], hs_code=None, title=title)
    assert found == []
