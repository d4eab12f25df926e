"""The sandbox's sample data stays usable as it ages: plan update times move forward, ship dates do not."""

import copy
from datetime import datetime, timedelta, timezone

from fba_jp.sandbox.server import _time, keep_recent, load_sample


def plans(data):
    return [entry for seller in data["sellers"].values() for entry in seller["plans"]]


def test_old_sample_is_shifted_to_recent_keeping_order_and_ship_dates():
    sample = load_sample()
    aged = keep_recent(copy.deepcopy(sample), max_age=timedelta(hours=1))
    before = [_time(e["plan"]["lastUpdatedAt"]) for e in plans(sample)]
    after = [_time(e["plan"]["lastUpdatedAt"]) for e in plans(aged)]
    shifts = {a - b for a, b in zip(after, before)}
    assert len({round(s.total_seconds(), 3) for s in shifts}) == 1  # one shift for all: order and spacing kept
    assert datetime.now(timezone.utc) - max(after) < timedelta(days=2)
    ship_dates = lambda data: [s["shipment"].get("dates") for e in plans(data) for s in e["shipments"]]  # noqa: E731
    assert ship_dates(aged) == ship_dates(sample)


def test_recent_sample_is_left_alone():
    sample = load_sample()
    assert keep_recent(copy.deepcopy(sample), max_age=timedelta(days=3650)) == sample
