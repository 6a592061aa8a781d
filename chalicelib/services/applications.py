"""Use cases: what the handlers ask for, in the words of the workflow.

Each use case loads what it needs through the repository, asks the domain
for a Change, and commits it. Concurrency is settled by the repository's
conditional transaction: people get a 409, system steps re-read and retry.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from typing import Any, Optional

from ..domain import workflow
from ..domain.declaration import ApplicationRequest
from ..domain.limits import day_window
from ..domain.policy import Policy, settled_by_declaration
from ..domain.users import Identity
from ..domain.workflow import Application, Change, HistoryEvent, NothingToDo, is_application_id
from .errors import DeclarationRefused, IdempotencyKeyReused, NotFound, QuotaExceeded
from .ports import (
    ApplicationRepository,
    Clock,
    ConcurrentChange,
    IdempotentReplay,
    IdGenerator,
    QuotaFull,
    Quotas,
    QuotaUse,
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
        quotas: Optional[Quotas] = None,
        settings: Optional[SettingsSource] = None,
    ):
        self.repo = repository
        self.clock = clock
        self.new_id = new_id
        self.quotas = quotas
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
            raise DeclarationRefused(broken)  # before the quota: a refused declaration costs none of it
        quota = self._daily_quota(who)
        change = workflow.submit(self.new_id(), who.sub, declared, now)
        try:
            self.repo.commit(change, idempotency_key=claim_key, fingerprint=fingerprint, quota=quota)
        except IdempotentReplay as replay:  # free: the quota is taken only by the commit that creates
            return self._replayed(who, replay.application_id, replay.fingerprint, fingerprint), False
        except QuotaFull:
            raise QuotaExceeded("the daily limit of new applications is reached", day_window(now)[1]) from None
        return change.after, True

    def _daily_quota(self, who: Identity) -> Optional[QuotaUse]:
        """One of the applicant's applications for today, taken in the create's own transaction (one call,
        and nothing to give back when the create fails); None without settings (tests on bare fakes)."""
        if self.quotas is None or self.settings is None:
            return None
        day, retry_after = day_window(self.clock())
        return QuotaUse(
            f"quota#applications#{who.sub}#{day}", self.settings.policy().max_applications_per_day, retry_after + 3600
        )

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

    def apply_with_retry(
        self,
        application_id: str,
        decide: Callable[[Application], Change],
        current: Optional[Application] = None,
    ) -> Optional[Change]:
        """Apply a system step, re-reading on conflict; a replay (NothingToDo) is a success.

        ``current``: the application as the caller just read it, so the first
        attempt costs no read (one read per handler). A conflict carries what
        won; attempts back off with jitter so racing steps do not collide again.
        Returns the committed Change, or None when there was nothing to do.
        """
        app = current
        for attempt in range(SYSTEM_RETRIES):
            if app is None or app.application_id != application_id:
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
            except ConcurrentChange as conflict:
                app = conflict.current
                backoff(attempt)
        raise ConcurrentChange(self.repo.get(application_id))


def backoff(attempt: int, base_seconds: float = 0.01, cap_seconds: float = 1.0) -> None:
    """Full jitter: a random wait up to base x 2^attempt (capped), so retries spread out instead of colliding."""
    time.sleep(random.uniform(0, min(cap_seconds, base_seconds * 2**attempt)))


def describe(change: Optional[Change]) -> dict[str, Any]:
    if change is None:
        return {"changed": False}
    return {"changed": True, "state": change.after.state.value, "events": [e.type.value for e in change.events]}
