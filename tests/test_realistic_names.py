"""Party names as sellers really write them, screened through the IOR and consignee checks (DOMAIN §1 rules 2–4).

``tests/data/realistic_names.tsv`` holds Amazon entities worldwide, carriers, forwarders and brokers in their
English, Japanese and Chinese spellings, and legitimate sellers, buyers and ACP firms whose names contain a
trap word; each row says what the gate must make of it and why. ``tests/data/realistic_sellers.tsv`` holds
a seller's own company written two ways (which must be the seller, not a nominal importer) and third parties.
"""

from pathlib import Path

import pytest

from fba_jp.testing import declaration_data, make_declaration, screen

DATA = Path(__file__).parent / "data"
IOR_CODES = {"amazon": "IOR_AMAZON", "carrier": "IOR_CARRIER", "neither": "IOR_NOMINAL"}


def rows(filename: str, width: int) -> list[list[str]]:
    """The data rows of a tab-separated corpus (``#`` lines are comments), each with ``width`` fields."""
    lines = (DATA / filename).read_text(encoding="utf-8").splitlines()
    out = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    assert all(len(row) == width and row[-1].strip() for row in out), "every row needs all fields and a reason"
    return out


NAMES = rows("realistic_names.tsv", 3)
SELLERS = rows("realistic_sellers.tsv", 4)


def ior_codes(result) -> list[str]:
    return [code for code in result.codes if code.startswith("IOR_")]


def test_the_corpus_covers_both_directions():
    kinds = [expect for _, expect, _ in NAMES]
    assert set(kinds) == set(IOR_CODES)
    assert kinds.count("amazon") + kinds.count("carrier") >= 120 and kinds.count("neither") >= 80
    assert len({name for name, _, _ in NAMES}) == len(NAMES), "a name is listed twice"


@pytest.mark.parametrize("name, expect, reason", NAMES, ids=[row[0] for row in NAMES])
def test_importer_of_record(name, expect, reason):
    # no import transaction (the FBA case): a name on no list is a third party, so IOR_NOMINAL
    assert ior_codes(screen(make_declaration(importer_of_record={"name": name}))) == [IOR_CODES[expect]], reason


@pytest.mark.parametrize("name, expect, reason", NAMES, ids=[row[0] for row in NAMES])
def test_invoice_consignee(name, expect, reason):
    codes = screen(make_declaration(consignee={"name": name})).codes
    assert ("CONSIGNEE_AMAZON" in codes) == (expect == "amazon"), reason


@pytest.mark.parametrize("seller, ior, expect, reason", SELLERS, ids=[f"{row[0]} | {row[1]}" for row in SELLERS])
def test_the_seller_written_another_way_is_the_seller(seller, ior, expect, reason):
    base = declaration_data()
    result = screen(make_declaration(seller={**base["seller"], "name": seller}, importer_of_record={"name": ior}))
    assert ior_codes(result) == ([] if expect == "seller" else ["IOR_NOMINAL"]), reason
