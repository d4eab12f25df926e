"""ACP rules (DOMAIN §1, rules 5–6), the ACP registry and the account profile."""

import json

from fba_jp.config import Config
from fba_jp.models import Acp
from fba_jp.testing import make_declaration, screen


def test_non_resident_seller_without_acp_blocks():
    result = screen(make_declaration(acp=None))
    finding = result.finding("ACP_MISSING")
    assert finding.severity == "block" and "C-7500" in finding.remedy and "Art. 95" in finding.reference


def test_registered_acp_accepted_before_declaration_is_info():
    result = screen(make_declaration())
    assert result.finding("ACP_REGISTERED").severity == "info"
    assert not [c for c in result.codes if c.startswith(("ACP_M", "ACP_P", "ACP_R")) and c != "ACP_REGISTERED"]


def test_pending_acp_blocks_and_says_when():
    acp = {"name": "Sakura ACP K.K.", "status": "pending", "notified_on": "2026-11-30"}
    finding = screen(make_declaration(acp=acp)).finding("ACP_PENDING")
    assert finding.severity == "block" and "2026-12-14" in finding.message and "2 weeks" in finding.message


def test_acp_accepted_after_declaration_date_is_pending():
    acp = {"name": "Sakura ACP K.K.", "status": "registered", "accepted_on": "2026-12-08"}
    finding = screen(make_declaration(acp=acp, declaration_date="2026-12-07")).finding("ACP_PENDING")
    assert "2026-12-08" in finding.message
    # accepted on the declaration date itself is fine
    assert "ACP_REGISTERED" in screen(make_declaration(acp=acp, declaration_date="2026-12-08")).codes


def test_revoked_acp_blocks():
    acp = {"name": "Old ACP K.K.", "status": "revoked", "accepted_on": "2024-01-10"}
    assert screen(make_declaration(acp=acp)).finding("ACP_REVOKED").severity == "block"


def test_japan_resident_seller_needs_no_acp():
    result = screen(make_declaration(seller={"name": "Acme Trading LLC", "country": "JP", "japan_resident": True}, acp=None))
    assert "ACP_NOT_REQUIRED" in result.codes and "ACP_MISSING" not in result.codes


def test_acp_not_checked_when_ior_is_not_the_seller():
    result = screen(make_declaration(importer_of_record={"name": "DHL"}, acp=None))
    assert not [c for c in result.codes if c.startswith("ACP_")]


def test_acp_from_registry_by_id(fba_jp_store):
    fba_jp_store.add_acp("sakura-tokyo", Acp(name="Sakura Customs Advisory K.K.", status="registered",
                                             accepted_on="2026-09-15"), ["Acme Trading LLC"])
    result = screen(make_declaration(acp=None, acp_id="sakura-tokyo"), store=fba_jp_store)
    assert "ACP_REGISTERED" in result.codes
    unknown = screen(make_declaration(acp=None, acp_id="nobody"), store=fba_jp_store).finding("ACP_MISSING")
    assert "'nobody'" in unknown.message


def test_registry_acp_serving_other_sellers_only_is_missing(fba_jp_store):
    fba_jp_store.add_acp("sakura-tokyo", Acp(name="Sakura Customs Advisory K.K.", status="registered",
                                             accepted_on="2026-09-15"), ["Northwind Outdoor LLC"])
    result = screen(make_declaration(acp=None, acp_id="sakura-tokyo"), store=fba_jp_store)
    finding = result.finding("ACP_MISSING")
    assert "Acme Trading LLC" in finding.message and "not for seller" in finding.message
    # the ACP firm's other clients never reach this seller's report, notifications or dashboard
    assert "Northwind" not in result.model_dump_json()



def test_registry_acp_serving_a_sister_company_under_another_legal_form_is_missing(fba_jp_store):
    # an ACP firm's clients include group companies: the ACP notified for the US LLC is not the German GmbH's
    fba_jp_store.add_acp("sakura-tokyo", Acp(name="Sakura Customs Advisory K.K.", status="registered",
                                             accepted_on="2026-09-15"), ["Kestrel Outdoor LLC", "さくら株式会社"])

    def codes(seller):
        declaration = make_declaration(acp=None, acp_id="sakura-tokyo", seller={"name": seller, "country": "DE"},
                                       importer_of_record={"name": seller})
        return screen(declaration, store=fba_jp_store).codes

    assert "ACP_MISSING" in codes("Kestrel Outdoor GmbH")
    assert "ACP_MISSING" in codes("Kestrel Outdoor Inc.")
    for same in ("Kestrel Outdoor LLC", "KESTREL OUTDOOR, L.L.C.", "Kestrel Outdoor", "株式会社さくら", "㈱さくら"):
        assert "ACP_REGISTERED" in codes(same), same

def test_status_change_is_picked_up_and_history_kept(fba_jp_store):
    fba_jp_store.add_acp("sakura", Acp(name="Sakura ACP", status="pending", notified_on="2026-11-20"), [])
    assert "ACP_PENDING" in screen(make_declaration(acp=None, acp_id="sakura"), store=fba_jp_store).codes
    fba_jp_store.set_acp_status("sakura", "registered", accepted_on=make_declaration().declaration_date)
    assert "ACP_REGISTERED" in screen(make_declaration(acp=None, acp_id="sakura"), store=fba_jp_store).codes
    events = list(fba_jp_store.db["acp_events"].rows)
    assert [e["status"] for e in events] == ["pending", "registered"]


def test_acp_from_account_profile_when_declaration_has_none():
    config = Config.model_validate({"accounts": [{
        "name": "acme", "seller": {"name": "Acme Trading LLC", "country": "US"},
        "acp": {"name": "Profile ACP K.K.", "status": "registered", "accepted_on": "2026-01-05"},
    }]})
    result = screen(make_declaration(acp=None), config=config)
    assert "ACP_REGISTERED" in result.codes and "account 'acme'" in result.finding("ACP_REGISTERED").evidence


def test_a_sister_company_under_another_legal_form_does_not_get_the_account_profile():
    # an ACP firm's config lists "Acme Trading LLC"; a declaration of "Acme Trading GmbH" is another importer:
    # it must not be filed under that account nor cleared through its ACP (nor "Acme Trading, L.L.C." refused)
    config = Config.model_validate({"accounts": [{
        "name": "acme", "seller": {"name": "Acme Trading LLC", "country": "US"},
        "acp": {"name": "Profile ACP K.K.", "status": "registered", "accepted_on": "2026-01-05"},
    }]})

    def screened(seller):
        return screen(make_declaration(acp=None, seller={"name": seller, "country": "DE"},
                                       importer_of_record={"name": seller}), config=config)

    sister = screened("Acme Trading GmbH")
    assert sister.account is None and "ACP_MISSING" in sister.codes
    same = screened("ACME TRADING, L.L.C.")
    assert same.account == "acme" and "ACP_REGISTERED" in same.codes


def test_a_seller_the_firm_no_longer_serves_is_missing_from_the_next_screening(tmp_path, run_cli):
    """`acp remove-seller`: the firm's other clients keep clearing, the former client blocks; the last seller stays."""
    db = tmp_path / "acp.db"
    assert run_cli("acp", "add", "sakura", "--name", "Sakura Customs Advisory K.K.", "--status", "registered",
                   "--accepted-on", "2026-09-15", "--seller", "Acme Trading LLC", "--seller", "Northwind Outdoor LLC",
                   "--db", db).exit_code == 0
    from fba_jp.store import Store

    def codes(seller):
        with Store(db) as store:
            return screen(make_declaration(acp=None, acp_id="sakura", seller={"name": seller, "country": "US"},
                                           importer_of_record={"name": seller}), store=store).codes

    assert "ACP_REGISTERED" in codes("Acme Trading LLC") and "ACP_REGISTERED" in codes("Northwind Outdoor LLC")
    removed = run_cli("acp", "remove-seller", "sakura", "Acme Trading LLC", "--note", "engagement ended", "--db", db)
    assert removed.exit_code == 0 and json.loads(removed.stdout)["sellers"] == '["Northwind Outdoor LLC"]'
    assert "ACP_MISSING" in codes("Acme Trading LLC") and "ACP_REGISTERED" in codes("Northwind Outdoor LLC")
    with Store(db) as store:
        [event] = store.rows("select status, note from acp_events where acp_id = 'sakura' order by id desc limit 1")
    assert event == {"status": "registered", "note": "stopped serving Acme Trading LLC: engagement ended"}
    # a name the record does not list, and its last seller (an empty list serves any seller): refused, one line
    unknown = run_cli("acp", "remove-seller", "sakura", "Acme Trading", "--db", db)
    assert unknown.exit_code == 3 and "does not list 'Acme Trading'" in unknown.stderr
    last = run_cli("acp", "remove-seller", "sakura", "Northwind Outdoor LLC", "--db", db)
    assert last.exit_code == 3 and "revoke it instead" in last.stderr
    assert "ACP_REGISTERED" in codes("Northwind Outdoor LLC") and "ACP_MISSING" in codes("Acme Trading LLC")
