"""Company-name normalisation and matching against the versioned name lists in ``fba_jp/data``.

A name matches a listed entity when, after normalisation (NFKC, case, punctuation, legal suffixes such
as Inc., Ltd., K.K., G.K., 株式会社, 合同会社), it *is* one of the entity's aliases, optionally
surrounded by the list's generic qualifier words ("Express", "Japan", "Logistics", an FC code…).
So "DHL Express Japan K.K." is DHL, while "Ups and Downs Toys LLC" and "Yamato Trading" are not.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Japanese legal forms are written without spaces, before or after the name.
_JA_LEGAL = re.compile(r"株式会社|合同会社|有限会社|合資会社|合名会社|\(株\)|\(同\)|\(有\)")
_SEPARATORS = re.compile(r"[^\w]+", re.UNICODE)
_DOTTED = re.compile(r"\b(?:\w\.){2,}")
_LEGAL_SUFFIXES = [
    ("kabushiki", "kaisha"), ("godo", "kaisha"), ("yugen", "kaisha"), ("co", "ltd"), ("pte", "ltd"),
    ("pty", "ltd"), ("k", "k"), ("g", "k"), ("y", "k"), ("s", "a"), ("b", "v"), ("n", "v"),
    ("inc",), ("incorporated",), ("ltd",), ("limited",), ("llc",), ("llp",), ("lp",), ("corp",),
    ("corporation",), ("co",), ("company",), ("kk",), ("gk",), ("gmbh",), ("ag",), ("sa",), ("bv",),
    ("plc",), ("sarl",), ("srl",), ("spa",), ("oy",), ("ab",), ("as",), ("nv",), ("the",),
]
# legal forms may also sit inside a name ("Amazon Japan G.K. (c/o NRT5)"): harmless around an alias
_LEGAL_TOKENS = frozenset(s[0] for s in _LEGAL_SUFFIXES if len(s) == 1) | {"kabushiki", "godo", "kaisha"}


@lru_cache(maxsize=8192)
def name_tokens(name: str) -> tuple[str, ...]:
    """Normalised tokens of a company name with legal forms removed."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _JA_LEGAL.sub(" ", text).replace("&", " and ")
    # dotted abbreviations are one word: "L.L.C." → "llc", "K.K." → "kk", "C.H. Robinson" → "ch robinson"
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    tokens = [t for t in _SEPARATORS.split(text) if t and t != "_"]
    changed = True
    while changed and tokens:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            n = len(suffix)
            if len(tokens) > n and tuple(tokens[-n:]) == suffix:
                tokens, changed = tokens[:-n], True
            elif len(tokens) > n and tuple(tokens[:n]) == suffix and suffix in (("the",),):
                tokens, changed = tokens[n:], True
    return tuple(tokens)


def normalise_name(name: str) -> str:
    return " ".join(name_tokens(name))


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str
    aliases: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class NameList:
    """A versioned list of entities (``as_of``, ``source``) with the qualifier words it tolerates."""

    file: str
    as_of: str
    source: str
    entities: tuple[Entity, ...]
    qualifiers: frozenset[str]
    qualifier_patterns: tuple[re.Pattern, ...]

    def match(self, name: str) -> Entity | None:
        """The entity ``name`` denotes, or ``None``."""
        # the same few importer and consignee names come back on every shipment of a seller
        return _match(self.file, name)

    def _match(self, name: str) -> Entity | None:
        tokens = name_tokens(name)
        if not tokens:
            return None
        for entity in self.entities:
            for alias in entity.aliases:
                if self._is_alias_with_qualifiers(tokens, alias):
                    return entity
        if all(self._is_qualifier(t) for t in tokens) and any(
            p.fullmatch(t) for t in tokens for p in self.qualifier_patterns
        ):
            # a bare FC code such as "NRT5" names the warehouse itself
            return self.entities[0]
        return None

    def _is_qualifier(self, token: str) -> bool:
        return token in self.qualifiers or token in _LEGAL_TOKENS or any(p.fullmatch(token) for p in self.qualifier_patterns)

    def _is_alias_with_qualifiers(self, tokens: tuple[str, ...], alias: tuple[str, ...]) -> bool:
        n = len(alias)
        for start in range(len(tokens) - n + 1):
            if tokens[start : start + n] == alias:
                rest = tokens[:start] + tokens[start + n :]
                if all(self._is_qualifier(t) for t in rest):
                    return True
        return False


@lru_cache(maxsize=None)
def load_name_list(filename: str) -> NameList:
    """Load ``fba_jp/data/<filename>`` (TOML with ``as_of``, ``source``, ``qualifiers``, ``[[entities]]``)."""
    data = tomllib.loads(resources.files("fba_jp.data").joinpath(filename).read_text(encoding="utf-8"))
    entities = tuple(
        Entity(
            name=e["name"],
            kind=e.get("kind", data.get("kind", "")),
            aliases=tuple(name_tokens(a) for a in [e["name"], *e.get("aliases", [])] if name_tokens(a)),
        )
        for e in data["entities"]
    )
    return NameList(
        file=filename,
        as_of=str(data["as_of"]),
        source=data["source"],
        entities=entities,
        qualifiers=frozenset(t for q in data.get("qualifiers", []) for t in name_tokens(q) or (q.casefold(),)),
        qualifier_patterns=tuple(re.compile(p) for p in data.get("qualifier_patterns", [])),
    )


@lru_cache(maxsize=4096)
def _match(filename: str, name: str) -> Entity | None:
    return load_name_list(filename)._match(name)


def same_party(a: str, b: str) -> bool:
    """Whether two names denote the same company once normalised."""
    return bool(name_tokens(a)) and name_tokens(a) == name_tokens(b)
