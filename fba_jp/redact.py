"""URLs are treated as possibly secret: webhook URLs often carry a token (in the query, the userinfo, or
the path, as Slack's and Discord's do). Every message, log line and stored error shows a URL only as
``scheme://host[:port]/…``.

Every secret value fba-jp reads (an ``env:`` reference resolved, an LWA access token received) is also
remembered, and :func:`redact` replaces it wherever it appears: a plugin's or a library's exception may
quote it, and its text reaches findings, the database, reports and tracebacks.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import quote, quote_plus

# scheme://[userinfo@]host[:port][/path][?query][#fragment], up to whitespace or a quote
_URL = re.compile(r"""(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#'"<>]*@)?([^\s/?#'"<>@]*)([^\s'"<>]*)""")


def redact_url(url: str) -> str:
    """``https://user:pw@hooks.example/T0/B0/secret?token=x`` → ``https://hooks.example/…``."""
    return _URL.sub(_short, url)


# shorter values cannot be hidden without mangling ordinary words ("on", "1"): a credential set to one is
# refused where the config is read (fba_jp.config.resolve_env)
MIN_SECRET = 4
# a daemon receives a new access token an account an hour: keep the most recently used secrets only
# (credentials are resolved again every sync, so they stay)
_MAX_SECRETS = 1000
_KNOWN: dict[str, None] = {}  # insertion order = least recently remembered first
# what redact() reads: longest first (a secret may contain another), replaced whole, never changed in place
_SECRETS: tuple[str, ...] = ()
_REMEMBER = threading.Lock()


def remember_secret(value: str | None) -> str | None:
    """Note ``value`` as a secret for :func:`redact` to hide from now on; returns it."""
    global _SECRETS
    if not value or len(value) < MIN_SECRET:
        return value
    with _REMEMBER:
        new = value not in _KNOWN
        _KNOWN.pop(value, None)
        _KNOWN[value] = None
        if new:
            while len(_KNOWN) > _MAX_SECRETS:
                del _KNOWN[next(iter(_KNOWN))]
            # also as a form body or query string carries it (an LWA error page may echo the request)
            forms = {form for known in _KNOWN for form in (known, quote(known, safe=""), quote_plus(known))}
            _SECRETS = tuple(sorted(forms, key=len, reverse=True))
    return value


def remember_login(user: str, password: str) -> None:
    """Note how an SMTP login sends ``password`` as secrets too: base64 of AUTH PLAIN's ``\\0user\\0password``
    and of AUTH LOGIN's password alone. A server that refuses the login may quote the line it got, and the
    plain value is not in it."""
    for sent in (f"\0{user}\0{password}", password):
        remember_secret(base64.b64encode(sent.encode("utf-8")).decode("ascii"))


def redact(text: str) -> str:
    """``text`` with every secret fba-jp read replaced and every URL shortened to its scheme and host."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "[secret]")
    return _URL.sub(_short, text) if "://" in text else text


def _short(match: re.Match) -> str:
    scheme, _userinfo, host, rest = match.groups()
    return f"{scheme}{host}{'/…' if rest.strip('/') else rest}"


class RedactUrls(logging.Filter):
    """Redact secrets and URLs in a logger's records, the traceback of an ``exc_info`` record included
    (httpx logs every request's full URL at INFO; a plugin's exception may quote its token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.exc_info and not record.exc_text:
            # a Formatter uses a record's exc_text when set instead of formatting exc_info again
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
# a logger's filters see only the records logged on it, not those of its children: every logger fba-jp logs on
for _name in ("httpx", "sp_api.base.client", "fba_jp.actions", "fba_jp.cli", "fba_jp.daemon", "fba_jp.runner",
              "fba_jp.spapi", "fba_jp.sync", "fba_jp.web"):
    logging.getLogger(_name).addFilter(RedactUrls())
# a logger with no handler anywhere (a plugin's own, on a command that configures no logging) ends at Python's
# last-resort handler, which prints WARNING and above on stderr: filtered there, its records are redacted too
if logging.lastResort is not None:
    logging.lastResort.addFilter(RedactUrls())
