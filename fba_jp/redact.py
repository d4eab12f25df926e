"""URLs are treated as possibly secret: webhook URLs often carry a token (in the query, the userinfo, or
the path, as Slack's and Discord's do). Every message, log line and stored error shows a URL only as
``scheme://host[:port]/…``.
"""

from __future__ import annotations

import logging
import re

# scheme://[userinfo@]host[:port][/path][?query][#fragment], up to whitespace or a quote
_URL = re.compile(r"""(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#'"<>]*@)?([^\s/?#'"<>@]*)([^\s'"<>]*)""")


def redact_url(url: str) -> str:
    """``https://user:pw@hooks.example/T0/B0/secret?token=x`` → ``https://hooks.example/…``."""
    return _URL.sub(_short, url)


def redact(text: str) -> str:
    """``text`` with every URL in it shortened to its scheme and host."""
    return _URL.sub(_short, text) if "://" in text else text


def _short(match: re.Match) -> str:
    scheme, _userinfo, host, rest = match.groups()
    return f"{scheme}{host}{'/…' if rest.strip('/') else rest}"


class RedactUrls(logging.Filter):
    """Redact URLs in a logger's records (httpx logs every request's full URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


logging.getLogger("httpx").addFilter(RedactUrls())
