"""What time does to an application: expiry of an abandoned one, escalation of a case past the review SLA,
and the retention purge of a closed one's document and personal data (the history's copies too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from .. import face_evidence
from ..policy import Policy
from .application import Application, Change, ChangeBuilder, iso, parse_iso
from .errors import NothingToDo
from .history import NON_PERSONAL_CHECK_DETAILS, Actor, HistoryEvent
from .states import EventType, State


def expire(app: Application, policy: Policy, now: dt.datetime) -> Change:
    """An application the applicant abandoned: no document (AWAITING_DOCUMENTS), or a document but no
    liveness check (VERIFYING with only the face check missing and no liveness result to run it on)."""
    if now - parse_iso(app.state_since) < dt.timedelta(days=policy.awaiting_documents_expiry_days):
        raise NothingToDo("not old enough to expire")
    if app.state == State.VERIFYING and not face_evidence.awaits_liveness(app.checks, app.biometrics):
        raise NothingToDo("waiting for a check, not for the applicant")  # the sweeper's business
    missing = "documents" if app.state == State.AWAITING_DOCUMENTS else "liveness check"
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.EXPIRED,
            Actor("system", "expiry-job"),
            f"no {missing} within {policy.awaiting_documents_expiry_days} days",
        )
        .build()
    )


def escalate(app: Application, policy: Policy, now: dt.datetime) -> Change:
    if app.escalated_at is not None:
        raise NothingToDo("already escalated")
    if now - parse_iso(app.state_since) < dt.timedelta(hours=policy.review_sla_hours):
        raise NothingToDo("still within the review SLA")
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.ESCALATED,
            Actor("system", "escalation-job"),
            f"flagged for more than {policy.review_sla_hours} hours",
            escalated_at=iso(now),
        )
        .build()
    )


MINIMISED_FIELDS = ("email", "phone", "address", "identity_document")


def _without_personal_details(result: Mapping[str, Any]) -> dict[str, Any]:
    details = {k: v for k, v in (result.get("details") or {}).items() if k in NON_PERSONAL_CHECK_DETAILS}
    return {**result, "details": details}


def retention_days(app: Application, policy: Policy) -> int:
    """How long a closed application's documents and personal data are kept, from when it closed.

    APPROVED: the anti-money-laundering record-keeping period (``approved_document_retention_days``,
    five years by default; docs/security.md says why and from when). Anything else (rejected,
    withdrawn, expired: no relationship began): ``document_retention_days``.
    """
    if app.state == State.APPROVED:
        return policy.approved_document_retention_days
    return policy.document_retention_days


def purge(app: Application, policy: Policy, now: dt.datetime) -> Change:
    """Drop the document and the personal data a closed application no longer needs.

    Name and birth date stay: the bank must be able to say whom it decided about. The history's
    copies of the same data go too (``redact_history``, written before this change commits).
    """
    if app.purged_at is not None:
        raise NothingToDo("already purged")
    days = retention_days(app, policy)
    if now - parse_iso(app.state_since) < dt.timedelta(days=days):
        raise NothingToDo("still within retention")
    declared = {k: v for k, v in app.declared.items() if k not in MINIMISED_FIELDS}
    checks = {name: _without_personal_details(result) for name, result in app.checks.items()}
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.DOCUMENTS_PURGED,
            Actor("system", "retention-job"),
            f"retention of {days} days passed",
            {"document_key": app.document_key, "removed_fields": list(MINIMISED_FIELDS), "history_redacted": True},
            declared=declared,
            checks=checks,
            purged_at=iso(now),
            document_key=None,
            document_version=None,
        )
        .build()
    )


def redact_history(events: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    """The events that hold personal data, each as it must be stored once purged: the data replaced by
    its salted commitment, the salt gone. Their hashes do not change, so the chain still verifies; the
    data cannot be recovered or guessed (without the salt a commitment to a birth date is not a lookup)."""
    return [event.redacted() for event in events if event.holds_personal_data]
