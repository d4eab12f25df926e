"""``fba-jp daemon``: sync, screen and act for every account on a schedule (APScheduler 3.x).

One job per account (explicit id, ``replace_existing``, ``coalesce``, ``max_instances=1``, a set
``misfire_grace_time`` and jitter so a hundred accounts do not fire together). Each run opens its own
database connection, so accounts run in parallel threads without sharing a SQLite connection. An
account that fails (bad token, 403, Amazon down) is recorded and backed off exponentially; the others
keep running. Whatever a run fails on becomes one line in ``fba-jp status`` (kept in memory and written
by the next heartbeat when the database itself is locked or full) and one log line, no traceback.

**One daemon per database.** The ``heartbeat`` row is a lease: a starting daemon takes it in a write
transaction, renews it every :data:`HEARTBEAT_SECONDS`, and marks it ``stopped`` on exit. A second daemon
**refuses to start**, in one line naming the first one's pid (exit 3), while that process is alive and its
heartbeat is under :data:`LEASE_SECONDS` old; a lease whose process is gone or silent that long is taken
over. Refusing, rather than waiting as a standby, keeps one obvious owner (systemd restarts a daemon that
exited; a standby would hide a second unit started by mistake). A daemon that finds its lease taken over
stops. Before taking the lease, the daemon runs ``PRAGMA quick_check`` and refuses a damaged database.

**Stopping.** SIGTERM/SIGINT set one stop event that every wait of a run wakes on: SP-API rate-limit
waits and retry backoff (the client's injected ``sleep``), actions' backoff (``context.sleep``), the
scheduler itself. A run then stops at that wait, between two plans' transactions, or before screening
the next shipment (the screenings made so far are committed, each whole), so the plan in flight is
either committed or not started. A run stuck where no event can reach (an HTTP read, SQLite's
busy wait) is abandoned after :data:`STOP_GRACE_SECONDS`: the process exits anyway, and SQLite rolls
back its uncommitted transaction. The daemon exits 0 within 5 s under any fault.
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
from .errors import FbaJpError, LeaseError, StopRequested, StoreError
from .processes import process_exists
from .redact import redact
from .store import Store, utcnow

log = logging.getLogger("fba_jp.daemon")
MAX_BACKOFF = timedelta(hours=6)
HEARTBEAT_SECONDS = 30
LEASE_SECONDS = 3 * HEARTBEAT_SECONDS  # a heartbeat older than this: its daemon is gone or hung
# how long a stopping daemon waits for runs in flight; with the time to record the stop, it exits within
# 5 s whatever the fault (systemd's TimeoutStopSec is 60 s)
STOP_GRACE_SECONDS = 3.0


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


class Jobs:
    """How many account runs are in flight, so a stopping daemon can wait for them (a little)."""

    def __init__(self):
        self.running = 0
        self.changed = threading.Condition()

    def __enter__(self):
        with self.changed:
            self.running += 1

    def __exit__(self, *exc):
        with self.changed:
            self.running -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.running == 0, timeout)


class Unrecorded:
    """Account-status updates that could not be written (the database was locked or full), kept until the
    next heartbeat can write them, so ``fba-jp status`` shows every failed run once the database is back."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: dict[str, dict] = {}

    def keep(self, account: str, columns: dict) -> None:
        with self.lock:
            self.rows[account] = {**self.rows.get(account, {}), **columns}

    def flush(self, store: Store) -> None:
        with self.lock:
            rows, self.rows = self.rows, {}
        for account, columns in rows.items():
            try:
                _record(store, account, **columns)
            except StoreError:
                self.keep(account, columns)
                raise


def stop_aware_sleep(stop: threading.Event):
    """A ``sleep`` for the SP-API client (rate-limit waits, retry backoff) that a stop request wakes."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise StopRequested

    return sleep


def run_account(app_factory, account_name: str, stop: threading.Event, unrecorded: Unrecorded | None = None) -> str:
    """One scheduled run for one account: sync → screen → actions. Returns the outcome; never raises.

    Whatever fails (SP-API, a locked or full database, a bug) becomes one line in ``daemon_accounts``
    (``fba-jp status``) and one log line; a traceback only at DEBUG.
    """
    from .sync import screen_synced, sync_accounts

    unrecorded = unrecorded if unrecorded is not None else Unrecorded()
    store = None
    try:
        app = app_factory()
        store = app.store
        state = store.db["daemon_accounts"].get(account_name) if _has(store, account_name) else None
        now = datetime.now(timezone.utc)
        if state and state["backoff_until"] and datetime.fromisoformat(state["backoff_until"]) > now:
            return "backing-off"
        _record(store, account_name, last_started_at=utcnow())

        def checkpoint(_message: str) -> None:
            if stop.is_set():
                raise StopRequested

        reports = sync_accounts(app, [account_name], progress=checkpoint, api_options={"sleep": stop_aware_sleep(stop)})
        report = reports[0]
        if stop.is_set():
            raise StopRequested
        screened = screen_synced(app, [account_name], stop=stop)
        act_on(store, app.plugins, app.config, screened.results, account=account_name, stop=stop)
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
        _record_or_keep(store, unrecorded, account_name, last_finished_at=utcnow(), outcome="stopped",
                        message="daemon stopping")
        return "stopped"
    except Exception as exc:  # noqa: BLE001 - the scheduler would print a traceback and status would not know
        message = str(exc) if isinstance(exc, FbaJpError) else f"internal error: {type(exc).__name__}: {exc}"
        message = redact(message.splitlines()[0] if message else type(exc).__name__)
        log.error("account %s: run failed: %s", account_name, message)
        log.debug("account %s: traceback of the failed run", account_name, exc_info=True)
        _record_or_keep(store, unrecorded, account_name, last_finished_at=utcnow(), outcome="error", message=message[:2000])
        return "error"
    finally:
        if store is not None:
            store.close()


def _has(store: Store, account: str) -> bool:
    return bool(store.db.execute("select 1 from daemon_accounts where account = ?", [account]).fetchone())


def _record(store: Store, account: str, **columns) -> None:
    with store.write():
        store.db["daemon_accounts"].upsert({"account": account, **columns}, pk="account")


def _record_or_keep(store: Store | None, unrecorded: Unrecorded, account: str, **columns) -> None:
    if store is not None:
        try:
            _record(store, account, **columns)
            return
        except StoreError:
            pass
    unrecorded.keep(account, columns)


# --------------------------------------------------------------------------- one daemon per database


def _age(at: str | None) -> float:
    if not at:
        return float("inf")
    return (datetime.now(timezone.utc) - datetime.fromisoformat(at)).total_seconds()


def lease_holder(store: Store) -> dict | None:
    """The heartbeat row if a *live* daemon other than this process holds the database's lease."""
    row = store.db.execute("select pid, at, state from heartbeat where id = 1").fetchone()
    if row is None or row[2] != "running" or row[0] == os.getpid():
        return None
    if not process_exists(row[0]) or _age(row[1]) > LEASE_SECONDS:
        return None  # ended without stopping cleanly, or hung for three heartbeats: the lease is free
    return {"pid": row[0], "at": row[1], "age": _age(row[1])}


def acquire_lease(store: Store) -> None:
    """Take the database's daemon lease, or raise :class:`LeaseError` naming the daemon that holds it."""
    with store.write():
        holder = lease_holder(store)
        if holder is not None:
            raise LeaseError(
                f"{store.path}: another fba-jp daemon (pid {holder['pid']}, last heartbeat {holder['age']:.0f} s ago) "
                "already serves this database; stop it first, or give this one its own database (docs/deploy.md)"
            )
        now = utcnow()
        store.db["heartbeat"].upsert(
            {"id": 1, "pid": os.getpid(), "at": now, "started_at": now, "version": __version__, "state": "running"}, pk="id"
        )


def renew_lease(store_path: str, stop_daemon, unrecorded: Unrecorded) -> None:
    """The heartbeat job: renew the lease (stop if another daemon took it over) and write kept status rows."""
    try:
        store = Store(store_path, timeout=HEARTBEAT_SECONDS / 3)
        try:
            with store.write():
                row = store.db.execute("select pid from heartbeat where id = 1").fetchone()
                if row is None or row[0] == os.getpid():
                    store.db.execute("update heartbeat set at = ?, state = 'running' where id = 1", [utcnow()])
            if row is not None and row[0] != os.getpid():
                log.error("another daemon (pid %s) holds this database's lease now: this daemon's heartbeats were "
                          "more than %d s late; stopping", row[0], LEASE_SECONDS)
                stop_daemon()
                return
            unrecorded.flush(store)
        finally:
            store.close()
    except StoreError as exc:
        log.warning("heartbeat not recorded: %s", exc)


def release_lease(store_path: str) -> None:
    """Mark the lease ``stopped`` if this process still holds it; never wait long for a locked database."""
    try:
        store = Store(store_path, timeout=1)
        try:
            with store.write():
                store.db.execute("update heartbeat set state = 'stopped', at = ? where id = 1 and pid = ?",
                                 [utcnow(), os.getpid()])
        finally:
            store.close()
    except StoreError as exc:
        log.warning("could not record the stop: %s", exc)


def run_daemon(app_factory, install_signal_handlers: bool = True) -> int:
    """Run until SIGTERM/SIGINT. ``app_factory()`` returns a fresh :class:`fba_jp.app.App` per job.

    Refuses to start (:class:`LeaseError`, :class:`StoreError`) when another daemon serves the database or
    ``PRAGMA quick_check`` finds it damaged.
    """
    app = app_factory()
    config = app.config
    if not config.accounts:
        raise ConfigError("the daemon needs at least one [[accounts]] table in the config (see config.example.toml)")
    store_path = app.store.path
    problems = app.store.check(quick=True)
    if problems:
        raise StoreError(f"{store_path}: the database is damaged (PRAGMA quick_check: {problems[0]}); "
                         "run `fba-jp db check` and restore it from a backup (docs/deploy.md)")
    acquire_lease(app.store)
    trigger = trigger_for(config)
    stop = threading.Event()
    jobs, unrecorded = Jobs(), Unrecorded()
    # accounts run side by side ([sync] concurrent_accounts): each waits on its own seller's SP-API limits.
    # The lease heartbeat has a thread of its own, so busy accounts can never make it late.
    workers = min(len(config.accounts), config.sync.concurrent_accounts)
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(workers), "lease": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": max(30, int(interval_of(config).total_seconds() // 2))},
        timezone=timezone.utc,
    )

    def stop_daemon() -> None:
        stop.set()  # every wait in a run wakes on this (rate limits, backoff, actions' sleeps)
        # shutdown() takes locks the main loop may hold: never from the signal handler itself
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}, daemon=True).start()

    def account_job(account_name: str) -> str:
        with jobs:
            return run_account(app_factory, account_name, stop, unrecorded)

    start = datetime.now(timezone.utc)
    for account in config.accounts:
        scheduler.add_job(
            account_job, trigger, args=[account.name], id=f"account:{account.name}",
            name=account.name, replace_existing=True, next_run_time=start,
        )
    scheduler.add_job(renew_lease, IntervalTrigger(seconds=HEARTBEAT_SECONDS), args=[store_path, stop_daemon, unrecorded],
                      id="heartbeat", replace_existing=True, next_run_time=start + timedelta(seconds=HEARTBEAT_SECONDS),
                      executor="lease")

    def record_next_run(event) -> None:
        # Never call back into the scheduler here (get_job takes its job-store lock, which shutdown()
        # holds while it waits for the very job whose event this is): compute from the trigger instead.
        if not event.job_id.startswith("account:"):
            return
        account = event.job_id.split(":", 1)[1]
        following = trigger.get_next_fire_time(event.scheduled_run_time, datetime.now(timezone.utc))
        columns = {"next_run_at": None if stop.is_set() or following is None else following.isoformat(timespec="seconds")}
        if event.code == EVENT_JOB_ERROR:  # run_account never raises; this is a bug in the job wrapper
            log.error("account job %s crashed: %s", event.job_id, event.exception)
            columns.update(outcome="error", message=f"{type(event.exception).__name__}: {event.exception}",
                           last_finished_at=utcnow())
        try:
            store = Store(store_path)
        except StoreError:
            store = None
        try:
            _record_or_keep(store, unrecorded, account, **columns)
        finally:
            if store is not None:
                store.close()

    scheduler.add_listener(record_next_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def request_stop(signum, _frame) -> None:
        log.warning("received %s: stopping (a run in flight stops at its next wait or transaction)",
                    signal.Signals(signum).name)
        stop_daemon()

    if install_signal_handlers:
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    app.store.close()
    log.warning("fba-jp %s daemon: %d account(s), pid %d, database %s", __version__, len(config.accounts), os.getpid(), store_path)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        stop_daemon()
    # the main loop has ended; runs in flight wake from their waits and record "stopped"
    finished = jobs.wait_idle(STOP_GRACE_SECONDS)
    release_lease(store_path)
    if not finished:
        # stuck in a network call or the database's busy wait, neither of which a stop can wake: exit
        # without them. SQLite rolls back what they had not committed; the next run fetches it again.
        log.warning("daemon stopped; %d run(s) still waiting on the network or the database after %g s were "
                    "abandoned (nothing half-written: their uncommitted work is rolled back)", jobs.running, STOP_GRACE_SECONDS)
        logging.shutdown()
        os._exit(0)
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
    state = daemon_state(beat)
    for row in accounts:
        row["last_sync"] = last_sync.get(row["account"])
        if not state.startswith("running"):  # a next run only a daemon that is not running would have made
            row["next_run_at"] = None
    return {"heartbeat": beat, "daemon": state, "accounts": accounts}


def daemon_state(beat: dict | None) -> str:
    """One line: is a daemon serving this database? Judged from its lease, not only from what it last wrote."""
    if beat is None:
        return "never started"
    seen = f"pid {beat['pid']}, last heartbeat {beat['at']}"
    if beat["state"] != "running":
        return f"{beat['state']} ({seen})"
    if beat["pid"] != os.getpid() and not process_exists(beat["pid"]):
        return f"not running: it ended without stopping cleanly ({seen})"
    if _age(beat["at"]) > LEASE_SECONDS:
        return f"running but silent for {_age(beat['at']):.0f} s: stuck, or the database is locked ({seen})"
    return f"running ({seen})"
