"""Maintenance jobs: escalate overdue reviews, expire abandoned applications,
and purge documents past retention.

Every job finds its work with Queries on the ``open_by_state`` index (a
state's shards, by the time the application entered it: the repository's
``in_state_since_before``), never a Scan, and changes each
application through the workflow's commands, so each change is a conditional
transaction with its history event, and the event reaches SNS through the
outbox like any other. Each job is idempotent: a second run finds nothing to
do (the commands raise NothingToDo, or the item is skipped before any side
effect). ``now`` is a parameter so tests can run a job "in the future".

One failing application never stops a job: it is logged and counted, and
``run`` raises at the end so the Lambda invocation is marked failed (and
retried, which is safe). A job that runs out of its time budget stops
between applications and says so; the next run carries on. The budget is
looked at once an application has been examined, so a run whose query alone
spent it still makes progress (else every run after it would do nothing).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Optional

from ..domain.face_evidence import awaits_liveness
from ..domain.workflow import lifecycle
from ..domain.workflow.application import Application, Change, iso
from ..domain.workflow.errors import IllegalTransition
from ..domain.workflow.states import FINAL_STATES, State
from ..observability import logger
from .applications import ApplicationService
from .budget import TimeBudget
from .errors import NotFound
from .ports import DocumentStore, Readings, SettingsSource

Summary = dict[str, Any]


def _apply_each(
    service: ApplicationService,
    job: str,
    candidates: Iterable[Application],
    step: Callable[[Application], Change],
    budget_seconds: Optional[float],
    skip: Callable[[Application], bool] = lambda a: False,
    before: Optional[Callable[[Application], dict[str, int]]] = None,
) -> dict[str, Any]:
    """Apply ``step`` to each candidate through ApplicationService.apply_with_retry.

    ``skip`` drops candidates that are already done without touching them;
    ``before`` runs a side effect (e.g. deleting S3 objects) before the commit.
    """
    tally: Counter[str] = Counter()
    budget = TimeBudget(budget_seconds)
    for app in budget.each(candidates):
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
    summary: dict[str, Any] = {
        "job": job,
        "candidates": 0,
        "changed": 0,
        "already_done": 0,
        "moved_on": 0,
        "failed": 0,
        "truncated": False,
    }
    summary.update(tally)
    summary["truncated"] = budget.stopped
    return summary


class Maintenance:
    def __init__(
        self,
        applications: ApplicationService,
        documents: DocumentStore,
        settings: SettingsSource,
        readings: Optional[Readings] = None,
    ):
        self.applications = applications
        self.documents = documents
        self.settings = settings
        self.readings = readings  # what OCR read: personal data, purged with the documents

    # --- escalate -------------------------------------------------------------------

    def escalate_overdue(self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None) -> Summary:
        """FLAGGED applications waiting longer than the review SLA get one review.escalated event."""
        now = now or self.applications.clock()
        policy = self.settings.policy()
        cutoff = iso(now - dt.timedelta(hours=policy.review_sla_hours))
        candidates = self.applications.repo.in_state_since_before(State.FLAGGED, cutoff)
        summary = _apply_each(
            self.applications,
            "escalate_overdue",
            candidates,
            lambda app: lifecycle.escalate(app, policy, now),
            budget_seconds,
            skip=lambda app: app.escalated_at is not None,
        )
        summary.update(cutoff=cutoff, review_sla_hours=policy.review_sla_hours)
        return summary

    # --- expire ---------------------------------------------------------------------

    def expire_abandoned(self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None) -> Summary:
        """Applications still AWAITING_DOCUMENTS after the expiry period become EXPIRED, and so do those
        VERIFYING that long for the applicant's liveness check (issue 17: nothing else can move them)."""
        now = now or self.applications.clock()
        policy = self.settings.policy()
        cutoff = iso(now - dt.timedelta(days=policy.awaiting_documents_expiry_days))
        repo = self.applications.repo

        def candidates() -> Iterable[Application]:
            yield from repo.in_state_since_before(State.AWAITING_DOCUMENTS, cutoff)
            yield from repo.in_state_since_before(State.VERIFYING, cutoff)

        summary = _apply_each(
            self.applications,
            "expire_abandoned",
            candidates(),
            lambda app: lifecycle.expire(app, policy, now),
            budget_seconds,
            skip=lambda app: app.state == State.VERIFYING and not awaits_liveness(app.checks, app.biometrics),
        )
        summary.update(cutoff=cutoff, awaiting_documents_expiry_days=policy.awaiting_documents_expiry_days)
        return summary

    # --- purge ----------------------------------------------------------------------

    def purge_past_retention(
        self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None
    ) -> Summary:
        """Closed applications past retention lose their documents and personal data, everywhere.

        Retention runs from when the application closed: ``approved_document_retention_days`` for
        APPROVED (anti-money-laundering record keeping), ``document_retention_days`` for the rest. In
        order: every S3 version deleted; every history event holding personal data rewritten to its
        redacted form (same hash: the chain still verifies); then the purge committed with its history
        event. A crash in between leaves an unpurged application whose data is already gone, and the
        rerun finds nothing more to delete or redact and commits. An application already purged is
        skipped before any S3 call.
        """
        now = now or self.applications.clock()
        policy = self.settings.policy()
        cutoffs = {
            state: iso(now - dt.timedelta(days=policy.approved_document_retention_days))
            if state == State.APPROVED
            else iso(now - dt.timedelta(days=policy.document_retention_days))
            for state in FINAL_STATES
        }
        repo = self.applications.repo

        def candidates() -> Iterable[Application]:
            for state in sorted(FINAL_STATES, key=lambda s: s.value):
                yield from repo.in_state_since_before(state, cutoffs[state])

        def delete_personal_data(app: Application) -> dict[str, int]:
            deleted = self.documents.delete_all_for(app.application_id)
            if self.readings is not None:
                deleted += self.readings.delete_all_for(app.application_id)
            events = repo.history(app.application_id)
            redacted = repo.redact_history(app.application_id, lifecycle.redact_history(events))
            return {"objects_deleted": deleted, "events_redacted": redacted}

        summary = _apply_each(
            self.applications,
            "purge_past_retention",
            candidates(),
            lambda app: lifecycle.purge(app, policy, now),
            budget_seconds,
            skip=lambda app: app.purged_at is not None,
            before=delete_personal_data,
        )
        summary.setdefault("objects_deleted", 0)
        summary.setdefault("events_redacted", 0)
        summary.update(
            cutoff=cutoffs[State.REJECTED],
            approved_cutoff=cutoffs[State.APPROVED],
            document_retention_days=policy.document_retention_days,
            approved_document_retention_days=policy.approved_document_retention_days,
        )
        return summary
