"""Accounts synced side by side (``sync_accounts``): bounded, each with its own client and connection,
nothing lost or stored twice, and ``run`` screening each account as soon as its sync is done."""

import subprocess
import sys
import threading

import pytest
from sp_api.auth.access_token_client import cache as token_cache

import fba_jp.sync as sync
from fba_jp.app import App
from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.sandbox import Sandbox
from fba_jp.spapi import RetryPolicy

FAST = {"retry": RetryPolicy(tries=6, base_delay=0.001, max_delay=0.01), "rate_scale": 50}
ACCOUNTS = ["northwind", "maple", "hinode"]


@pytest.fixture
def world(tmp_path, monkeypatch):
    token_cache.clear()
    with Sandbox(seed=3) as sandbox:
        sandbox.add_synthetic_plans("maple", 4)
        config = write_demo_config(tmp_path, sandbox)
        for name, value in demo_credentials(sandbox).items():
            monkeypatch.setenv(name, value)
        yield sandbox, App(str(config), str(tmp_path / "fba_jp.db"))
    token_cache.clear()


def test_accounts_sync_side_by_side_within_the_bound_and_nothing_is_lost(world, monkeypatch):
    sandbox, app = world
    running, most, lock = [], [0], threading.Lock()
    together = threading.Barrier(2, timeout=30)  # two accounts must be in flight at once to pass it
    real = sync.sync_account

    def observed(store, account, api, **options):
        with lock:
            running.append(account.name)
            most[0] = max(most[0], len(running))
        try:
            if account.name in ("northwind", "maple"):
                together.wait()
            assert store is not app.store  # each worker has its own connection
            return real(store, account, api, **options)
        finally:
            with lock:
                running.remove(account.name)

    monkeypatch.setattr(sync, "sync_account", observed)
    finished = []
    reports = sync.sync_accounts(app, ACCOUNTS, lookback_days=None, api_options=FAST, concurrency=2,
                                 on_done=lambda r: finished.append((r.account, threading.current_thread())))

    assert most[0] == 2  # side by side, never more than asked
    assert [r.account for r in reports] == ACCOUNTS  # in the accounts' order, whatever finished first
    assert all(r.outcome == "ok" for r in reports), [r.message for r in reports]
    assert {a for a, _ in finished} == set(ACCOUNTS)
    assert all(thread is threading.main_thread() for _, thread in finished)  # on_done runs in the caller
    db = app.store.db
    for seller in ACCOUNTS:
        plans, shipments, _ = sandbox.expected_sync(seller)
        stored = [r[0] for r in db.execute("select inbound_plan_id from spapi_plans where account = ?", [seller])]
        assert sorted(stored) == sorted(plans)  # each plan once
        stored = [r[0] for r in db.execute("select spapi_shipment_id from spapi_shipments where account = ?", [seller])]
        assert sorted(stored) == sorted(shipments)
    runs = db.execute("select account, outcome from sync_runs order by account").fetchall()
    assert runs == sorted((a, "ok") for a in ACCOUNTS)


def test_a_failing_account_stops_the_others_at_their_next_plan(world, monkeypatch):
    _, app = world
    real = sync._sync_plan
    started = threading.Event()

    def sync_plan(store, account, api, summary, status, report):
        if account.name == "northwind":
            raise RuntimeError("boom")  # a bug, not an SP-API fault: the whole run gives up
        started.set()
        return real(store, account, api, summary, status, report)

    monkeypatch.setattr(sync, "_sync_plan", sync_plan)
    with pytest.raises(RuntimeError, match="boom"):
        sync.sync_accounts(app, ACCOUNTS, lookback_days=None, api_options=FAST, concurrency=3)
    outcomes = dict(app.store.db.execute("select account, outcome from sync_runs").fetchall())
    assert outcomes["northwind"] == "interrupted"
    assert "running" not in outcomes.values()  # every worker recorded how its run ended


def test_the_token_cache_holds_many_accounts():
    # the library sizes its shared token cache when it is first imported: fba_jp.spapi comes first
    out = subprocess.run([sys.executable, "-c", "import fba_jp.spapi\n"
                          "from sp_api.auth import access_token_client as c\nprint(c.cache.maxsize)"],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 1000


def test_concurrency_is_configured_and_bounded(tmp_path):
    from fba_jp.config import load_config
    from fba_jp.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text("[sync]\nconcurrent_accounts = 4\n")
    assert load_config(path).sync.concurrent_accounts == 4
    path.write_text("[sync]\nconcurrent_accounts = 0\n")
    with pytest.raises(ConfigError, match="concurrent_accounts"):
        load_config(path)
