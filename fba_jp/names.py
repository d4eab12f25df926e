"""Company-name normalisation and matching against the versioned name lists in ``fba_jp/data``.

Every name a rule reads (importer, consignee, ACP, seller) goes through :func:`parse_name` first:

1. default-ignorable code points are removed (soft hyphen, zero-width space and joiners, bidi controls,
   variation selectors…), then NFKC and case folding;
2. combining marks are dropped (``Amazón`` is ``Amazon``; the kana voicing marks stay: ジ is not シ);
3. the name is split into words, and the legal form (Inc., Ltd., K.K., G.K., S.à r.l., 株式会社…) is set
   apart from the core words; one that ends the name inside a longer text stays where it stood, since what
   follows it is an address ("Amazon Japan G.K., 3-1-1 Shimomeguro", "アマゾンジャパン合同会社 目黒区下目黒1-8-1");
4. each word is mapped to its *skeleton* (Unicode TR39): every character that looks like another is
   replaced by the prototype of its confusable class, so a Cyrillic ``А`` is the Latin ``a``.

A name matches a listed entity when its core words are one of the entity's **aliases** with only
harmless words around it: the list's generic ``qualifiers`` ("Express", "Japan"), a ``qualifier_patterns``
match (an FC code such as ``NRT5``), a place (``places.toml``), a ``site_words`` word ("FC", "branch",
支店), or one other word directly before a site word ("Kawasaki FC"); after a legal form that closes the
name (G.K., K.K., Ltd., Inc., LLC…) anything may follow, since that is an address ("Amazon Japan G.K.
Meguro", "ヤマト運輸株式会社 東京都中央区銀座2-16-10"). A legal form written first (前株 "株式会社日新") has no end
marker: the name ends where an address starts (a number, a postal code, a prefecture or city with its unit, a
place, a romaji "Meguro-ku"), and the form is read there ("株式会社日新 東京都千代田区丸の内1-1" is read as
"日新株式会社 東京都千代田区丸の内1-1"); a site is no address ("株式会社日新 成田支店"). An
entity's **exact** aliases are ordinary words ("Toll", "Kerry", "Nissin Corporation") that
name it only as the whole name, legal form included, or followed only by its site ("Nissin Corporation
Narita Branch": places and site words, never a qualifier, so "Kerry Japan K.K." stays clear), or by its own
closing legal form and an address ("日新株式会社 東京都千代田区…", "Nissin Corporation, 2-2 Kanda").
Japanese names have no spaces, so a word written in kana or kanji is split into the list's own vocabulary first (アマゾンジャパン小田原フルフィルメントセンター → アマゾンジャパン · 小田原 · フルフィルメント · センター).
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

# Japanese legal forms are written without spaces, before or after the name (前株 "株式会社日新", 後株
# "日新株式会社"); the abbreviations (株), ㈱ (NFKC "(株)"), (同), (有) are the same forms. Chinese sellers and
# forwarders write theirs the same way, after the name ("顺丰速运有限公司", "深圳市阳光电子有限公司"): 有限公司
# is "Co., Ltd."; the longer forms come first so that the whole form is set apart.
_JA_LEGAL = re.compile(r"株式会社|合同会社|有限会社|合資会社|合名会社|一般社団法人|股份有限公司|有限责任公司|有限責任公司|"
                       r"有限公司|\(株\)|\(同\)|\(有\)|㈱|㈲")
_JA_LEGAL_PARTS = re.compile(f"({_JA_LEGAL.pattern})")
_JA_ABBREVIATED = {"株": "株式会社", "同": "合同会社", "有": "有限会社"}
_WORD_CHAR = re.compile(r"[^\W_]")
# Where an address starts after a company's name (a word of it, folded): a number (house number, 丁目番地,
# postal code: "1-8-1", "1丁目", "153-0064"; the postal mark 〒 is a separator), a Japanese word with a number
# in it ("下目黒1"), or a Japanese municipality: up to four kanji and an administrative unit ("目黒区", "千葉県",
# "大阪市"), which a company name's own words do not end in. A place (places.toml) or romaji unit ("-ku",
# "-shi") is checked in :func:`_address_start`.
_ADDRESS_WORD = re.compile(r"\d|[^\x00-\x7f]*\d|[\u4e00-\u9fff々ヶ]{1,4}?[都道府県市区郡]")
_ROMAJI_UNITS = frozenset({"ku", "shi", "ken", "cho", "machi", "gun"})
# Words that start what follows a company's name, not more of it: an address line ("Suite 400", "Room 201",
# "PO Box 12", "Attn: Logistics"), the role it is written in ("(Importer of Record)", "- IOR") and the
# seller's country ("Acme Trading LLC, USA"). Not "Japan": "Acme Trading LLC Japan" may be the Japanese
# subsidiary, another importer (docs/rules.md). (changed 2026-12-02)
_AFTER_NAME_WORDS = frozenset({
    "suite", "ste", "room", "rm", "unit", "floor", "fl", "flat", "apt", "po", "pobox", "box", "attn",
    "attention", "dept", "department", "importer", "ior",
    "usa", "us", "uk", "china", "prc", "germany", "deutschland", "france", "italy", "spain", "netherlands",
    "canada", "australia", "singapore", "korea", "taiwan", "vietnam", "india",
})
_SEPARATORS = re.compile(r"[^\w]+", re.UNICODE)
_DOTTED = re.compile(r"\b(?:\w\.){2,}")
_LEGAL_SUFFIXES = [
    ("kabushiki", "kaisha"), ("godo", "kaisha"), ("yugen", "kaisha"), ("co", "ltd"), ("pte", "ltd"),
    ("pty", "ltd"), ("s", "a", "r", "l"), ("s", "a", "rl"), ("k", "k"), ("g", "k"), ("y", "k"), ("s", "a"), ("b", "v"),
    ("n", "v"), ("sp", "z", "o", "o"), ("s", "r", "o"),
    ("inc",), ("incorporated",), ("ltd",), ("limited",), ("llc",), ("llp",), ("lp",), ("corp",),
    ("corporation",), ("co",), ("company",), ("kk",), ("gk",), ("gmbh",), ("ag",), ("sa",), ("bv",),
    ("plc",), ("sarl",), ("srl",), ("spa",), ("oy",), ("ab",), ("as",), ("nv",), ("sas",), ("bvba",),
    ("pvt",), ("the",),
    # India's "Private Limited" (= Pvt. Ltd.), Malaysia's "Sdn. Bhd.", Canada's unlimited liability company
    ("private", "limited"), ("sdn", "bhd"), ("ulc",),
]
_LEGAL_SINGLE = frozenset(s[0] for s in _LEGAL_SUFFIXES if len(s) == 1) | {"kabushiki", "godo", "kaisha"}
# Legal forms that end a company's name when they stand inside a longer one ("Amazon Japan G.K. Meguro"):
# not the short ones that are also ordinary words or name parts ("co", "as", "sa", "ab", "the"…).
_CLOSING_LEGAL = frozenset({"gk", "kk", "kaisha", "llc", "inc", "incorporated", "ltd", "limited", "corp",
                            "corporation", "gmbh", "plc", "sarl", "pte", "pty", "ulc", "bhd"})
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt): invisible in rendering, so a name
# carrying one looks exactly like the name without it.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_DROP_IGNORABLE = {cp: None for lo, hi in _DEFAULT_IGNORABLE for cp in range(lo, hi + 1)}
_KANA_VOICING = frozenset("\u3099\u309a")


@lru_cache(maxsize=1)
def _ja_legal_words() -> frozenset[str]:
    """The Japanese legal forms as core words (skeletons), where one closes a name followed by an address."""
    return frozenset(skeleton(form) for form in _JA_LEGAL.pattern.split("|") if form.isalpha())


def _closes_name(word: str) -> bool:
    """Whether the core word ``word`` is a legal form that ends a company's name standing inside a longer one."""
    return word in _CLOSING_LEGAL or word in _ja_legal_words()


def strip_invisible(text: str) -> str:
    """``text`` without default-ignorable code points."""
    return text.translate(_DROP_IGNORABLE)


_CARE_OF = re.compile(r"(?<![^\W_])(?:c\s*/\s*o|care\s+of)(?![^\W_])|\u2105", re.IGNORECASE)


def addressee(name: str) -> str:
    """The party a name is addressed to: ``"Amazon.co.jp c/o Acme"`` is Amazon.co.jp's, received by Acme for
    it; ``"Acme c/o Amazon FSZ1"`` is Acme's. A name without "c/o" (or with nothing before it) is itself."""
    head = _CARE_OF.split(unicodedata.normalize("NFKC", strip_invisible(name)), maxsplit=1)[0]
    return head if head.strip(" ,;:-–—(") else name


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """TR39 confusable prototypes: each source character → the prototype of its class.

    Unicode's ``confusables.txt``, as ``fba_jp/data/confusables.json`` holds it: built from the
    ``confusable-homoglyphs`` package by ``scripts/make_confusables.py`` (which says how each mapping's
    direction is recovered from the package's table), and checked against the package by the tests.
    """
    text = resources.files("fba_jp.data").joinpath("confusables.json").read_text(encoding="ascii")
    return json.loads(text)["prototypes"]


@lru_cache(maxsize=16384)
def skeleton(word: str) -> str:
    """The skeleton of one word (TR39 prototypes for non-ASCII characters), case-folded.

    ASCII letters are compared as written, case aside: TR39 would also fold ``0``→``O``, ``1``→``l`` and
    ``rn``→``m``, but those are visible in the name the seller typed; the skeleton is there for what a
    reader cannot see (Cyrillic and Greek look-alikes, invisible and combining characters). A capital
    look-alike of ``I`` (Cyrillic І, Greek Ι) is ``i``, the way the Latin capital case-folds.
    """
    if word.isascii():
        return word.casefold()
    mapping = _prototypes()
    out = []
    for c in word:
        if c.isascii():
            out.append(c.casefold())
            continue
        p = mapping.get(c, c)
        if p == "l" and c.isupper():
            p = "i"
        p = p.casefold()
        out.append("".join(q if q.isascii() else mapping.get(q, q) for q in p).casefold())
    return unicodedata.normalize("NFC", "".join(out))


def _fold(text: str) -> str:
    """Invisible characters out, NFKC, combining marks (except kana voicing) dropped.

    A look-alike letter that NFKC would turn into a character of *another* confusable class keeps its
    TR39 prototype instead: the lunate sigma ϲ looks like c but is NFKC ς, the long s ſ looks like f but is
    NFKC s, ͺ is NFKC a space and a mark.
    """
    text = strip_invisible(text)
    if not text.isascii():
        mapping = _prototypes()
        text = "".join(mapping[c] if c in mapping and _nfkc_moves(c) else c for c in text)
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFD", strip_invisible(text))
    if decomposed.isascii():
        return decomposed
    kept = "".join(c for c in decomposed if c in _KANA_VOICING or not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


@lru_cache(maxsize=4096)
def _nfkc_moves(char: str) -> bool:
    """Whether NFKC takes the letter ``char`` out of its confusable class (to another skeleton). Only
    letters: punctuation keeps NFKC's form (a full-width hyphen is a hyphen, a separator)."""
    mapping = _prototypes()
    folded = unicodedata.normalize("NFKC", char)
    return folded != char and unicodedata.category(char).startswith("L") and "".join(mapping.get(c, c) for c in folded).casefold() != mapping[char].casefold()


class ParsedName(NamedTuple):
    """A name as the rules compare it: skeleton core words, the folded words (for FC-code patterns) and
    the legal form (skeleton words, ``()`` if none)."""

    core: tuple[str, ...]
    raw: tuple[str, ...]
    legal: tuple[str, ...]


@lru_cache(maxsize=1)
def _suffixes_by_last_word() -> dict[str, list[tuple[str, ...]]]:
    """Legal-form suffixes (as skeletons) by their last word, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for suffix in sorted(_LEGAL_SUFFIXES, key=len, reverse=True):
        if suffix != ("the",):
            index.setdefault(skeleton(suffix[-1]), []).append(tuple(skeleton(t) for t in suffix))
    return index


@lru_cache(maxsize=8192)
def parse_name(name: str) -> ParsedName:
    """Normalise a company name (see the module docstring)."""
    text = _fold(name)
    legal, text, first = _set_apart_japanese_legal(text)
    text = text.replace("&", " and ")
    # dotted abbreviations are one word: "L.L.C." → "llc", "K.K." → "kk", "C.H. Robinson" → "ch robinson"
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    words = [t for t in _SEPARATORS.split(text) if t and t != "_"]
    if first and words and not words[0].isascii():
        words[:1] = _split_at_prefecture(words[0])
    if first and (start := _address_start(words, 1)) is not None:
        # 前株 then an address ("株式会社日新 東京都千代田区丸の内1-1"): the name ends where the address starts,
        # so the form goes there, as if written after the name (後株 "日新株式会社 東京都千代田区…")
        words = [*words[:start], first, *words[start:]]
        del legal[0]
    core = [skeleton(t) for t in words]
    raw = [t.casefold() for t in words]
    return ParsedName(*_strip_legal_suffix(core, raw, legal))


def _strip_legal_suffix(core: list[str], raw: list[str], legal: list[str]) -> tuple[tuple[str, ...], ...]:
    """``core``, ``raw`` and ``legal`` with the legal-form words that end ``core`` moved to ``legal``."""
    by_last = _suffixes_by_last_word()
    stripped = True
    while stripped and len(core) > 1 and core[-1] in by_last:
        stripped = False
        for suffix in by_last[core[-1]]:
            n = len(suffix)
            if len(core) > n and tuple(core[-n:]) == suffix:
                legal[:0] = core[-n:]
                del core[-n:], raw[-n:]
                stripped = True
                break
    if len(core) > 1 and core[0] == "the":
        core, raw = core[1:], raw[1:]
    return tuple(core), tuple(raw), tuple(legal)


def _address_start(words: list[str] | tuple[str, ...], start: int) -> int | None:
    """The index of the first of the folded ``words`` from ``start`` on where an address begins (a number,
    a Japanese word with a number or a municipality with its unit, a place as the whole word: "Tokyo", 東京,
    not 東京支店; a romaji "Meguro-ku" or "Shimomeguro 1-8-1"; an address line, role or country word of
    ``_AFTER_NAME_WORDS``: "Suite", "Attn", "Importer", "USA"), or ``None``."""
    places = _load_places()[0]
    for i in range(start, len(words)):
        word = words[i].casefold()
        if _ADDRESS_WORD.match(word) or word in _AFTER_NAME_WORDS or skeleton(word) in places or (
                word.isascii() and i + 1 < len(words) and words[i + 1].casefold() in _ROMAJI_UNITS) or (
                # a romaji neighbourhood before its block number: "Shimomeguro 1-8-1" (chōme-banchi-gō)
                word.isascii() and word.isalpha() and i + 2 < len(words) and words[i + 1].isdigit()
                and words[i + 2].isdigit()):
            return i
    return None


def _split_at_prefecture(word: str) -> list[str]:
    """A Japanese word run into its address ("日新東京都千代田区丸の内1") split where a prefecture or city of
    ``places.toml`` with its unit begins ("東京都", "千葉県", "大阪市"; not "京都" alone); ``[word]`` if none does."""
    for i in range(1, len(word)):
        rest = word[i:]
        for place in _japanese_places():
            if rest.startswith(place) and len(rest) > len(place) and (
                    (len(place) > 2 and place[-1] in "都道府県") or rest[len(place)] in "都道府県市区郡"):
                return [word[:i], rest]
    return [word]


def _set_apart_japanese_legal(text: str) -> tuple[list[str], str, str | None]:
    """The Japanese legal forms of ``text`` (skeletons), the text without them, and the form written before
    the name (前株, ``legal[0]``) if there is one and a name after it.

    A form that follows the name and is followed by more words ends the name (後株 with an address:
    "アマゾンジャパン合同会社 目黒区下目黒1-8-1"): it stays in the text where it stood, as a word, so the
    matcher reads what follows as an address, as after "G.K." in "Amazon Japan G.K., 3-1-1 Shimomeguro".
    Before the name (前株) or at its end, a form is set apart.
    """
    parts = _JA_LEGAL_PARTS.split(text)  # text, form, text, form, …, text
    legal: list[str] = []
    first = None
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        form = parts[i].strip("()")
        form = _JA_ABBREVIATED.get(form, form)
        closes = any(_WORD_CHAR.search(p) for p in parts[0:i:2]) and any(_WORD_CHAR.search(p) for p in parts[i + 1::2])
        if closes:
            out.append(f" {form} ")
        else:
            if i == 1 and any(_WORD_CHAR.search(p) for p in parts[2::2]):
                first = form
            legal.append(skeleton(form))
            out.append(" ")
        out.append(parts[i + 1])
    return legal, "".join(out), first


def name_tokens(name: str) -> tuple[str, ...]:
    """Normalised core words of a company name (skeletons, legal forms removed wherever they stand)."""
    return tuple(w for w in parse_name(name).core if w not in _ja_legal_words())


def normalise_name(name: str) -> str:
    """One comparable string per company: equal for the same company however it is written."""
    return " ".join(name_tokens(name))


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str
    aliases: tuple[tuple[str, ...], ...]
    exact: tuple[ParsedName, ...] = ()


@dataclass(frozen=True)
class NameList:
    """A versioned list of entities (``as_of``, ``source``) with the words it tolerates around them."""

    file: str
    as_of: str
    source: str
    entities: tuple[Entity, ...]
    qualifiers: frozenset[str]
    qualifier_patterns: tuple[re.Pattern, ...]
    places: frozenset[str] = frozenset()
    site_words: frozenset[str] = frozenset()
    vocabulary: frozenset[str] = frozenset()  # kana and kanji words the list knows, to split Japanese names

    @property
    def _by_first_word(self) -> dict[str, list[tuple[tuple[str, ...], int, Entity]]]:
        index = self.__dict__.get("_index")
        if index is None:
            index = {}
            for i, entity in enumerate(self.entities):
                for alias in entity.aliases:
                    index.setdefault(alias[0], []).append((alias, i, entity))
            object.__setattr__(self, "_index", index)
        return index

    def match(self, name: str) -> Entity | None:
        """The entity ``name`` denotes, or ``None``."""
        # the same few importer and consignee names come back on every shipment of a seller
        return _match(self.file, name)

    def _match(self, name: str) -> Entity | None:
        parsed = parse_name(name)
        if not parsed.core:
            return None
        for entity in self.entities:
            if any(self._is_exact(parsed, e) for e in entity.exact):
                return entity
        core, raw = self._split_japanese(parsed.core, parsed.raw)
        # the most specific alias wins: "Amazon Global Logistics" is AGL, not "Amazon" + qualifiers;
        # only aliases whose first word is in the name are tried
        candidates = [hit for word in dict.fromkeys(core) for hit in self._by_first_word.get(word, ())]
        found = [(len(alias), -i, entity) for alias, i, entity in candidates
                 if self._is_alias_in_context(core, raw, alias, entity.aliases)]
        if found:
            return max(found, key=lambda hit: hit[:2])[2]
        if self._harmless(core, raw) and any(p.fullmatch(t) for t in raw for p in self.qualifier_patterns):
            # a bare FC code such as "NRT5" names the warehouse itself
            return self.entities[0]
        return None

    def _is_exact(self, parsed: ParsedName, exact: ParsedName) -> bool:
        """Whether ``parsed`` is the exact name, alone, followed only by its site ("Nissin Corporation
        Narita Branch", "株式会社日新 成田支店": places, site words, FC codes, never a qualifier: "Kerry
        Japan K.K." is not Kerry), or followed by its own closing legal form and an address."""
        if parsed.core == exact.core and parsed.legal == exact.legal:
            return True
        n = len(exact.core)
        if len(parsed.core) <= n or parsed.core[:n] != exact.core:
            return False
        core, raw = parsed.core[n:], parsed.raw[n:]
        if not parsed.legal and exact.legal and core[: len(exact.legal)] == exact.legal:
            core, raw = core[len(exact.legal):], raw[len(exact.legal):]  # "Nissin Corporation Narita Branch"
            if _closes_name(exact.legal[-1]):
                return True  # the exact name and its legal form, then an address ("日新株式会社 東京都千代田区…")
        elif parsed.legal != exact.legal:
            return False
        core, raw = self._split_japanese(core, raw)
        return bool(core) and core[-1] in self.site_words and all(
            w in self.places or w in self.site_words or any(p.fullmatch(f) for p in self.qualifier_patterns)
            or (i + 1 < len(core) and core[i + 1] in self.site_words)
            for i, (w, f) in enumerate(zip(core, raw)))

    def _split_japanese(self, core: tuple[str, ...], raw: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if all(t.isascii() or t in self.vocabulary for t in core):
            return core, raw
        out_core: list[str] = []
        out_raw: list[str] = []
        for word, folded in zip(core, raw):
            kept = word.isascii() or word in self.vocabulary or word in _ja_legal_words()
            parts = [word] if kept else _segment(word, self.vocabulary)
            out_core.extend(parts)
            out_raw.extend(parts if len(parts) > 1 else [folded])
        return tuple(out_core), tuple(out_raw)

    def _known(self, word: str, folded: str) -> bool:
        return (word in self.qualifiers or word in _LEGAL_SINGLE or word in self.places
                or word in self.site_words or any(p.fullmatch(folded) for p in self.qualifier_patterns))

    def _harmless(self, core: tuple[str, ...], raw: tuple[str, ...]) -> bool:
        """Whether every word is generic here: a qualifier, place, site word, FC code, or one unknown
        word directly before a site word ("Kawasaki FC", "成田支店")."""
        for i, (word, folded) in enumerate(zip(core, raw)):
            if self._known(word, folded):
                continue
            if i + 1 < len(core) and core[i + 1] in self.site_words and (i == 0 or self._known(core[i - 1], raw[i - 1])):
                continue
            return False
        return True

    def _is_alias_in_context(self, core: tuple[str, ...], raw: tuple[str, ...], alias: tuple[str, ...],
                             own: tuple[tuple[str, ...], ...] = ()) -> bool:
        """Whether ``alias`` stands in ``core`` with only harmless words around it; the entity's ``own``
        other aliases count as harmless there, since one company is often written under two of its names
        ("Amazon.co.jp (Amazon Japan G.K.)", "NX日本通運")."""
        n = len(alias)
        for start in range(len(core) - n + 1):
            if core[start : start + n] == alias:
                before = _without_aliases(core[:start], raw[:start], own)
                after = _without_aliases(core[start + n :], raw[start + n :], own)
                if self._harmless(*before) and self._harmless_after(*after):
                    return True
        return False

    def _harmless_after(self, core: tuple[str, ...], raw: tuple[str, ...]) -> bool:
        """Whether the words after an alias leave it the name: harmless words, or harmless words up to a
        legal form that closes the company name, whatever follows it (an address or site: "Amazon Japan
        G.K. Meguro", "Nippon Express Co., Ltd. 2-2 Kanda"), or harmless words up to an address that a site
        ends or that is written in Japanese ("Amazon FC NRT5 千葉県市川市塩浜2-13-1", "アマゾン 目黒区下目黒1-8-1";
        not "UPS 5 Star Trading": a number after the name alone may be more of it)."""
        for end, word in enumerate(core):
            if _closes_name(word) and self._harmless(core[:end], raw[:end]):
                return True
        end = _address_start(raw, 0)
        if end is not None and self._harmless(core[:end], raw[:end]) and (
                not raw[end].isascii() or (end and self._is_site(core[end - 1], raw[end - 1]))):
            return True
        return self._harmless(core, raw)

    def _is_site(self, word: str, folded: str) -> bool:
        """Whether a word names a site: a site word, a place or an FC code."""
        return word in self.site_words or word in self.places or any(p.fullmatch(folded) for p in self.qualifier_patterns)


def _without_aliases(core: tuple[str, ...], raw: tuple[str, ...],
                     aliases: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``core`` and ``raw`` without the words of any of ``aliases`` standing in them (longest first)."""
    if not aliases or not core:
        return core, raw
    keep_core: list[str] = []
    keep_raw: list[str] = []
    i = 0
    by_length = sorted(aliases, key=len, reverse=True)
    while i < len(core):
        alias = next((a for a in by_length if core[i : i + len(a)] == a), None)
        if alias is not None:
            i += len(alias)
            continue
        keep_core.append(core[i])
        keep_raw.append(raw[i])
        i += 1
    return tuple(keep_core), tuple(keep_raw)


def _segment(word: str, vocabulary: frozenset[str]) -> list[str]:
    """Split a kana/kanji word into known words, keeping unknown runs whole (fewest unknown characters,
    then fewest parts)."""
    n = len(word)
    best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0, [])
    lengths = sorted({len(v) for v in vocabulary}, reverse=True)
    for i in range(n):
        if best[i] is None:
            continue
        unknown, parts, seq = best[i]
        for length in lengths:
            j = i + length
            if j <= n and word[i:j] in vocabulary:
                candidate = (unknown, parts + 1, seq + [word[i:j]])
                if best[j] is None or candidate[:2] < best[j][:2]:
                    best[j] = candidate
        # one more unknown character, joined to an unknown run that ends here
        j = i + 1
        if seq and seq[-1] not in vocabulary:
            candidate = (unknown + 1, parts, seq[:-1] + [seq[-1] + word[i]])
        else:
            candidate = (unknown + 1, parts + 1, seq + [word[i]])
        if best[j] is None or candidate[:2] < best[j][:2]:
            best[j] = candidate
    return best[n][2]


def _words(texts) -> frozenset[str]:
    return frozenset(t for q in texts for t in (name_tokens(q) or (skeleton(_fold(q)),)))


@lru_cache(maxsize=None)
def _places_data() -> dict:
    return tomllib.loads(resources.files("fba_jp.data").joinpath("places.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _load_places() -> tuple[frozenset[str], str]:
    data = _places_data()
    return _words([*data["japan"], *data.get("world", [])]), str(data["as_of"])


@lru_cache(maxsize=1)
def _japanese_places() -> tuple[str, ...]:
    """The Japanese places of ``places.toml`` as written (folded), longest first."""
    return tuple(sorted({_fold(p) for p in _places_data()["japan"] if not p.isascii()}, key=len, reverse=True))


@lru_cache(maxsize=None)
def load_name_list(filename: str) -> NameList:
    """Load ``fba_jp/data/<filename>`` (TOML with ``as_of``, ``source``, ``qualifiers``, ``[[entities]]``)."""
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    entities = []
    for e in data["entities"]:
        exact = [parse_name(a) for a in e.get("exact", [])]
        exact_cores = {p.core for p in exact}
        aliases = [name_tokens(a) for a in [e["name"], *e.get("aliases", [])]]
        entities.append(Entity(
            name=e["name"],
            kind=e.get("kind", data.get("kind", "")),
            aliases=tuple(dict.fromkeys(a for a in aliases if a and a not in exact_cores)),
            exact=tuple(exact),
        ))
    qualifiers = _words(data.get("qualifiers", []))
    places, _ = _load_places()
    site_words = _words(data.get("site_words", []))
    vocabulary = frozenset(
        w for w in (qualifiers | places | site_words | {t for e in entities for a in e.aliases for t in a})
        if not w.isascii()
    )
    return NameList(
        file=filename,
        as_of=str(data["as_of"]),
        source=data["source"],
        entities=tuple(entities),
        qualifiers=qualifiers,
        qualifier_patterns=tuple(re.compile(p) for p in data.get("qualifier_patterns", [])),
        places=places,
        site_words=site_words,
        vocabulary=vocabulary,
    )


@lru_cache(maxsize=4096)
def _match(filename: str, name: str) -> Entity | None:
    return load_name_list(filename)._match(name)


@lru_cache(maxsize=4096)  # a seller ships again and again under the same names; every screening asks
def same_party(a: str, b: str) -> bool:
    """Whether two names denote the same company once normalised (skeletons, legal forms aside), each read
    as the party it is addressed to ("Acme Trading LLC c/o Amazon FSZ1" is Acme Trading LLC: :func:`addressee`)
    without the address after its name (:func:`party_tokens`) or a branch of it (:func:`_without_branch`):
    a branch is no other legal person."""
    a_tokens, b_tokens = _without_branch(party_tokens(a)), _without_branch(party_tokens(b))
    if not a_tokens or not b_tokens:
        return False
    return a_tokens == b_tokens or _run_in_branch(a_tokens, b_tokens) or _run_in_branch(b_tokens, a_tokens)


# what names a branch office of a company, as the last word(s) after its name; not the site words of the name
# lists ("center", 倉庫, "FC"), which name a warehouse that may be another company's ("Acme Logistics Center")
_BRANCH_WORDS = ("支店", "営業所", "支社", "出張所", "事業所", "本店", "本社")
_BRANCH_PLACE_LENGTH = 6  # "東京", "新宿", "横浜みなとみらい" cut short: a place name before 支店, not a company name


def _without_branch(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """``tokens`` without a branch written after the company's name as words of their own: "… Branch",
    "… Tokyo Branch (Office)", "… Tokyo Office" (a place before "office"), "… 東京支店"; a closing legal form
    before the branch goes too ("Acme Trading LLC Japan Branch" is Acme Trading)."""
    words = list(tokens)
    if len(words) > 2 and words[-2:] == ["branch", "office"]:
        words.pop()
    places = _load_places()[0]

    def is_place(word: str) -> bool:  # "Tokyo", "Japan": where the branch is
        return word == "japan" or skeleton(word) in places

    if len(words) > 1 and words[-1] == "branch":
        words.pop()
        if len(words) > 1 and is_place(words[-1]):
            words.pop()
    elif len(words) > 2 and words[-1] == "office" and is_place(words[-2]):
        del words[-2:]
    elif len(words) > 1 and _branch_suffix(words[-1]) is not None:
        words.pop()
    else:
        return tokens
    if len(words) > 1 and _closes_name(words[-1]):
        words.pop()
    return tuple(words)


def _branch_suffix(word: str) -> str | None:
    """The branch word ``word`` ends with, if what comes before it is short enough to be a place ("東京支店")."""
    for suffix in _BRANCH_WORDS:
        if word.endswith(suffix) and len(word) - len(suffix) <= _BRANCH_PLACE_LENGTH:
            return suffix
    return None


def _run_in_branch(company: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """Whether ``name`` is ``company`` with a branch run into its last Japanese word, as a 前株 name is written
    without a space ("株式会社日新食品東京支店" is 日新食品's 東京支店)."""
    if len(company) != len(name) or company[:-1] != name[:-1] or company[-1].isascii():
        return False
    last, whole = company[-1], name[-1]
    if not whole.startswith(last) or (suffix := _branch_suffix(whole[len(last):])) is None:
        return False
    # without a space, only a known place or a municipality with its unit tells the branch from more name:
    # "日新食品東京支店" is not 日新's branch "食品東京"
    place = whole[len(last):-len(suffix)]
    return not place or place in _japanese_places() or _ADDRESS_WORD.fullmatch(place) is not None


def party_tokens(name: str) -> tuple[str, ...]:
    """The core words of the company ``name`` is addressed to, without an address written after a legal
    form that ends its name: "Acme Trading LLC, 1 Main St" and "日新食品株式会社 東京都新宿区…" are Acme
    Trading LLC and 日新食品株式会社, "Acme Trading LLC Japan" is not Acme Trading LLC (no address follows)."""
    parsed = parse_name(addressee(name))
    core = parsed.core
    for i, word in enumerate(core):
        if i and _closes_name(word) and _address_start(parsed.raw, i + 1) == i + 1:
            core = _strip_legal_suffix(list(core[: i + 1]), list(parsed.raw[: i + 1]), [])[0]
            break
    return tuple(w for w in core if w not in _ja_legal_words())


# One legal form however it is spelt ("K.K.", "Kabushiki Kaisha", "株式会社"; "Limited", "Ltd"), for
# telling a company from a sister company under another legal form (same_legal_form).
_JA_FORMS = {"kabushikikaisha": "kk", "株式会社": "kk", "godokaisha": "gk", "合同会社": "gk",
             "yugenkaisha": "yk", "有限会社": "yk", "有限公司": "ltd", "股份有限公司": "ltd", "有限责任公司": "ltd",
             "有限責任公司": "ltd"}
_FORM_SPELLINGS = {"limited": "ltd", "incorporated": "inc", "corporation": "corp", "company": "co"}


def legal_form(name: str) -> str | None:
    """The legal form that ends the company name ``name``, one spelling for each ("Co., Ltd." and "Pvt Ltd"
    are Ltd), or ``None`` if it gives none."""
    legal = parse_name(addressee(name)).legal
    if not legal:
        return None
    joined = "".join(legal)
    if joined in _JA_FORMS:
        return _JA_FORMS[joined]
    if len(legal) > 1 and all(len(word) <= 2 for word in legal):  # initials: "S.à r.l.", "B.V."
        return joined
    return _FORM_SPELLINGS.get(legal[-1], legal[-1])


def same_legal_form(a: str, b: str) -> bool:
    """Whether two names of one party can be one importer: the same legal form, or one of them gives none.
    "Kestrel Outdoor LLC" and "Kestrel Outdoor GmbH" are the same party to :func:`same_party` (which sets
    legal forms aside) but two importers, each with its own ACP notification, licences and account."""
    forms = legal_form(a), legal_form(b)
    return None in forms or forms[0] == forms[1]
