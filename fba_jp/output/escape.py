"""Escaping text for each output medium.

Declarations are untrusted text: a shipment id, title or file name may hold ESC, NUL, BEL, CR, a newline or
a bidirectional override. Each is harmless somewhere and harmful elsewhere, so every format escapes what its
own medium cannot carry: a terminal must not receive control sequences or Trojan-Source reordering, XML 1.0
cannot hold most control characters at all, a GitHub workflow command ends at a newline, and a SARIF
``artifactLocation.uri`` must be a URI reference. JSON needs nothing beyond what ``json`` already does.
"""

from __future__ import annotations

import re
import urllib.parse

# C0 and C1 controls and DEL; lone surrogates (cannot be encoded); bidirectional marks, embeddings,
# overrides and isolates; line and paragraph separators
_UNSAFE_ON_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# what XML 1.0 allows: tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """``text`` as one line for a terminal: every control or bidi character shown as an escape (``\\x1b``)."""
    return _UNSAFE_ON_TERMINAL.sub(_visible, text)


def xml(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold shown as escapes; newlines and tabs are kept."""
    return _NOT_XML.sub(_visible, text)


def artifact_uri(source: str) -> str | None:
    """The SARIF ``artifactLocation.uri`` of a declaration file; ``None`` for stdin or SP-API data.

    A relative path stays relative (code scanning resolves it against the checkout) with every character
    outside the URI's unreserved set percent-encoded; an absolute path becomes a ``file://`` URI.
    """
    if not source or source.startswith("<") or source.startswith("spapi:"):
        return None
    quoted = urllib.parse.quote(source, safe="/", errors="replace")
    return f"file://{quoted}" if source.startswith("/") else quoted
