"""Consumer products (PSC): conformity and domestic administrator (plugin ``psc``)."""

import pytest

from fba_jp.testing import declaration_data, screen

LASER = {"msku": "LASER-G", "title": "Green laser pointer for presentations", "quantity": 80, "unit_value": "6.00",
         "hs_code": "9013.20"}
PSC = {"kind": "psc", "number": "PSC-TKK-2026-0311", "skus": ["LASER-G"]}
ADMIN = {"kind": "domestic_administrator", "number": "DA-2026-118", "holder": "Kanto Product Compliance G.K."}
RESIDENT = {"name": "Acme Trading LLC", "country": "JP", "japan_resident": True}


def psc(licences=(), seller=None, **item):
    data = declaration_data(licences=list(licences), items=[{**LASER, **item}])
    if seller:
        data["seller"] = seller
    result = screen(data)
    return result, [f for f in result.findings if f.plugin == "psc"]


def test_product_without_psc_or_domestic_administrator_is_blocked():
    result, found = psc()
    assert result.verdict == "blocked"
    assert [f.code for f in found] == ["PSC_NO_CONFORMITY", "PSC_NO_CONFORMITY"]
    conformity, admin = found
    assert "PSC mark" in conformity.message and "Consumer Product Safety Act" in conformity.reference
    assert "several weeks" in conformity.remedy
    assert "国内管理人" in admin.message and "domestic_administrator" in admin.remedy


def test_psc_record_and_domestic_administrator_pass():
    result, found = psc([PSC, ADMIN])
    assert found == [] and result.verdict != "blocked"
    _, found = psc([ADMIN], psc="PSC-TKK-2026-0311")
    assert found == []


def test_resident_seller_needs_no_domestic_administrator():
    _, found = psc([PSC], seller=RESIDENT)
    assert found == []


def test_expired_psc_record_is_licence_expired():
    _, found = psc([{**PSC, "valid_until": "2026-02-28"}, ADMIN])
    assert [f.code for f in found] == ["LICENCE_EXPIRED"]


def test_psc_record_for_another_sku_does_not_cover():
    _, found = psc([{**PSC, "skus": ["LASER-R"]}, ADMIN])
    assert [f.code for f in found] == ["PSC_NO_CONFORMITY"]


@pytest.mark.parametrize("hs_code", ["9013.20", "901320", "901320000"])
def test_hs_code_in_every_accepted_format_applies_the_requirements(hs_code):
    _, found = psc([ADMIN], hs_code=hs_code, title="Pointer")
    assert [f.code for f in found] == ["PSC_NO_CONFORMITY"]


def test_keyword_alone_only_warns():
    result, found = psc(hs_code=None, title="Stainless pressure cooker 6 L")
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith("title contains 'pressure cooker'")
    assert result.verdict != "blocked"


def test_toy_heading_applies_only_to_psc_toys():
    _, found = psc([ADMIN], hs_code="9503.00", title="Wooden jigsaw puzzle, ages 5+")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"]
    _, found = psc([ADMIN], hs_code="9503.00", title="Magnet set, 216 pieces")
    assert [f.code for f in found] == ["PSC_NO_CONFORMITY"]
    assert "magnet set" in found[0].evidence
