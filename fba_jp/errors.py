"""Errors the CLI turns into one-line messages and exit codes (CONTRACT §1)."""

import json
import re

from .redact import redact as redact_urls


class FbaJpError(Exception):
    """Base class: a problem the user can fix; ``str(exc)`` is the one-line message."""

    exit_code = 3


class InputError(FbaJpError):
    """A declaration file or SP-API payload that cannot be screened.

    ``lines`` holds one ``SOURCE: field.path: message (got X)`` line per problem.
    """

    def __init__(self, lines):
        self.lines = list(lines) if not isinstance(lines, str) else [lines]
        super().__init__("\n".join(self.lines))


class ConfigError(FbaJpError):
    """``config.toml`` is missing, malformed, holds a literal secret or an unknown key."""


class StoreError(FbaJpError):
    """The SQLite database could not be opened or written (locked, corrupt, read-only)."""


class WaiverError(FbaJpError):
    """A waiver that cannot be recorded: nothing to waive, a could-not-screen code, no real reason or name."""


class OutputError(FbaJpError):
    """An output file (report, backup) could not be written: disk full, quota, permissions."""


class LeaseError(FbaJpError):
    """Another daemon already serves this database (one daemon per database)."""


class SpApiError(FbaJpError):
    """SP-API authentication or network failure after retries."""


class StopRequested(Exception):
    """The daemon was asked to stop (SIGTERM/SIGINT): raised from a wait, or between two transactions."""


class UsageError(FbaJpError):
    """Wrong command-line usage that click itself cannot detect."""

    exit_code = 2


def validation_lines(
    exc, source: str, redact: frozenset[str] = frozenset(), schema_command: str = "fba-jp schema", prefix: str = "",
) -> list[str]:
    """Turn a pydantic ``ValidationError`` into ``SOURCE: field.path: message (got X)`` lines.

    Values of fields named in ``redact`` (secrets) are never echoed. ``schema_command`` is what an unknown
    key's hint tells the user to run to see the valid keys. ``prefix`` is the path of the validated part
    in the whole file (``plugins.lithium``, ``items[0].extensions.lithium``).
    """
    lines = []
    for error in exc.errors(include_url=False):
        path = prefix
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif "[" in str(part) and "(" in str(part):
                continue  # pydantic's internal validator names are not field names
            elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
                path += ("." if path else "") + str(part)
            else:  # a key with spaces or control characters, shown unambiguously on one line
                path += f"[{json.dumps(str(part))}]"
        message = _friendly(error, schema_command)
        got = ""
        if error["type"] == "extra_forbidden":
            pass  # a mistyped key may well hold a secret: never echo what it was set to
        elif error["type"] != "missing" and "input" in error:
            value = error["input"]
            hidden = redact.intersection(str(p) for p in error["loc"])
            if hidden:
                got = " (got a literal value, not shown)"
            elif error["loc"] and str(error["loc"][-1]).endswith("url") and isinstance(value, str) and "://" not in value:
                # a webhook URL typed without its scheme still carries its token in the path
                got = " (got a value that is not a URL, not shown)"
            elif not isinstance(value, (dict, list)):
                text = redact_urls(str(value) if not isinstance(value, str) else repr(value))
                got = f" (got {text[:60]}{'…' if len(text) > 60 else ''})"
        line = f"{source}: {path or '(top level)'}: {message}{got}"
        lines.append(line.replace("\r", "\\r").replace("\n", "\\n"))
    return lines


def _friendly(error, schema_command: str = "fba-jp schema") -> str:
    kind, msg, loc = error["type"], error["msg"], error["loc"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field (check the spelling; `{schema_command}` lists the fields)"
    if loc and loc[-1] == "quantity" and kind != "value_error":
        return "must be a positive integer"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    # "Input should be…" → "input should be…", but a code such as "INPUT_INVALID …" keeps its case
    return msg if msg[1:2].isupper() else msg[:1].lower() + msg[1:]
