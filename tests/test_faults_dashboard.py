"""Dashboard writes and document downloads of a synced shipment whose stored data no longer forms a declaration
(its products.csv row gone), or whose rescreen meets a locked database: a clear message and status, nothing
cleared, nothing half-written, no traceback page."""

import json
import re
import sqlite3
import warnings

import pytest

from fba_jp.config import load_config
from fba_jp.store import Store

from test_faults_bulk import CONFIG, add_synced

pytest.importorskip("starlette")
with warnings.catch_warnings():  # Starlette 1.x would rather its test client ran on httpx2
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from fba_jp.web.app import create_app  # noqa: E402

SHIPMENT = "FBA15AC0000"
PRODUCTS = "msku,title,hs_code,unit_value,currency,origin_country,duty_rate\n{msku},Tent,6306.22,5800,JPY,CN,4.5\n"


@pytest.fixture
def site(tmp_path, run_cli):
    """A non-resident seller's synced shipment screened blocked (ACP_MISSING), then its product's row removed from
    products.csv; and the dashboard over it (loopback, no users: every request may write)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace('country = "JP", japan_resident = true', 'country = "US"'), encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS.format(msku="TENT"), encoding="utf-8")
    db = tmp_path / "fba_jp.db"
    Store(db).close()
    add_synced(db, 1)
    [first] = json.loads(run_cli("screen", "--config", config, "--db", db, "-o", "json").stdout)["results"]
    assert [f["code"] for f in first["findings"] if f["severity"] == "block"] == ["ACP_MISSING"]
    (tmp_path / "products.csv").write_text(PRODUCTS.format(msku="OTHER"), encoding="utf-8")
    client = TestClient(create_app(load_config(config), str(db)), base_url="http://127.0.0.1", follow_redirects=False)
    return client, config, db


def csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(f"/shipments/{SHIPMENT}").text).group(1)


def rows(db, sql):
    with sqlite3.connect(db) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def test_documents_of_a_shipment_that_no_longer_forms_a_declaration_are_refused_in_one_line(site, run_cli):
    client, config, db = site
    assert client.post(f"/shipments/{SHIPMENT}/rescreen", data={"csrf": csrf(client)}).status_code == 303
    assert rows(db, "select latest_verdict from shipments") == [("blocked",)]  # INPUT_INVALID now
    for kind in ("invoice.pdf", "checklist.html"):
        response = client.get(f"/shipments/{SHIPMENT}/documents/{kind}")
        assert response.status_code == 409, response.text[:200]
        assert "Something went wrong" not in response.text
        assert "INPUT_INVALID" in response.text and "msku &#39;TENT&#39; is not in the product master" in response.text
    cli = run_cli("documents", SHIPMENT, "--config", config, "--db", db, "--out", db.parent / "docs")
    assert cli.exit_code == 3
    [line] = cli.stderr.splitlines()
    assert line.startswith(f"{SHIPMENT}: its latest screening is INPUT_INVALID, so there is no declaration to "
                           "draw documents from: ")
    assert "msku 'TENT' is not in the product master" in line and "ValidationError" not in line
    assert not (db.parent / "docs").exists() and rows(db, "select count(*) from documents") == [(0,)]


def test_a_release_whose_rescreen_cannot_form_a_declaration_says_the_shipment_is_blocked(site):
    client, _, db = site
    posted = client.post(f"/shipments/{SHIPMENT}/release",
                         data={"csrf": csrf(client), "code": "ACP_MISSING", "reason": "ACP appointed today"})
    assert posted.status_code == 303
    page = client.get(f"/shipments/{SHIPMENT}").text
    assert "Waived ACP_MISSING on this input." in page
    assert "the waiver is applied" not in page  # it is not: nothing the waiver covers was screened
    assert "Screened again: blocked → blocked (INPUT_INVALID)." in page
    assert rows(db, "select verdict from screenings order by id") == [("blocked",), ("blocked",)]


def test_a_release_whose_rescreen_meets_a_locked_database_says_the_waiver_is_recorded(site, monkeypatch):
    client, _, db = site
    (db.parent / "products.csv").write_text(PRODUCTS.format(msku="TENT"), encoding="utf-8")  # it forms again
    monkeypatch.setattr("fba_jp.web.app.BUSY_TIMEOUT_MS", 100)  # how long a page waits for the lock
    token = csrf(client)
    record = Store.record_screenings
    blocker = sqlite3.connect(db, check_same_thread=False)  # the request runs in a worker thread

    def locked(self, *args, **kwargs):  # another writer takes the lock between the waiver and the rescreen
        blocker.execute("BEGIN IMMEDIATE")
        return record(self, *args, **kwargs)

    monkeypatch.setattr(Store, "record_screenings", locked)
    try:
        posted = client.post(f"/shipments/{SHIPMENT}/release",
                             data={"csrf": token, "code": "ACP_MISSING", "reason": "ACP appointed today"})
    finally:
        blocker.rollback()
        blocker.close()
    monkeypatch.setattr(Store, "record_screenings", record)
    # not "the database is unavailable, try again": the waiver is in, and sending it again would add a second one
    assert posted.status_code == 303
    page = client.get(f"/shipments/{SHIPMENT}").text
    assert "Waived ACP_MISSING on this input. Not screened again:" in page
    assert "database is locked" in page and "The waiver applies at the next screening that succeeds." in page
    assert rows(db, "select code from waivers") == [("ACP_MISSING",)]
    assert rows(db, "select verdict from screenings") == [("blocked",)]  # the rescreen left nothing behind
