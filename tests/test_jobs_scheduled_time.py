"""The jobs decide as of the scheduled event's ``time``, not the clock of the run.

That is what makes a retried invocation decide as the first did, and what
``./dev fire NAME --in 3d`` relies on to show expiry acting locally.
"""
from __future__ import annotations

import datetime as dt

from tests import test_review_api as h
from tests.test_jobs import fire, get, now


def test_expiry_acts_as_of_the_events_time(client):
    clock = h.Clock(now() - dt.timedelta(days=29))  # not yet expired today (30 days)
    app_id = h.create_at(clock)

    assert fire(client, "expire_abandoned_applications", at=now())["changed"] == 0
    assert get(app_id).state.value == "AWAITING_DOCUMENTS"

    summary = fire(client, "expire_abandoned_applications", at=now() + dt.timedelta(days=2))
    assert summary["changed"] >= 1
    assert get(app_id).state.value == "EXPIRED"
