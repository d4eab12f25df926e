"""Amazon catalogue titles as sellers really write them, screened through every regime check (DOMAIN §5).

``tests/data/realistic_titles.tsv`` holds long, keyword-stuffed, mixed-case English and Japanese titles of
ordinary goods and of each regime's products, with the traps ("Lipstick-Shaped USB Flash Drive", "Tea
Towel", "Dog Food Bowl", "Makeup Brush Set"); each row says which regimes must speak (a keyword or broad
heading warns, a declared HS code blocks) and why. Every regime not named must stay silent.
"""

from pathlib import Path

import pytest

from fba_jp.regimes import REGIMES
from fba_jp.testing import make_declaration, make_item, screen

DATA = Path(__file__).parent / "data" / "realistic_titles.tsv"
BLOCKS = {"cosmetics": "COS_NO_MAH", "pse": "PSE_NO_NOTIFICATION", "food": "FOOD_NO_IMPORT_NOTIFICATION",
          "tableware": "TBL_NO_IMPORT_NOTIFICATION", "radio": "RADIO_NO_GITEKI", "psc": "PSC_NO_CONFORMITY"}
ROWS = [line.split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")]


def expected(cell: str) -> dict[str, str]:
    """``"pse:warn tableware:warn"`` as ``{"pse": "warn", "tableware": "warn"}``; ``"clear"`` as ``{}``."""
    return {} if cell == "clear" else dict(part.split(":") for part in cell.split())


def outcome(findings) -> str:
    codes = {f.code for f in findings}
    if codes & set(BLOCKS.values()):
        return "block"
    return "warn" if "REG_POSSIBLY_REGULATED" in codes else "other: " + ", ".join(sorted(codes))


@pytest.fixture(scope="module")
def screened() -> dict[str, dict[str, str]]:
    """{title: {regime: outcome}} for every row, all screened in one declaration (one item each)."""
    items = [make_item(f"T{i}", title=title, hs_code=hs or None) for i, (title, hs, _, _) in enumerate(ROWS)]
    result = screen(make_declaration(items=items))
    by_item: dict[str, dict[str, list]] = {}
    for finding in result.findings:
        if finding.plugin in REGIMES and finding.sku:
            by_item.setdefault(finding.sku, {}).setdefault(finding.plugin, []).append(finding)
    return {title: {regime: outcome(found) for regime, found in by_item.get(f"T{i}", {}).items()}
            for i, (title, _, _, _) in enumerate(ROWS)}


def test_the_corpus_is_well_formed_and_covers_every_regime():
    assert len(ROWS) >= 180
    assert all(len(row) == 4 and row[3].strip() for row in ROWS), "every row needs title, hs, expect and a reason"
    assert len({row[0] for row in ROWS}) == len(ROWS), "a title is listed twice"
    for regime in REGIMES:
        outcomes = {expected(row[2]).get(regime) for row in ROWS}
        assert {"block", "warn"} <= outcomes, regime
    assert sum(row[2] == "clear" for row in ROWS) >= 60


@pytest.mark.parametrize("title, hs, expect, reason", ROWS, ids=[row[0][:60] for row in ROWS])
def test_title(screened, title, hs, expect, reason):
    assert screened[title] == expected(expect), reason
