"""The daily report: decisions, closures, time to decision and escalations of one UTC day, to S3."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any, Optional

from ..domain import workflow
from ..domain.reporting import UTC, day_bounds, decided_by, percentile, report_keys, to_csv
from ..domain.workflow import State, iso
from .ports import ApplicationRepository, Clock, ReportStore

_DECIDED = (State.APPROVED, State.REJECTED)
_LATEST = "9999-12-31T23:59:59.999Z"  # sorts after every ISO instant the app writes


class DailyReports:
    def __init__(self, repo: ApplicationRepository, reports: ReportStore, clock: Clock):
        self.repo = repo
        self.reports = reports
        self.clock = clock

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
        repo = self.repo
        start_dt, end_dt = day_bounds(day)
        start, end = iso(start_dt), iso(end_dt - dt.timedelta(milliseconds=1))  # BETWEEN is inclusive

        decisions: dict[str, dict[str, int]] = {}
        durations: list[float] = []
        for outcome in _DECIDED:
            by: Counter[str] = Counter()
            for app in repo.in_state_between(outcome, start, end):
                by[decided_by(repo.history(app.application_id), outcome)] += 1
                durations.append(
                    (workflow.parse_iso(app.state_since) - workflow.parse_iso(app.created_at)).total_seconds()
                )
            decisions[outcome.value] = {
                "total": sum(by.values()),
                "automatic": by["automatic"],
                "reviewer": by["reviewer"],
                "other": by["other"],
            }
        closed = {
            state.value: sum(1 for _ in repo.in_state_between(state, start, end))
            for state in (State.WITHDRAWN, State.EXPIRED)
        }

        # Escalated during the day: still FLAGGED (flagged before the day ended), or
        # closed since the day began (a FLAGGED application can only be decided or withdrawn).
        escalated_candidates = [repo.in_state_since_before(State.FLAGGED, iso(end_dt))] + [
            repo.in_state_between(state, start, _LATEST) for state in (*_DECIDED, State.WITHDRAWN)
        ]
        escalations = sum(
            1
            for query in escalated_candidates
            for app in query
            if app.escalated_at is not None and start <= app.escalated_at <= end
        )

        return {
            "report": "daily",
            "day": day.isoformat(),
            "window": {"start": start, "end": end},
            "generated_at": iso(now),
            "applications_by_state": {state.value: repo.count_in_state(state) for state in State},
            "decisions": decisions,
            "closed": closed,
            "time_to_decision_seconds": {
                "count": len(durations),
                "p50": percentile(durations, 50),
                "p90": percentile(durations, 90),
            },
            "escalations": escalations,
        }
