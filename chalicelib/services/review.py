"""Human review: the queue of FLAGGED applications and reviewers' decisions.

The queue is a Query on the sparse ``review_queue`` index (only FLAGGED items
carry its key), oldest flag first, so a page costs the same however large the
table grows. A decision is one conditional transaction from the version the
reviewer's request read: of two reviewers deciding at once exactly one
commits, the other gets a 409 carrying the state that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..domain import workflow
from ..domain.users import Identity
from ..domain.workflow import Application, HistoryEvent, State, chain_intact
from ..observability import logger
from .applications import ApplicationService
from .ports import ConcurrentChange, Metrics, Page

# A decision that loses only to a system step (an escalation bumping the
# version of a still-FLAGGED application) is retried this many times.
DECISION_ATTEMPTS = 3


@dataclass(frozen=True)
class Detail:
    application: Application
    history: list[HistoryEvent]

    @property
    def chain_intact(self) -> bool:
        return chain_intact(self.history)


class ReviewService:
    def __init__(self, applications: ApplicationService, metrics: Metrics):
        self.applications = applications
        self.repo = applications.repo
        self.metrics = metrics

    def queue(self, limit: int, cursor: Optional[str]) -> Page:
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
                self.metrics.count("ReviewDecisionConflict")
                raise
            self.metrics.count("ReviewApproved" if approve else "ReviewRejected")
            logger.info(
                "review decision",
                extra={
                    "application_id": application_id,
                    "reviewer": reviewer.sub,
                    "decision": "approve" if approve else "reject",
                },
            )
            return change.after
        raise AssertionError("unreachable")  # pragma: no cover
