"""Regulated-product regimes: the classification tables in ``fba_jp/data/regimes/`` and the look-ups
the regime plugins (cosmetics, pse, food, tableware, radio, psc) share — DOMAIN §5.

An item belongs to a regime by, in order of authority:

1. its declared ``categories``;
2. its HS code: a heading in the table's ``hs`` list; or a heading in ``hs_broad`` (a heading wider than
   the regime, such as 9503 toys or 8544 wire) or ``hs_keyword_only`` (a heading mostly outside it, such as
   3924.90 household articles) *together with* a product-type or keyword match;
3. its Amazon ``product_type``;
4. keywords in its title (English with word boundaries and an optional plural ``s``/``es``; Japanese as
   substrings, Japanese has no spaces).

1–2 mean the regime's requirements apply, so a missing licence blocks. 3–4 alone, or a broad heading
alone, only make the item *possibly* regulated: ``REG_POSSIBLY_REGULATED`` (warn) naming the evidence; a
``hs_keyword_only`` heading alone says nothing (a laundry basket under 3924.90 is just a basket).
``not_keywords`` are title phrases that say the item is *not* the regime's product whatever its HS code
("bicycle helmet" under 6506.10, "battery operated" under 9405, 医薬部外品 under a food heading); only a
declared category outranks them.
An HS code in ``hs_exclude`` (pet food in chapter 23, tobacco in 24…) takes the item out of the regime,
keywords notwithstanding: a declared HS code outranks a title. ``exclude`` phrases are masked out of the
title before matching ("coffee table" never says "coffee"), and ``yields_to`` names regimes whose keywords
win: a food word in a title that also names tableware ("coffee mug") is the mug's description, not food.

Licences and filings are records with a kind, number, holder, validity dates and optional SKUs
(``context.licences(shipment)``, ``context.filings(shipment)``: the declaration plus the account profile).
Which code a plugin emits:

- a record of the kind that covers the SKU and is in force on the declaration date → nothing;
- one that covers the SKU but ended before the declaration date → ``LICENCE_EXPIRED`` (block), naming it;
- none at all, one for other SKUs only, or one not yet in force → the regime's own code (``COS_NO_MAH``…).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

from .models import Finding, Item, Licence

REGIMES = ("cosmetics", "pse", "food", "tableware", "radio", "psc")
_REGIME_INDEX = {name: i for i, name in enumerate(REGIMES)}
DATA_PACKAGE = "fba_jp.data.regimes"


@lru_cache(maxsize=8192)
def normalise_text(text: str) -> str:
    """NFKC, case-folded, hyphens and underscores as spaces, whitespace collapsed: what keywords match."""
    # memoised: every regime (and the valuation, through the food plugin) reads the same titles
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[-_\u2010\u2011]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Keyword:
    """One keyword or phrase of a table; its regex is compiled on first use.

    ``literal`` is the normalised keyword itself. Normalised text has single spaces only, so the
    pattern can match only where ``literal`` occurs as a plain substring: a substring test (fast, in C)
    rules out almost every keyword before its regex (lookarounds, tried at every position) runs — and
    most keywords never need their regex at all, so compiling all of them up front (tens of ms) would
    be paid by every ``fba-jp gate`` for nothing.
    """

    text: str
    regex: str
    literal: str

    @classmethod
    def compile(cls, text: str) -> "Keyword":
        norm = normalise_text(text)
        if norm.isascii():
            # ASCII boundaries, not \b: in "LED電球" the kanji count as word characters for \b.
            body = re.escape(norm).replace(r"\ ", r"\s+")
            return cls(text, rf"(?<![a-z0-9]){body}(?:s|es)?(?![a-z0-9])", norm)
        return cls(text, re.escape(norm), norm)

    @property
    def pattern(self) -> re.Pattern:
        return _compiled(self.regex)

    def search(self, normalised: str) -> bool:
        return self.literal in normalised and self.pattern.search(normalised) is not None


@lru_cache(maxsize=None)
def _compiled(regex: str) -> re.Pattern:
    return re.compile(regex)


@dataclass(frozen=True)
class HsPrefix:
    """An HS heading or subheading as written in the table (``"8504.40"``) and as bare digits."""

    text: str
    digits: str

    @classmethod
    def parse(cls, text: str) -> "HsPrefix":
        digits = re.sub(r"[.\-\s]", "", text)
        if not re.fullmatch(r"\d{2,9}", digits):
            raise ValueError(f"not an HS heading: {text!r}")
        return cls(text, digits)


class Headings(tuple):
    """HS headings in table order, indexed by prefix once: every item asks every regime about its HS code."""

    def __new__(cls, prefixes: Iterable[HsPrefix]) -> "Headings":
        headings = super().__new__(cls, prefixes)
        index: dict[str, tuple[int, HsPrefix]] = {}
        for position, prefix in enumerate(headings):
            index.setdefault(prefix.digits, (position, prefix))
        headings._index = index
        headings._lengths = tuple(sorted({len(d) for d in index}))
        headings._found = {}
        return headings

    def find(self, digits: str) -> HsPrefix | None:
        """The first heading that the bare-digit HS code ``digits`` starts with."""
        # memoised per table (the headings never change once built): every regime, check and the valuation
        # asks every table about the same few HS codes, screening after screening
        try:
            return self._found[digits]
        except KeyError:
            pass
        found = [self._index[digits[:n]] for n in self._lengths if digits[:n] in self._index]
        heading = min(found, key=lambda hit: hit[0])[1] if found else None
        if len(self._found) < 4096:  # bounded: a long-running daemon sees many codes
            self._found[digits] = heading
        return heading


@dataclass(frozen=True)
class Match:
    """Why an item is in a regime. ``applies``: by category or HS (requirements apply) or only possibly."""

    regime: "Regime"
    applies: bool
    evidence: str
    from_table: bool = True  # False when the seller declared the category

    @property
    def cited(self) -> str:
        """The evidence with the table it came from, for a finding's ``evidence``."""
        return f"{self.evidence} ({self.regime.stamp})" if self.from_table else self.evidence


@dataclass(frozen=True)
class Regime:
    """One regime's classification table, loaded from ``fba_jp/data/regimes/<name>.toml``."""

    name: str
    title: str
    law: str
    file: str
    as_of: str
    source: str
    hs: Headings
    hs_broad: Headings
    hs_exclude: Headings
    hs_keyword_only: Headings
    not_keywords: tuple[Keyword, ...]
    product_types: frozenset[str]
    keywords: tuple[Keyword, ...]
    exclude: tuple[Keyword, ...]
    yields_to: tuple[str, ...]
    tables: dict

    @property
    def stamp(self) -> str:
        return f"{self.file}, as of {self.as_of}"

    def classify(self, item: Item) -> Match | None:
        """The strongest evidence that ``item`` belongs to this regime, or ``None``."""
        return self.classify_product(tuple(item.categories), item.hs_code, item.product_type, item.title)

    def classify_product(self, categories: tuple[str, ...], hs_code: str | None, product_type: str | None,
                         title: str | None) -> Match | None:
        """:meth:`classify` of an item with these fields (for callers that memoise on them)."""
        index = _REGIME_INDEX.get(self.name)
        if index is None:
            return _classify(self.name, categories, hs_code, product_type, title)
        return _classify_product(categories, hs_code, product_type, title)[index]

    def hint(self, item: Item) -> str | None:
        """Product-type or title-keyword evidence (the weak kinds), or ``None``."""
        return self._hint(item.product_type, item.title)

    def _hint(self, product_type: str | None, title: str | None) -> str | None:
        if product_type and product_type.strip().upper() in self.product_types:
            return f"product_type {product_type.strip().upper()!r}"
        hits = self.title_hits(title)
        if hits:
            return f"title contains {hits[0]!r}"
        return None

    def title_hits(self, title: str | None) -> list[str]:
        """This regime's keywords in ``title``, after masking ``exclude`` phrases and yielding to others."""
        if not title:
            return []
        hits = self.raw_hits(title)
        if hits and any(load_regime(other).raw_hits(title) for other in self.yields_to):
            return []
        return hits

    def raw_hits(self, title: str) -> list[str]:
        """Keywords found once ``exclude`` phrases are masked, the most specific (longest) first."""
        return list(_raw_hits(self.name, title))

    def table_hits(self, table: str, title: str | None) -> list[str]:
        """Hits of the extra keyword list ``tables.<table>`` (e.g. ``resin_keywords``) in ``title``."""
        return list(_table_hits(self.name, table, title)) if title else []

    def table_hs(self, table: str, item: Item) -> HsPrefix | None:
        """The heading of the extra HS list ``tables.<table>`` (e.g. ``specified_hs``) the item is under."""
        digits = item.hs_digits
        return self.tables[table].find(digits) if digits else None


@lru_cache(maxsize=16384)
def _classify_product(categories: tuple[str, ...], hs_code: str | None, product_type: str | None,
                      title: str | None) -> tuple[Match | None, ...]:
    # Sellers ship the same products again and again, and every regime (and the valuation, through
    # the food plugin's reduced_tax_rate) asks about each item: classify each distinct product once,
    # for all regimes together, so the cache holds one entry per product rather than six.
    return tuple(_classify(name, categories, hs_code, product_type, title) for name in REGIMES)


def _classify(name: str, categories: tuple[str, ...], hs_code: str | None, product_type: str | None,
              title: str | None) -> Match | None:
    regime = load_regime(name)
    if name in categories:
        return Match(regime, True, f"declared category {name!r}", from_table=False)
    if title and regime.not_keywords:
        text = normalise_text(title)
        if any(k.search(text) for k in _index(name, "not_keywords").candidates(text)):
            return None
    hint = regime._hint(product_type, title)
    digits = (hs_code or "").replace(".", "")
    if digits:
        if regime.hs_exclude.find(digits) is not None:
            return None
        if (heading := regime.hs.find(digits)) is not None:
            return Match(regime, True, f"HS {hs_code} is under heading {heading.text}")
        if (heading := regime.hs_broad.find(digits)) is not None:
            if hint:
                return Match(regime, True, f"HS {hs_code} is under heading {heading.text} and {hint}")
            return Match(regime, False, f"HS {hs_code} is under heading {heading.text}, which includes "
                                        f"{regime.title} products")
        if (heading := regime.hs_keyword_only.find(digits)) is not None:
            if hint:
                return Match(regime, True, f"HS {hs_code} is under heading {heading.text} and {hint}")
            return None
    if hint:
        return Match(regime, False, hint)
    return None


@lru_cache(maxsize=8192)
def _raw_hits(regime_name: str, title: str) -> tuple[str, ...]:
    # Sellers ship the same titles over and over, and every regime (and the valuation, through the
    # reduced_tax_rate hook) asks about each title: memoise.
    regime = load_regime(regime_name)
    text = normalise_text(title)
    if _index(regime_name, "exclude").candidates(text):
        # a phrase that is no candidate in the title cannot match it, so only titles with one are masked
        # (in table order, on the text masked so far, as always)
        for phrase in regime.exclude:
            if phrase.literal in text:
                text = phrase.pattern.sub(" | ", text)
    candidates = _index(regime_name, "keywords").candidates(text)
    return tuple(sorted((k.text for k in candidates if k.search(text)), key=len, reverse=True))


@lru_cache(maxsize=8192)
def _table_hits(regime_name: str, table: str, title: str) -> tuple[str, ...]:
    text = normalise_text(title)
    return tuple(k.text for k in _index(regime_name, table).candidates(text) if k.search(text))


_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    """The ASCII words of a normalised text, each also without a plural ``s`` or ``es``."""
    words = set()
    for word in _WORD.findall(text):
        words.add(word)
        if word.endswith("s"):
            words.add(word[:-1])
            if word.endswith("es"):
                words.add(word[:-2])
    return frozenset(words)


class KeywordIndex:
    """A keyword list indexed by the first word of each ASCII keyword.

    A new title would otherwise be tested against every keyword of every regime (~600 substring tests).
    An ASCII keyword's pattern matches only where its first word (the leading run of ``[a-z0-9]``) is a
    whole word of the text: plain, or with the optional plural ``s``/``es`` when the keyword is that one
    word. So the title's words (with and without a plural ending) name every keyword that can match, and
    a dict look-up per word replaces the scan. Keywords without such a first word, and Japanese ones
    (substrings), are still tested by substring; Japanese ones only when the text is not ASCII.
    """

    def __init__(self, keywords: Iterable[Keyword]):
        self.keywords = tuple(keywords)
        self._by_word: dict[str, list[int]] = {}
        self._scan: list[tuple[int, str]] = []  # (position, literal) tested by substring
        self._scan_ascii: list[tuple[int, str]] = []  # the ASCII ones among them
        for position, keyword in enumerate(self.keywords):
            first = _WORD.match(keyword.literal) if keyword.literal.isascii() else None
            if first is not None:
                self._by_word.setdefault(first.group(), []).append(position)
                continue
            self._scan.append((position, keyword.literal))
            if keyword.literal.isascii():
                self._scan_ascii.append((position, keyword.literal))

    def candidates(self, text: str) -> list[Keyword]:
        """The keywords that may occur in the normalised ``text``, in table order: every one whose
        ``search`` can be true, and a few more (the caller still runs ``search``)."""
        words = self._by_word.keys() & _words(text)
        positions = [p for word in words for p in self._by_word[word]]
        for p, literal in self._scan_ascii if text.isascii() else self._scan:
            if literal in text:
                positions.append(p)
        if not positions:
            return []
        keywords = self.keywords
        return [keywords[p] for p in sorted(set(positions))]


@lru_cache(maxsize=None)
def _index(regime_name: str, table: str) -> KeywordIndex:
    """The index of a regime's keyword list: ``keywords``, ``not_keywords``, ``exclude`` or a ``tables`` list."""
    regime = load_regime(regime_name)
    return KeywordIndex(regime.tables[table] if table in regime.tables else getattr(regime, table))


@lru_cache(maxsize=None)
def load_regime(name: str) -> Regime:
    """Load and compile ``fba_jp/data/regimes/<name>.toml``.

    ``tables`` holds regime-specific extra lists: keys ending in ``_hs`` are HS prefixes, keys ending
    in ``_keywords`` are keyword lists; anything else is kept as written.
    """
    filename = f"{name}.toml"
    data = tomllib.loads(resources.files(DATA_PACKAGE).joinpath(filename).read_text(encoding="utf-8"))
    tables = {}
    for key, value in data.get("tables", {}).items():
        if key.endswith("_hs"):
            tables[key] = Headings(HsPrefix.parse(v) for v in value)
        elif key.endswith("_keywords"):
            tables[key] = tuple(Keyword.compile(v) for v in value)
        else:
            tables[key] = value
    return Regime(
        name=data["regime"],
        title=data["title"],
        law=data["law"],
        file=f"data/regimes/{filename}",
        as_of=str(data["as_of"]),
        source=data["source"],
        hs=Headings(HsPrefix.parse(v) for v in data.get("hs", [])),
        hs_broad=Headings(HsPrefix.parse(v) for v in data.get("hs_broad", [])),
        hs_exclude=Headings(HsPrefix.parse(v) for v in data.get("hs_exclude", [])),
        hs_keyword_only=Headings(HsPrefix.parse(v) for v in data.get("hs_keyword_only", [])),
        not_keywords=tuple(Keyword.compile(k) for k in data.get("not_keywords", [])),
        product_types=frozenset(p.upper() for p in data.get("product_types", [])),
        keywords=tuple(Keyword.compile(k) for k in [*data.get("keywords", []), *data.get("keywords_ja", [])]),
        exclude=tuple(Keyword.compile(k) for k in data.get("exclude", [])),
        yields_to=tuple(data.get("yields_to", [])),
        tables=tables,
    )


# --------------------------------------------------------------------------- licences and filings


@dataclass(frozen=True)
class Holding:
    """What the records say about one kind of licence or filing for one SKU on one date."""

    kind: str
    valid: Licence | None
    expired: Licence | None
    why_missing: str

    @property
    def ok(self) -> bool:
        return self.valid is not None


def lookup(records: Iterable[Licence], kind: str, sku: str, on: date, where: str = "licences") -> Holding:
    """Find a record of ``kind`` covering ``sku`` in force on ``on`` (see the module docstring for codes)."""
    of_kind = [r for r in records if r.kind == kind]
    for_sku = [r for r in of_kind if r.skus is None or sku in r.skus]
    valid = next((r for r in for_sku if r.valid_on(on)), None)
    if valid is not None:
        return Holding(kind, valid, None, "")
    expired = next((r for r in for_sku if r.valid_until is not None and r.valid_until < on), None)
    future = next((r for r in for_sku if r.valid_from is not None and r.valid_from > on), None)
    if expired is not None:
        why = f"{kind} {expired.number} expired on {expired.valid_until}"
    elif future is not None:
        why = f"{kind} {future.number} is valid only from {future.valid_from}, after the declaration date {on}"
    elif of_kind:
        other = of_kind[0]
        why = f"{kind} {other.number} covers only SKUs {', '.join(other.skus or [])}, not {sku}"
    else:
        why = f"no {kind} in the declaration's {where} or the account profile"
    return Holding(kind, None, expired, why)


def needs_domestic_administrator(shipment, from_date: date) -> bool:
    """Whether the seller is a specified importer (特定輸入事業者) that needs a domestic administrator.

    That is an overseas seller importing in its own name (no sale to a Japan-based buyer, who would be
    the importer instead) on or after ``from_date`` (PSE and PSC amendments, in force 25 Dec 2025).
    """
    return (not shipment.seller.japan_resident and not shipment.import_transaction
            and shipment.declaration_date >= from_date)


def expired_finding(holding: Holding, item: Item, on: date, *, what: str, match: Match,
                    remedy: str, reference: str) -> Finding:
    """``LICENCE_EXPIRED`` for a record that covered this SKU but ended before the declaration date."""
    record = holding.expired
    holder = f" (held by {record.holder})" if record.holder else ""
    return Finding(
        code="LICENCE_EXPIRED", severity="block", sku=item.msku, reference=reference,
        evidence=f"{match.cited}; {record.kind} {record.number} valid until {record.valid_until}",
        message=f"{item.msku}: the {what} {record.number}{holder} expired on {record.valid_until}, before the "
                f"declaration date {on}, so it counts as missing.",
        remedy=f"Renew it (or obtain a new one) and record it with its new validity dates. {remedy}",
    )


def classify_items(regime: Regime, shipment, *, needs: str,
                   context=None) -> tuple[list[Finding], list[tuple[Item, Match]]]:
    """Split a shipment's items for one regime.

    Returns the ``REG_POSSIBLY_REGULATED`` warnings for items with only weak evidence (product type,
    keyword, broad heading), and the ``(item, match)`` pairs the regime's requirements apply to. With a
    ``context``, its config's ``[rules.regimes.<name>]`` overrides come first (and are recorded for the
    screening's audit row).
    """
    warnings, regulated = [], []
    # asked for every item of every regime: look for overrides once a shipment, not once an item
    rules = context.config.rules if context is not None else None
    overrides = rules is not None and rules.regimes.get(regime.name) is not None
    for item in shipment.items:
        match = overridden_match(regime, item, context) if overrides else None
        if match is OUT:
            continue
        if match is None:
            match = regime.classify(item)
        if match is None:
            continue
        if match.applies:
            regulated.append((item, match))
        else:
            warnings.append(possibly_regulated(match, item, needs=needs))
    return warnings, regulated


# --------------------------------------------------------------------------- config overrides

OUT = object()  # an override took the item out of the regime


def override_for(rules, regime_name: str, item: Item) -> tuple[str, str] | None:
    """``(action, heading)`` of the most specific ``[rules.regimes.<regime_name>]`` heading the item's HS
    code is under, or ``None``. A declared category is the seller's own word and is not overridden."""
    overrides = rules.regimes.get(regime_name) if rules is not None else None
    if overrides is None:  # the usual case: asked for every item of every regime
        return None
    digits = item.hs_digits
    if not digits or regime_name in item.categories:
        return None
    hits = [(len(d), action, heading)
            for action in ("block", "warn", "ignore") for heading in getattr(overrides, action)
            if digits.startswith(d := "".join(c for c in heading if c.isdigit()))]
    if not hits:
        return None
    _, action, heading = max(hits)
    return action, heading


def record_override(context, table: str, heading: str, action: str, sku: str, **detail) -> None:
    """Note that a config override changed this screening (the runner stores it with the screening)."""
    if context is None:
        return
    entries = context.cache.setdefault("rule_overrides", {})
    entry = entries.setdefault((table, heading, action), {"table": table, "heading": heading, "action": action,
                                                          **detail, "skus": []})
    if sku not in entry["skus"]:
        entry["skus"].append(sku)


def overridden_match(regime: Regime, item: Item, context):
    """The item's match under a config override: a :class:`Match`, ``OUT``, or ``None`` (no override)."""
    found = override_for(context.config.rules if context is not None else None, regime.name, item)
    if found is None:
        return None
    action, heading = found
    record_override(context, f"regimes/{regime.name}", heading, action, item.msku)
    where = f"config [rules.regimes.{regime.name}] {action} {heading!r}"
    if action == "ignore":
        return OUT
    if action == "block":
        return Match(regime, True, f"HS {item.hs_code} is under heading {heading} ({where})", from_table=False)
    hint = regime.hint(item)
    if hint:
        return Match(regime, True, f"HS {item.hs_code} is under heading {heading} and {hint} ({where})",
                     from_table=False)
    return Match(regime, False, f"HS {item.hs_code} is under heading {heading}, which includes {regime.title} "
                                f"products ({where})", from_table=False)


def require(held: Holding, item: Item, on: date, *, match: Match, code: str, what: str, message: str,
            remedy: str, reference: str, evidence: str | None = None) -> Iterator[Finding]:
    """The finding for one requirement checked with :func:`lookup`.

    Nothing when a record is in force; ``LICENCE_EXPIRED`` when the record covering the SKU expired before
    ``on``; otherwise ``code`` (block) with ``message``. ``evidence`` replaces ``held.why_missing`` after
    the classification evidence.
    """
    if held.ok:
        return
    if held.expired is not None:
        yield expired_finding(held, item, on, what=what, match=match, remedy=remedy, reference=reference)
        return
    yield Finding(
        code=code, severity="block", sku=item.msku, reference=reference,
        evidence=f"{match.cited}; {evidence or held.why_missing}", message=message, remedy=remedy,
    )


def possibly_regulated(match: Match, item: Item, *, needs: str) -> Finding:
    """``REG_POSSIBLY_REGULATED``: weak evidence (product type, keyword, broad heading) for a regime."""
    regime = match.regime
    title = regime.title
    # declaring an HS code settles it only for an item that has none
    or_hs = "" if item.hs_code else " (or declare its HS code)"
    return Finding(
        code="REG_POSSIBLY_REGULATED", severity="warn", sku=item.msku, evidence=match.cited,
        reference=regime.law,
        message=f"{item.msku} may be a {title} product ({match.evidence}); if it is, Japan requires {needs}.",
        remedy=f"Check what the item is. If it is a {title} product, add \"{regime.name}\" to the item's "
               f"categories{or_hs} so fba-jp checks {needs} before it ships. If it is not, no action is needed.",
    )
