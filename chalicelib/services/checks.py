"""Recording a data check's result: the fan-in shared by every check.

Each check records its result with a conditional transaction on the
application's version; whichever lands last sees the others' results and
consolidates in that same transaction, so consolidation happens exactly once
however the checks race or how often an event is replayed.
"""

from __future__ import annotations

from typing import Optional

from ..domain import workflow
from ..domain.checks import CheckResult
from ..domain.workflow import IllegalTransition
from ..observability import logger
from .applications import ApplicationService
from .ports import Metrics


class CheckRecorder:
    def __init__(self, applications: ApplicationService, metrics: Metrics):
        self.applications = applications
        self.metrics = metrics

    def record(
        self, application_id: str, result: CheckResult, current: Optional[workflow.Application] = None
    ) -> Optional[workflow.Change]:
        """The committed change, or None when the result was already recorded or came too late.

        ``current``: the application as the caller read it (saves a read).
        """
        try:
            change = self.applications.apply_with_retry(
                application_id, lambda app: workflow.record_check(app, result, self.applications.clock()), current
            )
        except IllegalTransition as error:
            logger.info(
                "check result arrived after the application moved on",
                extra={"application_id": application_id, "state": str(error.state)},
            )
            return None
        self.count(result, change)
        return change

    def count(self, result: CheckResult, change: Optional[workflow.Change]) -> None:
        """The metrics of a recorded check (and of the decision it made, if any)."""
        if change is not None:
            self.metrics.count(f"{result.check.capitalize()}Check{result.outcome.value.capitalize()}")
            decided = [
                e
                for e in change.events
                if e.to_state != e.from_state and e.type != workflow.EventType.DOCUMENT_RECEIVED
            ]
            if decided:
                self.metrics.count(f"Application{decided[-1].to_state.value.capitalize()}")
