"""Write fba_jp/data/schema.json: the schema every migration gives a new database, which new databases are
created from (fba_jp/migrations.py, "the schema snapshot").

    python scripts/make_schema_snapshot.py

Run it after adding a migration; tests/test_schema_snapshot.py fails until the snapshot holds every migration.
"""
import json
import sqlite3
from pathlib import Path

from fba_jp.migrations import MIGRATIONS, NO_SNAPSHOT, SNAPSHOT_FILE, migrate, schema_statements


def snapshot() -> dict:
    conn = sqlite3.connect(":memory:")
    migrate(conn, snapshot=NO_SNAPSHOT)
    return {"migrations": [name for name, _ in MIGRATIONS], "statements": schema_statements(conn)}


if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "fba_jp" / "data" / SNAPSHOT_FILE
    path.write_text(json.dumps(snapshot(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
