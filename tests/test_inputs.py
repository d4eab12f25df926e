"""Declaration parsing: strict, exact, and every problem reported as one `FILE: path: message` line."""

import json
from decimal import Decimal

import pytest

from fba_jp.errors import InputError
from fba_jp.inputs import parse_text, read_declaration
from fba_jp.testing import declaration_data


def errors_of(data, source="shipment.json"):
    with pytest.raises(InputError) as exc:
        parse_text(json.dumps(data), source)
    return exc.value.lines


def test_negative_quantity_names_file_path_and_value():
    data = declaration_data()
    data["items"] = [data["items"][0]] * 2 + [dict(data["items"][0], msku="X", quantity=-3)]
    data["items"][1] = dict(data["items"][1], msku="Y")
    assert errors_of(data) == ["shipment.json: items[2].quantity: must be a positive integer (got -3)"]


def test_unknown_key_is_an_error_not_ignored():
    lines = errors_of(declaration_data(importer_of_recrod={"name": "x"}))
    assert lines == ["shipment.json: importer_of_recrod: unknown field (check the spelling; `fba-jp schema` lists the fields)"]


def test_every_error_is_its_own_line():
    lines = errors_of({"shipment_id": "", "currency": "usd", "items": []})
    paths = [line.split(": ")[1] for line in lines]
    assert {"shipment_id", "currency", "items", "seller"} <= set(paths)
    assert all(line.startswith("shipment.json: ") and "\n" not in line for line in lines)


@pytest.mark.parametrize("bad", ["2026-02-30", "07/12/2026", "2026-12-07T10:00:00", 20261207])
def test_real_date_validation(bad):
    lines = errors_of(declaration_data(declaration_date=bad))
    assert lines[0].startswith("shipment.json: declaration_date: ")


def test_money_is_exact_decimal_from_string_or_number():
    d = parse_text('{"schema":"fba-jp/shipment/v1","shipment_id":"S","seller":{"name":"A"},"currency":"USD",'
                   '"freight":0.1,"insurance":"0.2","items":[{"msku":"A","quantity":1,"unit_value":19.99}]}', "s.json")
    assert d.freight == Decimal("0.1") and d.insurance == Decimal("0.2") and d.items[0].unit_value == Decimal("19.99")
    assert d.freight + d.insurance == Decimal("0.3")


@pytest.mark.parametrize("field,value", [("unit_value", "-1"), ("unit_value", True), ("unit_value", "NaN"),
                                         ("duty_rate", "abc"), ("quantity", 1.5), ("quantity", True)])
def test_bad_item_values(field, value):
    data = declaration_data()
    data["items"][0][field] = value
    assert errors_of(data)[0].startswith(f"shipment.json: items[0].{field}: ")


def test_yen_amounts_must_be_integers():
    data = declaration_data()
    data["items"][0]["valuation"] = {"domestic_unit_price_jpy": 2980.5}
    assert errors_of(data)[0].startswith("shipment.json: items[0].valuation.domestic_unit_price_jpy: ")


@pytest.mark.parametrize("code,normal", [("3304.99", "3304.99"), ("330499", "3304.99"), ("330499000", "3304.99.000"),
                                         ("3304.99-000", "3304.99.000")])
def test_hs_code_formats(code, normal):
    data = declaration_data()
    data["items"][0]["hs_code"] = code
    assert parse_text(json.dumps(data), "s").items[0].hs_code == normal


def test_bad_hs_code():
    data = declaration_data()
    data["items"][0]["hs_code"] = "33"
    assert errors_of(data) == ["shipment.json: items[0].hs_code: must be an HS code as NNNN.NN, NNNNNN or the 9-digit Japanese code (got '33')"]


def test_duplicate_keys_and_duplicate_skus_are_errors():
    with pytest.raises(InputError, match="appears twice"):
        parse_text('{"shipment_id": "A", "shipment_id": "B"}', "s.json")
    data = declaration_data()
    data["items"] = data["items"] * 2
    assert "appears twice" in errors_of(data)[0]


def test_not_json_and_not_an_object():
    with pytest.raises(InputError, match=r"^s.json: not valid JSON: .* line 1 column"):
        parse_text("{", "s.json")
    with pytest.raises(InputError, match=r"must be an object"):
        parse_text("[1, 2]", "s.json")


def test_toml_declaration(tmp_path):
    path = tmp_path / "shipment.toml"
    path.write_text('''
schema = "fba-jp/shipment/v1"
shipment_id = "FBA15TOML"
declaration_date = 2026-12-07
currency = "USD"
freight = 12.30
[seller]
name = "Acme Trading LLC"
[[items]]
msku = "A-1"
quantity = 3
unit_value = "9.99"
''', encoding="utf-8")
    declaration, source = read_declaration(str(path))
    assert declaration.freight == Decimal("12.30") and str(declaration.declaration_date) == "2026-12-07"
    assert source == str(path)


def test_a_declaration_saved_with_a_byte_order_mark_reads_like_one_without(tmp_path):
    """Notepad and Windows PowerShell 5 (`ConvertTo-Json | Out-File`) write UTF-8 with a BOM."""
    data = declaration_data()
    json_path, toml_path = tmp_path / "bom.json", tmp_path / "bom.toml"
    json_path.write_text(json.dumps(data), encoding="utf-8-sig")
    toml_path.write_text('schema = "fba-jp/shipment/v1"\nshipment_id = "FBA15BOM"\ncurrency = "USD"\n[seller]\nname = "Acme"\n'
                         '[[items]]\nmsku = "A-1"\nquantity = 3\n', encoding="utf-8-sig")
    assert read_declaration(str(json_path))[0] == parse_text(json.dumps(data), "x")
    assert read_declaration(str(toml_path))[0].shipment_id == "FBA15BOM"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_declaration(str(tmp_path / "nope.json"))
    with pytest.raises(InputError, match="is a directory"):
        read_declaration(str(tmp_path))
