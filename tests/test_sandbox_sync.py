"""The real python-amazon-sp-api client against the loopback sandbox: full and incremental sync,
a 429 storm, gate --plan, ``fba-jp demo`` end to end, and secrets that must not leak anywhere."""

import json
import logging
from collections import Counter

import httpx
import pytest
from sp_api.auth.access_token_client import cache as token_cache

import fba_jp.demo
from fba_jp.app import App
from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.rates import import_rates_csv
from fba_jp.sandbox import Faults, Sandbox
from fba_jp.spapi import RetryPolicy, SpApi
from fba_jp.store import Store
from fba_jp.sync import screen_synced, sync_accounts

FAST_RETRY = {"retry": RetryPolicy(tries=12, base_delay=0.001, max_delay=0.01)}
FAST = {**FAST_RETRY, "rate_scale": 50}  # the sandbox has no limits unless asked: do not wait for them


@pytest.fixture(autouse=True)
def clean_token_cache():
    token_cache.clear()
    yield
    token_cache.clear()


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Start a sandbox (optionally with faults) and an App whose config points at it."""
    started = []

    def start(faults=None, seed=5, synthetic=None):
        sandbox = Sandbox(faults=faults, seed=seed)
        if synthetic:
            sandbox.add_synthetic_plans(*synthetic)
        sandbox.start()
        started.append(sandbox)
        config = write_demo_config(tmp_path, sandbox)
        for name, value in demo_credentials(sandbox).items():
            monkeypatch.setenv(name, value)
        app = App(str(config), str(tmp_path / "fba_jp.db"))
        import_rates_csv(app.store, tmp_path / "demo_rates.csv")
        return sandbox, app

    yield start
    for sandbox in started:
        sandbox.stop()


def expected_calls(sandbox, accounts):
    """Calls a first sync must make: 3 plan lists an account (ACTIVE, SHIPPED, VOIDED), 2 per plan,
    3 per shipment (shipment, items, boxes), 1 per ASIN; and for a seller valued deductive from Amazon,
    one getPricing and one getMyFeesEstimates (its few SKUs fit one call each)."""
    total = 0
    for seller in accounts:
        plans = sandbox.plans(seller)
        asins = {i["asin"] for p in plans for i in p["items"]}
        total += 3 + 2 * len(plans) + 3 * sum(len(p["shipments"]) for p in plans) + len(asins)
        total += 2 if sandbox.data["sellers"][seller].get("listings") else 0
    return total


def test_sync_screens_to_all_three_verdicts_and_an_unchanged_resync_only_lists(world):
    sandbox, app = world()
    reports = sync_accounts(app, lookback_days=None, api_options=FAST)
    assert [(r.account, r.outcome, r.plans) for r in reports] == [("northwind", "ok", 2), ("maple", "ok", 2), ("hinode", "ok", 2)]
    first_calls = sum(sandbox.calls.values())
    assert first_calls == sum(r.calls for r in reports) == expected_calls(sandbox, sandbox.sellers()) == 50
    screened = screen_synced(app)
    verdicts = {r.shipment_id: r.verdict for r in screened.results}
    assert set(verdicts.values()) == {"blocked", "annotated", "cleared"}
    assert verdicts["FBA15HD0001A"] == verdicts["FBA15MP0001A"] == "cleared" and verdicts["FBA15HD0002A"] == "annotated"
    codes = {r.shipment_id: {f.code for f in r.findings} for r in screened.results}
    assert "ACP_MISSING" in codes["FBA15NW0001A"] and "COS_NO_MAH" in codes["FBA15MP0002A"]
    # VAL_FALLBACK only where it belongs: no agreement (northwind), or the agreed method cannot value an item
    assert {s for s, c in codes.items() if "VAL_FALLBACK" in c} == {"FBA15NW0001A", "FBA15HD0002A"}
    invalid = [r for r in screened.results if "INPUT_INVALID" in codes[r.shipment_id]]
    assert len(invalid) == 1 and "LANTERN-NEW" in invalid[0].findings[0].message

    before = Counter(sandbox.calls)
    again = sync_accounts(app, lookback_days=None, api_options=FAST)
    assert sum(r.plans for r in again) == 0
    # the figure for the report: an unchanged resync of 3 accounts costs 9 calls (one page per status): no
    # pricing or fee call within the same day
    assert sandbox.calls - before == Counter({"listInboundPlans": 9})
    assert screen_synced(app).screened == 0


def test_a_429_storm_loses_no_plan_and_duplicates_none(world):
    faults = Faults(rate_limit=True, rate_scale=100, throttle_probability=0.2, empty_429_ratio=0.5,
                    error_probability=0.05, fail_next=3)
    sandbox, app = world(faults=faults, seed=11, synthetic=("maple", 64))
    # the client runs twice as fast as the server allows, so its own bucket does not hide the limits
    reports = sync_accounts(app, ["maple"], lookback_days=None, api_options={**FAST_RETRY, "rate_scale": 200})
    [report] = reports
    assert report.outcome == "ok", report.message
    print(f"storm: {report.calls} calls, {report.throttled} throttled, {report.retries} retries, "
          f"responses {dict(sandbox.responses)}, {report.seconds} s")
    assert report.throttled > 10 and sandbox.responses[429] == report.throttled
    assert sandbox.responses[503] > 0 and report.retries >= report.throttled
    served = sorted(p["plan"]["inboundPlanId"] for p in sandbox.plans("maple"))
    stored = sorted(r["inbound_plan_id"] for r in app.store.db.query("select inbound_plan_id from spapi_plans"))
    assert stored == served and len(served) == 66
    spapi_ids = [r["spapi_shipment_id"] for r in app.store.db.query("select spapi_shipment_id from spapi_shipments")]
    assert len(spapi_ids) == len(set(spapi_ids)) == 66
    assert app.store.db.execute("select count(*) from shipments").fetchone()[0] == 66
    duplicates = app.store.db.execute(
        "select count(*) from (select shipment_id, msku from items group by 1, 2 having count(*) > 1)").fetchone()[0]
    assert duplicates == 0
    run = app.store.db["sync_runs"].get(report.run_id)
    assert run["throttled"] == report.throttled and run["calls"] == report.calls


def test_screenings_are_recorded_a_batch_a_transaction_each_batch_whole(world, monkeypatch):
    """screen_synced records SCREEN_BATCH screenings a transaction: a failure inside a batch leaves the
    batches before it whole and nothing of its own, and the next run screens what was not recorded."""
    import fba_jp.runner
    from fba_jp.errors import StoreError

    sandbox, app = world(synthetic=("maple", 12))
    sync_accounts(app, ["maple"], lookback_days=None, api_options=FAST)
    shipments = app.store.conn.execute("select count(*) from spapi_shipments").fetchone()[0]
    assert shipments == 14
    monkeypatch.setattr(fba_jp.runner, "SCREEN_BATCH", 5)
    real, written = Store._write_screening, []

    def fail_in_the_second_batch(self, result, *args):
        if len(written) == 7:
            raise StoreError("disk full")
        written.append(result.shipment_id)
        return real(self, result, *args)

    monkeypatch.setattr(Store, "_write_screening", fail_in_the_second_batch)
    with pytest.raises(StoreError, match="disk full"):
        screen_synced(app, ["maple"])
    count = lambda table: app.store.conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: E731
    recorded = {r[0] for r in app.store.conn.execute("select shipment_id from screenings")}
    assert recorded == set(written[:5]) and count("screenings") == 5  # the first batch, not the two after it
    assert {r[0] for r in app.store.conn.execute(
        "select s.shipment_id from finding_rows f join screenings s on s.id = f.screening_id")} <= recorded

    monkeypatch.setattr(Store, "_write_screening", real)
    again = screen_synced(app, ["maple"])
    assert (again.screened, again.unchanged) == (9, 5) and count("screenings") == 14
    assert all(r.screening_id for r in again.results)


def test_a_daemon_run_asked_to_stop_while_screening_stops_with_what_it_screened_recorded_whole(world, monkeypatch):
    """SIGTERM while the daemon screens an account: the run stops before the next shipment (it does not screen
    the rest first), the screenings made so far are recorded whole, status says "stopped", and the next run
    screens the others."""
    import threading

    import fba_jp.runner
    from fba_jp.daemon import run_account
    from fba_jp.runner import Screener

    sandbox, app = world(synthetic=("maple", 12))
    monkeypatch.setattr(fba_jp.runner, "SCREEN_BATCH", 5)
    stop, evaluated, real = threading.Event(), [], Screener.evaluate

    def signal_after_seven(self, *args, **kwargs):
        evaluated.append(args[0].shipment_id)
        if len(evaluated) == 7:
            stop.set()  # what the SIGTERM handler does
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Screener, "evaluate", signal_after_seven)
    factory = lambda: App(app.config_path, app.db_path)  # noqa: E731 - a fresh App per run, as the daemon makes
    assert run_account(factory, "maple", stop) == "stopped"
    assert len(evaluated) == 7
    recorded = [r[0] for r in app.store.conn.execute("select shipment_id from screenings order by id")]
    assert recorded == evaluated  # the batch in flight committed, every screening whole
    assert app.store.db["daemon_accounts"].get("maple")["outcome"] == "stopped"

    monkeypatch.setattr(Screener, "evaluate", real)
    again = screen_synced(app, ["maple"])
    assert (again.screened, again.unchanged) == (7, 7)


def test_a_shipment_whose_changed_plan_cannot_be_read_is_blocked_not_cleared_on_its_old_copy(world):
    """Amazon changed the plan (here the shipment's name) but refused its new copy: the shipment's stored copy is out
    of date, so it is blocked until the plan is read again, and cleared again only once it has been."""
    sandbox, app = world()
    sync_accounts(app, ["maple"], lookback_days=None, api_options=FAST)
    before = {r.shipment_id: r.verdict for r in screen_synced(app, ["maple"]).results}
    entry = sandbox.plans("maple")[0]
    plan_id, shipment = entry["plan"]["inboundPlanId"], entry["shipments"][0]
    cleared = next(sid for sid, verdict in before.items() if verdict == "cleared")
    assert cleared == (shipment["shipment"].get("shipmentConfirmationId") or shipment["shipment"]["shipmentId"])
    sandbox.update_shipment(plan_id, shipment["shipment"]["shipmentId"], name="renamed on Amazon")
    sandbox.faults.bad_plans.add(plan_id)
    [report] = sync_accounts(app, ["maple"], lookback_days=None, api_options=FAST)
    assert report.outcome == "partial"

    stale = {r.shipment_id: r for r in screen_synced(app, ["maple"]).results}[cleared]
    assert stale.verdict == "blocked" and [f.code for f in stale.findings] == ["INPUT_INVALID"]
    assert f"plan {plan_id} could not be read" in stale.findings[0].message
    assert "fba-jp sync --full" in stale.findings[0].remedy

    sandbox.faults.bad_plans.clear()
    sync_accounts(app, ["maple"], full=True, lookback_days=None, api_options=FAST)
    fresh = {r.shipment_id: r for r in screen_synced(app, ["maple"]).results}[cleared]
    assert fresh.verdict == "cleared", [(f.code, f.message) for f in fresh.findings]
    assert app.store.rows("select name from spapi_shipments where shipment_id = ?", [cleared]) == [
        {"name": "renamed on Amazon"}]


def test_a_shipment_whose_data_breaks_the_declaration_builder_is_blocked_and_the_others_screened(world, monkeypatch):
    """An SP-API payload nothing anticipated (here a TypeError deep in building one declaration) costs that
    shipment, INPUT_INVALID, not the whole run of every account."""
    import fba_jp.sync

    sandbox, app = world()
    sync_accounts(app, lookback_days=None, api_options=FAST)
    real = fba_jp.sync.build_declaration

    def breaks_on_one(synced, *args):
        if synced.shipment_id == "FBA15MP0001A":
            raise TypeError("'int' object is not iterable")
        return real(synced, *args)

    monkeypatch.setattr(fba_jp.sync, "build_declaration", breaks_on_one)
    report = screen_synced(app)
    verdicts = {r.shipment_id: r.verdict for r in report.results}
    assert len(verdicts) == 6 and verdicts["FBA15MP0001A"] == "blocked" and verdicts["FBA15HD0001A"] == "cleared"
    [finding] = [f for r in report.results if r.shipment_id == "FBA15MP0001A" for f in r.findings]
    assert finding.code == "INPUT_INVALID"
    assert "could not be turned into a declaration (TypeError: 'int' object is not iterable)" in finding.message


def test_the_dashboards_screen_again_of_a_synced_shipment_screens_it_as_fba_jp_screen_does(world):
    """From the stored SP-API data and the current product master and profile, not the declaration stored at
    the last screening: a plan whose latest copy could not be read blocks it, as the CLI would."""
    import re

    from starlette.testclient import TestClient

    from fba_jp.web.app import create_app

    sandbox, app = world()
    sync_accounts(app, ["hinode"], lookback_days=None, api_options=FAST)
    assert {r.shipment_id: r.verdict for r in screen_synced(app, ["hinode"]).results}["FBA15HD0001A"] == "cleared"
    with app.store.write():
        app.store.conn.execute("update spapi_plans set error = 'HTTP 500 after retries' where account = 'hinode'")
    site = TestClient(create_app(app.config, app.store.path), base_url="http://127.0.0.1", follow_redirects=False)
    page = site.get("/shipments/FBA15HD0001A")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert site.post("/shipments/FBA15HD0001A/rescreen", data={"csrf": csrf}).status_code == 303
    latest = app.store.load_result(app.store.latest_screening("FBA15HD0001A"))
    assert latest.verdict == "blocked" and [f.code for f in latest.findings] == ["INPUT_INVALID"]
    assert "could not be read (HTTP 500 after retries)" in latest.findings[0].message


def test_a_plan_the_api_refuses_is_skipped_and_the_rest_synced(world):
    sandbox, app = world()
    awd = sandbox.plans("maple")[0]["plan"]["inboundPlanId"]
    sandbox.faults.bad_plans.add(awd)
    [report] = sync_accounts(app, ["maple"], lookback_days=None)
    assert report.outcome == "partial" and report.plans == 1 and len(report.errors) == 1 and awd in report.errors[0]
    assert app.store.db["spapi_plans"].get(awd)["error"].startswith("getInboundPlan: HTTP 400 BadRequest")
    assert app.store.db.execute("select count(*) from spapi_shipments where account = 'maple'").fetchone()[0] == 1


def test_update_shipment_name_is_stored_and_the_next_sync_refetches_the_plan(world):
    sandbox, app = world()
    sync_accounts(app, ["hinode"], lookback_days=None)
    entry = sandbox.plans("hinode")[0]
    plan_id, sid = entry["plan"]["inboundPlanId"], entry["shipments"][0]["shipment"]["shipmentId"]
    with SpApi(app.config.account("hinode")) as api:
        api.update_shipment_name(plan_id, sid, "fba-jp: cleared")
        assert api.get_shipment(plan_id, sid)["name"] == "fba-jp: cleared"
    [report] = sync_accounts(app, ["hinode"], lookback_days=None)
    assert report.plans == 1
    assert app.store.db["shipments"].get("FBA15HD0001A")["name"] == "fba-jp: cleared"


def test_gate_plan_screens_one_plan_from_sp_api(world, run_cli, tmp_path):
    sandbox, app = world()
    app.store.close()
    serum = next(p for p in sandbox.plans("maple") if p["plan"]["status"] == "SHIPPED")["plan"]["inboundPlanId"]
    stationery = sandbox.plans("hinode")[0]["plan"]["inboundPlanId"]
    common = ("--config", tmp_path / "config.toml", "--db", tmp_path / "fba_jp.db", "--output", "json")
    blocked = run_cli("gate", "--plan", serum, "--account", "maple", *common)
    assert blocked.exit_code == 1, blocked.stderr
    [result] = json.loads(blocked.stdout)["results"]
    assert result["shipment_id"] == "FBA15MP0002A" and result["source"].startswith("spapi:maple/")
    assert "COS_NO_MAH" in {f["code"] for f in result["findings"]}
    cleared = run_cli("gate", "--plan", stationery, "--account", "hinode", *common)
    assert cleared.exit_code == 0 and json.loads(cleared.stdout)["summary"]["cleared"] == 1
    unknown = run_cli("gate", "--plan", "wfnosuchplan", "--account", "hinode", *common)
    assert unknown.exit_code == 3 and "wfnosuchplan" in unknown.stderr and "Traceback" not in unknown.stderr
    ambiguous = run_cli("gate", "--plan", stationery, *common)
    assert ambiguous.exit_code == 2 and "--account" in ambiguous.stderr


def test_sync_screen_and_run_commands(world, run_cli, tmp_path):
    sandbox, app = world()
    app.store.close()
    common = ("--config", tmp_path / "config.toml", "--db", tmp_path / "fba_jp.db")
    synced = run_cli("sync", "--account", "hinode", "--lookback-days", "3650", *common)
    assert synced.exit_code == 0 and "hinode" in synced.stdout and "ok" in synced.stdout
    screened = run_cli("screen", "--account", "hinode", *common, "--output", "json")
    summary = json.loads(screened.stdout)["summary"]
    assert screened.exit_code == 0 and (summary["cleared"], summary["annotated"]) == (1, 1)
    assert "screened 2 shipment(s)" in screened.stderr
    run = run_cli("run", *common, "--lookback-days", "3650", "--output", "json")
    # northwind and maple have blocked shipments, and northwind one that could not be screened (INPUT_INVALID)
    assert run.exit_code == 3
    assert json.loads(run.stdout)["summary"]["shipments"] == 6


def test_missing_credentials_fail_sync_with_the_variable_to_set(world, run_cli, tmp_path, monkeypatch):
    world()
    monkeypatch.delenv("FBA_JP_DEMO_MAPLE_REFRESH_TOKEN")
    result = run_cli("sync", "--account", "maple", "--config", tmp_path / "config.toml", "--db", tmp_path / "x.db")
    assert result.exit_code == 3
    assert "FBA_JP_DEMO_MAPLE_REFRESH_TOKEN is not set" in result.stderr
    with Store(tmp_path / "x.db") as store:
        [run] = store.db["sync_runs"].rows
    assert run["outcome"] == "failed" and "FBA_JP_DEMO_MAPLE_REFRESH_TOKEN" in run["message"]


def test_sandbox_rate_limits_answer_429_with_and_without_errors_body():
    for ratio, body in ((0.0, b'"QuotaExceeded"'), (1.0, b"")):
        with Sandbox(faults=Faults(rate_limit=True, empty_429_ratio=ratio), seed=1) as sandbox:
            token = httpx.post(sandbox.token_url, data={"grant_type": "refresh_token", "client_id": "a", "client_secret": "b",
                                                        "refresh_token": sandbox.issue_refresh_token("maple")}).json()["access_token"]
            with httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": token}) as client:
                answers = [client.get("/catalog/2022-04-01/items/B0MPTOWEL1", params={"marketplaceIds": "A1VC38T7YXB528"})
                           for _ in range(4)]  # getCatalogItem: burst 2
        assert [a.status_code for a in answers] == [200, 200, 429, 429]
        assert all((body in a.content) if body else a.content == b"" for a in answers[2:])


def test_demo_end_to_end_without_credentials_and_without_leaking_secrets(run_cli, tmp_path, monkeypatch, caplog):
    captured, sandboxes = [], []
    real_credentials = fba_jp.demo.demo_credentials

    def spy_credentials(sandbox):
        values = real_credentials(sandbox)
        captured.extend(v for k, v in values.items() if "APP_ID" not in k)
        return values

    class SpySandbox(Sandbox):
        def start(self, port=0):
            sandboxes.append(self)
            return super().start(port)

    monkeypatch.setattr(fba_jp.demo, "demo_credentials", spy_credentials)
    monkeypatch.setattr(fba_jp.demo, "Sandbox", SpySandbox)
    caplog.set_level(logging.DEBUG)
    for name in ("sp_api", "sp_api.base.client", "httpx", "httpcore", "fba_jp"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    db, report = tmp_path / "demo.db", tmp_path / "demo.html"

    first = run_cli("demo", "--db", db, "--report", report)
    assert first.exit_code == 0, first.stderr
    for verdict in ("BLOCKED", "ANNOTATED", "CLEARED"):
        assert verdict in first.stdout
    assert "6 shipments: 3 blocked, 1 annotated, 2 cleared" in first.stdout
    html = report.read_text(encoding="utf-8")
    assert "FBA15HD0001A" in html and "COS_NO_MAH" in html
    # shipping documents: final for the cleared shipment, a draft for a blocked one, linked from the report
    documents = sorted(p.name for p in (tmp_path / "demo-documents").iterdir())
    assert "FBA15HD0001A-invoice.pdf" in documents and "FBA15MP0002A-invoice-DRAFT.pdf" in documents
    assert 'href="demo-documents/FBA15HD0001A-invoice.pdf"' in html
    second = run_cli("demo", "--db", db, "--report", report)
    assert second.exit_code == 0 and "northwind 0 changed plan(s)" in second.stdout
    assert "9 SP-API calls" in second.stdout and "screened 0 shipment(s)" in second.stdout

    secrets = captured + [t for s in sandboxes for t in s.access_tokens]
    assert len(secrets) == 2 * (4 + 3)  # per run: 3 refresh tokens + 1 client secret, 3 access tokens
    assert "Request Headers" not in caplog.text and "HTTP Request" in caplog.text  # logging really was on
    haystacks = {"logs": caplog.text, "stdout": first.stdout + second.stdout, "stderr": first.stderr + second.stderr,
                 "report": html}
    for path in tmp_path.glob("demo.db*"):
        haystacks[path.name] = path.read_bytes().decode("latin-1")
    for secret in secrets:
        for where, text in haystacks.items():
            assert secret not in text, f"a secret reached {where}"


def test_progress_is_shown_on_a_terminal_and_quiet_otherwise(world, run_cli, tmp_path):
    import io

    from fba_jp.cli.common import TerminalProgress, progress_for_terminal

    sandbox, app = world()
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    sync_accounts(app, ["maple"], lookback_days=None, progress=progress, api_options=FAST)
    progress.done()
    lines = stream.getvalue().split("\r\x1b[K")
    assert "maple: ACTIVE listed 1 plans, 1 changed" in lines and any(line.startswith("maple: SHIPPED plan 1/1 ") for line in lines)
    assert lines[-1] == ""  # the status line is cleared at the end
    assert progress_for_terminal() is None  # pytest's stderr is not a terminal
    app.store.close()
    quiet = run_cli("sync", "--account", "hinode", "--config", tmp_path / "config.toml", "--db", tmp_path / "fba_jp.db")
    assert quiet.exit_code == 0 and "\r" not in quiet.stderr


def test_demo_with_faults_recovers_from_throttling_and_5xx(run_cli, tmp_path):
    result = run_cli("demo", "--faults", "--db", tmp_path / "storm.db", "--report", tmp_path / "storm.html")
    assert result.exit_code == 0, result.stderr
    assert "6 shipments: 3 blocked, 1 annotated, 2 cleared" in result.stdout
    throttled = int(result.stdout.split(" throttled")[0].rsplit(", ", 1)[1])
    assert throttled > 0


def test_gate_plan_with_no_open_shipment_says_so(world, run_cli, tmp_path, monkeypatch):
    import fba_jp.sync

    world()
    monkeypatch.setattr(fba_jp.sync, "declarations_for_plan", lambda app, plan_id, account: iter(()))
    result = run_cli("gate", "--plan", "wf-all-cancelled", "--config", tmp_path / "config.toml",
                     "--db", tmp_path / "fba_jp.db", "--account", "maple")
    assert result.exit_code == 0
    assert result.stderr.strip() == ("fba-jp: inbound plan wf-all-cancelled has no open shipment to screen (each is "
                                     "cancelled, shipped or closed); nothing was recorded")


def test_gate_plan_before_placement_screens_the_plans_items(world, run_cli, tmp_path):
    sandbox, app = world()
    app.store.close()
    template = sandbox.plans("northwind")[0]
    plan = {**template["plan"], "inboundPlanId": "wfnoplacementyet0001", "lastUpdatedAt": "2026-11-20T00:00:00Z",
            "placementOptions": []}
    packed = template["shipments"][0]["boxes"]  # before placement the boxes belong to the plan
    sandbox.plans("northwind").append({"plan": plan, "items": template["items"], "shipments": [], "boxes": packed})
    result = run_cli("gate", "--plan", "wfnoplacementyet0001", "--account", "northwind", "--config",
                     tmp_path / "config.toml", "--db", tmp_path / "fba_jp.db", "--output", "json")
    [screened] = json.loads(result.stdout)["results"]
    assert screened["shipment_id"] == "wfnoplacementyet0001" and screened["source"].endswith("/plan-items")
    assert "ACP_MISSING" in {f["code"] for f in screened["findings"]} and result.exit_code == 1
    assert sandbox.calls["listInboundPlanBoxes"] == 1 and sandbox.calls["listShipmentBoxes"] == 0
    with Store(tmp_path / "fba_jp.db") as store:
        [row] = store.rows("select * from shipments where shipment_id = 'wfnoplacementyet0001'")
        declaration = json.loads(store.latest_declaration(row))
    assert [b["box_id"] for b in declaration["boxes"]] == [b["boxId"] for b in packed]


def test_freight_from_a_plans_boxes_before_placement_names_listinboundplanboxes_as_its_source(world, run_cli, tmp_path):
    sandbox, app = world()
    app.store.close()
    template = sandbox.plans("maple")[0]  # maple: air freight per chargeable kg from Amazon's box data
    plan = {**template["plan"], "inboundPlanId": "wfnoplacementyet0002", "lastUpdatedAt": "2026-11-20T00:00:00Z"}
    sandbox.plans("maple").append({"plan": plan, "items": template["items"], "shipments": [],
                                   "boxes": template["shipments"][0]["boxes"]})
    run_cli("gate", "--plan", "wfnoplacementyet0002", "--account", "maple", "--config", tmp_path / "config.toml",
            "--db", tmp_path / "fba_jp.db", "--output", "json")
    with Store(tmp_path / "fba_jp.db") as store:
        [row] = store.rows("select * from shipments where shipment_id = 'wfnoplacementyet0002'")
        declaration = json.loads(store.latest_declaration(row))
    [freight] = [c for c in declaration["costs"] if c["kind"] == "freight"]
    assert "listInboundPlanBoxes" in freight["source"] and "listShipmentBoxes" not in freight["source"]


def test_screen_again_says_why_when_the_accounts_product_master_cannot_be_read(world, tmp_path):
    """Not a bare "cannot be screened again": the products.csv problem `fba-jp screen` would print, and nothing recorded."""
    import re

    from starlette.testclient import TestClient

    from fba_jp.web.app import create_app

    sandbox, app = world()
    sync_accounts(app, ["hinode"], lookback_days=None, api_options=FAST)
    screen_synced(app, ["hinode"])
    before = app.store.latest_screening("FBA15HD0001A")["id"]
    app.config.account("hinode").products = str(tmp_path / "gone.csv")
    site = TestClient(create_app(app.config, app.store.path), base_url="http://127.0.0.1", follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', site.get("/shipments/FBA15HD0001A").text).group(1)
    refused = site.post("/shipments/FBA15HD0001A/rescreen", data={"csrf": csrf})
    assert refused.status_code == 400 and "gone.csv" in refused.text and "products" in refused.text
    assert app.store.latest_screening("FBA15HD0001A")["id"] == before


def test_an_unchanged_resync_under_a_rules_override_is_not_screened_again(world):
    """A [rules] override that changed the screenings is part of what was stored: screening the same synced
    inputs with the same config again finds them unchanged (it wrote a new screening of every one before, as
    the stored result read back without its rule_overrides never equalled a fresh one)."""
    import csv

    from fba_jp.config import RulesConfig

    sandbox, app = world()
    sync_accounts(app, ["maple"], lookback_days=None, api_options=FAST)
    with open(app.config.resolve("products.csv"), encoding="utf-8") as file:
        chapters = sorted({row["hs_code"][:4] for row in csv.DictReader(file) if row["hs_code"]})
    app.config.rules = RulesConfig.model_validate({"regimes": {"radio": {"warn": chapters}}})
    first = screen_synced(app, ["maple"], force=True)
    assert first.screened and all(r.rule_overrides for r in first.results)
    count = lambda: app.store.conn.execute("select count(*) from screenings").fetchone()[0]  # noqa: E731
    before = count()
    again = screen_synced(app, ["maple"])
    assert (again.screened, again.unchanged) == (0, first.screened) and count() == before
    assert [r.rule_overrides for r in again.results] == [r.rule_overrides for r in first.results]
