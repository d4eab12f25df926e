"""``fba-jp documents`` when the database refuses to record what it issues: no final papers are left on disk that
the audit trail does not know (``--verify`` would call them not issued by fba-jp)."""

import json
import sqlite3

from fba_jp.store import Store

from test_documents import FINAL


def test_documents_the_database_cannot_record_are_not_left_on_disk(tmp_path, run_cli, write_declaration,
                                                                  monkeypatch):
    declaration = write_declaration(FINAL)
    db, out = tmp_path / "d.db", tmp_path / "out"
    record = Store.record_documents

    def refused(self, rows):  # SQLite refuses the documents rows (an authorizer), as a full or damaged disk would
        self.conn.set_authorizer(lambda action, table, *_: sqlite3.SQLITE_DENY
                                 if action == sqlite3.SQLITE_INSERT and table == "documents" else sqlite3.SQLITE_OK)
        return record(self, rows)

    monkeypatch.setattr(Store, "record_documents", refused)
    result = run_cli("documents", "--file", declaration, "--db", db, "--out", out)
    assert result.exit_code == 3 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"fba-jp: {db}: write failed (not authorized); nothing was saved")
    assert sorted(p.name for p in out.iterdir()) == []  # no final invoice the audit trail has not recorded
    with Store(db) as store:
        assert store.conn.execute("select count(*) from documents").fetchone()[0] == 0

    monkeypatch.setattr(Store, "record_documents", record)
    again = run_cli("documents", "--file", declaration, "--db", db, "--out", out)
    assert again.exit_code == 0, again.stderr
    invoice = out / "FBA17KYOTO02-invoice.pdf"
    verified = run_cli("documents", "--verify", invoice, "--db", db)
    assert verified.exit_code == 0 and json.loads(verified.stdout)["issued"]
