"""Scheduled jobs: escalate overdue reviews, expire abandoned applications,
purge documents past retention, and write the daily report.

Every job finds its work with a Query on the ``by_state`` index (state +
the time the application entered it), never a Scan, and changes each
application through the workflow's commands, so each change is a conditional
transaction with its history event, and the event reaches SNS through the
outbox like any other. Each job is idempotent: a second run finds nothing to
do (the commands raise NothingToDo, or the item is skipped before any side
effect). ``now`` is a parameter so tests can run a job "in the future".

One failing application never stops a job: it is logged and counted, and
``run`` raises at the end so the Lambda invocation is marked failed (and
retried, which is safe). A job that runs out of its time budget stops
between applications and says so; the next run carries on.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import time
from collections import Counter
from typing import Any, Callable, Iterable, Optional

from . import documents, settings
from .domain import workflow
from .domain.workflow import FINAL_STATES, Actor, Application, Change, IllegalTransition, State, iso
from .observability import count, flush, logger
from .service import NotFound

UTC = dt.timezone.utc
REPORT_PREFIX = "reports/daily"
_DECIDED = (State.APPROVED, State.REJECTED)
_LATEST = "9999-12-31T23:59:59.999Z"  # sorts after every ISO instant the app writes


class JobFailed(Exception):
    """Some applications could not be processed; the summary says how many."""

    def __init__(self, summary: dict[str, Any]):
        self.summary = summary
        super().__init__(f"{summary.get('job')}: {summary.get('failed')} application(s) failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def _applications() -> Any:
    from .runtime import applications

    return applications()


class _Budget:
    """Stop between applications when the invocation is about to time out."""

    def __init__(self, seconds: Optional[float]):
        self.deadline = time.monotonic() + seconds if seconds is not None else None

    def exhausted(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _apply_each(job: str, candidates: Iterable[Application], step: Callable[[Application], Change],
                budget_seconds: Optional[float], skip: Callable[[Application], bool] = lambda a: False,
                before: Optional[Callable[[Application], dict[str, int]]] = None) -> dict[str, Any]:
    """Apply ``step`` to each candidate through ApplicationService.apply_with_retry.

    ``skip`` drops candidates that are already done without touching them;
    ``before`` runs a side effect (e.g. deleting S3 objects) before the commit.
    """
    service = _applications()
    tally: Counter[str] = Counter()
    budget = _Budget(budget_seconds)
    for app in candidates:
        if budget.exhausted():
            tally["truncated"] = 1
            break
        tally["candidates"] += 1
        if skip(app):
            tally["already_done"] += 1
            continue
        try:
            if before is not None:
                tally.update(before(app))
            change = service.apply_with_retry(app.application_id, step)
        except (IllegalTransition, NotFound):
            tally["moved_on"] += 1  # changed state (or vanished) since the query: not ours any more
        except Exception:  # noqa: BLE001 - one bad application must not stop the others
            logger.exception("job step failed", extra={"job": job, "application_id": app.application_id})
            tally["failed"] += 1
        else:
            tally["changed" if change is not None else "already_done"] += 1
    summary: dict[str, Any] = {"job": job, "candidates": 0, "changed": 0, "already_done": 0, "moved_on": 0,
                               "failed": 0, "truncated": False}
    summary.update(tally)
    summary["truncated"] = bool(summary["truncated"])
    return summary


# --- escalate -------------------------------------------------------------------

def escalate_overdue(now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None) -> dict[str, Any]:
    """FLAGGED applications waiting longer than the review SLA get one review.escalated event."""
    now = now or utcnow()
    policy = settings.policy()
    cutoff = iso(now - dt.timedelta(hours=policy.review_sla_hours))
    candidates = _applications().repo.in_state_since_before(State.FLAGGED, cutoff)
    summary = _apply_each("escalate_overdue", candidates, lambda app: workflow.escalate(app, policy, now),
                          budget_seconds, skip=lambda app: app.escalated_at is not None)
    summary.update(cutoff=cutoff, review_sla_hours=policy.review_sla_hours)
    return summary


# --- expire ---------------------------------------------------------------------

def expire_abandoned(now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None) -> dict[str, Any]:
    """Applications still AWAITING_DOCUMENTS after the expiry period become EXPIRED."""
    now = now or utcnow()
    policy = settings.policy()
    cutoff = iso(now - dt.timedelta(days=policy.awaiting_documents_expiry_days))
    candidates = _applications().repo.in_state_since_before(State.AWAITING_DOCUMENTS, cutoff)
    summary = _apply_each("expire_abandoned", candidates, lambda app: workflow.expire(app, policy, now),
                          budget_seconds)
    summary.update(cutoff=cutoff, awaiting_documents_expiry_days=policy.awaiting_documents_expiry_days)
    return summary


# --- purge ----------------------------------------------------------------------

def purge_past_retention(now: Optional[dt.datetime] = None,
                         budget_seconds: Optional[float] = None) -> dict[str, Any]:
    """Closed applications past retention lose their documents and minimised personal data.

    The S3 objects are deleted first, then the purge is committed with its
    history event: a crash in between leaves an unpurged application whose
    objects are gone, and the rerun deletes nothing more and commits. An
    application already purged is skipped before any S3 call.
    """
    now = now or utcnow()
    policy = settings.policy()
    cutoff = iso(now - dt.timedelta(days=policy.document_retention_days))
    repo = _applications().repo

    def candidates() -> Iterable[Application]:
        for state in sorted(FINAL_STATES, key=lambda s: s.value):
            yield from repo.in_state_since_before(state, cutoff)

    def delete_documents(app: Application) -> dict[str, int]:
        return {"objects_deleted": documents.delete_all_for(app.application_id)}

    summary = _apply_each("purge_past_retention", candidates(), lambda app: workflow.purge(app, policy, now),
                          budget_seconds, skip=lambda app: app.purged_at is not None, before=delete_documents)
    summary.setdefault("objects_deleted", 0)
    summary.update(cutoff=cutoff, document_retention_days=policy.document_retention_days)
    return summary


# --- daily report ---------------------------------------------------------------

def report_keys(day: dt.date) -> tuple[str, str]:
    return f"{REPORT_PREFIX}/{day.isoformat()}.json", f"{REPORT_PREFIX}/{day.isoformat()}.csv"


def daily_report(now: Optional[dt.datetime] = None, day: Optional[dt.date] = None,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write ``reports/daily/<day>.json`` and ``.csv`` (default: the previous UTC day).

    A report, once written, is not rewritten by a rerun (unless ``overwrite``):
    everything about the day itself is a function of the day, but the counts
    per state are a snapshot taken when the report runs. The CSV is written
    first and the JSON last, so the JSON's presence means the report is complete.
    """
    now = now or utcnow()
    day = day or (now.astimezone(UTC).date() - dt.timedelta(days=1))
    if _day_bounds(day)[1] > now:
        raise ValueError(f"the day {day.isoformat()} has not ended yet")
    json_key, csv_key = report_keys(day)
    summary: dict[str, Any] = {"job": "daily_report", "day": day.isoformat(), "json_key": json_key,
                               "csv_key": csv_key, "failed": 0}
    if not overwrite and _exists(json_key):
        summary["written"] = False
        return summary
    report = build_report(day, now)
    _put(csv_key, to_csv(report), "text/csv; charset=utf-8")
    _put(json_key, json.dumps(report, indent=2, sort_keys=True) + "\n", "application/json")
    summary.update(written=True, decisions=sum(d["total"] for d in report["decisions"].values()),
                   escalations=report["escalations"])
    return summary


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


def build_report(day: dt.date, now: dt.datetime) -> dict[str, Any]:
    repo = _applications().repo
    start_dt, end_dt = _day_bounds(day)
    start, end = iso(start_dt), iso(end_dt - dt.timedelta(milliseconds=1))  # BETWEEN is inclusive

    decisions: dict[str, dict[str, int]] = {}
    durations: list[float] = []
    for outcome in _DECIDED:
        by: Counter[str] = Counter()
        for app in repo.in_state_between(outcome, start, end):
            by[_decided_by(repo.history(app.application_id), outcome)] += 1
            durations.append((workflow.parse_iso(app.state_since) - workflow.parse_iso(app.created_at))
                             .total_seconds())
        decisions[outcome.value] = {"total": sum(by.values()), "automatic": by["automatic"],
                                    "reviewer": by["reviewer"], "other": by["other"]}
    closed = {state.value: sum(1 for _ in repo.in_state_between(state, start, end))
              for state in (State.WITHDRAWN, State.EXPIRED)}

    # Escalated during the day: still FLAGGED (flagged before the day ended), or
    # closed since the day began (a FLAGGED application can only be decided or withdrawn).
    escalated_candidates = [repo.in_state_since_before(State.FLAGGED, iso(end_dt))] + [
        repo.in_state_between(state, start, _LATEST) for state in (*_DECIDED, State.WITHDRAWN)]
    escalations = sum(1 for query in escalated_candidates for app in query
                      if app.escalated_at is not None and start <= app.escalated_at <= end)

    return {
        "report": "daily",
        "day": day.isoformat(),
        "window": {"start": start, "end": end},
        "generated_at": iso(now),
        "applications_by_state": {state.value: repo.count_in_state(state) for state in State},
        "decisions": decisions,
        "closed": closed,
        "time_to_decision_seconds": {"count": len(durations), "p50": percentile(durations, 50),
                                     "p90": percentile(durations, 90)},
        "escalations": escalations,
    }


def _decided_by(history: list[workflow.HistoryEvent], outcome: State) -> str:
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


def _bucket() -> str:
    return os.environ["REPORTS_BUCKET_NAME"]


def _exists(key: str) -> bool:
    from botocore.exceptions import ClientError

    from .aws import client

    try:
        client("s3").head_object(Bucket=_bucket(), Key=key)
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def _put(key: str, body: str, content_type: str) -> None:
    from .aws import client

    client("s3").put_object(Bucket=_bucket(), Key=key, Body=body.encode("utf-8"), ContentType=content_type,
                            ServerSideEncryption="AES256")


# --- the handlers' side ---------------------------------------------------------

METRIC_NAMES = {"escalate_overdue": "ApplicationsEscalated", "expire_abandoned": "ApplicationsExpired",
                "purge_past_retention": "ApplicationsPurged", "daily_report": "DailyReportsWritten"}
SAFETY_MARGIN_SECONDS = 5.0  # or a tenth of the remaining time, if less


def run(job: Callable[..., dict[str, Any]], event: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Run a job for a schedule handler: time budget from the Lambda context, summary log, metrics.

    Raises JobFailed after logging when some applications failed, so the
    invocation counts as an error (and EventBridge's retry reruns it, safely).
    """
    context = getattr(event, "context", None)
    if context is not None and hasattr(context, "get_remaining_time_in_millis") and job is not daily_report:
        remaining = context.get_remaining_time_in_millis() / 1000
        kwargs.setdefault("budget_seconds", remaining - min(SAFETY_MARGIN_SECONDS, remaining / 10))
    summary = job(**kwargs)
    name = summary["job"]
    changed = summary.get("changed", 1 if summary.get("written") else 0)
    count(METRIC_NAMES.get(name, f"{name}Changed"), changed)
    if summary.get("objects_deleted"):
        count("DocumentsDeleted", summary["objects_deleted"])
    if summary.get("failed"):
        count("JobFailures", summary["failed"])
    flush()
    level = logger.error if summary.get("failed") else logger.info
    level("scheduled job finished", extra={"summary": summary})
    if summary.get("failed"):
        raise JobFailed(summary)
    return summary


def report_request(event: Any) -> dict[str, Any]:
    """The report's day: the day before the scheduled time (so a late or retried run
    reports the right day); an operator may invoke with detail {"day": "YYYY-MM-DD", "overwrite": true}."""
    detail = getattr(event, "detail", None) or {}
    if detail.get("day"):
        return {"day": dt.date.fromisoformat(detail["day"]), "overwrite": bool(detail.get("overwrite"))}
    scheduled = getattr(event, "time", None)
    try:
        moment = workflow.parse_iso(scheduled) if scheduled else utcnow()
    except ValueError:
        moment = utcnow()
    return {"day": moment.astimezone(UTC).date() - dt.timedelta(days=1)}
