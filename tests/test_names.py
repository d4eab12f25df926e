"""Name lists in both directions (DOMAIN §1; issue 11 "Names", issue 13 "Invisible characters").

Every name in ``fba_jp/data/near_misses/names.toml`` is screened: Amazon and carrier names must block,
also written with invisible or look-alike characters, and the near misses must stay clear.
"""

import tomllib
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fba_jp.names import load_name_list, name_tokens, parse_name, same_party, skeleton, strip_invisible
from fba_jp.testing import make_declaration, screen

NAMES = tomllib.loads(resources.files("fba_jp.data").joinpath("near_misses/names.toml").read_text(encoding="utf-8"))
AMAZON = load_name_list("amazon_entities.toml")
CARRIERS = load_name_list("carriers.toml")
# What an attacker (or a copy-paste from a web page) does to a name without changing how it looks.
EVASIONS = {
    "soft hyphen": lambda s: s.replace("Amazon", "Ama\u00adzon").replace("アマゾン", "アマ\u00adゾン"),
    "zero-width space": lambda s: s.replace("Amazon", "Ama\u200bzon").replace("アマゾン", "アマ\u200bゾン"),
    "zero-width joiner": lambda s: s.replace("Amazon", "A\u200dmazon").replace("アマゾン", "ア\u200dマゾン"),
    "combining mark": lambda s: s.replace("Amazon", "Amazo\u0301n"),
    "Cyrillic А": lambda s: s.replace("Amazon", "\u0410mazon").replace("Japan", "J\u0430p\u0430n"),
    "Greek capitals": lambda s: s.replace("Amazon", "\u0391\u039c\u0391\u0396\u039f\u039d"),
    "bidi override": lambda s: "\u202d" + s + "\u202c",
    "variation selector": lambda s: s.replace("Amazon", "Am\ufe0fazon"),
}


def kind_of(name: str) -> str:
    return "amazon" if AMAZON.match(name) else "carrier" if CARRIERS.match(name) else "neither"


def test_the_near_miss_data_is_stamped_and_large_enough():
    assert NAMES["as_of"] and NAMES["source"]
    assert len(NAMES["amazon"]) >= 25 and len(NAMES["carrier"]) >= 50 and len(NAMES["neither"]) >= 40


@pytest.mark.parametrize("kind", ["amazon", "carrier", "neither"])
def test_every_listed_name_is_what_the_data_says(kind):
    wrong = {name: kind_of(name) for name in NAMES[kind] if kind_of(name) != kind}
    assert not wrong


@pytest.mark.parametrize("name", NAMES["amazon"][:12] + ["Amazon Japan G.K. Kawasaki FC", "Amazon FSZ1 Odawara",
                                                       "アマゾンジャパン合同会社 小田原フルフィルメントセンター"])
def test_amazon_as_ior_blocks_whatever_import_transaction_says(name):
    for transaction in (False, True):
        result = screen(make_declaration(importer_of_record={"name": name}, import_transaction=transaction))
        finding = result.finding("IOR_AMAZON")
        assert finding.severity == "block" and "amazon_entities.toml" in finding.evidence
        assert "IOR_BUYER" not in result.codes and "IOR_CARRIER" not in result.codes


@pytest.mark.parametrize("name", ["Hankyu Hanshin Express Co., Ltd.", "Kerry Logistics Network Ltd.", "USPS", "WINIT",
                                  "FedEx Trade Networks Transport & Brokerage, Inc.", "日本通運株式会社 成田支店"])
def test_carrier_as_ior_blocks(name):
    finding = screen(make_declaration(importer_of_record={"name": name})).finding("IOR_CARRIER")
    assert finding.severity == "block" and "carriers.toml" in finding.evidence


@pytest.mark.parametrize("name", ["Nissin Foods Co., Ltd.", "Kerry Japan K.K.", "One Japan K.K.", "Toll Japan K.K.",
                                  "Sumitomo Corporation", "Amazonas Coffee Roasters"])
def test_a_near_miss_as_ior_is_a_third_party_not_a_carrier_or_amazon(name):
    codes = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True)).codes
    assert "IOR_BUYER" in codes
    assert not {"IOR_AMAZON", "IOR_CARRIER"} & set(codes)


@pytest.mark.parametrize("evasion", sorted(EVASIONS))
def test_invisible_and_look_alike_characters_do_not_evade_the_lists(evasion):
    disguise = EVASIONS[evasion]
    for name in ("Amazon Japan G.K.", "Amazon Japan G.K. Kawasaki FC", "アマゾンジャパン合同会社"):
        disguised = disguise(name)
        if disguised == name:
            continue
        assert AMAZON.match(disguised) is not None, (evasion, disguised)
    result = screen(make_declaration(consignee={"name": disguise("Amazon Japan G.K.")}))
    assert result.finding("CONSIGNEE_AMAZON").severity == "block" and result.verdict == "blocked"
    result = screen(make_declaration(importer_of_record={"name": disguise("Amazon Japan G.K.")}))
    assert result.finding("IOR_AMAZON").severity == "block"
    assert CARRIERS.match("D\u200bH\u00adL Express J\u0430pan") is not None


def test_look_alikes_do_not_make_different_names_equal():
    # the skeleton folds what a reader cannot see, not real differences
    assert skeleton("amazon") != skeleton("amaz0n")  # a visible zero is the seller's own spelling
    assert name_tokens("Amazonas") != name_tokens("Amazon")
    assert kind_of("Аmazonas Coffee") == "neither"


def test_normalisation_steps():
    assert strip_invisible("Ama\u00adzon\u200b \u2060Japan\ufeff") == "Amazon Japan"
    assert parse_name("Amazon EU S.à r.l.").core == ("amazon", "eu")
    assert parse_name("Nissin Corporation") == parse_name("NISSIN CORPORATION")
    assert parse_name("Nissin Corporation").legal == ("corporation",)
    assert parse_name("\u0391\u039c\u0391\u0396\u039f\u039d").core == ("amazon",)
    assert parse_name("NІSSIN").core == ("nissin",)  # Cyrillic capital І looks like I
    assert name_tokens("ジャパン") == ("ジャパン",)  # the kana voicing mark is not a combining accent to drop


def test_seller_and_ior_compared_after_normalisation():
    ior = {"name": "\u0410cme Trading, L.L.C.\u200b"}  # Cyrillic А, zero-width space
    assert same_party(ior["name"], "Acme Trading LLC")
    assert "IOR_NOMINAL" not in screen(make_declaration(importer_of_record=ior)).codes
    assert "IOR_NOMINAL" in screen(make_declaration(importer_of_record={"name": "Acme Tradings LLC"})).codes


@given(st.text(max_size=20))
@settings(max_examples=150, deadline=None, derandomize=True)
def test_normalisation_is_idempotent_and_never_crashes(text):
    parsed = parse_name(text)
    again = " ".join(parsed.core)
    assert parse_name(again).core == tuple(w for t in parsed.core for w in parse_name(t).core)
    assert all(skeleton(w) == w for w in parsed.core)
    AMAZON.match(text)
    CARRIERS.match(text)


# --------------------------------------------------------------------------- ACP


@pytest.mark.parametrize("name", ["Amazon Japan G.K.", "アマゾンジャパン合同会社", "Ama\u200bzon Japan G.K."])
def test_amazon_as_acp_is_no_acp(name):
    acp = {"name": name, "status": "registered", "accepted_on": "2026-10-01"}
    result = screen(make_declaration(acp=acp))
    finding = result.finding("ACP_MISSING")
    assert finding.severity == "block" and "is Amazon" in finding.message and "amazon_entities.toml" in finding.evidence
    assert "ACP_REGISTERED" not in result.codes and result.verdict == "blocked"


def test_carrier_as_acp_needs_the_customs_acceptance_recorded():
    acp = {"name": "DHL Express Japan K.K.", "status": "registered"}
    finding = screen(make_declaration(acp=acp)).finding("ACP_MISSING")
    assert "customs broker" in finding.message and "accepted_on" in finding.remedy
    acp["accepted_on"] = "2026-10-01"
    result = screen(make_declaration(acp=acp))
    assert "ACP_REGISTERED" in result.codes and "ACP_MISSING" not in result.codes
    pending = screen(make_declaration(acp={"name": "Nippon Express Co., Ltd.", "status": "pending"}))
    assert "ACP_PENDING" in pending.codes and "ACP_MISSING" not in pending.codes


def test_amazon_as_acp_in_the_registry_is_no_acp(fba_jp_store):
    from fba_jp.models import Acp

    fba_jp_store.add_acp("amzn", Acp(name="Amazon Japan G.K.", status="registered", accepted_on="2026-09-01"), [])
    result = screen(make_declaration(acp=None, acp_id="amzn"), store=fba_jp_store)
    assert "is Amazon" in result.finding("ACP_MISSING").message


def test_the_shipped_confusables_table_is_the_packages():
    # fba_jp/data/confusables.json is built from confusable-homoglyphs by scripts/make_confusables.py;
    # after upgrading the package, run the script again
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "make_confusables", Path(__file__).resolve().parent.parent / "scripts" / "make_confusables.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shipped = json.loads(resources.files("fba_jp.data").joinpath("confusables.json").read_text(encoding="ascii"))
    assert shipped["prototypes"] == script.document()["prototypes"]
    assert skeleton("Аmazon") == "amazon"  # Cyrillic А


@pytest.mark.parametrize("name", ["Amazon Japan G.K. Meguro", "Amazon Japan G.K., 3-1-1 Shimomeguro, Meguro-ku",
                                  "アマゾンジャパン合同会社 御中", "AMAZON JAPAN G.K. (NRT5) 千葉県市川市"])
def test_amazon_with_an_address_or_honorific_is_still_amazon(name):
    # sellers paste the address line: the consignee, and Amazon as ACP, cleared before
    result = screen(make_declaration(consignee={"name": name}))
    assert result.finding("CONSIGNEE_AMAZON").severity == "block" and result.verdict == "blocked"
    result = screen(make_declaration(acp={"name": name, "status": "registered", "accepted_on": "2026-10-01"}))
    assert result.finding("ACP_MISSING").severity == "block" and "ACP_REGISTERED" not in result.codes


@pytest.mark.parametrize("name", ["株式会社日新 成田支店", "Nissin Corporation Narita Branch", "NYK Line",
                                  "Toll Express (Japan) Co., Ltd."])
def test_a_carrier_at_a_site_is_no_buyer(name):
    # as IOR_BUYER (info) the shipment cleared with a forwarder as importer
    result = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True))
    assert result.finding("IOR_CARRIER").severity == "block" and "IOR_BUYER" not in result.codes


JAPANESE_WITH_ADDRESS = ["アマゾンジャパン合同会社 目黒区下目黒1-8-1", "アマゾンジャパン合同会社 東京都目黒区下目黒1-8-1 アルコタワー",
                         "アマゾンジャパン合同会社　〒153-0064 東京都目黒区下目黒１−８−１",
                         "アマゾンジャパン合同会社目黒区下目黒1丁目8番1号"]


MAE_KABU_WITH_ADDRESS = ["株式会社アマゾンジャパン 目黒区下目黒1-8-1", "株式会社アマゾンジャパン　〒153-0064 東京都目黒区下目黒１−８−１",
                         "株式会社アマゾンジャパン 東京都目黒区下目黒1丁目8番1号", "株式会社アマゾンジャパン　１５３－００６４",
                         "株式会社アマゾンジャパン 3-1-1 Shimomeguro, Meguro-ku, Tokyo, Japan", "(株)アマゾンジャパン 東京都目黒区"]


@pytest.mark.parametrize("name", JAPANESE_WITH_ADDRESS + MAE_KABU_WITH_ADDRESS)
def test_amazon_with_a_japanese_legal_form_and_an_address_is_still_amazon(name):
    # 後株: the legal form ends the name, so what follows is the address; 前株 has no end marker: the address
    # starts at a postal code, a prefecture or city, a chome-banchi number. These cleared as consignee, IOR, ACP
    result = screen(make_declaration(consignee={"name": name}))
    assert result.finding("CONSIGNEE_AMAZON").severity == "block" and result.verdict == "blocked"
    result = screen(make_declaration(importer_of_record={"name": name}))
    assert result.finding("IOR_AMAZON").severity == "block" and "IOR_NOMINAL" not in result.codes
    result = screen(make_declaration(acp={"name": name, "status": "registered", "accepted_on": "2026-10-01"}))
    assert "is Amazon" in result.finding("ACP_MISSING").message and "ACP_REGISTERED" not in result.codes


@pytest.mark.parametrize("name", ["ヤマト運輸株式会社 東京都中央区銀座2-16-10", "日新株式会社 東京都千代田区丸の内1-1",
                                  "(株)日新 成田支店", "Nissin Corporation, 2-2 Kanda"])
def test_a_carrier_with_its_legal_form_and_an_address_is_the_carrier(name):
    result = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True))
    assert result.finding("IOR_CARRIER").severity == "block" and "IOR_BUYER" not in result.codes


@pytest.mark.parametrize("name", ["日新食品株式会社 東京都新宿区西新宿2-8-1", "ケリー・ジャパン株式会社 東京都港区虎ノ門1-1-1",
                                  "アマゾンフーズ株式会社 東京都目黒区下目黒1-8-1"])
def test_an_ordinary_company_with_its_address_is_a_buyer(name):
    codes = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True)).codes
    assert "IOR_BUYER" in codes and not {"IOR_AMAZON", "IOR_CARRIER"} & set(codes)


def test_a_japanese_legal_form_is_set_apart_wherever_it_stands_for_the_seller_comparison():
    # the legal form that ends a name stays in the parse (the matcher needs it) but never in the seller comparison
    assert parse_name("日新食品株式会社 東京都新宿区").core == ("日新食品", "株式会社", "東京都新宿区")
    assert parse_name("株式会社日新 成田支店").legal == ("株式会社",) == parse_name("(株)日新").legal
    assert same_party("さくら株式会社 東京支店", "株式会社さくら 東京支店")
    assert same_party("さくら合同会社", "株式会社さくら")
    # an address after the name is not part of it (docs/rules.md); another word is
    assert same_party("さくら株式会社", "さくら株式会社 東京都港区") and same_party("さくら株式会社", "株式会社さくら 港区芝1-1")
    assert not same_party("さくら株式会社", "さくら商事株式会社 東京都港区")
    result = screen(make_declaration(seller={"name": "さくら株式会社 東京支店", "country": "US", "japan_resident": False},
                                     importer_of_record={"name": "株式会社さくら 東京支店"}))
    assert "IOR_NOMINAL" not in result.codes and "ACP_REGISTERED" in result.codes


@pytest.mark.parametrize("name", ["株式会社日新 東京都千代田区丸の内1-1", "株式会社日新　東京都千代田区丸の内１丁目１番",
                                  "株式会社日新 〒100-0005 千代田区丸の内1-1", "株式会社日新 1-1 Marunouchi, Chiyoda-ku, Tokyo",
                                  "株式会社日新 Chiyoda-ku, Tokyo, Japan", "(株)日新 千葉県成田市三里塚", "株式会社日新東京都千代田区丸の内1-1"])
def test_a_carrier_with_its_legal_form_first_and_an_address_is_the_carrier(name):
    result = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True))
    assert result.finding("IOR_CARRIER").severity == "block" and "IOR_BUYER" not in result.codes


@pytest.mark.parametrize("name", ["株式会社日新食品 東京都新宿区西新宿2-8-1", "株式会社ケリー 東京都港区虎ノ門1-1-1",
                                  "株式会社ワンジャパン 大阪府大阪市北区梅田1-1", "株式会社ヤマト 東京都中央区銀座2-16-10",
                                  "株式会社日新 東京運輸", "株式会社アマゾンフーズ 〒153-0064 目黒区下目黒1-8-1"])
def test_an_ordinary_company_with_its_legal_form_first_and_an_address_is_a_buyer(name):
    codes = screen(make_declaration(importer_of_record={"name": name}, import_transaction=True)).codes
    assert "IOR_BUYER" in codes and not {"IOR_AMAZON", "IOR_CARRIER"} & set(codes)


def test_a_site_after_a_legal_form_first_is_still_a_site():
    # 成田支店 is a branch, not an address: the legal form stays set apart as before
    assert parse_name("株式会社日新 成田支店").legal == ("株式会社",)
    assert parse_name("株式会社日新 東京都千代田区").legal == ()


@pytest.mark.parametrize("importer", [
    "日新食品株式会社 東京支店", "日新食品株式会社東京支店", "株式会社日新食品 大阪営業所", "株式会社日新食品東京支店",
    "(株)日新食品 横浜市支店", "日新食品株式会社 本社",
])
def test_the_sellers_own_branch_as_importer_is_the_seller(importer):
    # a branch (支店, 営業所) is no other legal person: the seller imports, judged by the ACP rule, not IOR_NOMINAL
    result = screen(make_declaration(seller={"name": "日新食品株式会社", "country": "JP", "japan_resident": True},
                                     importer_of_record={"name": importer}))
    assert not {"IOR_NOMINAL", "IOR_AMAZON", "IOR_CARRIER"} & set(result.codes)


@pytest.mark.parametrize("seller, importer", [
    ("Acme Trading LLC", "Acme Trading LLC Japan Branch"), ("Acme Trading LLC", "Acme Trading Tokyo Branch"),
    ("Acme Trading LLC", "Acme Trading LLC, Japan Branch Office"), ("さくら株式会社 東京支店", "株式会社さくら 大阪支店"),
])
def test_a_branch_written_after_the_sellers_name_is_the_seller(seller, importer):
    assert same_party(seller, importer) and same_party(importer, seller)


@pytest.mark.parametrize("seller, importer", [
    ("さくら株式会社", "さくら食品東京支店"),  # さくら's name runs on: さくら食品 is another company, whatever branch follows
    ("さくら株式会社", "さくら商事株式会社 大阪支店"), ("さくら株式会社", "さくら物流センター"),
    ("Acme Trading LLC", "Acme Trading Kestrel Branch"), ("Acme Trading LLC", "Acme Trading Logistics Center"),
])
def test_another_companys_branch_is_still_a_third_party(seller, importer):
    result = screen(make_declaration(seller={"name": seller, "country": "JP", "japan_resident": True},
                                     importer_of_record={"name": importer}))
    assert result.finding("IOR_NOMINAL").severity == "block"


@pytest.mark.parametrize("importer", [
    "Acme Trading LLC, Suite 400, 100 Main St", "Acme Trading LLC Room 201, 2-3-4 Shibuya", "Acme Trading LLC, PO Box 12",
    "Acme Trading LLC, P.O. Box 12", "Acme Trading LLC Attn: Logistics", "Acme Trading LLC (Importer of Record)",
    "Acme Trading LLC - IOR", "Acme Trading LLC, USA", "Acme Trading LLC, Shimomeguro 1-8-1, Meguro-ku, Tokyo",
])
def test_the_sellers_name_with_an_address_line_role_or_country_is_the_seller(importer):
    result = screen(make_declaration(importer_of_record={"name": importer}))
    assert not {"IOR_NOMINAL", "IOR_AMAZON", "IOR_CARRIER"} & set(result.codes) and "ACP_REGISTERED" in result.codes


@pytest.mark.parametrize("importer", ["Acme Trading LLC Japan", "Acme Trading USA LLC", "Acme Trading LLC Japan K.K.",
                                      "Acme Trading LLC Fund 2"])
def test_more_name_after_the_legal_form_is_still_another_party(importer):
    assert not same_party("Acme Trading LLC", importer)
