"""Radio equipment: Giteki certification (plugin ``radio``)."""

import pytest

from fba_jp.testing import make_declaration, screen

TRACKER = {"msku": "TAG-4", "title": "Bluetooth item tracker, 4 pack", "quantity": 100, "unit_value": "7.50",
           "hs_code": "8517.62"}
GITEKI = {"kind": "giteki", "number": "R 201-230456", "holder": "Shenzhen Tag Tech Co., Ltd.", "skus": ["TAG-4"]}


def radio(licences=(), **item):
    result = screen(make_declaration(licences=list(licences), items=[{**TRACKER, **item}]))
    return result, [f for f in result.findings if f.plugin == "radio"]


def test_transmitter_without_giteki_is_blocked():
    result, found = radio()
    assert result.verdict == "blocked"
    assert [(f.code, f.sku) for f in found] == [("RADIO_NO_GITEKI", "TAG-4")]
    assert "CE or FCC" in found[0].message and "several weeks" in found[0].remedy
    assert "Radio Act" in found[0].reference


def test_giteki_number_on_the_item_or_a_licence_passes():
    result, found = radio(giteki="R 201-230456")
    assert found == [] and result.verdict != "blocked"
    _, found = radio([GITEKI])
    assert found == []


def test_giteki_licence_for_another_sku_does_not_cover():
    _, found = radio([{**GITEKI, "skus": ["TAG-1"]}])
    assert [f.code for f in found] == ["RADIO_NO_GITEKI"]
    assert "covers only SKUs TAG-1" in found[0].evidence


def test_expired_giteki_record_is_licence_expired():
    _, found = radio([{**GITEKI, "valid_until": "2026-01-31"}])
    assert [f.code for f in found] == ["LICENCE_EXPIRED"]
    assert "R 201-230456" in found[0].message


@pytest.mark.parametrize("hs_code", ["8517.62", "851762", "851762000"])
def test_hs_code_in_every_accepted_format_applies_the_requirements(hs_code):
    _, found = radio(hs_code=hs_code, title="Item tracker")
    assert [f.code for f in found] == ["RADIO_NO_GITEKI"]


def test_keyword_alone_only_warns():
    result, found = radio(hs_code=None, title="True wireless earbuds with charging case")
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith("title contains 'wireless'")
    assert result.verdict != "blocked"


def test_headphone_heading_applies_only_when_wireless():
    _, found = radio(hs_code="8518.30", title="Wired studio headphones, 3 m cable")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"]
    _, found = radio(hs_code="8518.30", title="Bluetooth headphones, noise cancelling")
    assert [f.code for f in found] == ["RADIO_NO_GITEKI"]


def test_wireless_charging_pad_is_not_a_radio_transmitter():
    _, found = radio(hs_code=None, title="15W wireless charger pad")
    assert found == []
