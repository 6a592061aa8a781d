"""The daily report's arithmetic: which day, who decided, percentiles, the CSV layout. Pure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any, Optional

from .workflow.application import parse_iso
from .workflow.history import Actor, HistoryEvent
from .workflow.states import EventType, State

UTC = dt.UTC
REPORT_PREFIX = "reports/daily"


def report_keys(day: dt.date) -> tuple[str, str]:
    return f"{REPORT_PREFIX}/{day.isoformat()}.json", f"{REPORT_PREFIX}/{day.isoformat()}.csv"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


def decided_by(history: list[HistoryEvent], outcome: State) -> str:
    """automatic | reviewer, from the actor of the event that moved the application to ``outcome``."""
    for event in reversed(history):
        if event.to_state == outcome and event.from_state != outcome:
            kind = Actor.parse(event.actor).kind
            return {"system": "automatic", "reviewer": "reviewer"}.get(kind, "other")
    return "other"


def percentile(values: list[float], pct: float) -> Optional[float]:
    """Nearest-rank percentile (a value that occurred), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def to_csv(report: dict[str, Any]) -> str:
    """One row per figure: day, metric, dimension, value."""
    day = report["day"]
    rows: list[tuple[str, str, Any]] = []
    rows += [("applications_in_state", state, n) for state, n in report["applications_by_state"].items()]
    for outcome, split in report["decisions"].items():
        rows += [(f"decisions_{who}", outcome, n) for who, n in split.items()]
    rows += [("closed", state, n) for state, n in report["closed"].items()]
    ttd = report["time_to_decision_seconds"]
    rows += [("time_to_decision_seconds", key, "" if ttd[key] is None else ttd[key]) for key in ("count", "p50", "p90")]
    rows.append(("escalations", "", report["escalations"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["day", "metric", "dimension", "value"])
    writer.writerows((day, metric, dimension, value) for metric, dimension, value in rows)
    return buffer.getvalue()


# --- counters: what one history event adds (kept by the outbox relay, read by the report and the operators) ---

#: Upper bounds (seconds) of the time-to-decision histogram's buckets; the last is open.
TTD_BOUNDS = (
    1,
    2,
    5,
    10,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    86400,
    172800,
    259200,
    604800,
    1209600,
    2592000,
)
_DECIDED = (State.APPROVED, State.REJECTED)
_CLOSED = (State.WITHDRAWN, State.EXPIRED)


@dataclass(frozen=True)
class Tally:
    """What one history event adds to the counters: per state (how many are in it now) and per UTC day."""

    states: dict[str, int]
    day: str
    day_counts: dict[str, int]


def ttd_bucket(seconds: float) -> str:
    """The histogram bucket of a time to decision: ``le<bound>`` (``le<bound>`` includes the bound), or ``more``."""
    for bound in TTD_BOUNDS:
        if seconds <= bound:
            return f"le{bound}"
    return "more"


def tally(event: HistoryEvent, created_at: Optional[str]) -> Optional[Tally]:
    """What ``event`` adds to the counters, or None when it changes no count (a check's result, a read)."""
    states: dict[str, int] = {}
    if event.to_state != event.from_state:
        states[event.to_state.value] = 1
        if event.from_state is not None:
            states[event.from_state.value] = -1
    day_counts: dict[str, int] = {}
    if event.to_state in _DECIDED and event.from_state != event.to_state:
        by = {"system": "automatic", "reviewer": "reviewer"}.get(Actor.parse(event.actor).kind, "other")
        day_counts[f"decided.{event.to_state.value}.{by}"] = 1
        if created_at:
            waited = (parse_iso(event.at) - parse_iso(created_at)).total_seconds()
            day_counts[f"ttd.{ttd_bucket(max(0.0, waited))}"] = 1
    elif event.to_state in _CLOSED and event.from_state != event.to_state:
        day_counts[f"closed.{event.to_state.value}"] = 1
    if event.type == EventType.ESCALATED:
        day_counts["escalated"] = 1
    if not states and not day_counts:
        return None
    return Tally(states, event.at[:10], day_counts)


def histogram_percentile(buckets: dict[str, int], pct: float) -> Optional[float]:
    """Nearest-rank percentile over the time-to-decision histogram: the upper bound of the bucket the rank
    falls in (an over-estimate by at most the bucket's width); None for no values."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(pct / 100 * total))
    seen = 0
    for bound in TTD_BOUNDS:
        seen += buckets.get(f"le{bound}", 0)
        if seen >= rank:
            return float(bound)
    return float(TTD_BOUNDS[-1])  # beyond the last bound: at least that
