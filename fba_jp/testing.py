"""Helpers for testing fba-jp plugins; the ``fba_jp_store`` fixture is in :mod:`fba_jp.pytest_plugin`.

    from fba_jp.testing import make_declaration, make_item, screen

    def test_my_check_warns_on_lithium(my_plugin):
        shipment = make_declaration(items=[make_item("BAT-1", title="lithium cell", quantity=5)])
        result = screen(shipment, plugins={"my_plugin": my_plugin})
        assert "MY_LITHIUM" in result.codes
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Iterable

from .config import Config
from .models import Declaration, ShipmentResult
from .plugin_manager import get_plugins
from .runner import Screener
from .store import Store

BASE_DECLARATION: dict[str, Any] = {
    "schema": "fba-jp/shipment/v1",
    "shipment_id": "FBA15TEST001",
    "declaration_date": "2026-12-07",
    "seller": {"name": "Acme Trading LLC", "country": "US", "japan_resident": False},
    "importer_of_record": {"name": "Acme Trading LLC"},
    "consignee": {"name": "Acme Trading LLC"},
    "acp": {"name": "Example ACP K.K.", "status": "registered", "accepted_on": "2026-10-01"},
    "currency": "USD",
    "fx_rates": {"USD": "150.25"},
    "items": [
        {"msku": "TENT-2P", "title": "Two-person camping tent", "quantity": 40, "unit_value": "38.50",
         "hs_code": "6306.22", "origin_country": "CN", "duty_rate": "4.5"}
    ],
}


def declaration_data(**overrides: Any) -> dict[str, Any]:
    """A valid declaration as a dict (a registered ACP, one ordinary item), with top-level keys replaced.

    A value of ``None`` removes the key, e.g. ``declaration_data(importer_of_record=None)``.
    """
    data = copy.deepcopy(BASE_DECLARATION)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_item(msku: str = "TENT-2P", **fields: Any) -> dict[str, Any]:
    """The default item (an ordinary tent: value, HS code, origin, duty rate) with ``fields`` replaced.

    So an item screens like a real one whatever your test leaves out; ``None`` removes a field, e.g.
    ``make_item("X", unit_value=None)`` for an item that cannot be valued.
    """
    item = {**copy.deepcopy(BASE_DECLARATION["items"][0]), "msku": msku, **fields}
    return {key: value for key, value in item.items() if value is not None}


def make_declaration(**overrides: Any) -> Declaration:
    """:func:`declaration_data` validated into a :class:`fba_jp.models.Declaration`."""
    return Declaration.model_validate(declaration_data(**overrides))


class Result(ShipmentResult):
    @property
    def codes(self) -> list[str]:
        """Finding codes in order, e.g. ``["ACP_REGISTERED", "VAL_FALLBACK"]``."""
        return [f.code for f in self.findings]

    def finding(self, code: str):
        """The first finding with ``code`` (``KeyError`` if there is none)."""
        for f in self.findings:
            if f.code == code:
                return f
        raise KeyError(f"no {code} finding; got {self.codes}")


def screen(
    declaration: Declaration | dict,
    plugins: Iterable[object] | dict[str, object] = (),
    config: Config | dict | None = None,
    store: Store | None = None,
    account: str | None = None,
    builtins_only: bool = True,
) -> Result:
    """Screen one declaration with the built-in plugins plus ``plugins``; no entry points unless asked.

    ``plugins`` is a list of plugin objects, or ``{name: plugin}`` to register each under the name your
    entry point gives it, which is what ``[plugins.NAME]`` settings and ``extensions.NAME`` data are
    keyed by. ``config`` is a :class:`~fba_jp.config.Config` or the dict a ``config.toml`` would parse to,
    e.g. ``{"plugins": {"lithium": {"transport": "sea"}}}``.
    """
    if isinstance(declaration, dict):
        declaration = Declaration.model_validate(declaration)
    if isinstance(config, dict):
        config = Config.model_validate(config)
    extra = tuple(plugins.items()) if isinstance(plugins, dict) else tuple(plugins)
    loaded = get_plugins(load_entrypoints=not builtins_only, extra=extra)
    result = Screener(loaded, config or Config(), store).screen(declaration, "test", account)
    return Result.model_validate(result.model_dump())


@contextmanager
def registered_plugin(plugin: object, plugins_dirs=()):
    """Build a plugin manager with ``plugin`` registered for the duration of the block."""
    yield get_plugins(plugins_dirs, extra=(plugin,))
