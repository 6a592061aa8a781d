"""EventBridge schedule expressions, and firing the app's schedules on time or on demand."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from chalice import Chalice, Cron, Rate

from devstack import scheduler as scheduler_module
from devstack.scheduler import ScheduleError, Scheduler, parse_schedule
from tests.support.deadlines import EVENT_S

UTC = dt.timezone.utc
MONDAY = dt.datetime(2024, 1, 1, 10, 30, tzinfo=UTC)  # 2024-01-01 was a Monday


def upcoming(expression: str, start: dt.datetime = MONDAY, count: int = 3) -> list[dt.datetime]:
    schedule, moments, moment = parse_schedule(expression), [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        if moment is None:
            break
        moments.append(moment)
    return moments


@pytest.mark.parametrize("expression, seconds", [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600),
    ("rate(12 hours)", 43200), ("rate(1 day)", 86400), ("rate(7 days)", 604800),
])
def test_rate(expression, seconds):
    assert upcoming(expression, count=2) == [MONDAY + dt.timedelta(seconds=seconds),
                                             MONDAY + dt.timedelta(seconds=2 * seconds)]


def test_cron_with_question_mark_in_day_of_week():
    assert upcoming("cron(0 12 * * ? *)") == [
        dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC), dt.datetime(2024, 1, 2, 12, 0, tzinfo=UTC),
        dt.datetime(2024, 1, 3, 12, 0, tzinfo=UTC)]


def test_cron_day_of_week_counts_from_sunday_as_one():
    # AWS: 2-6 is MON-FRI; 1 is Sunday.
    weekdays = [moment.strftime("%a") for moment in upcoming("cron(0 9 ? * 2-6 *)", count=5)]
    assert weekdays == ["Tue", "Wed", "Thu", "Fri", "Mon"]
    assert upcoming("cron(0 9 ? * 1 *)", count=1) == [dt.datetime(2024, 1, 7, 9, tzinfo=UTC)]
    assert upcoming("cron(0 9 ? * MON-FRI *)", count=1) == [
        dt.datetime(2024, 1, 2, 9, tzinfo=UTC)]
    assert upcoming("cron(0 9 ? * 6#3 *)", count=1) == [dt.datetime(2024, 1, 19, 9, tzinfo=UTC)]
    assert upcoming("cron(0 9 ? * 6L *)", count=1) == [dt.datetime(2024, 1, 26, 9, tzinfo=UTC)]


def test_cron_year_field_limits_and_ends_the_schedule():
    assert upcoming("cron(0 0 1 1 ? 2026-2027)", count=5) == [
        dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC)]
    assert upcoming("cron(15 10 ? * * 2023)") == []
    assert upcoming("cron(0/30 * * * ? 2024)", count=2) == [
        dt.datetime(2024, 1, 1, 11, 0, tzinfo=UTC), dt.datetime(2024, 1, 1, 11, 30, tzinfo=UTC)]


def test_chalice_schedule_objects_are_accepted():
    assert upcoming(Rate(2, unit=Rate.HOURS).to_string(), count=1) == [
        MONDAY + dt.timedelta(hours=2)]
    assert parse_schedule(Cron(0, 3, "*", "*", "?", "*")).next_after(MONDAY) == \
        dt.datetime(2024, 1, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(1 week)",
    "cron(0 12 * * *)",            # five fields
    "cron(0 12 * * 2 *)",          # both day fields set
    "cron(0 12 ? * ? *)",          # neither
    "cron(0 25 * * ? *)",          # hour out of range
    "every day",
])
def test_invalid_expressions_are_refused(expression):
    with pytest.raises(ScheduleError):
        parse_schedule(expression)


def make_app(calls: list) -> Chalice:
    app = Chalice(app_name="schedtest")

    @app.schedule("rate(1 minute)")
    def tick(event):
        calls.append(event.to_dict())
        return {"seen": event.detail_type}

    @app.schedule("cron(0 3 * * ? *)", name="nightly")
    def nightly(event):
        raise RuntimeError("nightly failed")

    return app


def test_fire_now_calls_the_handler_with_a_scheduled_event_and_returns_its_result():
    calls: list = []
    scheduler = Scheduler(make_app(calls), "local")
    assert scheduler.describe() == {"tick": "rate(1 minute)", "nightly": "cron(0 3 * * ? *)"}
    assert scheduler.fire("tick") == {"seen": "Scheduled Event"}
    (event,) = calls
    assert event["source"] == "aws.events" and event["detail"] == {}
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/schedtest-local-tick"]
    with pytest.raises(RuntimeError, match="nightly failed"):
        scheduler.fire("nightly")
    with pytest.raises(KeyError):
        scheduler.fire("missing")


def test_jobs_fire_on_time(monkeypatch):
    """A clock that runs 10 000x faster makes 'rate(1 minute)' fire every 6 ms."""
    start, real_start = dt.datetime(2024, 1, 1, tzinfo=UTC), time.monotonic()
    monkeypatch.setattr(scheduler_module, "_now", lambda: start + dt.timedelta(
        seconds=(time.monotonic() - real_start) * 10_000))
    monkeypatch.setattr(scheduler_module, "WAIT_STEP_SECONDS", 0.001)
    calls: list = []
    fired = threading.Event()
    app = Chalice(app_name="schedtest")

    @app.schedule("rate(1 minute)")
    def tick(event):
        calls.append(event)
        if len(calls) >= 3:
            fired.set()

    scheduler = Scheduler(app, "local")
    scheduler.start()
    try:
        assert fired.wait(EVENT_S), "the schedule did not fire three times"
    finally:
        scheduler.stop()
