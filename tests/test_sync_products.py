"""The product master (fba_jp/products.py): what a seller's products.csv may look like and how bad rows are reported."""

from decimal import Decimal

import pytest

from fba_jp.errors import ConfigError
from fba_jp.models import Item
from fba_jp.products import load_products

HEADER = "msku,title,hs_code,unit_value,currency,origin_country,duty_rate,categories"


def write(tmp_path, text, name="products.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_rows_become_item_fields_with_optional_columns_and_extra_columns_ignored(tmp_path):
    path = write(tmp_path, HEADER + ",pse_type,pse_certificate,positive_list_statement,domestic_unit_price_jpy,supplier\n"
                 "CHARGER-1,USB-C charger,8504.40,9.90,USD,CN,0,pse; radio ,specified,JET-123,no,\"2,980\",Shenzhen Co\n",
                 encoding="utf-8-sig")  # Excel's BOM
    master = load_products(path, name="products.csv")
    product = master.get("CHARGER-1")
    assert master.errors == {} and product.currency == "USD" and product.line == 2
    item = Item.model_validate({"msku": "CHARGER-1", "quantity": 1, **product.fields})
    assert item.categories == ["pse", "radio"] and item.pse.type == "specified" and item.pse.certificate == "JET-123"
    assert item.positive_list_statement is False and item.valuation.domestic_unit_price_jpy == 2980
    assert item.unit_value == Decimal("9.90") and item.hs_code == "8504.40"


def test_bad_rows_are_kept_as_lines_naming_file_line_and_column(tmp_path):
    path = write(tmp_path, HEADER + ",reduced_tax_rate,pse_type\n"
                 "OK-1,Fine,6306.22,1.00,USD,CN,0,,,\n"
                 "BAD-HS,Bad,63X6,1.00,USD,CN,0,,,\n"
                 "BAD-CAT,Bad,6306.22,1.00,USD,CN,0,furniture,,\n"
                 "BAD-BOOL,Bad,6306.22,1.00,USD,CN,0,,maybe,\n"
                 "BAD-PSE,Bad,8504.40,1.00,USD,CN,0,,,diamond\n"
                 "DUP,One,6306.22,1.00,USD,CN,0,,,\n"
                 "DUP,Two,6306.22,1.00,USD,CN,0,,,\n"
                 ",No msku,6306.22,1.00,USD,CN,0,,,\n"
                 "BAD-CUR,Bad,6306.22,1.00,dollars,CN,0,,,\n")
    master = load_products(path, name="products.csv")
    assert list(master.products) == ["OK-1"]
    assert master.errors["BAD-HS"][0].startswith("products.csv:3: hs_code: must be an HS code")
    assert master.errors["BAD-CAT"][0].startswith("products.csv:4: categories[0]:")
    assert master.errors["BAD-BOOL"] == ["products.csv:5: reduced_tax_rate: must be true or false (got 'maybe')"]
    assert master.errors["BAD-PSE"][0].startswith("products.csv:6: pse_type:")
    assert master.errors["DUP"] == ["products.csv:8: msku: 'DUP' appears twice; keep one row per msku"]
    assert master.errors[""] == ["products.csv:9: msku: required field is missing"]
    assert master.errors["BAD-CUR"][0].startswith("products.csv:10: currency: must be an ISO 4217 currency code")


def test_a_yen_cell_that_only_looks_like_digits_is_a_bad_row_not_a_crash(tmp_path):
    """str.isdigit() accepts a superscript two, and int() refuses 4,301 digits and more: each was a ValueError
    that stopped `fba-jp screen` with an internal error instead of one line naming the row and column."""
    path = write(tmp_path, HEADER + ",domestic_unit_price_jpy,min_age_months\n"
                 "OK-1,Fine,6306.22,1.00,USD,CN,0,,\"2,980\",36\n"
                 "SQUARED,Bad,6306.22,1.00,USD,CN,0,,\u00b2,\n"
                 f"HUGE,Bad,6306.22,1.00,USD,CN,0,,{'9' * 5000},\n"
                 "AGE,Bad,6306.22,1.00,USD,CN,0,,,\u00b3\n")
    master = load_products(path, name="products.csv")
    assert list(master.products) == ["OK-1"]
    assert master.errors["SQUARED"] == ["products.csv:3: domestic_unit_price_jpy: must be a whole number of yen (got '\u00b2')"]
    assert master.errors["HUGE"][0].startswith("products.csv:4: domestic_unit_price_jpy: must be a whole number of yen")
    assert master.errors["AGE"] == ["products.csv:5: min_age_months: must be a whole number (got '\u00b3')"]


def test_a_missing_file_or_msku_column_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="product master not found"):
        load_products(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="no msku column"):
        load_products(write(tmp_path, "sku,title\nA,B\n"))
    with pytest.raises(ConfigError, match=r"no msku column \(columns are separated by commas, not semicolons or tabs\)"):
        load_products(write(tmp_path, "msku;title\nA;B\n"))


def test_a_title_with_a_line_break_stays_one_product_and_a_shift_jis_file_says_how_to_save_it(tmp_path):
    """Excel keeps Alt+Enter inside a quoted cell; a title pasted from a web page may hold U+2028. Neither
    may split a row into a second, phantom product."""
    path = write(tmp_path, HEADER + '\nTENT-2P,"Two-person tent\nwith footprint",6306.22,38.50,USD,CN,4.5,\n'
                 "LAMP-1,Headlamp\u2028200 lm,8513.10,7.20,USD,CN,0,\nMUG-1,Mug,7323.94,3.10,USD,CN,0,\n")
    master = load_products(path, name="products.csv")
    assert master.errors == {} and list(master.products) == ["TENT-2P", "LAMP-1", "MUG-1"]
    assert master.get("TENT-2P").fields["title"] == "Two-person tent\nwith footprint"
    assert master.get("LAMP-1").fields["hs_code"] == "8513.10" and master.get("MUG-1").line == 4
    sjis = write(tmp_path, HEADER + "\nTENT-2P,二人用テント,6306.22,38.50,USD,CN,4.5,\n", name="sjis.csv", encoding="cp932")
    with pytest.raises(ConfigError) as raised:
        load_products(sjis)
    assert str(raised.value) == (f"{sjis}: line 2: not UTF-8 text (a spreadsheet saved as plain \"CSV\" on Japanese "
                                 "Windows is Shift_JIS); save it as \"CSV UTF-8\"")


def test_a_field_over_the_csv_size_limit_is_one_line_naming_the_file(tmp_path):
    """A binary or wholly wrong file saved as products.csv: a config error, not "internal error"."""
    path = write(tmp_path, HEADER + "\nTENT-2P,\"" + "x" * 200_000 + "\",6306.22,38.50,USD,CN,4.5,\n")
    with pytest.raises(ConfigError) as raised:
        load_products(path)
    assert str(raised.value).startswith(f"{path}: after line 1: not a product master CSV (field larger than field limit")
