"""Documents when what they would be drawn from is not what is recorded: the database refuses to record what
``fba-jp documents`` issues (no final papers left on disk the audit trail does not know), or a synced shipment's
product master changed since its screening (the papers follow what it says now, or are refused)."""

import json
import sqlite3
import warnings
from pathlib import Path

import pytest

from fba_jp.config import load_config
from fba_jp.store import Store

from test_documents import FINAL
from test_faults_bulk import CONFIG, add_synced
from test_faults_dashboard import PRODUCTS, SHIPMENT

pytest.importorskip("starlette")
with warnings.catch_warnings():  # Starlette 1.x would rather its test client ran on httpx2
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from fba_jp.web.app import create_app  # noqa: E402


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


@pytest.fixture
def synced_final(tmp_path, run_cli):
    """A Japan-resident seller's synced shipment whose importer is complete: its documents can be final."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace('importer_of_record = { name = "Acme Trading K.K." }',
                                     'importer_of_record = { name = "Acme Trading K.K.", address = "1-2-3 Dogenzaka, '
                                     'Shibuya-ku, Tokyo", country = "JP" }'), encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS.format(msku="TENT"), encoding="utf-8")
    db = tmp_path / "fba_jp.db"
    Store(db).close()
    add_synced(db, 1)
    [first] = json.loads(run_cli("screen", "--config", config, "--db", db, "-o", "json").stdout)["results"]
    assert first["verdict"] == "annotated"
    return config, db


def test_documents_of_a_synced_shipment_whose_product_row_is_gone_are_refused_not_final(synced_final, run_cli):
    config, db = synced_final
    (db.parent / "products.csv").write_text(PRODUCTS.format(msku="OTHER"), encoding="utf-8")  # TENT's row removed
    web = TestClient(create_app(load_config(config), str(db)), base_url="http://127.0.0.1", follow_redirects=False)
    response = web.get(f"/shipments/{SHIPMENT}/documents/invoice.pdf")
    assert response.status_code == 409 and "INPUT_INVALID" in response.text
    cli = run_cli("documents", SHIPMENT, "--config", config, "--db", db, "--out", db.parent / "docs")
    assert cli.exit_code == 3 and "msku 'TENT' is not in the product master" in cli.stderr
    assert not (db.parent / "docs").exists()
    with Store(db) as store:  # screened as `fba-jp screen` would: the shipment is blocked now, for everyone
        assert [r[0] for r in store.conn.execute("select verdict from screenings order by id")] == ["annotated", "blocked"]
        assert store.conn.execute("select count(*) from documents").fetchone()[0] == 0


def test_documents_of_a_synced_shipment_follow_a_corrected_product_row(synced_final, run_cli):
    config, db = synced_final
    (db.parent / "products.csv").write_text(PRODUCTS.format(msku="TENT").replace(",5800,", ",6400,"), encoding="utf-8")
    cli = run_cli("documents", SHIPMENT, "--config", config, "--db", db, "--out", db.parent / "docs", "--format", "json")
    assert cli.exit_code == 0, cli.stderr
    [invoice] = cli.stdout.split()
    assert [item["unit_value"] for item in json.loads(Path(invoice).read_text())["items"]] == ["6400"]
    with Store(db) as store:  # from a screening of what products.csv says now, recorded
        [(latest, issued_from)] = store.conn.execute(
            "select max(s.id), d.screening_id from screenings s, documents d").fetchall()
        assert latest == issued_from and store.conn.execute("select count(*) from screenings").fetchone()[0] == 2
