"""Electrical products (PSE): METI notification, ◇ certificate, domestic administrator (plugin ``pse``)."""

from datetime import date

import pytest

from fba_jp.config import Config, RegulatedConfig
from fba_jp.testing import declaration_data, screen

NOTIFIED = {"kind": "pse_importer_notification", "number": "METI-2026-0042"}
ADMIN = {"kind": "domestic_administrator", "number": "DA-2026-118", "holder": "Kanto Product Compliance G.K."}
DRYER = {"msku": "DRYER-1200", "title": "Ionic hair dryer 1200 W", "quantity": 50, "unit_value": "18.00",
         "hs_code": "8516.31", "pse": {"type": "non_specified"}}


def pse(licences=(), config=None, declaration=None, **item):
    data = declaration or declaration_data()
    data = {**data, "licences": list(licences), "items": [{**DRYER, **item}]}
    result = screen(data, config=config)
    return result, [f for f in result.findings if f.plugin == "pse"]


def codes(found):
    return [f.code for f in found]


def test_appliance_without_notification_or_domestic_administrator_is_blocked():
    result, found = pse()
    assert result.verdict == "blocked"
    assert codes(found) == ["PSE_NO_NOTIFICATION", "PSE_NO_DOMESTIC_ADMIN"]
    notification, admin = found
    assert "METI" in notification.remedy and "30 days" in notification.remedy
    assert "Electrical Appliances and Materials Safety Act" in notification.reference
    assert "国内管理人" in admin.message and "2025-12-25" in admin.message
    assert "not resident in Japan" in admin.evidence and "2–4 weeks" in admin.remedy


def test_notified_importer_with_domestic_administrator_passes():
    result, found = pse([NOTIFIED, ADMIN])
    assert found == []
    assert result.verdict != "blocked"


def test_expired_notification_is_licence_expired():
    _, found = pse([{**NOTIFIED, "valid_until": "2026-06-30"}, ADMIN])
    assert codes(found) == ["LICENCE_EXPIRED"]
    assert "METI-2026-0042" in found[0].message


def test_expired_domestic_administrator_contract_is_licence_expired():
    _, found = pse([NOTIFIED, {**ADMIN, "valid_until": "2026-11-30"}])
    assert codes(found) == ["LICENCE_EXPIRED"]
    assert "DA-2026-118" in found[0].message


def test_specified_product_needs_a_certificate():
    _, found = pse([NOTIFIED, ADMIN], hs_code="8504.40", title="AC adapter 12 V", pse={"type": "specified"})
    assert codes(found) == ["PSE_NO_CERTIFICATE"]
    assert "◇" in found[0].message and "registered" in found[0].remedy
    _, found = pse([NOTIFIED, ADMIN], hs_code="8504.40", pse={"type": "specified", "certificate": "JET-1234-56"})
    assert found == []


def test_unknown_type_warns_and_hints_at_specified_headings():
    result, found = pse([NOTIFIED, ADMIN], hs_code="8504.40", title="AC adapter 12 V", pse=None)
    assert [(f.code, f.severity) for f in found] == [("PSE_TYPE_UNKNOWN", "warn")]
    assert "usually a specified" in found[0].message
    assert result.verdict != "blocked"
    _, found = pse([NOTIFIED, ADMIN], pse=None)
    assert codes(found) == ["PSE_TYPE_UNKNOWN"] and "usually a specified" not in found[0].message


@pytest.mark.parametrize("seller,import_transaction,declared,admin_from", [
    ({"name": "Acme Trading LLC", "country": "JP", "japan_resident": True}, False, "2026-12-07", None),
    ({"name": "Acme Trading LLC", "country": "US"}, True, "2026-12-07", None),
    ({"name": "Acme Trading LLC", "country": "US"}, False, "2025-12-24", None),
    ({"name": "Acme Trading LLC", "country": "US"}, False, "2026-12-07", date(2027, 1, 1)),
])
def test_domestic_administrator_only_for_overseas_sellers_importing_themselves_from_the_date(
        seller, import_transaction, declared, admin_from):
    config = Config(regulated=RegulatedConfig(pse_domestic_admin_from=admin_from)) if admin_from else None
    data = declaration_data(seller=seller, import_transaction=import_transaction, declaration_date=declared)
    _, found = pse([NOTIFIED], config=config, declaration=data)
    assert found == []


@pytest.mark.parametrize("hs_code", ["8516.31", "851631", "851631000"])
def test_hs_code_in_every_accepted_format_applies_the_requirements(hs_code):
    _, found = pse(hs_code=hs_code)
    assert codes(found) == ["PSE_NO_NOTIFICATION", "PSE_NO_DOMESTIC_ADMIN"]


@pytest.mark.parametrize("title,evidence", [
    ("65W USB-C wall charger", "title contains 'charger'"),
    ("Slim power bank 10000 mAh", "title contains 'power bank'"),
    ("モバイルバッテリー 10000mAh", "title contains 'モバイルバッテリー'"),
])
def test_keyword_alone_only_warns(title, evidence):
    result, found = pse(hs_code=None, title=title, pse=None)
    assert [(f.code, f.severity) for f in found] == [("REG_POSSIBLY_REGULATED", "warn")]
    assert found[0].evidence.startswith(evidence)
    assert "PSE" in found[0].message
    assert result.verdict != "blocked"


def test_data_cable_under_a_broad_heading_warns_but_extension_cord_applies():
    _, found = pse(hs_code="8544.42", title="USB-C to USB-C data cable 1 m", pse=None)
    assert codes(found) == ["REG_POSSIBLY_REGULATED"]
    _, found = pse(hs_code="8544.42", title="Extension cord 3 m, 3 outlets")
    assert codes(found) == ["PSE_NO_NOTIFICATION", "PSE_NO_DOMESTIC_ADMIN"]


def test_non_electrical_item_is_ignored():
    _, found = pse(hs_code="6306.22", title="Two-person camping tent", pse=None)
    assert found == []
