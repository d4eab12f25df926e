"""Rows that name the process holding them (a sync run, a notification being delivered, the daemon lease):
is that process still there?

SQLite in WAL mode works only among processes of one host (it shares memory through the ``-shm`` file),
so a process id in the database is always one of this host's.
"""

from __future__ import annotations

import os


def process_exists(pid: int | None) -> bool:
    """Whether process ``pid`` is alive (``False`` for ``None``)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
