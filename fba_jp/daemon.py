"""``fba-jp daemon``: sync, screen and act for every account on a schedule (APScheduler 3.x).

One job per account (explicit id, ``replace_existing``, ``coalesce``, ``max_instances=1``, a set
``misfire_grace_time`` and jitter so a hundred accounts do not fire together). Each run opens its own
database connection, so accounts run in parallel threads without sharing a SQLite connection. An
account that fails (bad token, 403, Amazon down) is recorded and backed off exponentially; the others
keep running. SIGTERM/SIGINT stop the scheduler after the current plan's transaction: nothing is left
half-written, and the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import __version__
from .actions import act_on
from .config import Config, ConfigError
from .errors import StopRequested
from .store import Store, utcnow

log = logging.getLogger("fba_jp.daemon")
MAX_BACKOFF = timedelta(hours=6)
HEARTBEAT_SECONDS = 30


def interval_of(config: Config) -> timedelta:
    schedule = config.schedule
    if schedule.interval_seconds:
        return timedelta(seconds=schedule.interval_seconds)
    return timedelta(minutes=schedule.interval_minutes or 30)


def trigger_for(config: Config):
    schedule = config.schedule
    jitter = min(schedule.jitter_seconds, int(interval_of(config).total_seconds() // 2)) or None
    if schedule.cron:
        try:
            trigger = CronTrigger.from_crontab(schedule.cron, timezone=timezone.utc)
        except ValueError as exc:
            raise ConfigError(f"schedule.cron: {exc} (got {schedule.cron!r}); use five fields, e.g. \"*/30 * * * *\"") from None
        trigger.jitter = jitter  # from_crontab() takes no jitter argument
        return trigger
    return IntervalTrigger(seconds=interval_of(config).total_seconds(), jitter=jitter, timezone=timezone.utc)


def run_account(app_factory, account_name: str, stop: threading.Event) -> str:
    """One scheduled run for one account: sync → screen → actions. Returns the outcome."""
    from .sync import screen_synced, sync_accounts

    app = app_factory()
    store = app.store
    try:
        state = store.db["daemon_accounts"].get(account_name) if _has(store, account_name) else None
        now = datetime.now(timezone.utc)
        if state and state["backoff_until"] and datetime.fromisoformat(state["backoff_until"]) > now:
            return "backing-off"
        _record(store, account_name, last_started_at=utcnow())

        def checkpoint(_message: str) -> None:
            if stop.is_set():
                raise StopRequested

        reports = sync_accounts(app, [account_name], progress=checkpoint)
        report = reports[0]
        if stop.is_set():
            raise StopRequested
        screened = screen_synced(app, [account_name])
        act_on(store, app.plugins, app.config, screened.results, account=account_name)
        if report.failed or screened.errors:
            failures = (state["consecutive_failures"] or 0) + 1 if state else 1
            backoff = min(interval_of(app.config) * 2 ** (failures - 1), MAX_BACKOFF)
            message = report.message or "; ".join(screened.errors)
            _record(store, account_name, last_finished_at=utcnow(), outcome="failed", message=message,
                    consecutive_failures=failures, backoff_until=(now + backoff).isoformat(timespec="seconds"))
            log.warning("account %s failed (%d in a row, next try after %s): %s", account_name, failures, backoff, message)
            return "failed"
        outcome = "partial" if report.errors else "ok"
        _record(store, account_name, last_finished_at=utcnow(), outcome=outcome,
                message="; ".join(report.errors)[:2000] or None, consecutive_failures=0, backoff_until=None)
        log.info("account %s: %s (%d plans, %d screened)", account_name, outcome, report.plans, screened.screened)
        return outcome
    except StopRequested:
        _record(store, account_name, last_finished_at=utcnow(), outcome="stopped", message="daemon stopping")
        return "stopped"
    finally:
        store.close()


def _has(store: Store, account: str) -> bool:
    return bool(store.db.execute("select 1 from daemon_accounts where account = ?", [account]).fetchone())


def _record(store: Store, account: str, **columns) -> None:
    with store.write():
        store.db["daemon_accounts"].upsert({"account": account, **columns}, pk="account")


def heartbeat(store_path: str, state: str = "running") -> None:
    store = Store(store_path)
    try:
        with store.write():
            store.db["heartbeat"].upsert(
                {"id": 1, "pid": os.getpid(), "at": utcnow(), "version": __version__, "state": state}, pk="id"
            )
    finally:
        store.close()


def run_daemon(app_factory, install_signal_handlers: bool = True) -> int:
    """Run until SIGTERM/SIGINT. ``app_factory()`` returns a fresh :class:`fba_jp.app.App` per job."""
    app = app_factory()
    config = app.config
    if not config.accounts:
        raise ConfigError("the daemon needs at least one [[accounts]] table in the config (see config.example.toml)")
    store_path = app.store.path
    trigger = trigger_for(config)
    stop = threading.Event()
    workers = max(1, min(4, len(config.accounts)))
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(workers)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": max(30, int(interval_of(config).total_seconds() // 2))},
        timezone=timezone.utc,
    )
    start = datetime.now(timezone.utc)
    for account in config.accounts:
        scheduler.add_job(
            run_account, trigger, args=[app_factory, account.name, stop], id=f"account:{account.name}",
            name=account.name, replace_existing=True, next_run_time=start,
        )
    scheduler.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS), args=[store_path], id="heartbeat",
                      replace_existing=True, next_run_time=start)

    def record_next_run(event) -> None:
        # Never call back into the scheduler here (get_job takes its job-store lock, which shutdown()
        # holds while it waits for the very job whose event this is): compute from the trigger instead.
        if not event.job_id.startswith("account:"):
            return
        account = event.job_id.split(":", 1)[1]
        following = trigger.get_next_fire_time(event.scheduled_run_time, datetime.now(timezone.utc))
        store = Store(store_path)
        try:
            columns = {"next_run_at": None if stop.is_set() or following is None else following.isoformat(timespec="seconds")}
            if event.code == EVENT_JOB_ERROR:
                log.error("account job %s crashed: %s", event.job_id, event.exception)
                columns.update(outcome="error", message=f"{type(event.exception).__name__}: {event.exception}",
                               last_finished_at=utcnow())
            _record(store, account, **columns)
        finally:
            store.close()

    scheduler.add_listener(record_next_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def request_stop(signum, _frame) -> None:
        log.warning("received %s: finishing the current transaction, then stopping", signal.Signals(signum).name)
        stop.set()
        # shutdown(wait=True) from a signal handler would block the loop it interrupts; stop it from a thread
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    if install_signal_handlers:
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    app.store.close()
    log.warning("fba-jp %s daemon: %d account(s), pid %d, database %s", __version__, len(config.accounts), os.getpid(), store_path)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        stop.set()
        scheduler.shutdown(wait=True)
    heartbeat(store_path, state="stopped")
    log.warning("daemon stopped")
    return 0


def status_rows(store: Store) -> dict:
    """What ``fba-jp status`` shows: the heartbeat and every account's last run, outcome and next run."""
    beat = store.db["heartbeat"].get(1) if store.db.execute("select 1 from heartbeat where id = 1").fetchone() else None
    accounts = list(store.db.query("select * from daemon_accounts order by account"))
    last_sync = {
        r["account"]: r for r in store.db.query(
            "select account, max(id) as id, outcome, calls, plans, throttled, errors, finished_at from sync_runs group by account"
        )
    }
    for row in accounts:
        row["last_sync"] = last_sync.get(row["account"])
    return {"heartbeat": beat, "accounts": accounts}
