"""The one place that builds the pluggy ``PluginManager`` and collects the checks plugins register.

Built-in plugins (every module in ``fba_jp/plugins/``) are registered directly, like datasette's
``DEFAULT_PLUGINS``, so they always load, whatever ``FBA_JP_LOAD_PLUGINS`` says: a gate must not
be switched off by an environment variable. Third-party plugins come from the ``fba_jp`` entry-point
group and from ``--plugins-dir``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pluggy

from . import __version__, hookspecs
from . import plugins as builtin_package
from .errors import FbaJpError

ENTRY_POINT_GROUP = "fba_jp"
BUILTIN_PACKAGE = "fba_jp.plugins"


class PluginLoadError(FbaJpError):
    """A plugin could not be imported or implements a hook wrongly."""


@dataclass
class Check:
    """One registered check: ``function(shipment[, context]) -> iterable of Finding``."""

    name: str
    function: Callable
    plugin: str
    codes: tuple[str, ...] = ()
    takes_context: bool = True
    # code → one-line description, when the plugin gave ``codes`` as a dict (SARIF rule descriptions)
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class Plugins:
    """A loaded plugin manager and the checks its plugins registered."""

    pm: pluggy.PluginManager
    checks: list[Check] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    builtins: frozenset[str] = frozenset()

    @property
    def hook(self):
        return self.pm.hook

    def code_descriptions(self) -> dict[str, str]:
        """The descriptions plugins declared for their codes (``register(..., codes={CODE: text})``)."""
        return {code: text for check in self.checks for code, text in check.descriptions.items()}

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())

    def describe(self, include_builtin: bool = False) -> list[dict]:
        """What ``fba-jp plugins`` prints: name, version, hooks and checks of each plugin."""
        described = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            builtin = name in self.builtins
            if builtin and not include_builtin:
                continue
            described.append(
                {
                    "name": name,
                    "version": __version__ if builtin else self.versions.get(name),
                    "builtin": builtin,
                    "hooks": sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []),
                    "checks": [
                        {"name": check.name, "codes": list(check.codes)}
                        for check in self.checks
                        if check.plugin == name
                    ],
                }
            )
        return described


def builtin_modules() -> list[str]:
    """Names of the built-in plugins: every public module in ``fba_jp/plugins/``."""
    return sorted(
        info.name for info in pkgutil.iter_modules(builtin_package.__path__) if not info.name.startswith("_")
    )


def get_plugins(
    plugins_dirs: tuple[str | Path, ...] = (),
    load_entrypoints: bool = True,
    extra: tuple[object, ...] = (),
) -> Plugins:
    """Build a fresh plugin manager: built-ins, entry points, ``plugins_dirs``, then ``extra`` objects."""
    pm = pluggy.PluginManager("fba_jp")
    pm.add_hookspecs(hookspecs)
    builtins = builtin_modules()
    for name in builtins:
        pm.register(importlib.import_module(f"{BUILTIN_PACKAGE}.{name}"), name=name)
    versions = _load_entrypoints(pm) if load_entrypoints else {}
    for directory in plugins_dirs:
        _load_directory(pm, Path(directory))
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"plugin {exc.plugin!r}: {exc}") from None
    return Plugins(pm, collect_checks(pm), versions, frozenset(builtins))


def _load_entrypoints(pm: pluggy.PluginManager) -> dict[str, str]:
    """Register the ``fba_jp`` entry points allowed by ``FBA_JP_LOAD_PLUGINS``; return their versions."""
    versions = {}
    allowed = os.environ.get("FBA_JP_LOAD_PLUGINS")
    allow = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist_name = ep.dist.name if ep.dist else ""
        if allow is not None and ep.name not in allow and dist_name not in allow:
            continue
        if pm.get_plugin(ep.name) is not None:
            raise PluginLoadError(
                f"plugin {ep.name!r} ({ep.value}): the name is already taken by another plugin; "
                "rename its entry point in the [project.entry-points.fba_jp] table"
            )
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must stop the gate, loudly
            raise PluginLoadError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}; "
                f"fix or uninstall it, or leave it out with FBA_JP_LOAD_PLUGINS"
            ) from None
        if ep.dist is not None:
            versions[ep.name] = ep.dist.version
    return versions


def _load_directory(pm: pluggy.PluginManager, directory: Path) -> None:
    if not directory.is_dir():
        raise PluginLoadError(f"--plugins-dir {directory}: not a directory")
    for path in sorted(directory.glob("*.py")):
        name = f"{directory.name}/{path.name}"
        spec = importlib.util.spec_from_file_location(f"fba_jp_dir_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            pm.register(module, name=name)
        except Exception as exc:
            raise PluginLoadError(f"{path}: failed to load as a plugin: {type(exc).__name__}: {exc}") from None


def collect_checks(pm: pluggy.PluginManager) -> list[Check]:
    """Ask every plugin's ``register_checks`` for its checks, recording which plugin owns each."""
    checks: list[Check] = []
    taken: dict[str, str] = {}
    for impl in reversed(pm.hook.register_checks.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register(function, name=None, codes=(), _plugin=plugin_name):
            if not callable(function):
                raise PluginLoadError(f"plugin {_plugin!r}: register() needs a function, got {function!r}")
            check_name = name or function.__name__
            if check_name in taken:
                raise PluginLoadError(
                    f"plugin {_plugin!r}: check name {check_name!r} is already registered by "
                    f"{taken[check_name]!r}; pass register(..., name='another-name')"
                )
            if isinstance(codes, str):
                codes = [codes]
            descriptions = dict(codes) if isinstance(codes, dict) else {}
            bad = [c for c in codes if not isinstance(c, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", c)]
            if bad:
                raise PluginLoadError(f"plugin {_plugin!r}: finding codes must be UPPER_SNAKE_CASE: {bad}")
            if not all(isinstance(text, str) for text in descriptions.values()):
                raise PluginLoadError(f"plugin {_plugin!r}: codes={{CODE: description}} needs a text for each code")
            params = inspect.signature(function).parameters
            taken[check_name] = _plugin
            checks.append(Check(check_name, function, _plugin, tuple(codes), len(params) >= 2, descriptions))

        try:
            impl.function(register=register)
        except PluginLoadError:
            raise
        except Exception as exc:
            raise PluginLoadError(
                f"plugin {plugin_name!r}: register_checks failed: {type(exc).__name__}: {exc}"
            ) from None
    return checks
