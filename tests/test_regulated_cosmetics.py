"""Cosmetics under the PMD Act: MAH and manufacturing licences, product notification (plugin ``cosmetics``)."""

import pytest

from fba_jp.config import AccountConfig, Config
from fba_jp.models import Seller
from fba_jp.testing import make_declaration, screen

MAH = {"kind": "cosmetics_mah", "number": "13C0X10001", "holder": "Example Cosme K.K.", "valid_until": "2029-03-31"}
MFG = {"kind": "cosmetics_manufacturing", "number": "13CZ200077", "holder": "Example Cosme K.K."}
SERUM = {"msku": "SERUM-30", "title": "Vitamin C face serum 30 ml", "quantity": 200, "unit_value": "4.20",
         "hs_code": "3304.99", "categories": ["cosmetics"], "cosmetics_notification": "13-2026-000777"}


def cosmetics(licences=(), config=None, **item):
    result = screen(make_declaration(licences=list(licences), items=[{**SERUM, **item}]), config=config)
    return result, [f for f in result.findings if f.plugin == "cosmetics"]


def test_cosmetic_without_mah_manufacturing_licence_or_notification_is_blocked():
    result, found = cosmetics(cosmetics_notification=None)
    assert result.verdict == "blocked"
    assert [f.code for f in found] == ["COS_NO_MAH", "COS_NO_MANUFACTURING_LICENCE", "COS_NO_NOTIFICATION"]
    mah, mfg, notification = found
    assert "Marketing Authorization Holder" in mah.message and "化粧品製造販売業許可" in mah.message
    assert "ACP alone cannot import cosmetics" in mah.remedy and "weeks" in mah.remedy
    assert "包装・表示・保管" in mfg.message
    assert "製造販売届" in notification.remedy and "ACP alone cannot import cosmetics" in notification.remedy
    assert "PMD Act Art. 14-9" in notification.reference
    assert all(f.sku == "SERUM-30" and f.severity == "block" for f in found)
    assert mah.evidence.startswith("declared category 'cosmetics'; no cosmetics_mah")


def test_cosmetic_with_licences_and_notification_passes():
    result, found = cosmetics([MAH, MFG])
    assert found == []
    assert result.verdict != "blocked"


def test_licences_in_the_account_profile_count():
    account = AccountConfig(name="acme", seller=Seller(name="Acme Trading LLC", country="US"),
                            licences=[MAH, MFG])
    result, found = cosmetics(config=Config(accounts=[account]))
    assert found == []


def test_expired_mah_licence_is_licence_expired_naming_it():
    result, found = cosmetics([{**MAH, "valid_until": "2026-03-31"}, MFG])
    assert [f.code for f in found] == ["LICENCE_EXPIRED"]
    assert "13C0X10001" in found[0].message and "2026-03-31" in found[0].message
    assert found[0].remedy.startswith("Renew it")
    assert result.verdict == "blocked"


def test_licence_not_yet_valid_or_for_other_skus_is_missing():
    _, found = cosmetics([{**MAH, "valid_from": "2027-01-01"}, MFG])
    assert [f.code for f in found] == ["COS_NO_MAH"]
    assert "valid only from 2027-01-01" in found[0].evidence
    _, found = cosmetics([{**MAH, "skus": ["OTHER-SKU"]}, MFG])
    assert [f.code for f in found] == ["COS_NO_MAH"]
    assert "covers only SKUs OTHER-SKU, not SERUM-30" in found[0].evidence


@pytest.mark.parametrize("hs_code", ["3304.99", "330499", "330499000"])
def test_hs_code_alone_applies_the_requirements_in_every_format(hs_code):
    result, found = cosmetics(categories=[], hs_code=hs_code)
    assert [f.code for f in found] == ["COS_NO_MAH", "COS_NO_MANUFACTURING_LICENCE"]
    assert "heading 3304" in found[0].evidence and "cosmetics.toml, as of" in found[0].evidence


def test_keyword_alone_only_warns():
    result, found = cosmetics(categories=[], hs_code=None, title="Rosehip face serum 30 ml",
                              cosmetics_notification=None)
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith("title contains 'serum'")
    assert "cosmetics" in found[0].message and "Marketing Authorization Holder" in found[0].message
    assert result.verdict != "blocked"


def test_product_type_alone_only_warns():
    _, found = cosmetics(categories=[], hs_code=None, title="Hydra gel 50 g", product_type="SKIN_MOISTURIZER")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"]
    assert found[0].evidence.startswith("product_type 'SKIN_MOISTURIZER'")


def test_quasi_drug_claim_warns_even_when_licensed():
    _, found = cosmetics([MAH, MFG], title="Medicated whitening cream 50 g")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"]
    assert "quasi-drug" in found[0].message and "approval" in found[0].remedy
    _, found = cosmetics(categories=[], hs_code=None, title="薬用美白クリーム")
    assert [f.evidence for f in found] == ["title contains '薬用'"]


@pytest.mark.parametrize("title", ["Multi-purpose contact lens solution 360 ml", "コンタクトレンズ用 洗浄保存液"])
def test_contact_lens_solution_is_told_it_is_a_quasi_drug(title):
    # 3307.90 makes it a cosmetic by HS, but a cosmetics notification cannot be filed for it: the seller must hear
    # that it needs quasi-drug (or drug) approval
    _, found = cosmetics([MAH, MFG], title=title, hs_code="3307.90")
    assert [f.code for f in found] == ["REG_POSSIBLY_REGULATED"] and "quasi-drug" in found[0].message


def test_makeup_brush_is_not_a_cosmetic():
    _, found = cosmetics(categories=[], hs_code="9603.29", title="Kabuki makeup brush set", cosmetics_notification=None)
    assert found == []


def test_missing_mah_and_missing_manufacturing_licence_are_separate_codes():
    _, found = cosmetics([MAH])
    assert [f.code for f in found] == ["COS_NO_MANUFACTURING_LICENCE"]
    assert "包装・表示・保管" in found[0].message and found[0].severity == "block"
    _, found = cosmetics([MFG])
    assert [f.code for f in found] == ["COS_NO_MAH"]


def test_each_cosmetics_licence_code_is_waivable_on_its_own(fba_jp_store):
    declaration = make_declaration(licences=[], items=[SERUM])
    first = screen(declaration, store=fba_jp_store)
    fba_jp_store.add_waiver(first.shipment_id, "COS_NO_MAH", "contract MAH signed", "kenji", None)
    result = screen(declaration, store=fba_jp_store)
    waived = {f.code: f.waived for f in result.findings if f.plugin == "cosmetics"}
    assert waived == {"COS_NO_MAH": True, "COS_NO_MANUFACTURING_LICENCE": False}
    assert result.verdict == "blocked"


def test_severity_set_for_cos_no_mah_still_applies_to_the_split_off_code():
    config = Config.model_validate({"policy": {"severity": {"COS_NO_MAH": "warn"}}})
    _, found = cosmetics(config=config)
    assert {f.code: f.severity for f in found} == {"COS_NO_MAH": "warn", "COS_NO_MANUFACTURING_LICENCE": "warn"}
    config = Config.model_validate({"policy": {"severity": {"COS_NO_MAH": "warn",
                                                            "COS_NO_MANUFACTURING_LICENCE": "block"}}})
    _, found = cosmetics(config=config)
    assert {f.code: f.severity for f in found} == {"COS_NO_MAH": "warn", "COS_NO_MANUFACTURING_LICENCE": "block"}
