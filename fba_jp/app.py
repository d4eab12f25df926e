"""What a command or a daemon job works with: the config, the store and the plugins, built on first use."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from .config import Config, load_config
from .errors import StoreError
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
        # commands that only read (report, status, release) must not create an empty database by mistake
        self.existing_db_only = False
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
        path = self.database_path
        if self.existing_db_only and path != ":memory:" and not Path(path).exists():
            raise StoreError(
                f"{path}: no such database; screen shipments first (fba-jp gate, fba-jp run) or pass --db PATH"
            )
        return Store(path)

    @functools.cached_property
    def plugins(self) -> Plugins:
        return get_plugins(self.plugins_dirs)

    def screener(self, stop: threading.Event | None = None) -> Screener:
        return Screener(self.plugins, self.config, self.store, stop)
