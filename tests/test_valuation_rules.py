"""Duty and tax rules that hold on real catalogues (issue 11): the default duty table, specific and compound
duties, liquor tax, the small-value exemption per article — each pinned to the yen."""

import tomllib
from decimal import Decimal
from importlib import resources

import pytest

from fba_jp.testing import declaration_data, screen
from fba_jp.valuation import SpecificLine, duty_amount, load_duty_table, load_liquor_table


def item(msku="A", **fields):
    return {"msku": msku, "quantity": 1, "origin_country": "CN"} | fields


def jpy(*items, **overrides):
    return declaration_data(currency="JPY", fx_rates=None, items=list(items), **overrides)


def line(v, sku):
    return next(x for x in v.lines if sku in x.skus)


# --------------------------------------------------------------------------- the default duty table


def test_no_default_row_covers_a_chapter_and_chapter_95_is_split():
    data = tomllib.loads(resources.files("fba_jp.data").joinpath("duty_rates.toml").read_text(encoding="utf-8"))
    assert all(len(row["hs"]) >= 4 for row in data["rates"]), "a chapter row would cover lines with different rates"
    table = load_duty_table()
    assert table.lookup("950300").rate == Decimal("0")
    assert table.lookup("950710").rate == Decimal("3.2")
    assert table.lookup("950699") is None  # sports equipment: not one rate, so not in the table


def test_fishing_tackle_pays_3_2_percent_and_sports_equipment_is_unknown_not_free():
    result = screen(jpy(item("ROD", hs_code="9507.10", unit_value="50000", quantity=2),
                        item("BALL", hs_code="9506.62", unit_value="2000", quantity=10)))
    v = result.valuation
    rod = line(v, "ROD")
    assert (rod.duty_rate, rod.customs_value_jpy, rod.duty_jpy) == (Decimal("3.2"), 100_000, 3_200)
    ball = line(v, "BALL")
    assert ball.duty_rate is None and ball.duty_jpy is None
    assert result.finding("VAL_DUTY_RATE_UNKNOWN").sku == "BALL"
    assert v.duty_jpy is None and v.total_tax_jpy is None and not v.complete


# --------------------------------------------------------------------------- specific and compound duties


WINE = {"hs_code": "2204.21", "duty_rate": "15", "quantity": 120, "unit_value": "1000",
        "specific_duty": {"yen_per_unit": "125", "unit": "l", "units_per_item": "0.75", "combine": "lesser",
                          "minimum_yen_per_unit": "67"},
        "liquor": {"category": "wine", "litres_per_item": "0.75"}, "alcohol_percent": "13"}


def test_wine_compound_duty_whichever_is_less_with_liquor_tax_to_the_yen():
    result = screen(jpy(item("WINE", **WINE)))
    v = result.valuation
    wine = line(v, "WINE")
    # 120 × ¥1,000 = ¥120,000; 15 % = ¥18,000 or ¥125/l × 90 l = ¥11,250 → the lesser, ≥ ¥67/l × 90 l
    assert wine.customs_value_jpy == 120_000 and wine.duty_unrounded_jpy == "11250" and wine.duty_jpy == 11_200
    assert wine.model_extra["duty_basis"] == "15% or ¥125/l × 90.00 l, whichever is less, at least ¥67/l"
    # liquor tax: 90 l of wine at ¥100,000/kl = ¥9,000, part of the consumption-tax base
    assert wine.model_extra["liquor_tax_jpy"] == 9_000
    assert wine.consumption_tax_base_jpy == 140_000  # 120,000 + 11,200 + 9,000 = 140,200 ↓ ¥1,000
    assert wine.consumption_tax_rate == Decimal("7.8")  # alcohol: never the reduced rate
    assert (wine.national_consumption_tax_jpy, wine.local_consumption_tax_jpy) == (10_900, 3_074)
    assert (v.duty_jpy, v.national_consumption_tax_jpy, v.local_consumption_tax_jpy) == (11_200, 10_900, 3_000)
    assert v.model_extra["liquor_tax_jpy"] == 9_000
    assert v.total_tax_jpy == 34_100 and v.complete
    assert "VAL_EXCISE_UNKNOWN" not in result.codes


def test_minimum_specific_duty_applies_when_the_ad_valorem_part_is_lower():
    cheap = dict(WINE, unit_value="300")  # 15 % of ¥36,000 = ¥5,400 < ¥67/l × 90 l = ¥6,030
    wine = line(screen(jpy(item("WINE", **cheap))).valuation, "WINE")
    assert wine.duty_unrounded_jpy == "6030" and wine.duty_jpy == 6_000


def test_leather_shoes_whichever_is_greater_per_pair():
    shoes = {"hs_code": "6403.99", "duty_rate": "30", "quantity": 10, "unit_value": "5000",
             "specific_duty": {"yen_per_unit": "4300", "unit": "pair", "units_per_item": "1", "combine": "greater"}}
    v = screen(jpy(item("SHOES", **shoes))).valuation
    shoe = line(v, "SHOES")
    # 30 % of ¥50,000 = ¥15,000 < ¥4,300 × 10 pairs = ¥43,000
    assert (shoe.duty_jpy, shoe.consumption_tax_base_jpy, shoe.national_consumption_tax_jpy) == (43_000, 93_000, 7_200)
    assert (v.duty_jpy, v.national_consumption_tax_jpy, v.local_consumption_tax_jpy, v.total_tax_jpy) == (
        43_000, 7_200, 2_000, 52_200)


def test_a_specific_duty_alone_needs_no_ad_valorem_rate_but_a_compound_one_does():
    alone = {"hs_code": "1701.99", "quantity": 100, "unit_value": "200",
             "specific_duty": {"yen_per_unit": "41.5", "unit": "kg", "units_per_item": "1"}}
    result = screen(jpy(item("SUGAR", **alone)))
    assert line(result.valuation, "SUGAR").duty_jpy == 4_100 and "VAL_DUTY_RATE_UNKNOWN" not in result.codes
    compound = dict(alone, specific_duty={**alone["specific_duty"], "combine": "greater"})
    result = screen(jpy(item("SUGAR", **compound)))
    assert result.valuation.duty_jpy is None and "VAL_DUTY_RATE_UNKNOWN" in result.codes


def test_duty_amount_combinations():
    spec = SpecificLine(Decimal("10"), "kg", Decimal("50"), "sum")
    assert duty_amount(10_000, Decimal("5"), spec) == (Decimal("1000"), "5% plus ¥10/kg × 50 kg")
    assert duty_amount(10_000, None, spec) == (None, "")


# --------------------------------------------------------------------------- liquor tax


def test_liquor_without_volume_and_category_makes_the_estimate_incomplete_never_wrong():
    bare = {k: v for k, v in WINE.items() if k != "liquor"}
    result = screen(jpy(item("WINE", **bare)))
    v = result.valuation
    finding = result.finding("VAL_EXCISE_UNKNOWN")
    assert finding.severity == "warn" and "items[].liquor" in finding.remedy
    assert v.duty_jpy == 11_200  # duty does not depend on the liquor tax
    assert v.national_consumption_tax_jpy is None and v.total_tax_jpy is None and not v.complete
    assert result.verdict == "annotated" or result.verdict == "blocked"


def test_whisky_is_taxed_by_alcohol_content_so_its_tax_must_be_declared():
    whisky = {"hs_code": "2208.30", "duty_rate": "0", "quantity": 12, "unit_value": "3000",
              "liquor": {"category": "whisky", "litres_per_item": "0.7"}}
    result = screen(jpy(item("WHISKY", **whisky)))
    assert "depends on the alcohol content" in result.finding("VAL_EXCISE_UNKNOWN").evidence
    declared = dict(whisky, liquor={**whisky["liquor"], "tax_jpy": 3_360})
    v = screen(jpy(item("WHISKY", **declared))).valuation
    # ¥36,000 + ¥0 duty + ¥3,300 liquor tax (↓ ¥100) = ¥39,300 → base ¥39,000 → national ¥3,042 → ¥3,000
    assert line(v, "WHISKY").consumption_tax_base_jpy == 39_000 and v.national_consumption_tax_jpy == 3_000
    assert v.model_extra["liquor_tax_jpy"] == 3_300 and v.complete


@pytest.mark.parametrize("day,rate", [("2026-09-30", 181_000), ("2026-10-01", 155_000)])
def test_beer_rate_follows_the_declaration_date(day, rate):
    beer = {"hs_code": "2203.00", "duty_rate": "0", "quantity": 24, "unit_value": "300",
            "liquor": {"category": "beer", "litres_per_item": "0.35"}}
    v = screen(jpy(item("BEER", **beer), declaration_date=day)).valuation
    assert line(v, "BEER").model_extra["liquor_tax_unrounded_jpy"] == str(Decimal("8.4") * rate / 1000).rstrip("0").rstrip(".")
    assert load_liquor_table()[0]


def test_alcohol_free_beer_is_food_at_the_reduced_rate():
    free = {"hs_code": "2202.91", "duty_rate": "0", "quantity": 24, "unit_value": "200", "alcohol_percent": "0.5",
            "categories": ["food"]}
    v = screen(jpy(item("ZERO", **free), filings=[{"kind": "food_import_notification", "number": "F1"}])).valuation
    assert line(v, "ZERO").consumption_tax_rate == Decimal("6.24")
    assert "liquor_tax_jpy" not in v.model_extra


# --------------------------------------------------------------------------- small-value exemption per article


def test_small_value_exemption_is_per_article_in_a_mixed_declaration():
    # ¥9,000 in total: the toy stays exempt, the knitted T-shirt (an excluded article) is taxed
    result = screen(jpy(item("TOY", hs_code="9503.00", unit_value="3000"),
                        item("TEE", hs_code="6109.10", duty_rate="10.9", unit_value="6000")))
    v = result.valuation
    toy, tee = line(v, "TOY"), line(v, "TEE")
    assert toy.model_extra["exempt"] and (toy.duty_jpy, toy.national_consumption_tax_jpy) == (0, 0)
    assert not tee.model_extra["exempt"]
    # ¥6,000 × 10.9 % = ¥654 → ¥600; base ¥6,600 → ¥6,000; 7.8 % = ¥468 → ¥400; local ¥112
    assert (tee.duty_jpy, tee.consumption_tax_base_jpy, tee.national_consumption_tax_jpy, tee.local_consumption_tax_jpy) == (
        600, 6_000, 400, 112)
    assert (v.duty_jpy, v.national_consumption_tax_jpy, v.local_consumption_tax_jpy, v.total_tax_jpy) == (
        600, 400, 100, 1_100)
    assert v.small_value_exemption and v.complete
    sheet = v.model_extra["small_value"]
    assert sheet["exempt_skus"] == ["TOY"] and sheet["taxed_skus"] == ["TEE"]
    finding = result.finding("VAL_SMALL_VALUE_EXEMPT")
    assert "TOY" in finding.message and "TEE" in finding.message and "Art. 16-3" in finding.message


def test_a_declaration_of_excluded_articles_only_is_taxed_whole():
    v = screen(jpy(item("TEE", hs_code="6109.10", duty_rate="10.9", unit_value="6000"))).valuation
    assert not v.small_value_exemption and v.duty_jpy == 600


def test_the_limit_counts_the_excluded_articles_too():
    # ¥4,000 toy + ¥7,000 knitted shirt = ¥11,000: over the limit, so nothing is exempt
    v = screen(jpy(item("TOY", hs_code="9503.00", unit_value="4000"),
                   item("TEE", hs_code="6109.10", duty_rate="10.9", unit_value="7000"))).valuation
    assert not v.small_value_exemption and line(v, "TOY").national_consumption_tax_jpy == 300  # 4,000 × 7.8 % = 312 → 300


def test_products_csv_carries_the_rule_fields(tmp_path):
    from fba_jp.products import load_products

    csv = tmp_path / "products.csv"
    csv.write_text(
        "msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories,alcohol_percent,liquor_category,"
        "liquor_litres_per_item,specific_duty_yen_per_unit,specific_duty_unit,specific_duty_units_per_item,"
        "specific_duty_combine,specific_duty_minimum_yen_per_unit,min_age_months,identical_goods_method\n"
        "WINE,Red wine 750 ml,2204.21,8,USD,FR,15,,13,wine,0.75,125,l,0.75,lesser,67,,\n"
        "RATTLE,Baby rattle,9503.00,2,USD,CN,0,,,,,,,,,,6,transaction_value\n"
        "BAD,Bad age,9503.00,2,USD,CN,0,,,,,,,,,,six,\n", encoding="utf-8")
    master = load_products(csv)
    wine = master.get("WINE").fields
    assert wine["liquor"] == {"category": "wine", "litres_per_item": "0.75"}
    assert wine["specific_duty"]["combine"] == "lesser" and wine["alcohol_percent"] == "13"
    assert master.get("RATTLE").fields["min_age_months"] == 6
    assert master.errors["BAD"] == [f"{csv}:4: min_age_months: must be a whole number (got 'six')"]
