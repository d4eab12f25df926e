"""The reduced rate follows what the goods are, food-contact apparatus and infant toys need a food import
notification (issue 11 "Food, reduced rate and food-contact goods")."""

from decimal import Decimal

import pytest

from fba_jp.testing import declaration_data, make_declaration, screen

NOTIFIED = [{"kind": "food_import_notification", "number": "2026-TK-1"}]


def rate_of(**item):
    data = declaration_data(currency="JPY", fx_rates=None, filings=NOTIFIED,
                            items=[{"msku": "A", "quantity": 10, "unit_value": "1000", "duty_rate": "0", **item}])
    return screen(data).valuation.lines[0].consumption_tax_rate


@pytest.mark.parametrize("hs,title,rate", [
    ("2501.00", "Sea salt flakes 250 g", "6.24"),      # edible salt is food
    ("2501.00", "Road de-icing salt 10 kg", "7.8"),
    ("2501.00", "Deicing salt 10 kg", "7.8"),           # de-icing written as one word
    ("3503.00", "Gelatin sheets for desserts", "6.24"),
    ("0501.00", "Human hair extensions", "7.8"),       # non-food lines of the food chapters
    ("0505.10", "Goose down feathers", "7.8"),
    ("1401.10", "Bamboo for weaving", "7.8"),
    ("2309.10", "Chicken jerky dog treats", "7.8"),    # pet food and feed
    ("2302.30", "Wheat bran for animal feed", "7.8"),
    ("2202.99", "Energy drink 指定医薬部外品", "7.8"),   # a quasi-drug is not food
    ("2202.99", "Sparkling lemon soda", "6.24"),
    ("2204.21", "Red wine 750 ml", "7.8"),             # liquor
])
def test_reduced_rate_follows_what_the_goods_are(hs, title, rate):
    assert rate_of(hs_code=hs, title=title) == Decimal(rate)


def test_alcohol_of_one_percent_or_more_is_never_reduced_even_if_declared():
    assert rate_of(hs_code="2202.99", title="Hard seltzer", alcohol_percent="5", reduced_tax_rate=True,
                   liquor={"category": "other", "litres_per_item": "0.35", "tax_jpy": 100}) == Decimal("7.8")


def test_electric_kettle_needs_a_food_import_notification_and_pse():
    item = {"msku": "KETTLE", "quantity": 20, "unit_value": "25", "hs_code": "8516.79", "title": "Electric kettle 1.2 l"}
    result = screen(make_declaration(items=[item]))
    assert result.finding("TBL_NO_IMPORT_NOTIFICATION").severity == "block"
    assert "PSE_NO_NOTIFICATION" in result.codes
    cleared = screen(make_declaration(items=[item], filings=NOTIFIED))
    assert "TBL_NO_IMPORT_NOTIFICATION" not in cleared.codes


def toy(**fields):
    item = {"msku": "TOY", "quantity": 50, "unit_value": "4", "hs_code": "9503.00", "title": "Silicone teether ring"}
    return screen(make_declaration(items=[{**item, **fields}]))


def test_infant_toy_with_declared_age_blocks_for_both_laws():
    result = toy(min_age_months=3)
    finding = result.finding("TBL_NO_IMPORT_NOTIFICATION")
    assert "declared for 3 months" in finding.evidence and "teether" in finding.evidence
    assert "TBL_NO_PL_STATEMENT" not in result.codes  # the positive list is for apparatus, not toys
    psc = result.finding("PSC_NO_CONFORMITY")  # under 3: children's PSC since 25 Dec 2025
    assert "children's PSC" in psc.evidence


def test_infant_toy_without_an_age_warns_and_asks_for_it():
    result = toy()
    assert "TBL_NO_IMPORT_NOTIFICATION" not in result.codes
    warning = next(f for f in result.findings if f.plugin == "tableware")
    assert warning.code == "REG_POSSIBLY_REGULATED" and "min_age_months" in warning.evidence
    # the remedy is the step that settles it (the age, then the notification), under the toy rule; it used to
    # ask for the HS code the item already has and the "tableware" category
    assert "min_age_months" in warning.remedy and "food_import_notification" in warning.remedy
    assert "HS code" not in warning.remedy and warning.reference.startswith("Food Sanitation Act Arts. 27, 68")


def test_a_broad_heading_warning_does_not_ask_for_the_hs_code_already_declared():
    result = screen(make_declaration(items=[{"msku": "POT", "quantity": 5, "unit_value": "4", "hs_code": "6912.00",
                                             "title": "Ceramic flower pot"}]))
    warning = result.finding("REG_POSSIBLY_REGULATED")
    assert "HS code" not in warning.remedy and '"tableware"' in warning.remedy
    result = screen(make_declaration(items=[{"msku": "MUG", "quantity": 5, "unit_value": "4", "title": "Coffee mug"}]))
    assert "declare its HS code" in result.finding("REG_POSSIBLY_REGULATED").remedy


def test_toy_for_older_children_is_clear_of_both():
    result = toy(title="Wooden building blocks", min_age_months=96)
    assert not [f for f in result.findings if f.plugin in ("tableware", "psc")]


def test_children_psc_applies_only_from_its_start_date():
    before = screen(make_declaration(declaration_date="2025-12-24", acp={
            "name": "Example ACP K.K.", "status": "registered", "accepted_on": "2025-10-01"},
            items=[{"msku": "TOY", "quantity": 5, "unit_value": "4", "hs_code": "9503.00", "title": "Stacking rings",
                    "min_age_months": 12}]))
    assert "PSC_NO_CONFORMITY" not in before.codes
    assert "PSC_NO_CONFORMITY" in toy(title="Stacking rings", min_age_months=12).codes
