"""The keyword index of fba_jp/regimes.py finds exactly what a plain scan of every keyword finds.

The index only narrows which keywords are tried; these tests hold it to the plain scan it replaced (every
keyword, not_keyword, exclude phrase and table list, substring test then pattern) on the tables' own
keywords, their plurals and tricky titles, so a table edit that the index would mis-handle fails here.
"""

import itertools

import pytest

from fba_jp import regimes
from fba_jp.regimes import REGIMES, load_regime, normalise_text

TRICKY = [
    "", " ", "-", "s", "es", "USB-C wall charger 65 W", "usb_c charger", "USB‐C CHARGERS", "chargeres",
    "LED電球 60W形", "led電球", "コーヒー豆 200g", "ｃｏｆｆｅｅ ｍｕｇ", "Coffee-Mugs (2-pack)", "coffee table",
    "coffee table and coffee", "coffeemug", "mug'", "(mug)", "mug.", "mugs/cups", "9mug", "mug9", "émug", "mugé",
    "bicycle helmet", "battery operated fan", "医薬部外品 薬用 化粧水", "whitening serum", "face serums",
    "teether rattle for babies", "building blocks", "magnet set", "water beads", "chef's knife", "wool socks, 3 pairs",
    "power bank 10000mAh", "bluetooth earbuds", "wi-fi router", "wifi", "lithium-ion batteries", "vacuum flask",
    "porcelain coffee mug (navy) by Seller 12", "green tea", "sencha 緑茶", "tea-cup", "a | b", "x  y",
]


def plain_hits(regime, title):
    """_raw_hits as a scan of every exclude phrase and keyword (the code before the index)."""
    text = normalise_text(title)
    for phrase in regime.exclude:
        if phrase.literal in text:
            text = phrase.pattern.sub(" | ", text)
    return tuple(sorted((k.text for k in regime.keywords if k.search(text)), key=len, reverse=True))


def plain_table_hits(regime, table, title):
    text = normalise_text(title)
    return tuple(k.text for k in regime.tables[table] if k.search(text))


def plain_not(regime, title):
    text = normalise_text(title)
    return any(k.search(text) for k in regime.not_keywords)


def titles():
    """Every keyword of every table as a title, with plural endings, glued to neighbours and in pairs."""
    words = set(TRICKY)
    for name in REGIMES:
        regime = load_regime(name)
        lists = [regime.keywords, regime.not_keywords, regime.exclude,
                 *(v for k, v in regime.tables.items() if k.endswith("_keywords"))]
        for keyword in itertools.chain(*lists):
            k = keyword.text
            words.update({k, k.upper(), k + "s", k + "es", k + "x", "x" + k, f"({k})", f"{k}-pack", f"my {k}s here",
                          k.replace(" ", "-"), k.replace(" ", "  ")})
    keywords = sorted(words)
    pairs = [f"{a} {b}" for a, b in zip(keywords, keywords[7:] + keywords[:7])]
    return keywords + pairs


ALL_TITLES = titles()


@pytest.mark.parametrize("name", REGIMES)
def test_index_finds_what_the_plain_scan_finds(name):
    regime = load_regime(name)
    tables = [t for t in regime.tables if t.endswith("_keywords")]
    for title in ALL_TITLES:
        assert regime.raw_hits(title) == list(plain_hits(regime, title)), title
        text = normalise_text(title)
        found = any(k.search(text) for k in regimes._index(name, "not_keywords").candidates(text))
        assert found == plain_not(regime, title), title
        for table in tables:
            assert regime.table_hits(table, title) == list(plain_table_hits(regime, table, title)), (table, title)


def test_candidates_are_in_table_order_and_cover_every_hit():
    # the hits keep the table's order among keywords of one length, as the scan did
    for name in REGIMES:
        index = regimes._index(name, "keywords")
        for title in ALL_TITLES[:400]:
            text = normalise_text(title)
            candidates = index.candidates(text)
            positions = [index.keywords.index(k) for k in candidates]
            assert positions == sorted(set(positions))
            assert {k for k in index.keywords if k.search(text)} <= set(candidates)


def test_classification_is_the_same_with_the_index():
    # the whole classification, every regime, against one that runs the plain scan
    saved = regimes.KeywordIndex.candidates
    fast = {}
    regimes._classify_product.cache_clear()
    for title in ALL_TITLES[::5]:
        for hs in (None, "6912.00", "3924.10", "8504.40"):
            fast[title, hs] = regimes._classify_product((), hs, None, title)
    try:
        regimes.KeywordIndex.candidates = lambda self, text: list(self.keywords)  # every keyword: the plain scan
        for f in (regimes._classify_product, regimes._raw_hits, regimes._table_hits):
            f.cache_clear()
        for (title, hs), matches in fast.items():
            assert regimes._classify_product((), hs, None, title) == matches, (title, hs)
    finally:
        regimes.KeywordIndex.candidates = saved
        for f in (regimes._classify_product, regimes._raw_hits, regimes._table_hits):
            f.cache_clear()
