"""``--output`` formats: one module each, ``render(document) -> str``; plugins add more by hook.

Every format shows every category — blocks, warnings, infos, waived findings and errors — so nothing
a reviewer must see is dropped by the choice of format.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError

if TYPE_CHECKING:
    from ..models import ResultDocument

Renderer = Callable[["ResultDocument"], str]


def _builtin(module: str) -> Renderer:
    """The ``render`` of ``fba_jp.output.<module>``, imported when first called: a gate prints one format."""

    def render(document, **options) -> str:
        return importlib.import_module(f"{__name__}.{module}").render(document, **options)

    return render


BUILTIN_FORMATS: dict[str, Renderer] = {
    "table": _builtin("table"),
    "json": _builtin("json_format"),
    "junit": _builtin("junit"),
    "sarif": _builtin("sarif"),
    "github": _builtin("github"),
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
