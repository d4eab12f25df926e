"""``fba-jp db check`` and ``fba-jp db backup``: is the audit trail sound, and a copy of it taken safely.

Both open the database **read-only**, without migrating it: a check changes nothing, and a database from a
newer fba-jp can still be checked and backed up before an upgrade is undone.

A backup uses SQLite's online backup API in one step, which reads one consistent snapshot; in WAL mode a
reader never blocks the daemon's writes, and the daemon's writes never tear the copy. The copy is written
to a 0600 temporary file beside the destination, switched to a single self-contained file (no ``-wal``),
checked with ``PRAGMA quick_check``, then renamed into place (fba_jp/files.py).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .errors import OutputError, StoreError
from .migrations import MIGRATIONS
from .store import BUSY_TIMEOUT_S, advice, unpack_input, worksheet_bytes


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)  # the database is not sound
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong

    @property
    def ok(self) -> bool:
        return not self.problems


def _damaged_worksheets(conn: sqlite3.Connection, shown: int = 20) -> list[str]:
    """One problem per stored worksheet that no longer reads: a Zstandard frame or zlib stream whose checksum
    fails, cut short, or compressed with a dictionary this fba-jp does not have (``PRAGMA integrity_check``
    sees pages, not what a blob says). The first ``shown``, then how many more."""
    damaged = []
    for screening_id, worksheet in conn.execute("select screening_id, worksheet from valuations order by screening_id"):
        try:
            worksheet_bytes(worksheet)
        except StoreError as exc:
            damaged.append((screening_id, str(exc).split(";")[0]))
    problems = [f"valuations: the worksheet of screening {sid} does not read back ({why})" for sid, why in damaged[:shown]]
    if len(damaged) > shown:
        problems.append(f"valuations: {len(damaged) - shown} more worksheet(s) do not read back")
    return problems


def open_read_only(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing database (never creates, migrates or writes it)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no database there (nothing was created)")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the database ({exc}): {advice(exc)}") from None
    return conn


def check_database(path: str | Path) -> CheckReport:
    """Integrity (every page), foreign keys, the schema's migrations, that every stored input still
    hashes to the key its screenings refer to, and that every stored worksheet still reads (its checksum)."""
    report = CheckReport()
    conn = open_read_only(path)
    try:
        try:
            report.problems += [f"integrity: {' '.join(row[0].split())}"
                                for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
            report.problems += [f"foreign key: {row[0]} row {row[1]} refers to a missing {row[2]} row"
                                for row in conn.execute("PRAGMA foreign_key_check")]
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"integrity: {exc}")
            return report
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        if "_migrations" not in tables:
            report.problems.append("schema: not an fba-jp database (no _migrations table)")
            return report
        applied = [row[0] for row in conn.execute("select name from _migrations order by rowid")]
        known = [name for name, _ in MIGRATIONS]
        unknown = [name for name in applied if name not in known]
        if unknown:
            report.problems.append(f"schema: written by a newer fba-jp (migrations unknown here: {', '.join(unknown)})")
        pending = [name for name in known if name not in applied]
        if pending:
            report.notes.append(f"schema: {len(pending)} migration(s) not applied yet ({', '.join(pending)}); "
                                "the next fba-jp command that opens the database applies them")
        if "declarations" in tables:
            bad = [sha for sha, body in conn.execute("select sha256, body from declarations") if not _hashes_to(body, sha)]
            report.problems += [f"declarations: the input stored under {sha} no longer hashes to it" for sha in bad[:20]]
            missing = conn.execute(
                "select count(*) from screenings where input_sha256 not in (select sha256 from declarations)"
            ).fetchone()[0]
            if missing:
                report.notes.append(f"declarations: {missing} screening(s) from before inputs were stored keep only their hash")
        if "valuations" in tables:
            report.problems += _damaged_worksheets(conn)
        counts = {t: conn.execute(f"select count(*) from [{t}]").fetchone()[0]
                  for t in ("shipments", "screenings", "waivers") if t in tables}
        report.notes.append(", ".join(f"{n:,} {t}" for t, n in counts.items()))
    finally:
        conn.close()
    return report


def _hashes_to(body: bytes | str, sha: str) -> bool:
    try:
        text = unpack_input(body)
    except (zlib.error, UnicodeDecodeError):
        return False
    return hashlib.sha256(text.encode("utf-8")).hexdigest() == sha


def backup_database(source: str | Path, destination: str | Path) -> dict:
    """Copy ``source`` to ``destination`` with the online backup API; safe while the daemon runs."""
    source, destination = Path(source), Path(destination)
    if destination.exists() and destination.resolve() == source.resolve():
        raise OutputError(f"{destination}: is the database itself; back it up to another file")
    conn = open_read_only(source)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        conn.close()
        raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}") from None
    try:
        copy = sqlite3.connect(temporary)
        try:
            conn.backup(copy)  # all pages in one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problems = [row[0] for row in copy.execute("PRAGMA quick_check") if row[0] != "ok"]
            screenings = copy.execute("select count(*) from screenings").fetchone()[0] if copy.execute(
                "select 1 from sqlite_master where name = 'screenings'").fetchone() else 0
        finally:
            copy.close()
        if problems:
            raise OutputError(f"{destination}: the copy fails PRAGMA quick_check ({problems[0]}); not kept — "
                              f"run `fba-jp db check` on {source}")
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        os.replace(temporary, destination)
    except sqlite3.Error as exc:
        _remove(temporary)
        raise OutputError(f"{destination}: backup failed ({exc}); nothing was written — {advice(exc)}") from None
    except OSError as exc:
        _remove(temporary)
        raise OutputError(f"{destination}: cannot write: {exc.strerror or exc}; nothing was written") from None
    except BaseException:
        _remove(temporary)
        raise
    finally:
        conn.close()
    return {"source": str(source), "backup": str(destination), "bytes": destination.stat().st_size,
            "screenings": screenings}


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
