"""Helpers for testing fba-jp plugins (also a pytest plugin: the fixtures below are available everywhere).

    from fba_jp.testing import make_declaration, screen

    def test_my_check_blocks_lithium(my_plugin):
        result = screen(make_declaration(items=[{"msku": "BAT-1", "quantity": 5, "title": "lithium cell"}]),
                        plugins=[my_plugin])
        assert "MY_LITHIUM" in result.codes
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Iterable

import pytest

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
    plugins: Iterable[object] = (),
    config: Config | None = None,
    store: Store | None = None,
    account: str | None = None,
    builtins_only: bool = True,
) -> Result:
    """Screen one declaration with the built-in plugins plus ``plugins``; no entry points unless asked."""
    if isinstance(declaration, dict):
        declaration = Declaration.model_validate(declaration)
    loaded = get_plugins(load_entrypoints=not builtins_only, extra=tuple(plugins))
    result = Screener(loaded, config or Config(), store).screen(declaration, "test", account)
    return Result.model_validate(result.model_dump())


@contextmanager
def registered_plugin(plugin: object, plugins_dirs=()):
    """Build a plugin manager with ``plugin`` registered for the duration of the block."""
    yield get_plugins(plugins_dirs, extra=(plugin,))


@pytest.fixture
def fba_jp_store(tmp_path):
    """A fresh SQLite audit-trail store in a temporary directory."""
    store = Store(tmp_path / "fba_jp.db")
    yield store
    store.close()
