"""Recording a data check's result: the fan-in shared by every check.

Each check records its result with a conditional transaction on the
application's version; whichever lands last sees the others' results and
consolidates in that same transaction, so consolidation happens exactly once
however the checks race or how often an event is replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Optional

from ..domain.checks import CheckResult
from ..domain.workflow import consolidation
from ..domain.workflow.application import Application, Change
from ..domain.workflow.errors import IllegalTransition
from ..domain.workflow.states import EventType, State
from ..observability import logger
from .applications import ApplicationService, describe
from .errors import PoisonMessage
from .ports import Metrics


class CheckRecorder:
    def __init__(self, applications: ApplicationService, metrics: Metrics):
        self.applications = applications
        self.metrics = metrics

    def record(
        self, application_id: str, result: CheckResult, current: Optional[Application] = None
    ) -> Optional[Change]:
        """The committed change, or None when the result was already recorded or came too late.

        ``current``: the application as the caller read it (saves a read).
        """
        try:
            change = self.applications.apply_with_retry(
                application_id, lambda app: consolidation.record_check(app, result, self.applications.clock()), current
            )
        except IllegalTransition as error:
            logger.info(
                "check result arrived after the application moved on",
                extra={"application_id": application_id, "state": str(error.state)},
            )
            return None
        self.count(result, change)
        return change

    def count(self, result: CheckResult, change: Optional[Change]) -> None:
        """The metrics of a recorded check (and of the decision it made, if any)."""
        if change is not None:
            self.metrics.count(f"{result.check.capitalize()}Check{result.outcome.value.capitalize()}")
            decided = [e for e in change.events if e.to_state != e.from_state and e.type != EventType.DOCUMENT_RECEIVED]
            if decided:
                self.metrics.count(f"Application{decided[-1].to_state.value.capitalize()}")

    def run_requested(self, body: str, check: str, compute: Callable[[Application], CheckResult]) -> dict[str, Any]:
        """A check asked for by a queue message: one read; a replay, or an application that moved on,
        changes nothing; the result is recorded from the state just read (no second read)."""
        application_id = application_id_from(body)
        app = self.applications.repo.get(application_id)
        if app is None:
            raise PoisonMessage(f"unknown application {application_id}")
        if check in app.checks or app.state not in (State.AWAITING_DOCUMENTS, State.VERIFYING):
            return {"changed": False}
        return describe(self.record(application_id, compute(app), app))


def application_id_from(body: str) -> str:
    """The application id of an application event, raw or in an SNS envelope."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and "Message" in message and "TopicArn" in message:
            message = json.loads(message["Message"])  # an SNS envelope (non-raw delivery)
        application_id = message["application_id"]
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(f"not an application event: {error}") from error
    if not isinstance(application_id, str):
        raise PoisonMessage("application_id is not a string")
    return application_id
