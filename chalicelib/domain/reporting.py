"""The daily report's arithmetic: which day, who decided, percentiles, the CSV layout. Pure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any, Optional

from . import workflow
from .workflow import Actor, State

UTC = dt.UTC
REPORT_PREFIX = "reports/daily"


def report_keys(day: dt.date) -> tuple[str, str]:
    return f"{REPORT_PREFIX}/{day.isoformat()}.json", f"{REPORT_PREFIX}/{day.isoformat()}.csv"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


def decided_by(history: list[workflow.HistoryEvent], outcome: State) -> str:
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
