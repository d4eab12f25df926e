"""What a command or a daemon job works with: the config, the store and the plugins, built on first use."""

from __future__ import annotations

import functools

from .config import Config, load_config
from .plugin_manager import Plugins, get_plugins
from .runner import Screener
from .store import Store


class App:
    """Built lazily from ``--config``, ``--db`` and ``--plugins-dir`` (``plugins`` may be given ready-made)."""

    def __init__(
        self,
        config_path: str | None,
        db_path: str | None,
        plugins_dirs: tuple[str, ...] = (),
        plugins: Plugins | None = None,
    ):
        self.config_path = config_path
        self.db_path = db_path
        self.plugins_dirs = plugins_dirs
        if plugins is not None:
            self.plugins = plugins

    @functools.cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def database_path(self) -> str:
        """``--db``, else ``[storage] path`` (relative to the config file)."""
        config = self.config  # a broken config is reported even when --db makes it unnecessary here
        return self.db_path or str(config.resolve(config.storage.path))

    @functools.cached_property
    def store(self) -> Store:
        return Store(self.database_path)

    @functools.cached_property
    def plugins(self) -> Plugins:
        return get_plugins(self.plugins_dirs)

    def screener(self) -> Screener:
        return Screener(self.plugins, self.config, self.store)
