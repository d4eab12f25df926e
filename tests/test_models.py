"""The declaration model: what an omitted list or dict becomes, and what the schema says about it."""

from fba_jp.models import Declaration
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
