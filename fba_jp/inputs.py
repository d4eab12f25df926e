"""Reading declaration files (JSON or TOML, ``-`` for JSON on stdin) into validated models."""

from __future__ import annotations

import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from .errors import InputError, validation_lines
from .models import Declaration

# Lists and objects inside lists and objects: a declaration needs 5 (items[].valuation, licences[].skus[]).
MAX_DEPTH = 32


def _no_duplicate_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"key {key!r} appears twice in one object")
        data[key] = value
    return data


def nesting_depth(data: object, limit: int = MAX_DEPTH) -> int:
    """How deeply ``data`` nests lists and objects, counted without recursion and up to ``limit + 1``."""
    deepest, level = 0, [(data, 0)]
    while level:
        value, depth = level.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
            level.extend((child, depth) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def parse_declaration(data: object, source: str) -> Declaration:
    """Validate already-parsed data; every problem becomes one ``SOURCE: path: message`` line."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: (top level): must be an object with the shipment's fields (got {type(data).__name__})")
    if nesting_depth(data) > MAX_DEPTH:
        raise InputError(_too_deep(source))
    try:
        return Declaration.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_lines(exc, source)) from None


def _too_deep(source: str) -> str:
    return (f"{source}: (top level): lists and objects nest more than {MAX_DEPTH} levels deep; "
            "a declaration needs at most 5 (`fba-jp schema` shows its shape)")


def parse_text(text: str, source: str, fmt: str = "json") -> Declaration:
    text = text.removeprefix("\ufeff")  # Notepad and Windows PowerShell save UTF-8 with a byte-order mark
    try:
        if fmt == "toml":
            data = tomllib.loads(text, parse_float=Decimal)
        else:
            data = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    except ValueError as exc:  # a duplicate key, an integer of more than 4,300 digits
        raise InputError(f"{source}: not valid {fmt.upper()}: {exc}") from None
    except RecursionError:  # both parsers recurse per level: far too deep for a declaration either way
        raise InputError(_too_deep(source)) from None
    return parse_declaration(data, source)


def read_declaration(path: str) -> tuple[Declaration, str]:
    """Read one declaration file (``-`` = stdin, JSON); return the model and the source name to report."""
    if path == "-":
        if sys.stdin is None:  # started with stdin closed (`fba-jp gate - <&-`)
            raise InputError("<stdin>: stdin is closed; pipe the declaration in, or pass its file name")
        try:  # the bytes, not the locale's decoding of them: a declaration is UTF-8 whatever LANG says
            text = sys.stdin.buffer.read().decode("utf-8") if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        except UnicodeDecodeError:
            raise InputError("<stdin>: not UTF-8 text; pipe the declaration in as UTF-8 JSON") from None
        return parse_text(text, "<stdin>"), "<stdin>"
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; pass declaration files (e.g. {path}/*.json)") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the declaration as UTF-8 JSON or TOML") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if file.suffix.lower() == ".csv":  # the invoice data `fba-jp documents --format csv` writes
        from .documents.exchange import parse_invoice_csv

        return parse_invoice_csv(text, path), path
    fmt = "toml" if file.suffix.lower() == ".toml" else "json"
    return parse_text(text, path, fmt), path
