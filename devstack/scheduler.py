"""Fire the app's ``@app.schedule`` handlers locally, on time or on demand.

EventBridge schedule expressions are ``rate(N unit)`` or a six-field
``cron(minutes hours day-of-month month day-of-week year)`` in UTC, where one
of the day fields must be ``?`` and day-of-week counts 1-7 from Sunday. The
five classic fields are handed to croniter after translating the AWS
dialect; the year field is applied on top. Handlers get the CloudWatch
"Scheduled Event" and are invoked asynchronously, like EventBridge does.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import ScheduledEventConfig
from croniter import croniter

from .runtime import ACCOUNT_ID, Invoker, invoke_async

log = logging.getLogger("devstack")

UTC = dt.timezone.utc
WAIT_STEP_SECONDS = 30.0  # re-read the clock this often while waiting for a due time


class ScheduleError(ValueError):
    """A schedule expression EventBridge would refuse."""


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        return moment + dt.timedelta(seconds=self.seconds)


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _parse_rate(expression: str) -> Rate:
    match = _RATE.fullmatch(expression.strip())
    if not match:
        raise ScheduleError(f"not a rate expression: {expression!r}")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ScheduleError(f"rate must be positive: {expression!r}")
    if (value == 1) == unit.endswith("s"):
        singular = unit.rstrip("s")
        raise ScheduleError(f"write rate(1 {singular}) or rate(N {singular}s), as EventBridge "
                            f"requires: {expression!r}")
    return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])


def _aws_weekday(token: str) -> str:
    """One day-of-week item, AWS (1=SUN..7=SAT) -> croniter (0=SUN..6=SAT)."""
    base, slash, step = token.partition("/")
    if base.endswith("L") and base[:-1].isdigit():  # 6L = last Friday
        return f"L{int(base[:-1]) - 1}{slash}{step}"
    day, hash_, nth = base.partition("#")
    days = [str(int(part) - 1) if part.isdigit() else part for part in day.split("-")]
    return "-".join(days) + hash_ + nth + slash + step


def _year_matcher(field: str) -> tuple[Callable[[int], bool], int | None]:
    """A predicate for the year field and the last year it can match (None: forever)."""
    if field == "*":
        return (lambda year: True), None
    years: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        first, _, last = base.partition("-")
        if first == "*":
            raise ScheduleError(f"open-ended year step is not supported: {field!r}")
        start = int(first)
        end = int(last) if last else (2199 if step else start)
        years.update(range(start, end + 1, int(step or 1)))
    return years.__contains__, max(years)


@dataclass(frozen=True)
class Cron:
    expression: str  # croniter's five fields
    year_field: str

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        matches, last_year = _year_matcher(self.year_field)
        start = moment
        for _ in range(400):  # years to look ahead
            candidate = croniter(self.expression, start).get_next(dt.datetime)
            if matches(candidate.year):
                return candidate
            if last_year is not None and candidate.year > last_year:
                return None
            start = dt.datetime(candidate.year + 1, 1, 1, tzinfo=UTC) - dt.timedelta(seconds=1)
        return None


def _parse_cron(expression: str) -> Cron:
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        raise ScheduleError(f"cron needs 6 fields (min hour day month weekday year): "
                            f"{expression!r}")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError(f"exactly one of day-of-month and day-of-week must be '?': "
                            f"{expression!r}")
    day_of_month = "*" if day_of_month == "?" else day_of_month
    day_of_week = "*" if day_of_week == "?" else ",".join(
        _aws_weekday(token) for token in day_of_week.split(","))
    five = " ".join([minutes, hours, day_of_month, month, day_of_week])
    if not croniter.is_valid(five):
        raise ScheduleError(f"invalid cron expression {expression!r} (as croniter: {five!r})")
    _year_matcher(year)  # validates
    return Cron(five, year)


def parse_schedule(expression: Any) -> Rate | Cron:
    """Parse an EventBridge schedule (a string, or Chalice's Rate/Cron objects)."""
    if hasattr(expression, "to_string"):
        expression = expression.to_string()
    if expression.strip().startswith("rate("):
        return _parse_rate(expression)
    if expression.strip().startswith("cron("):
        return _parse_cron(expression)
    raise ScheduleError(f"not a schedule expression: {expression!r}")


def scheduled_event(rule_name: str, region: str, moment: dt.datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled Lambda target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


class Job(threading.Thread):
    """One schedule: sleeps until the next fire time, fires, repeats."""

    def __init__(self, invoker: Invoker, expression: str, region: str,
                 description: str = "") -> None:
        super().__init__(name=f"devstack-schedule-{invoker.name}", daemon=True)
        self.invoker = invoker
        self.expression = expression
        self.description = description
        self.schedule = parse_schedule(expression)
        self.region = region
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def event(self, moment: dt.datetime | None = None) -> dict[str, Any]:
        return scheduled_event(self.invoker.function_name, self.region, moment or _now())

    def fire_now(self, as_of: dt.datetime | None = None) -> Any:
        """Synchronous, one attempt: for developers and tests that want the result.

        ``as_of`` is the event's ``time``, so a job that takes its "now" from
        the event (as it should: a retry then sees the same time) acts as it
        would on that date -- how a newcomer sees expiry and purge happen.
        """
        return self.invoker(self.event(as_of))

    def run(self) -> None:
        due = self.schedule.next_after(_now())
        while due is not None and not self._wait_until(due):
            try:
                invoke_async(self.invoker, self.event(), f"schedule {self.expression}",
                             self._stopping)
            except Exception:  # noqa: BLE001 - the job thread must survive
                log.exception("devstack: schedule %s failed", self.invoker.name)
            due = self.schedule.next_after(max(_now(), due))
        if due is None and not self._stopping.is_set():
            log.info("devstack: schedule %s (%s) will not fire again", self.invoker.name,
                     self.expression)

    def _wait_until(self, due: dt.datetime) -> bool:
        """Sleep in short steps (robust to clock changes); True when stopping."""
        while (remaining := (due - _now()).total_seconds()) > 0:
            if self._stopping.wait(min(remaining, WAIT_STEP_SECONDS)):
                return True
        return self._stopping.is_set()


class Scheduler:
    """All of an app's schedules, discovered from ``app.event_sources``."""

    def __init__(self, app: Any, stage: str, region: str = "us-east-1",
                 memory_limit_in_mb: int = 128, timeout_seconds: float = 30.0) -> None:
        self.jobs: dict[str, Job] = {}
        for config in app.event_sources:
            if isinstance(config, ScheduledEventConfig):
                invoker = Invoker(app, config.name, stage, region, memory_limit_in_mb,
                                  timeout_seconds)
                expression = config.schedule_expression
                if hasattr(expression, "to_string"):
                    expression = expression.to_string()
                self.jobs[config.name] = Job(invoker, expression, region,
                                             getattr(config, "description", None) or "")

    def start(self) -> None:
        for job in self.jobs.values():
            job.start()

    def stop(self, timeout: float | None = None) -> None:
        """Signal every job, then wait for them: a job running its handler finishes it (the
        wait is bounded: 15 s x $DEADLINE_FACTOR, then the job is named in the log)."""
        from .deadlines import scaled

        timeout = scaled(15.0) if timeout is None else timeout
        for job in self.jobs.values():
            job.stop()
        deadline = time.monotonic() + timeout
        for job in self.jobs.values():
            if job.is_alive():
                job.join(max(0.0, deadline - time.monotonic()))
                if job.is_alive():
                    log.error("devstack: schedule %s was still running after %.0f s; stopping "
                              "without it", job.name, timeout)

    def describe(self) -> dict[str, str]:
        return {name: job.expression for name, job in self.jobs.items()}

    def describe_jobs(self) -> list[dict[str, str]]:
        """Name, expression and description of each job, for ``./dev fire`` with no name."""
        return [{"name": name, "schedule": job.expression, "description": job.description}
                for name, job in sorted(self.jobs.items())]

    def fire(self, name: str, as_of: dt.datetime | None = None) -> Any:
        """Fire one schedule now (as of ``as_of``) and return the handler's result
        (KeyError if unknown)."""
        return self.jobs[name].fire_now(as_of)
