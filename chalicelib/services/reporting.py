"""The daily report: decisions, closures, time to decision and escalations of one UTC day, to S3.

Everything comes from the counters the outbox relay keeps (one read per day's
figures and one for the states), so a report costs the same at ten
applications a day as at a hundred million: nothing counts applications. The
time to decision is a histogram: its percentiles are bucket bounds.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

from ..domain.reporting import UTC, day_bounds, histogram_percentile, report_keys, to_csv
from ..domain.workflow.application import iso
from ..domain.workflow.states import State
from .ports import ApplicationRepository, Clock, ReportStore, StateCounters

_DECIDED = (State.APPROVED, State.REJECTED)


class DailyReports:
    def __init__(self, repo: ApplicationRepository, reports: ReportStore, clock: Clock, counters: StateCounters):
        self.repo = repo
        self.reports = reports
        self.clock = clock
        self.counters = counters

    def daily_report(
        self, now: Optional[dt.datetime] = None, day: Optional[dt.date] = None, overwrite: bool = False
    ) -> dict[str, Any]:
        """Write ``reports/daily/<day>.json`` and ``.csv`` (default: the previous UTC day).

        A report, once written, is not rewritten by a rerun (unless ``overwrite``):
        everything about the day itself is a function of the day, but the counts
        per state are a snapshot taken when the report runs. The CSV is written
        first and the JSON last, so the JSON's presence means the report is complete.
        """
        now = now or self.clock()
        day = day or (now.astimezone(UTC).date() - dt.timedelta(days=1))
        if day_bounds(day)[1] > now:
            raise ValueError(f"the day {day.isoformat()} has not ended yet")
        json_key, csv_key = report_keys(day)
        summary: dict[str, Any] = {
            "job": "daily_report",
            "day": day.isoformat(),
            "json_key": json_key,
            "csv_key": csv_key,
            "failed": 0,
        }
        if not overwrite and self.reports.exists(json_key):
            summary["written"] = False
            return summary
        report = self.build_report(day, now)
        self.reports.put(csv_key, to_csv(report), "text/csv; charset=utf-8")
        self.reports.put(json_key, json.dumps(report, indent=2, sort_keys=True) + "\n", "application/json")
        summary.update(
            written=True,
            decisions=sum(d["total"] for d in report["decisions"].values()),
            escalations=report["escalations"],
        )
        return summary

    def build_report(self, day: dt.date, now: dt.datetime) -> dict[str, Any]:
        start_dt, end_dt = day_bounds(day)
        start, end = iso(start_dt), iso(end_dt - dt.timedelta(milliseconds=1))  # the window, for the reader
        seen = self.counters.day(day.isoformat())
        decisions: dict[str, dict[str, int]] = {}
        for outcome in _DECIDED:
            by = {who: seen.get(f"decided.{outcome.value}.{who}", 0) for who in ("automatic", "reviewer", "other")}
            decisions[outcome.value] = {"total": sum(by.values()), **by}
        closed = {state.value: seen.get(f"closed.{state.value}", 0) for state in (State.WITHDRAWN, State.EXPIRED)}
        histogram = {name[len("ttd.") :]: n for name, n in seen.items() if name.startswith("ttd.")}
        states = self.counters.states()
        return {
            "report": "daily",
            "day": day.isoformat(),
            "window": {"start": start, "end": end},
            "generated_at": iso(now),
            "applications_by_state": {state.value: max(0, states.get(state.value, 0)) for state in State},
            "decisions": decisions,
            "closed": closed,
            "time_to_decision_seconds": {
                "count": sum(histogram.values()),
                "p50": histogram_percentile(histogram, 50),
                "p90": histogram_percentile(histogram, 90),
            },
            "escalations": seen.get("escalated", 0),
        }
