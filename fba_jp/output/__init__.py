"""``--output`` formats: one module each, ``render(document) -> str``; plugins add more by hook.

Every format shows every category — blocks, warnings, infos, waived findings and errors — so nothing
a reviewer must see is dropped by the choice of format.
"""

from __future__ import annotations

from typing import Callable

from ..errors import UsageError
from ..models import ResultDocument
from . import github, json_format, junit, sarif, table

Renderer = Callable[[ResultDocument], str]

BUILTIN_FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_format.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "github": github.render,
}


def output_formats(hook=None) -> dict[str, Renderer]:
    """Built-in formats plus those plugins add through ``register_output_formats``."""
    formats = dict(BUILTIN_FORMATS)
    if hook is not None:

        def register(name: str, render: Renderer) -> None:
            if name in formats:
                raise UsageError(f"output format {name!r} is registered twice")
            formats[name] = render

        hook.register_output_formats(register=register)
    return formats
