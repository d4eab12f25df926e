"""IOR rules (DOMAIN §1, rules 1–4): each rule blocks when it should and stays quiet when it should not."""

import pytest

from fba_jp.names import load_name_list, normalise_name
from fba_jp.testing import make_declaration, screen


def codes(**overrides):
    return screen(make_declaration(**overrides)).codes


def test_missing_ior_blocks():
    result = screen(make_declaration(importer_of_record=None))
    assert result.verdict == "blocked"
    finding = result.finding("IOR_MISSING")
    assert finding.severity == "block" and "Importer of Record" in finding.remedy
    assert "Basic Notice 6-1" in finding.reference


@pytest.mark.parametrize(
    "name",
    ["Amazon Japan G.K.", "Amazon.co.jp", "アマゾンジャパン合同会社", "ＡＭＡＺＯＮ ＪＡＰＡＮ", "amazon japan gk",
     "NRT5", "Amazon FC KIX4", "Amazon.com Services LLC"],
)
def test_amazon_as_ior_blocks(name):
    result = screen(make_declaration(importer_of_record={"name": name}))
    finding = result.finding("IOR_AMAZON")
    assert finding.severity == "block"
    assert name in finding.evidence and "amazon_entities.toml" in finding.evidence
    assert "IOR_CARRIER" not in result.codes and "ACP_MISSING" not in result.codes


@pytest.mark.parametrize(
    "name",
    ["DHL Express Japan K.K.", "FedEx", "Federal Express Corporation", "United Parcel Service Japan", "UPS",
     "Yamato Transport Co., Ltd.", "ヤマト運輸株式会社", "Sagawa Express Co., Ltd.", "佐川急便株式会社",
     "Japan Post Co., Ltd.", "日本郵便株式会社", "Nippon Express Co., Ltd.", "Kuehne + Nagel", "DB Schenker",
     "DSV Air & Sea Inc.", "Expeditors International of Washington, Inc.", "CEVA Logistics", "Flexport, Inc.",
     "Kintetsu World Express, Inc."],
)
def test_carrier_forwarder_or_broker_as_ior_blocks(name):
    finding = screen(make_declaration(importer_of_record={"name": name})).finding("IOR_CARRIER")
    assert finding.severity == "block" and "carriers.toml" in finding.evidence


@pytest.mark.parametrize(
    "name",
    ["Ups and Downs Toys LLC", "Yamato Trading Co., Ltd.", "Amazonas Coffee Roasters", "Toll Brothers Inc.",
     "Kerry Gold Foods", "Oneida Ltd", "Dhaliwal Imports", "Postmodern Design GmbH", "Seiko Watch Corporation"],
)
def test_ordinary_words_inside_other_names_do_not_match(name):
    assert load_name_list("carriers.toml").match(name) is None
    assert load_name_list("amazon_entities.toml").match(name) is None


def test_name_lists_are_versioned_data():
    for file in ("carriers.toml", "amazon_entities.toml"):
        names = load_name_list(file)
        assert names.as_of and names.source
    assert len(load_name_list("carriers.toml").entities) >= 40


def test_normalisation_handles_case_punctuation_fullwidth_and_legal_suffixes():
    assert normalise_name("ACME Trading, Inc.") == normalise_name("acme trading") == "acme trading"
    assert normalise_name("Ａｃｍｅ　Ｔｒａｄｉｎｇ　ＬＬＣ") == "acme trading"
    assert normalise_name("株式会社さくら") == normalise_name("さくら合同会社") == normalise_name("さくら") != ""
    assert normalise_name("Sakura Goods K.K.") == normalise_name("Sakura Goods Kabushiki Kaisha")


def test_third_party_without_sale_is_nominal_importer():
    result = screen(make_declaration(importer_of_record={"name": "Tokyo Import Services K.K."}))
    finding = result.finding("IOR_NOMINAL")
    assert finding.severity == "block" and "import_transaction" in finding.remedy
    assert result.verdict == "blocked"


def test_third_party_buyer_in_import_transaction_is_fine():
    result = screen(make_declaration(importer_of_record={"name": "Tokyo Retail K.K."}, import_transaction=True))
    assert result.finding("IOR_BUYER").severity == "info"
    assert "IOR_NOMINAL" not in result.codes


def test_seller_as_ior_by_name_or_flag_is_not_nominal():
    assert "IOR_NOMINAL" not in codes(importer_of_record={"name": "ACME TRADING, L.L.C."})
    assert "IOR_NOMINAL" not in codes(importer_of_record={"name": "Acme US", "is_seller": True})


def test_amazon_consignee_blocks_even_with_correct_ior():
    result = screen(make_declaration(consignee={"name": "Amazon Japan G.K. (c/o NRT5)"}))
    assert result.finding("CONSIGNEE_AMAZON").severity == "block"
    assert "IOR_AMAZON" not in result.codes
    assert "CONSIGNEE_AMAZON" not in codes(consignee={"name": "Acme Trading LLC"})


@pytest.mark.parametrize("name", ["Amazon.co.jp c/o Acme Trading LLC", "Amazon Japan G.K. c/o Acme Trading LLC, Tokyo",
                                  "アマゾンジャパン合同会社 C/O Acme Trading LLC", "Amazon Japan G.K. care of Acme Trading LLC"])
def test_a_consignee_addressed_to_amazon_in_care_of_the_seller_blocks(name):
    """"X c/o Y" is addressed to X: Amazon as the addressee is Amazon as consignee, whoever receives it for it."""
    assert screen(make_declaration(consignee={"name": name})).finding("CONSIGNEE_AMAZON").severity == "block"


@pytest.mark.parametrize("name", ["Acme Trading LLC c/o Amazon Japan G.K. NRT5", "Acme Trading LLC ℅ Amazon FSZ1"])
def test_the_seller_in_care_of_amazons_fulfilment_centre_is_not_amazon_as_consignee(name):
    assert "CONSIGNEE_AMAZON" not in codes(consignee={"name": name})


@pytest.mark.parametrize("name", ["Acme Trading LLC c/o Amazon FSZ1", "Acme Trading LLC ℅ Amazon Japan G.K. NRT5"])
def test_the_seller_in_care_of_amazons_fulfilment_centre_is_the_seller_as_importer(name):
    # the importer named is the seller (Amazon's FC is only where the goods go), not a nominal third party:
    # it blocked as IOR_NOMINAL calling Acme "a third party"; as the seller, the ACP rule decides
    result = screen(make_declaration(importer_of_record={"name": name}))
    assert not {"IOR_NOMINAL", "IOR_AMAZON"} & set(result.codes) and "ACP_REGISTERED" in result.codes
    result = screen(make_declaration(importer_of_record={"name": name}, acp=None))
    assert "IOR_NOMINAL" not in result.codes
    assert "'Acme Trading LLC' is not resident in Japan" in result.finding("ACP_MISSING").message
    third_party = screen(make_declaration(importer_of_record={"name": "Tokyo Import Services K.K. c/o Amazon FSZ1"}))
    assert third_party.finding("IOR_NOMINAL").severity == "block"


@pytest.mark.parametrize("seller, ior", [
    ("Acme Trading LLC", "Acme Trading LLC, 1 Main St, Springfield"),
    ("Acme Trading LLC", "Acme Trading LLC 123 Main Street Suite 4"),
    ("Acme Trading Co., Ltd.", "Acme Trading Co., Ltd., 88 Queen's Road, Hong Kong"),
    ("日新食品株式会社", "日新食品株式会社 東京都新宿区西新宿1-1-1"),
    ("日新食品株式会社", "株式会社日新食品　〒160-0023 東京都新宿区西新宿１－１－１"),
])
def test_the_seller_written_with_its_address_as_importer_is_the_seller(seller, ior):
    # the seller's own name and address is the seller as importer (the ACP rule decides), not a third party:
    # it blocked as IOR_NOMINAL calling the seller 'a third party'
    seller_doc = {"name": seller, "country": "US", "japan_resident": False}
    result = screen(make_declaration(seller=seller_doc, importer_of_record={"name": ior}))
    assert "IOR_NOMINAL" not in result.codes and "ACP_REGISTERED" in result.codes
    result = screen(make_declaration(seller=seller_doc, importer_of_record={"name": ior}, acp=None))
    assert "IOR_NOMINAL" not in result.codes and result.finding("ACP_MISSING").severity == "block"


@pytest.mark.parametrize("seller, ior", [
    ("Acme Trading LLC", "Acme Trading Japan LLC"), ("Acme Trading LLC", "Acme LLC, 1 Main St"),
    ("Acme Trading LLC", "Acme Trading Japan LLC, 1 Main St"), ("Acme Corporation", "Acme Corporation Japan K.K."),
    ("Acme Trading LLC", "Acme Trading LLC Japan"), ("日新食品株式会社", "日新食品販売株式会社 東京都新宿区"),
    ("Acme Trading LLC", "Acme Trading 1 Main St"),
])
def test_another_company_with_an_address_is_still_a_third_party(seller, ior):
    result = screen(make_declaration(seller={"name": seller, "country": "US", "japan_resident": False},
                                     importer_of_record={"name": ior}))
    assert result.finding("IOR_NOMINAL").severity == "block"
