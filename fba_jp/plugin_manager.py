"""The one place that builds the pluggy ``PluginManager`` and collects the checks plugins register.

Built-in plugins (every module in ``fba_jp/plugins/``) are registered directly, like datasette's
``DEFAULT_PLUGINS``, so they always load, whatever ``FBA_JP_LOAD_PLUGINS`` says: a gate must not
be switched off by an environment variable. Third-party plugins come from the ``fba_jp`` entry-point
group and from ``--plugins-dir``.

Nothing is dropped silently: a name in ``FBA_JP_LOAD_PLUGINS`` that matches no installed plugin, a name
taken twice, a ``[plugins.NAME]`` table no plugin reads and extension data no plugin declares are all
errors that name what is installed.
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
from typing import TYPE_CHECKING, Callable

import pluggy

from . import __version__, hookspecs
from . import plugins as builtin_package
from .errors import ConfigError, FbaJpError, InputError, validation_lines

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .config import Config
    from .models import Declaration

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
    # plugin name → the pydantic model of its [plugins.NAME] settings / of its items[].extensions.NAME data
    config_models: dict[str, type[BaseModel]] = field(default_factory=dict)
    item_models: dict[str, type[BaseModel]] = field(default_factory=dict)

    @property
    def hook(self):
        return self.pm.hook

    def code_descriptions(self) -> dict[str, str]:
        """The descriptions plugins declared for their codes (``register(..., codes={CODE: text})``)."""
        return {code: text for check in self.checks for code, text in check.descriptions.items()}

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())

    def settings(self, config: Config) -> dict[type[BaseModel], BaseModel]:
        """Every plugin's ``[plugins.NAME]`` table validated by its model (defaults when the table is absent),
        keyed by the model; one :class:`ConfigError` line per problem, naming the plugin."""
        from pydantic import ValidationError

        for name in config.plugins:
            if name not in self.config_models:
                if name in self.names():
                    problem = f"plugin {name!r} takes no settings (it registers no config model)"
                else:
                    having = ", ".join(sorted(self.config_models)) or "none"
                    problem = (f"no loaded plugin is named {name!r} (plugins with settings: {having}; "
                               "FBA_JP_LOAD_PLUGINS may leave an installed one out, and a --plugins-dir "
                               "file loads only with that option)")
                raise ConfigError(f"{config.source}: plugins.{name}: {problem}")
        settings = {}
        for name, model in self.config_models.items():
            table = config.plugins.get(name, {})
            where = f"plugins.{_key(name)}"
            secrets = literal_secrets(table, where)
            if secrets:
                raise ConfigError("\n".join(
                    f"{config.source}: {path}: secrets may only be env: references, e.g. \"env:{name.upper()}_KEY\" "
                    f"(got a literal value, not shown)" for path in secrets))
            remember_env_secrets(table, config.source, where)
            try:
                settings[model] = model.model_validate(table)
            except ValidationError as exc:
                lines = validation_lines(exc, config.source, schema_command="fba-jp config check --schema",
                                         prefix=where)
                raise ConfigError("\n".join(f"{line} (settings of plugin {name!r})" for line in lines)) from None
        return settings

    def item_extensions(self, declaration: Declaration, source: str) -> dict[tuple[str, type[BaseModel]], BaseModel]:
        """Each item's ``extensions.NAME`` validated by plugin NAME's item model, keyed by (msku, model).

        Data for a plugin that is not loaded, or that declares no item model, is an error rather than
        ignored: the check that would read it does not run.
        """
        from pydantic import ValidationError

        found, lines = {}, []
        for index, item in enumerate(declaration.items):
            for name, data in item.extensions.items():
                where = f"items[{index}].extensions.{_key(name)}"
                model = self.item_models.get(name)
                if model is None:
                    having = ", ".join(sorted(self.item_models)) or "none"
                    lines.append(f"{source}: {where}: no loaded plugin named {name!r} reads item data "
                                 f"(plugins with item data: {having})")
                    continue
                try:
                    found[item.msku, model] = model.model_validate(data)
                except ValidationError as exc:
                    lines += validation_lines(exc, source, prefix=where)
        if lines:
            raise InputError(lines)
        return found

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
                        | ({"descriptions": check.descriptions} if check.descriptions else {})
                        for check in self.checks
                        if check.plugin == name
                    ],
                }
                | ({"config_model": self.config_models[name].__name__} if name in self.config_models else {})
                | ({"item_model": self.item_models[name].__name__} if name in self.item_models else {})
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
    """Build a fresh plugin manager: built-ins, entry points, ``plugins_dirs``, then ``extra`` objects.

    An ``extra`` item is a plugin object (named after its ``__name__`` or class) or a ``(name, object)``
    pair, e.g. ``("lithium", fba_jp_lithium)`` to register a module under its entry-point name.
    """
    pm = pluggy.PluginManager("fba_jp")
    pm.add_hookspecs(hookspecs)
    builtins = builtin_modules()
    origins: dict[str, str] = {}
    for name in builtins:
        pm.register(importlib.import_module(f"{BUILTIN_PACKAGE}.{name}"), name=name)
        origins[name] = f"the built-in plugin {BUILTIN_PACKAGE}.{name}"
    versions = _load_entrypoints(pm, origins) if load_entrypoints else {}
    for directory in plugins_dirs:
        _load_directory(pm, Path(directory), origins)
    for plugin in extra:
        name, plugin = plugin if isinstance(plugin, tuple) else (_name_of(plugin), plugin)
        _register(pm, plugin, name, "a plugin passed in", origins)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or _name_of(exc.plugin)
        raise PluginLoadError(f"plugin {name!r} ({origins.get(name, 'a plugin')}): {_one_line(exc)}") from None
    config_models, item_models = collect_models(pm)
    return Plugins(pm, collect_checks(pm), versions, frozenset(builtins), config_models, item_models)


def _name_of(plugin: object) -> str:
    # pluggy would name an instance after its id(): unreadable in findings and messages
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def _register(pm: pluggy.PluginManager, plugin: object, name: str, origin: str, origins: dict[str, str]) -> None:
    """Register ``plugin`` as ``name``; a name already taken is an error naming both plugins."""
    _free(pm, name, origin, origins)
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:  # a hook's arguments not in its spec; one object twice
        raise PluginLoadError(f"plugin {name!r} ({origin}): {_one_line(exc)}") from None
    origins[name] = origin


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _free(pm: pluggy.PluginManager, name: str, origin: str, origins: dict[str, str]) -> None:
    if pm.get_plugin(name) is not None:
        raise PluginLoadError(
            f"plugin {name!r} ({origin}): the name is already taken by {origins.get(name, 'another plugin')}; "
            + ("rename the file" if origin.startswith("--plugins-dir") else
               "rename its entry point in the [project.entry-points.fba_jp] table")
        )


def normalise_name(name: str) -> str:
    """A distribution or entry-point name as packaging compares them (PEP 503): ``fba_jp.X`` = ``fba-jp-x``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _key(name: str) -> str:
    """A plugin name as a TOML key in a path (quoted when it is not a bare key)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


SECRET_NAME = re.compile(r"(^|_)(secret|password|passwd|token|api_?key|private_key|credentials?)$", re.IGNORECASE)


def literal_secrets(table: dict, where: str) -> list[str]:
    """Paths of keys in ``table`` that name a secret but hold a literal string instead of an ``env:`` reference."""
    found = []
    for key, value in table.items():
        path = f"{where}.{key}"
        if isinstance(value, dict):
            found += literal_secrets(value, path)
        elif isinstance(value, list):  # an array of tables, [[plugins.NAME.hooks]]
            found += [p for n, v in enumerate(value) if isinstance(v, dict) for p in literal_secrets(v, f"{path}[{n}]")]
        elif isinstance(value, str) and SECRET_NAME.search(str(key)) and not value.startswith("env:"):
            found.append(path)
    return found


def remember_env_secrets(table: dict, source: str, where: str) -> None:
    """Resolve the ``env:`` values of keys in ``table`` named like a secret (:data:`SECRET_NAME`), so that
    redaction hides them even from a plugin that reads the variable itself instead of through ``resolve_env``.
    ``source`` and ``where`` (the table's path) name a value too short to hide in the error."""
    from .config import remember_env_refs

    remember_env_refs(table, lambda key: bool(SECRET_NAME.search(key)), source, where)


def _load_entrypoints(pm: pluggy.PluginManager, origins: dict[str, str]) -> dict[str, str]:
    """Register the ``fba_jp`` entry points allowed by ``FBA_JP_LOAD_PLUGINS``; return their versions.

    Names in the allow-list match an entry-point or distribution name after PEP 503 normalisation; one
    that matches nothing installed is an error (a typo would otherwise switch a check off).
    """
    versions = {}
    allowed = os.environ.get("FBA_JP_LOAD_PLUGINS")
    allow = None if allowed is None else {normalise_name(n.strip()) for n in allowed.split(",") if n.strip()}
    # by name, not in the order the file system lists dist-info folders: which plugin's firstresult hook
    # (valuate_shipment) wins, and the order of findings, must not differ from one machine to another
    installed = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))
    matched: set[str] = set()
    for ep in installed:
        names = {normalise_name(ep.name)} | ({normalise_name(ep.dist.name)} if ep.dist else set())
        if allow is not None:
            if not allow & names:
                continue
            matched |= allow & names
        origin = f"{ep.dist.name} {ep.dist.version}: {ep.value}" if ep.dist else ep.value
        _free(pm, ep.name, origin, origins)  # before importing it
        try:
            plugin = ep.load()
        except (Exception, SystemExit) as exc:  # a broken plugin must stop the gate, loudly (sys.exit(0) too)
            raise PluginLoadError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}; "
                f"fix or uninstall it, or leave it out with FBA_JP_LOAD_PLUGINS"
            ) from None
        _register(pm, plugin, ep.name, origin, origins)
        if ep.dist is not None:
            versions[ep.name] = ep.dist.version
    if allow is not None and allow - matched:
        listing = ", ".join(sorted(f"{ep.name} ({ep.dist.name})" if ep.dist else ep.name for ep in installed))
        unknown = ", ".join(repr(n) for n in sorted(allow - matched))
        raise PluginLoadError(f"FBA_JP_LOAD_PLUGINS: no installed plugin is named {unknown} "
                              f"(installed: {listing or 'none'})")
    return versions


def _load_directory(pm: pluggy.PluginManager, directory: Path, origins: dict[str, str]) -> None:
    if not directory.is_dir():
        raise PluginLoadError(f"--plugins-dir {directory}: not a directory")
    for path in sorted(directory.glob("*.py")):
        name = path.stem  # like an entry-point name: what [plugins.NAME] settings and extensions.NAME data use
        spec = importlib.util.spec_from_file_location(f"fba_jp_dir_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            raise PluginLoadError(f"{path}: failed to load as a plugin: {type(exc).__name__}: {exc}") from None
        _register(pm, module, name, f"--plugins-dir {path}", origins)


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
        except (Exception, SystemExit) as exc:
            raise PluginLoadError(
                f"plugin {plugin_name!r}: register_checks failed: {type(exc).__name__}: {exc}"
            ) from None
    return checks


def collect_models(pm: pluggy.PluginManager) -> tuple[dict[str, type], dict[str, type]]:
    """Ask every plugin's ``register_models`` for the models of its settings and item data."""
    from pydantic import BaseModel

    config_models: dict[str, type] = {}
    item_models: dict[str, type] = {}
    for impl in reversed(pm.hook.register_models.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register(config=None, item=None, _plugin=plugin_name):
            for kind, model, into in (("config", config, config_models), ("item", item, item_models)):
                if model is None:
                    continue
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    raise PluginLoadError(f"plugin {_plugin!r}: register({kind}=...) needs a pydantic model class, got {model!r}")
                if model.model_config.get("extra") != "forbid":
                    raise PluginLoadError(
                        f"plugin {_plugin!r}: its {kind} model {model.__name__} must forbid unknown keys "
                        "(model_config = ConfigDict(extra=\"forbid\")), so a mistyped key fails instead of being ignored")
                if _plugin in into:
                    raise PluginLoadError(f"plugin {_plugin!r}: register({kind}=...) is called twice")
                into[_plugin] = model

        try:
            impl.function(register=register)
        except PluginLoadError:
            raise
        except (Exception, SystemExit) as exc:
            raise PluginLoadError(f"plugin {plugin_name!r}: register_models failed: {type(exc).__name__}: {exc}") from None
    return config_models, item_models
