"""The states an application is in, the events that move it, and THE table of which event may move it
from which state to which (``TRANSITIONS``): nothing else moves an application."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Optional


class State(str, enum.Enum):
    AWAITING_DOCUMENTS = "AWAITING_DOCUMENTS"
    VERIFYING = "VERIFYING"
    FLAGGED = "FLAGGED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN, State.EXPIRED})
#: Where a reviewer may read an application: in review, or decided (by them, see ``may_review``).
REVIEWABLE_STATES = frozenset({State.FLAGGED, State.APPROVED, State.REJECTED})
OPEN_STATES = frozenset(State) - FINAL_STATES
#: Where the applicant may still give evidence (a document, consent, a liveness check).
TAKES_EVIDENCE = frozenset({State.AWAITING_DOCUMENTS, State.VERIFYING})


class EventType(str, enum.Enum):
    SUBMITTED = "application.submitted"
    DOCUMENT_RECEIVED = "document.received"
    CHECK_COMPLETED = "check.completed"
    APPROVED = "application.approved"
    REJECTED = "application.rejected"
    FLAGGED = "application.flagged"
    WITHDRAWN = "application.withdrawn"
    EXPIRED = "application.expired"
    ESCALATED = "review.escalated"
    VIEWED = "review.viewed"
    DOCUMENTS_PURGED = "documents.purged"
    DOCUMENT_UNEXPECTED = "document.unexpected"
    DOCUMENT_REPLACED = "document.replaced"
    DOCUMENT_VIEWED = "document.viewed"
    SCREENING_FALSE_POSITIVE = "screening.false_positive"
    CUSTOMER_SCREENING_HIT = "customer.screening_hit"
    CUSTOMER_SCREENING_RESOLVED = "customer.screening_resolved"
    #: Four eyes on a re-screening case: the first reviewer's word, for a second, different reviewer.
    CUSTOMER_SCREENING_RECOMMENDED = "customer.screening_recommended"
    # The face check (issue 17): the applicant's biometric evidence and its audit (domain/face_workflow.py).
    BIOMETRIC_CONSENT_GIVEN = "biometric.consent_given"
    LIVENESS_SESSION_CREATED = "liveness.session_created"
    LIVENESS_COMPLETED = "liveness.completed"
    FACE_REQUESTED = "face.requested"
    SELFIE_VIEWED = "selfie.viewed"
    BIOMETRICS_PURGED = "biometrics.purged"
    #: Four eyes: the first reviewer of a case that needs two records a recommendation, not a decision.
    RECOMMENDED = "review.recommended"
    #: The review queue: a reviewer claims a case for a while (others see it claimed), or lets it go.
    CLAIMED = "review.claimed"
    RELEASED = "review.released"


def _same(states: Iterable[State]) -> dict[Optional[State], State]:
    return {s: s for s in states}


# THE table: event type -> {from state: to state}. Nothing else moves an
# application, so an illegal transition cannot be written by construction.
TRANSITIONS: Mapping[EventType, Mapping[Optional[State], State]] = {
    EventType.SUBMITTED: {None: State.AWAITING_DOCUMENTS},
    EventType.DOCUMENT_RECEIVED: {State.AWAITING_DOCUMENTS: State.VERIFYING},
    EventType.CHECK_COMPLETED: _same([State.AWAITING_DOCUMENTS, State.VERIFYING]),
    EventType.APPROVED: {State.VERIFYING: State.APPROVED, State.FLAGGED: State.APPROVED},
    # From AWAITING_DOCUMENTS: a check failed before any document came (CONSOLIDATE_EARLY).
    EventType.REJECTED: {
        State.AWAITING_DOCUMENTS: State.REJECTED,
        State.VERIFYING: State.REJECTED,
        State.FLAGGED: State.REJECTED,
    },
    EventType.FLAGGED: {State.VERIFYING: State.FLAGGED},
    EventType.WITHDRAWN: {s: State.WITHDRAWN for s in OPEN_STATES},
    # From VERIFYING only while it waits for the applicant's liveness check (see ``expire``).
    EventType.EXPIRED: {State.AWAITING_DOCUMENTS: State.EXPIRED, State.VERIFYING: State.EXPIRED},
    EventType.ESCALATED: {State.FLAGGED: State.FLAGGED},
    # A reviewer read the personal data: the audit trace, no change of state.
    EventType.VIEWED: _same(REVIEWABLE_STATES),
    EventType.DOCUMENTS_PURGED: _same(FINAL_STATES),
    # A further object after the document being checked or decided: recorded, it changes nothing.
    EventType.DOCUMENT_UNEXPECTED: _same(s for s in State if s != State.AWAITING_DOCUMENTS),
    # A later version posted to the very key of the document checked (the upload form re-used): the
    # evidence is pinned to the version checked; the later one is recorded, never read nor shown.
    EventType.DOCUMENT_REPLACED: _same(s for s in State if s != State.AWAITING_DOCUMENTS),
    # Audit only: a reviewer looked at the identity document. It changes no state,
    # but the bank must be able to say who saw whose document, and when.
    EventType.DOCUMENT_VIEWED: _same(State),
    # Issue 20: a reviewer cleared a sanctions candidate as not this applicant (kept, with the reason, so
    # the next screening of the same applicant does not flag the same unchanged entry again).
    EventType.SCREENING_FALSE_POSITIVE: _same(REVIEWABLE_STATES),
    # Issue 20: a customer (an approved application) re-screened against a changed list entry: a case is
    # opened for reviewers, and later cleared or confirmed by one. No change of state.
    EventType.CUSTOMER_SCREENING_HIT: _same([State.APPROVED]),
    EventType.CUSTOMER_SCREENING_RESOLVED: _same([State.APPROVED]),
    EventType.CUSTOMER_SCREENING_RECOMMENDED: _same([State.APPROVED]),
    # Biometric evidence, while the application still takes evidence; none of it moves the state.
    EventType.BIOMETRIC_CONSENT_GIVEN: _same(TAKES_EVIDENCE),
    EventType.LIVENESS_SESSION_CREATED: _same(TAKES_EVIDENCE),
    EventType.LIVENESS_COMPLETED: _same(TAKES_EVIDENCE),
    # Both pieces of evidence are in (the document read, the liveness settled): the FACE check is asked for.
    EventType.FACE_REQUESTED: _same([State.VERIFYING]),
    # Audit only: a reviewer looked at the selfie (special-category data), like DOCUMENT_VIEWED.
    EventType.SELFIE_VIEWED: _same(State),
    EventType.BIOMETRICS_PURGED: _same(FINAL_STATES),
    EventType.RECOMMENDED: {State.FLAGGED: State.FLAGGED},
    EventType.CLAIMED: {State.FLAGGED: State.FLAGGED},
    EventType.RELEASED: {State.FLAGGED: State.FLAGGED},
}

#: Events the applicant never sees, in the history or live: a sanctions review of them. Telling a customer
#: that they are, or were, being checked against a sanctions list is tipping off. The chain still covers
#: them (``chain_intact`` is computed on every event), and they leave no trace in what the applicant reads: their
#: numbering counts only the events shown to them (``domain.disclosure.numbered``).
HIDDEN_FROM_APPLICANT = frozenset(
    {
        EventType.SCREENING_FALSE_POSITIVE,
        EventType.CUSTOMER_SCREENING_HIT,
        EventType.CUSTOMER_SCREENING_RECOMMENDED,
        EventType.CUSTOMER_SCREENING_RESOLVED,
    }
)


#: In a ``review.viewed`` event's details: the read was of a customer's re-screening case, so it is not shown to
#: the applicant either (``domain.disclosure.shown``): a reviewer reading an approved customer's data would tell.
SCREENING_CASE = "screening_case"


def shown_to_applicant(event_type: object) -> bool:
    """False for the event types in ``HIDDEN_FROM_APPLICANT`` (given as EventType or its value)."""
    value = event_type.value if isinstance(event_type, EventType) else event_type
    return value not in {e.value for e in HIDDEN_FROM_APPLICANT}
