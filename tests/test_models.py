"""The declaration model: what an omitted list or dict becomes, and what the schema says about it."""

from decimal import Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from fba_jp.models import MAX_AMOUNT, Declaration, _check_magnitude, _decimal
from fba_jp.testing import declaration_data


def test_omitted_lists_and_dicts_are_empty_and_never_shared():
    data = declaration_data()
    data.pop("fx_rates", None)
    first, second = (Declaration.model_validate(data) for _ in range(2))
    for name in ("licences", "filings", "boxes", "origin_proofs", "costs"):
        assert getattr(first, name) == [] and getattr(first, name) is not getattr(second, name), name
    first.items[0].extensions["lithium"] = {"wh": 10}
    first.fx_rates["USD"] = 150
    assert second.items[0].extensions == {} and second.fx_rates == {}
    # what is empty stays out of the canonical JSON (and so out of the input hash), as before
    assert '"boxes"' not in second.canonical_json() and '"extensions"' not in second.canonical_json()


def test_the_schema_still_gives_the_empty_defaults():
    schema = Declaration.model_json_schema(by_alias=True)
    assert schema["properties"]["licences"]["default"] == [] and schema["properties"]["fx_rates"]["default"] == {}
    item = schema["$defs"]["Item"]["properties"]
    assert item["categories"]["default"] == [] and item["extensions"]["default"] == {}


def _parsed(parse, value):
    try:
        result = parse(value)
    except ValueError as exc:
        return "error", str(exc)
    return type(result).__name__, str(result)


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"\A\s?-?[0-9_]{0,14}(\.[0-9]{0,15})?([eE][-+]?[0-9]{1,3})?\s?\Z"),
    st.sampled_from(["12.50", "0.000000000001", "0.0000000000001", "1.0000000000000", "1e-13", "1E+12", "inf",
                     "-Infinity", "NaN", "sNaN", "1000000000000", "1000000000000.1", "9" * 13, "x", ""]),
))
def test_amounts_given_as_text_are_checked_as_the_general_path_checks_them(text):
    """The short-text fast path of the amount parser accepts and rejects exactly what _check_magnitude does."""
    for limit in (MAX_AMOUNT, 1000, 100):
        parse = _decimal(limit).func

        def reference(value, limit=limit):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                return value
            _check_magnitude(number, limit)
            return number

        assert _parsed(parse, text) == _parsed(reference, text), (text, limit)
