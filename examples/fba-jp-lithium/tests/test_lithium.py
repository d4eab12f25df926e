from fba_jp.testing import make_declaration, screen

import fba_jp_lithium


def power_bank():
    return make_declaration(items=[{"msku": "PB-10000", "title": "10000 mAh power bank", "quantity": 50,
                                    "unit_value": "9.50", "hs_code": "8507.60", "duty_rate": "0"}])


def test_power_bank_is_flagged():
    result = screen(power_bank(), plugins=[fba_jp_lithium])
    finding = result.finding("DG_LITHIUM")
    assert finding.sku == "PB-10000" and finding.severity == "warn" and "power bank" in finding.evidence


def test_tent_is_not_flagged():
    assert "DG_LITHIUM" not in screen(make_declaration(), plugins=[fba_jp_lithium]).codes
