"""``fba-jp serve`` in-process (Starlette's test client): pages, JSON twins, scope, roles, CSRF, writes."""

import base64
import json
import os
import re
import sqlite3
import warnings

import pytest
from argon2 import PasswordHasher

from fba_jp.config import load_config
from fba_jp.store import Store, utcnow

from conftest import EXAMPLES

pytest.importorskip("starlette")
with warnings.catch_warnings():  # Starlette 1.x would rather its test client ran on httpx2
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from fba_jp.web.app import create_app  # noqa: E402
from fba_jp.web.harness import serve_users  # noqa: E402

ACCOUNTS = """
[[accounts]]
name = "kyoto"
seller = { name = "Kyoto Botanica Inc.", country = "US" }

[[accounts]]
name = "northwind"
seller = { name = "Northwind Outdoor LLC", country = "US" }
"""
USERS = serve_users("pw-correct-horse", {"ops": ("operator", None), "vera": ("viewer", None),
                                         "kyoto-seller": ("operator", ["kyoto"])})
FILES = ["kyoto-cosmetics-blocked.json", "northwind-amazon-ior.json", "sakura-cleared.json", "tokyo-tea-annotated.json"]


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    """The examples screened once for the module (each test gets its own copy)."""
    from click.testing import CliRunner

    from fba_jp.cli import cli

    directory = tmp_path_factory.mktemp("screened")
    config = directory / "config.toml"
    config.write_text(ACCOUNTS + USERS, encoding="utf-8")
    db = directory / "fba.db"
    CliRunner().invoke(cli, ["gate", *[str(EXAMPLES / f) for f in FILES], "--config", str(config), "--db", str(db),
                             "-o", "json"], catch_exceptions=False)
    with Store(db) as store:
        store.db.execute("pragma wal_checkpoint(truncate)")
    return config, db


@pytest.fixture
def site(tmp_path, screened):
    """A database screened from the examples, and a config with two accounts and three users."""
    config, db = tmp_path / "config.toml", tmp_path / "fba.db"
    config.write_text(screened[0].read_text(encoding="utf-8"), encoding="utf-8")
    db.write_bytes(screened[1].read_bytes())
    return config, db


def client(config_path, db, **options) -> TestClient:
    app = create_app(load_config(config_path), str(db), **options)
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def login(c: TestClient, name: str, password: str = "pw-correct-horse"):
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"name": name, "password": password, "csrf": csrf, "next": "/shipments"})


def csrf_of(c: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def test_list_filters_search_and_json_twin(site):
    config, db = site
    c = client(config, db)
    assert c.get("/shipments").headers["location"].startswith("/login")  # authentication configured
    assert login(c, "ops").status_code == 303
    page = c.get("/shipments")
    assert page.status_code == 200 and "FBA17KYOTO01" in page.text
    rows = c.get("/shipments", headers={"Accept": "application/json"}).json()["shipments"]
    assert rows == c.get("/shipments.json").json()["shipments"] and len(rows) == 4
    blocked = c.get("/shipments.json?verdict=blocked").json()["shipments"]
    assert blocked and {r["verdict"] for r in blocked} == {"blocked"}
    assert [r["shipment_id"] for r in c.get("/shipments.json?code=IOR_AMAZON").json()["shipments"]] == \
        [r["shipment_id"] for r in rows if "IOR_AMAZON" in r["codes"]]
    by_sku = c.get("/shipments.json?q=HINOKI-COMB").json()["shipments"]
    assert [r["shipment_id"] for r in by_sku] == ["FBA17KYOTO01"]
    assert [r["shipment_id"] for r in c.get("/shipments.json?q=fba17kyo").json()["shipments"]] == ["FBA17KYOTO01"]
    assert {r["account"] for r in c.get("/shipments.json?account=kyoto").json()["shipments"]} == {"kyoto"}
    assert c.get("/shipments.json?from=2999-01-01").json()["shipments"] == []
    assert c.get("/shipments.json?verdict=nope").status_code == 400
    assert c.get("/shipments.json?from=yesterday").json()["error"].startswith("from: must be a date")


def test_keyset_pages_cover_every_shipment_once(site, monkeypatch):
    config, db = site
    from fba_jp.web import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 3)
    monkeypatch.setattr(queries.list_shipments, "__defaults__", (3,))
    c = client(config, db)
    login(c, "ops")
    seen, url = [], "/shipments.json"
    while url:
        page = c.get(url).json()
        seen += [r["shipment_id"] for r in page["shipments"]]
        url = page["next"] and page["next"].replace("/shipments?", "/shipments.json?")
    assert len(seen) == len(set(seen)) == 4


def test_shipment_page_history_download_and_escaping(site, run_cli, tmp_path):
    config, db = site
    evil = json.loads((EXAMPLES / "sakura-cleared.json").read_text())
    evil["shipment_id"] = "FBA-XSS-1"
    evil["items"][0]["title"] = "<script>alert('pwned')</script> tea cup"
    (tmp_path / "evil.json").write_text(json.dumps(evil))
    run_cli("gate", tmp_path / "evil.json", "--config", config, "--db", db, "-o", "json")
    run_cli("gate", tmp_path / "evil.json", "--config", config, "--db", db, "-o", "json")  # a second screening
    c = client(config, db)
    login(c, "vera")
    page = c.get("/shipments/FBA-XSS-1")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; tea cup" in page.text
    twin = c.get("/shipments/FBA-XSS-1.json").json()
    assert twin["items"][0]["title"].startswith("<script>")  # JSON keeps the data; it is served as JSON
    assert c.get("/shipments/FBA-XSS-1.json").headers["content-type"] == "application/json"
    first = twin["history"][-1]["verdict"]
    assert [h["previous_verdict"] for h in twin["history"]] == [first, None]
    assert "History" in page.text and "Rounding steps" in page.text and "Document checklist" in page.text
    download = c.get("/shipments/FBA-XSS-1/result.json")
    assert download.headers["content-disposition"] == 'attachment; filename="fba-jp-FBA-XSS-1.json"'
    assert download.json()["schema"] == "fba-jp/result/v1" and download.json()["results"][0]["shipment_id"] == "FBA-XSS-1"
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_seller_sees_only_its_own_accounts_even_by_url(site):
    config, db = site
    c = client(config, db)
    login(c, "kyoto-seller")
    assert {r["account"] for r in c.get("/shipments.json").json()["shipments"]} == {"kyoto"}
    other = "FBA15NWIND02"  # northwind's (see examples/northwind-amazon-ior.json)
    assert json.loads((EXAMPLES / "northwind-amazon-ior.json").read_text())["shipment_id"] == other
    for path in (f"/shipments/{other}", f"/shipments/{other}.json", f"/shipments/{other}/result.json"):
        response = c.get(path)
        assert response.status_code == 404 and "No shipment" in response.text
        assert "northwind" not in response.text and "IOR_AMAZON" not in response.text
    # the same answer as a shipment that does not exist: nothing to probe
    assert c.get("/shipments/NO-SUCH-ID").status_code == 404
    assert c.get("/shipments.json?account=northwind").json()["shipments"] == []
    csrf = csrf_of(c, "/shipments")
    refused = c.post(f"/shipments/{other}/release", data={"csrf": csrf, "code": "IOR_AMAZON", "reason": "x", "by": "me"})
    assert refused.status_code == 404
    with Store(db) as store:
        assert store.db.execute("select count(*) from waivers").fetchone()[0] == 0


def test_release_records_the_waiver_audits_it_and_rescreens(site):
    config, db = site
    c = client(config, db)
    login(c, "ops")
    csrf = csrf_of(c, "/shipments/FBA15NWIND02")
    # no token: refused, nothing written
    assert c.post("/shipments/FBA15NWIND02/release", data={"code": "IOR_AMAZON", "reason": "x"}).status_code == 403
    posted = c.post("/shipments/FBA15NWIND02/release",
                    data={"csrf": csrf, "code": "IOR_AMAZON", "reason": "importer fixed on the invoice", "by": "kenji",
                          "expires": "2099-12-31"})
    assert posted.status_code == 303
    page = c.get("/shipments/FBA15NWIND02")
    assert "Waived IOR_AMAZON" in page.text  # the flash
    row = re.search(r'<tr class="finding is-waived" data-code="IOR_AMAZON">.*?</tr>', page.text, re.S).group(0)
    assert 'class="code waived"' in row and "Waived by kenji" in row
    with Store(db) as store:
        waiver = store.db.execute("select code, reason, by, expires_on from waivers").fetchall()
        audit = store.db.execute("select user, action, account, target from audit_log").fetchall()
        screenings = store.db.execute("select count(*) from screenings where shipment_id = 'FBA15NWIND02'").fetchone()[0]
    assert waiver == [("IOR_AMAZON", "importer fixed on the invoice", "kenji", "2099-12-31")]
    assert audit == [("ops", "release", "northwind", "FBA15NWIND02")]
    assert screenings == 2  # screened again with the waiver
    # a code that is not blocking: the store's own refusal, as a readable 400
    bad = c.post("/shipments/FBA15NWIND02/release", data={"csrf": csrf, "code": "NOPE", "reason": "x"})
    assert bad.status_code == 400 and "no blocking finding NOPE" in bad.text


def test_a_viewer_cannot_release_or_edit(site):
    config, db = site
    c = client(config, db)
    login(c, "vera")
    page = c.get("/shipments/FBA15NWIND02")
    assert "Release…" not in page.text
    csrf = csrf_of(c, "/shipments")
    for path, data in (("/shipments/FBA15NWIND02/release", {"code": "IOR_AMAZON", "reason": "x"}),
                       ("/acps", {"acp_id": "x", "name": "X"}), ("/rates", {"week_start": "2026-11-29"})):
        response = c.post(path, data={"csrf": csrf, **data})
        assert response.status_code == 403 and "viewer" in response.text
    with Store(db) as store:
        assert store.db.execute("select count(*) from waivers").fetchone()[0] == 0


def test_login_refuses_a_wrong_password_and_logout_ends_the_session(site):
    config, db = site
    c = client(config, db)
    assert login(c, "ops", "wrong").status_code == 401
    assert login(c, "nobody").status_code == 401
    assert c.get("/shipments.json").status_code == 401
    assert login(c, "ops").status_code == 303
    # a cookie whose payload was changed (here: to another CSRF token) no longer verifies: logged out
    payload, stamp, signature = c.cookies.get("fba_jp_session").split(".")
    other = base64.urlsafe_b64encode(b'{"u":"ops","c":"mine"}').rstrip(b"=").decode()
    forged = ".".join([other, stamp, signature])
    assert TestClient(c.app, base_url="http://127.0.0.1", cookies={"fba_jp_session": forged}).get("/shipments.json").status_code == 401
    set_cookie = c.get("/login").headers.get("set-cookie") or ""
    assert c.post("/logout", data={"csrf": csrf_of(c, "/shipments")}).status_code == 303
    assert c.get("/shipments").status_code == 303
    assert "HttpOnly" in (login(c, "ops").headers["set-cookie"]) and "SameSite=lax" in login(c, "ops").headers["set-cookie"]
    assert set_cookie == ""  # a logged-in page does not reissue the cookie


def test_registry_licence_recorded_in_the_dashboard_is_used_by_the_next_screening(site, run_cli):
    config, db = site
    c = client(config, db)
    login(c, "kyoto-seller")
    before = c.get("/shipments/FBA17KYOTO01.json").json()["result"]["findings"]
    assert any(f["code"] == "LICENCE_EXPIRED" for f in before)
    csrf = csrf_of(c, "/licences")
    assert c.post("/licences", data={"csrf": csrf, "account": "northwind", "kind": "giteki", "number": "1"}).status_code == 400
    posted = c.post("/licences", data={"csrf": csrf, "account": "kyoto", "type": "licence", "kind": "cosmetics_mah",
                                       "number": "26C0X99999", "holder": "Hana Cosme Partners K.K.",
                                       "valid_from": "2026-04-01", "valid_until": "2029-03-31"})
    assert posted.status_code == 303
    assert c.get("/licences.json").json()["registry"][0]["number"] == "26C0X99999"
    rescreened = c.post("/shipments/FBA17KYOTO01/rescreen", data={"csrf": csrf})  # the page's "Screen again"
    assert rescreened.status_code == 303
    after = c.get("/shipments/FBA17KYOTO01.json").json()["result"]["findings"]
    assert not any(f["code"] == "LICENCE_EXPIRED" for f in after)
    with Store(db) as store:
        assert store.db.execute("select user, action, account from audit_log").fetchall() == \
            [("kyoto-seller", "licence.add", "kyoto"), ("kyoto-seller", "rescreen", "kyoto")]
    # and the command line's screening reads the same registry
    doc = json.loads(run_cli("gate", EXAMPLES / "kyoto-cosmetics-blocked.json", "--config", config, "--db", db, "-o", "json").stdout)
    assert not any(f["code"] == "LICENCE_EXPIRED" for f in doc["results"][0]["findings"])
    # a seller may not edit the registry every seller shares
    assert c.post("/acps", data={"csrf": csrf, "acp_id": "x", "name": "X"}).status_code == 403


def test_acp_registry_and_rates_through_the_cli_store_methods(site):
    config, db = site
    c = client(config, db)
    login(c, "ops")
    csrf = csrf_of(c, "/acps")
    assert c.post("/acps", data={"csrf": csrf, "acp_id": "sakura-tokyo", "name": "Sakura Customs Advisory K.K.",
                                 "status": "pending", "notified_on": "2026-11-20",
                                 "sellers": "Northwind Outdoor LLC\nAcme, Inc."}).status_code == 303
    assert c.post("/acps/sakura-tokyo/status", data={"csrf": csrf, "status": "registered", "accepted_on": "2026-12-01",
                                                     "note": "C-7500 accepted"}).status_code == 303
    record = c.get("/acps.json").json()["acps"][0]
    assert record["status"] == "registered" and record["sellers"] == ["Acme, Inc.", "Northwind Outdoor LLC"]
    assert [e["status"] for e in record["events"]] == ["registered", "pending"]
    # the firm stops acting for one seller: "Stop serving" takes it off; the last one cannot go (it would serve any)
    page = c.get("/acps").text
    assert 'action="/acps/sakura-tokyo/remove-seller"' in page
    assert c.post("/acps/sakura-tokyo/remove-seller", data={"csrf": csrf, "seller": "Acme, Inc.",
                                                            "note": "engagement ended"}).status_code == 303
    assert c.get("/acps.json").json()["acps"][0]["sellers"] == ["Northwind Outdoor LLC"]
    last = c.post("/acps/sakura-tokyo/remove-seller", data={"csrf": csrf, "seller": "Northwind Outdoor LLC"})
    assert last.status_code == 400 and "revoke it instead" in last.text
    assert 'action="/acps/sakura-tokyo/remove-seller"' not in c.get("/acps").text
    bad = c.post("/acps", data={"csrf": csrf, "acp_id": "x", "name": "X", "status": "maybe"})
    assert bad.status_code == 400 and "status" in bad.text
    upload = c.post("/rates/import", data={"csrf": csrf},
                    files={"file": ("rates.csv", b"week_start,currency,rate\n2026-11-29,USD,151.20\n2026-11-29,EUR,160.05\n")})
    assert upload.status_code == 303
    broken = c.post("/rates/import", data={"csrf": csrf}, files={"file": ("x.csv", b"week_start,currency,rate\n2026-11-30,USD,1\n")})
    assert broken.status_code == 400 and "x.csv:2: week_start" in broken.text
    assert c.post("/rates", data={"csrf": csrf, "week_start": "2026-11-29", "currency": "gbp", "rate": "190.5"}).status_code == 303
    rates = {(r["currency"], r["rate"]) for r in c.get("/rates.json").json()["rates"]}
    assert {("USD", "151.20"), ("EUR", "160.05"), ("GBP", "190.5")} <= rates
    actions = [(a["user"], a["action"]) for a in c.get("/audit.json").json()["audit"]]
    assert actions == [("ops", "rates.import"), ("ops", "rates.import"), ("ops", "acp.remove_seller"),
                       ("ops", "acp.status"), ("ops", "acp.add")]


def test_a_seller_sees_its_acp_but_not_the_other_sellers_that_acp_serves(site):
    """An ACP firm's record lists every client it is notified for: a scoped seller sees only its own name."""
    config, db = site
    with Store(db) as store:
        from fba_jp.models import Acp

        store.add_acp("sakura", Acp(name="Sakura Customs Advisory K.K.", status="registered"),
                      ["Kyoto Botanica Inc.", "Northwind Outdoor LLC", "Rival Cosmetics GmbH"])
        store.add_acp("other", Acp(name="Other ACP K.K.", status="registered"), ["Rival Cosmetics GmbH"])
    c = client(config, db)
    login(c, "kyoto-seller")
    [record] = c.get("/acps.json").json()["acps"]
    assert record["id"] == "sakura" and record["sellers"] == ["Kyoto Botanica Inc."]
    page = c.get("/acps").text
    assert "Kyoto Botanica Inc." in page and "Northwind" not in page and "Rival" not in page
    # what the firm writes in the record's history may be about any client: withheld from a shared record's clients
    with Store(db) as store:
        store.set_acp_status("sakura", "suspended", note="suspended for Rival Cosmetics: invoices unpaid")
    [record] = c.get("/acps.json").json()["acps"]
    assert record["events"][0]["status"] == "suspended" and "Rival" not in record["events"][0]["note"]
    assert "Rival" not in c.get("/acps").text
    login(c, "ops")
    assert {a["id"]: len(a["sellers"]) for a in c.get("/acps.json").json()["acps"]} == {"other": 1, "sakura": 3}
    assert "Rival" in c.get("/acps.json").json()["acps"][1]["events"][0]["note"]


def test_status_page_and_its_fragment(site):
    config, db = site
    with Store(db) as store, store.write():  # a daemon running in this very process
        store.db["heartbeat"].insert({"id": 1, "pid": os.getpid(), "at": utcnow(), "state": "running"})
        store.db["daemon_accounts"].insert({"account": "northwind", "outcome": "failed", "message": "LWA said <no>",
                                            "consecutive_failures": 2, "next_run_at": "2026-12-02T10:00:00+00:00"})
        store.db["daemon_accounts"].insert({"account": "kyoto", "outcome": "ok", "consecutive_failures": 0})
    c = client(config, db)
    login(c, "kyoto-seller")
    status = c.get("/status.json").json()
    assert [a["account"] for a in status["accounts"]] == ["kyoto"]
    login(c, "ops")
    page = c.get("/status")
    assert 'data-refresh="/status?fragment=1&amp;every=10"' in page.text and '<script src="/static/refresh.js"' in page.text
    fragment = c.get("/status?fragment=1").text
    assert "<nav" not in fragment and "LWA said &lt;no&gt;" in fragment and "2026-12-02T10:00:00+00:00" in fragment
    assert "setInterval" in c.get("/static/refresh.js").text


def test_without_users_only_loopback_may_ask(site, tmp_path):
    _, db = site
    bare = tmp_path / "bare.toml"
    bare.write_text("", encoding="utf-8")
    c = client(bare, db)
    assert c.get("/shipments").status_code == 200  # the local operator
    rebinding = TestClient(create_app(load_config(bare), str(db)), base_url="http://evil.example")
    assert rebinding.get("/shipments").status_code == 400


def test_missing_or_locked_database_is_a_readable_503_and_errors_hide_tracebacks(site, tmp_path, monkeypatch):
    config, db = site
    c = client(config, tmp_path / "absent.db")
    login(c, "ops")
    missing = c.get("/shipments")
    assert missing.status_code == 503 and "does not exist yet" in missing.text
    assert not (tmp_path / "absent.db").exists()  # not created by looking at it
    from fba_jp.web import app as web_app

    monkeypatch.setattr(web_app, "BUSY_TIMEOUT_MS", 50)
    c = client(config, db)
    login(c, "ops")
    csrf = csrf_of(c, "/shipments")
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    try:
        locked = c.post("/shipments/FBA15NWIND02/release", data={"csrf": csrf, "code": "IOR_AMAZON", "reason": "x"})
    finally:
        holder.rollback()
        holder.close()
    assert locked.status_code == 503 and "unavailable" in locked.text and "Traceback" not in locked.text
    assert c.get("/shipments").status_code == 200  # still up

    from fba_jp.web import queries

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(queries, "list_shipments", broken)
    crashed = c.get("/shipments")
    assert crashed.status_code == 500 and "secret internals" not in crashed.text and "Traceback" not in crashed.text


def test_serve_refuses_a_public_address_without_users(run_cli, tmp_path):
    result = CliRunnerResult = run_cli("serve", "--host", "0.0.0.0", "--db", tmp_path / "x.db")
    assert CliRunnerResult.exit_code == 3 and "refusing to listen on 0.0.0.0 without authentication" in result.stderr


def test_hash_password_prints_an_argon2_hash_that_verifies(run_cli):
    result = run_cli("serve", "--hash-password", input="s3cret\n")
    digest = result.stdout.strip()
    assert digest.startswith("$argon2id$") and PasswordHasher().verify(digest, "s3cret")


def test_a_plain_password_in_config_is_refused(run_cli, tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[serve]\n[[serve.users]]\nname = "ops"\npassword_hash = "hunter2"\n', encoding="utf-8")
    result = run_cli("serve", "--config", bad)
    assert result.exit_code == 3 and "a plain password is refused" in result.stderr and "hunter2" not in result.stderr


def test_a_shipment_id_with_a_slash_opens_and_can_be_released(site, run_cli, tmp_path):
    # gate-file ids are the seller's own ("PO-2026/11"): its links must lead to the shipment, not to Not found
    config, db = site
    declaration = json.loads((EXAMPLES / "kyoto-cosmetics-blocked.json").read_text())
    declaration["shipment_id"] = "PO-2026/11"
    (tmp_path / "po.json").write_text(json.dumps(declaration))
    run_cli("gate", tmp_path / "po.json", "--config", config, "--db", db, "-o", "json")
    c = client(config, db)
    login(c, "ops")
    row = next(r for r in c.get("/shipments.json").json()["shipments"] if r["shipment_id"] == "PO-2026/11")
    page = c.get(row["links"]["html"])
    assert page.status_code == 200 and "PO-2026/11" in page.text
    assert c.get(row["links"]["json"]).json()["shipment"]["shipment_id"] == "PO-2026/11"
    assert c.get(row["links"]["result"]).json()["results"][0]["shipment_id"] == "PO-2026/11"
    code = re.search(r'name="code" value="([^"]+)"', page.text).group(1)
    posted = c.post(row["links"]["html"] + "/release",
                    data={"csrf": csrf_of(c, "/shipments"), "code": code, "reason": "licence renewed"})
    assert posted.status_code == 303
    with Store(db) as store:
        assert store.db.execute("select shipment_id, code from waivers").fetchall() == [("PO-2026/11", code)]


def test_release_expiry_and_list_dates_are_read_like_the_cli(site):
    config, db = site
    c = client(config, db)
    login(c, "ops")
    csrf = csrf_of(c, "/shipments")
    # `fba-jp release --expires` takes YYYY-MM-DD only; ISO basic or week forms are refused there, and here
    for expires in ("20991231", "2099-W01-1"):
        refused = c.post("/shipments/FBA15NWIND02/release",
                         data={"csrf": csrf, "code": "IOR_AMAZON", "reason": "x", "expires": expires})
        assert refused.status_code == 400 and "expires: must be a date YYYY-MM-DD" in refused.text
    # the last day there is means no upper bound (it was a 500)
    far = c.get("/shipments.json?to=9999-12-31")
    assert far.status_code == 200 and len(far.json()["shipments"]) == 4
    with Store(db) as store:
        assert store.db.execute("select count(*) from waivers").fetchone()[0] == 0


def test_a_seller_picks_only_its_own_finding_codes(site):
    # the code dropdown is data too: northwind's IOR_AMAZON and the tea seller's TBL_* are not kyoto's to read
    config, db = site
    c = client(config, db)
    login(c, "ops")
    every = set(re.findall(r"<option>([A-Z][A-Z0-9_]+)</option>", c.get("/shipments").text))
    assert {"IOR_AMAZON", "LICENCE_EXPIRED"} <= every
    c = client(config, db)
    login(c, "kyoto-seller")
    mine = set(re.findall(r"<option>([A-Z][A-Z0-9_]+)</option>", c.get("/shipments").text))
    kyoto = {code for r in c.get("/shipments.json").json()["shipments"] for code in r["codes"]}
    assert kyoto <= mine and "LICENCE_EXPIRED" in mine and "IOR_AMAZON" not in mine
    assert not any(code.startswith("TBL_") for code in mine)
