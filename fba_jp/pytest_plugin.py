"""The pytest plugin fba-jp installs (entry point ``pytest11``): fixtures for plugin authors' tests.

pytest imports this module in every run where fba-jp is installed, used or not, so it imports nothing
of fba-jp's own until a test asks for a fixture. The helpers are in :mod:`fba_jp.testing`.
"""

import pytest


@pytest.fixture
def fba_jp_store(tmp_path):
    """A fresh SQLite audit-trail store in a temporary directory."""
    from fba_jp.store import Store

    store = Store(tmp_path / "fba_jp.db")
    yield store
    store.close()
