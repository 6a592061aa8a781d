"""Human review: the queue of FLAGGED applications and reviewers' decisions.

The queue is a Query on the sparse ``review_queue`` index (only FLAGGED items
carry its key), oldest flag first, so a page costs the same however large the
table grows. A decision is one conditional transaction from the version the
reviewer's request read: of two reviewers deciding at once exactly one
commits, the other gets a 409 carrying the state that won.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional

from .auth import Identity
from .domain import workflow
from .domain.workflow import Application, HistoryEvent, State, verify_chain
from .observability import count, logger
from .repository import ConcurrentChange
from .service import ApplicationService

# A decision that loses only to a system step (an escalation bumping the
# version of a still-FLAGGED application) is retried this many times.
DECISION_ATTEMPTS = 3


@dataclass(frozen=True)
class Detail:
    application: Application
    history: list[HistoryEvent]

    @property
    def chain_intact(self) -> bool:
        return verify_chain(self.history) is None


class ReviewService:
    def __init__(self, applications: ApplicationService):
        self.applications = applications
        self.repo = applications.repo

    def queue(self, limit: int, cursor: Optional[str]) -> tuple[list[Application], Optional[str]]:
        return self.repo.review_queue(limit, cursor)

    def detail(self, application_id: str) -> Detail:
        app = self.applications.get(application_id)
        return Detail(app, self.repo.history(application_id))

    def decide(self, reviewer: Identity, application_id: str, approve: bool, reason: str) -> Application:
        """Approve or reject a FLAGGED application.

        Raises NotFound, NotAllowed (own application), IllegalTransition (not
        FLAGGED, e.g. already decided) or ConcurrentChange (lost the race).
        """
        for attempt in range(1, DECISION_ATTEMPTS + 1):
            app = self.applications.get(application_id)
            change = workflow.decide(app, approve, reviewer.sub, reason, self.applications.clock())
            try:
                self.repo.commit(change)
            except ConcurrentChange as conflict:
                current = conflict.current
                if attempt < DECISION_ATTEMPTS and current is not None and current.state == State.FLAGGED:
                    continue  # a system step (escalation) moved the version, not another decision
                count("ReviewDecisionConflict")
                raise
            count("ReviewApproved" if approve else "ReviewRejected")
            logger.info("review decision", extra={"application_id": application_id, "reviewer": reviewer.sub,
                                                  "decision": "approve" if approve else "reject"})
            return change.after
        raise AssertionError("unreachable")  # pragma: no cover


@functools.lru_cache(maxsize=None)
def service() -> ReviewService:
    """Built on first use, once per container, from the shared application service."""
    from .runtime import applications

    return ReviewService(applications())


# --- presenters ---------------------------------------------------------------

def queue_item(app: Application) -> dict[str, Any]:
    """What a reviewer needs to pick an application: why it was flagged and since when."""
    name = app.declared.get("full_name") or {}
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version,
        "flagged_at": app.state_since,
        "created_at": app.created_at,
        "escalated_at": app.escalated_at,
        "applicant_name": " ".join(p for p in (name.get("given_names"), name.get("surname")) if p) or None,
        "decision_reasons": [dict(r) for r in app.decision_reasons],
    }


def detail(found: Detail) -> dict[str, Any]:
    """The application as the applicant sees it, plus who applied, and the full audit history."""
    from . import presenters

    app = found.application
    return {**presenters.application(app), "applicant_id": app.applicant_id,
            "history": [presenters.event(e) for e in found.history], "chain_intact": found.chain_intact}
