"""Output files (the HTML report, database backups, documents) are written whole or not at all.

Each is written to a temporary file beside its destination (mode 0600: ``mkstemp`` ignores the umask), flushed
to disk, then renamed over the destination in one step. A full disk, a quota or a file-size limit leaves the
previous file as it was (or no file), never a truncated one, and is one line with exit 3.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from .errors import OutputError


@contextmanager
def atomic_output(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """``with atomic_output(path) as file: file.write(...)``: the file appears at ``path`` only if the block
    completes; a write that fails raises :class:`OutputError` naming ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        kept = "; the previous file is unchanged" if path.exists() else ""
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}; nothing was written{kept}") from None
    except BaseException:
        _remove(temporary)
        raise


def write_atomically(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_output`)."""
    with atomic_output(path, binary=isinstance(data, bytes)) as file:
        file.write(data)
    return Path(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
