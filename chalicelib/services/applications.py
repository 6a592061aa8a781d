"""Use cases: what the handlers ask for, in the words of the workflow.

Each use case loads what it needs through the repository, asks the domain
for a Change, and commits it. Concurrency is settled by the repository's
conditional transaction: people get a 409, system steps re-read and retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Optional

from ..domain import workflow
from ..domain.declaration import ApplicationRequest
from ..domain.policy import Policy, settled_by_declaration
from ..domain.users import Identity
from ..domain.workflow import Application, Change, HistoryEvent, NothingToDo, is_application_id
from .errors import DeclarationRefused, IdempotencyKeyReused, NotFound
from .ports import (
    ApplicationRepository,
    Clock,
    ConcurrentChange,
    IdempotentReplay,
    IdGenerator,
    SettingsSource,
    new_uuid,
    utc_now,
)

SYSTEM_RETRIES = 8


class ApplicationService:
    def __init__(
        self,
        repository: ApplicationRepository,
        clock: Clock = utc_now,
        new_id: IdGenerator = new_uuid,
        settings: Optional[SettingsSource] = None,
    ):
        self.repo = repository
        self.clock = clock
        self.new_id = new_id
        self.settings = settings  # None: the defaults of resources.yaml (Policy())

    def policy(self) -> Policy:
        return self.settings.policy() if self.settings is not None else Policy()

    # --- applicant ---------------------------------------------------------

    def create(
        self, who: Identity, request: ApplicationRequest, idempotency_key: Optional[str]
    ) -> tuple[Application, bool]:
        """Returns the application and whether this call created it.

        A retry with the same Idempotency-Key returns what the first call created, even if a rule
        changed since; a new application that breaks a rule the declaration settles (age, expiry,
        served nationality and country) is refused with every rule it breaks, and nothing is stored.
        """
        declared = request.model_dump(mode="json")
        fingerprint = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()
        claim_key = f"create#{who.sub}#{idempotency_key}" if idempotency_key else None
        if claim_key:
            record = self.repo.find_idempotency_record(claim_key)
            if record is not None:
                return self._replayed(who, record.result, record.fingerprint, fingerprint), False
        now = self.clock()
        broken = settled_by_declaration(request, self.policy(), now.date())
        if broken:
            raise DeclarationRefused(broken)
        change = workflow.submit(self.new_id(), who.sub, declared, now)
        try:
            self.repo.commit(change, idempotency_key=claim_key, fingerprint=fingerprint)
        except IdempotentReplay as replay:
            return self._replayed(who, replay.application_id, replay.fingerprint, fingerprint), False
        return change.after, True

    def _replayed(self, who: Identity, application_id: str, stored: Optional[str], offered: str) -> Application:
        if stored != offered:
            raise IdempotencyKeyReused()
        return self.get_own(who, application_id)

    def get(self, application_id: str) -> Application:
        """Any application by id (for reviewers and system steps); malformed ids never reach DynamoDB."""
        app = self.repo.get(application_id) if is_application_id(application_id) else None
        if app is None:
            raise NotFound(application_id)
        return app

    def get_own(self, who: Identity, application_id: str) -> Application:
        """Someone else's application is indistinguishable from a missing one."""
        app = self.get(application_id)
        if app.applicant_id != who.sub:
            raise NotFound(application_id)
        return app

    def list_own(self, who: Identity, limit: int, cursor: Optional[str]) -> tuple[list[Application], Optional[str]]:
        return self.repo.list_for_applicant(who.sub, limit, cursor)

    def history(self, who: Identity, application_id: str) -> list[HistoryEvent]:
        self.get_own(who, application_id)
        return self.repo.history(application_id)

    def withdraw(self, who: Identity, application_id: str, reason: str) -> Application:
        app = self.get_own(who, application_id)
        change = workflow.withdraw(app, who.sub, reason, self.clock())
        self.repo.commit(change)
        return change.after

    # --- system steps -----------------------------------------------------

    def apply_with_retry(self, application_id: str, decide: Callable[[Application], Change]) -> Optional[Change]:
        """Apply a system step, re-reading on conflict; a replay (NothingToDo) is a success.

        Returns the committed Change, or None when there was nothing to do.
        """
        for _ in range(SYSTEM_RETRIES):
            app = self.repo.get(application_id)
            if app is None:
                raise NotFound(application_id)
            try:
                change = decide(app)
            except NothingToDo:
                return None
            try:
                self.repo.commit(change)
                return change
            except ConcurrentChange:
                continue
        raise ConcurrentChange(self.repo.get(application_id))


def describe(change: Optional[Change]) -> dict[str, Any]:
    if change is None:
        return {"changed": False}
    return {"changed": True, "state": change.after.state.value, "events": [e.type.value for e in change.events]}
