"""Waiting on what a daemon recorded (database rows, received webhooks), never on time, for the tests that
run it in a subprocess."""

import sqlite3
import time


def wait_for(predicate, what="condition", timeout=180):
    """Poll until ``predicate()`` holds. The timeout is only a backstop against a hung daemon, generous enough
    for two busy cores: no assertion depends on how fast the daemon is."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def query(db, sql, *params):
    """Rows from the database, read on a connection of their own (the daemon writes on another)."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
