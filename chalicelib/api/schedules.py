"""The scheduled handlers' side of the jobs: time budget, summary log, metrics, failure.

One failing application never stops a job: it is logged and counted, and
``run`` raises at the end so the Lambda invocation is marked failed (and
retried, which is safe: every job is idempotent). A job that runs out of its
time budget stops between applications and says so; the next run carries on.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any, Optional

from ..domain.reporting import UTC
from ..domain.workflow.application import parse_iso
from ..observability import flush, logger
from ..services.ports import Metrics

METRIC_NAMES = {
    "escalate_overdue": "ApplicationsEscalated",
    "expire_abandoned": "ApplicationsExpired",
    "purge_past_retention": "ApplicationsPurged",
    "daily_report": "DailyReportsWritten",
    "refresh_sanctions_lists": "SanctionsIndexPublished",
    "redrive_stuck": "StuckApplicationsRedriven",
}
SAFETY_MARGIN_SECONDS = 5.0  # or a tenth of the remaining time, if less


class JobFailed(Exception):
    """Some applications could not be processed; the summary says how many."""

    def __init__(self, summary: dict[str, Any]):
        self.summary = summary
        refused = summary.get("refused") or {}
        if refused:  # the sanctions refresh: say which list was refused and why, for the operator
            reasons = "; ".join(f"{reason}" for reason in refused.values())
            super().__init__(
                f"{summary.get('job')}: {len(refused)} list(s) refused, the last good copy kept: {reasons}"
            )
        else:
            super().__init__(f"{summary.get('job')}: {summary.get('failed')} application(s) failed")


Recorder = Callable[[dict[str, Any], bool], None]


def run(
    job: Callable[..., dict[str, Any]],
    event: Any,
    metrics: Metrics,
    budgeted: bool = True,
    recorder: Optional[Recorder] = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Run a job for a schedule handler.

    Raises JobFailed after logging when some applications failed, so the
    invocation counts as an error (and EventBridge's retry reruns it, safely).
    ``recorder`` keeps the run's summary for the operators' view, failed or not.
    """
    if "now" not in kwargs and "now" in inspect.signature(job).parameters:
        kwargs["now"] = scheduled_time(event)
    context = getattr(event, "context", None)
    if budgeted and context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = context.get_remaining_time_in_millis() / 1000
        kwargs.setdefault("budget_seconds", remaining - min(SAFETY_MARGIN_SECONDS, remaining / 10))
    try:
        summary = job(**kwargs)
    except Exception as error:
        _record(recorder, {"error": type(error).__name__, "message": str(error)[:300]}, False)
        raise
    _record(recorder, summary, not summary.get("failed"))
    name = summary["job"]
    changed = summary.get("changed", 1 if summary.get("written") else 0)
    metrics.count(METRIC_NAMES.get(name, f"{name}Changed"), changed)
    if summary.get("objects_deleted"):
        metrics.count("DocumentsDeleted", summary["objects_deleted"])
    if summary.get("failed"):
        metrics.count("JobFailures", summary["failed"])
    flush()
    level = logger.error if summary.get("failed") else logger.info
    level("scheduled job finished", extra={"summary": summary})
    if summary.get("failed"):
        raise JobFailed(summary)
    return summary


def _record(recorder: Optional[Recorder], summary: dict[str, Any], ok: bool) -> None:
    """Best effort: the job's own outcome never depends on the operators' view."""
    if recorder is None:
        return
    try:
        recorder(summary, ok)
    except Exception:  # noqa: BLE001
        logger.warning("could not record the job run", exc_info=True)


def scheduled_time(event: Any) -> dt.datetime | None:
    """The time the schedule fired for (EventBridge's ``time``), the jobs' "now".

    A retried invocation carries the same time, so it decides as the first
    did; and a run "as of" a later time (the local stack's ``./dev fire --in
    3d``) shows what the job will do then. None (the clock) if absent or bad.
    """
    scheduled = getattr(event, "time", None)
    try:
        return parse_iso(scheduled) if scheduled else None
    except ValueError:
        return None


def report_request(event: Any, now: Callable[[], dt.datetime]) -> dict[str, Any]:
    """The report's day: the day before the scheduled time (so a late or retried run
    reports the right day); an operator may invoke with detail {"day": "YYYY-MM-DD", "overwrite": true}."""
    detail = getattr(event, "detail", None) or {}
    if detail.get("day"):
        return {"day": dt.date.fromisoformat(detail["day"]), "overwrite": bool(detail.get("overwrite"))}
    scheduled = getattr(event, "time", None)
    try:
        moment = parse_iso(scheduled) if scheduled else now()
    except ValueError:
        moment = now()
    return {"day": moment.astimezone(UTC).date() - dt.timedelta(days=1)}


def registered(event_sources: Any) -> list[tuple[str, str, str]]:
    """(handler name, schedule expression, description) of every ``@app.schedule``, from the app itself."""
    found = []
    for source in event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression is None:
            continue
        text = expression if isinstance(expression, str) else expression.to_string()
        found.append((source.name, text, getattr(source, "description", None) or ""))
    return found
