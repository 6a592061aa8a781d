"""Re-drives applications an asynchronous step lost, so none sits in AWAITING_DOCUMENTS or VERIFYING for good.

An upload's notification waits for its identity check on a queue; a message
that failed ten times lands in its DLQ, and so can an address-check or a
screening message. A notification can also be lost (S3 delivers at least once,
almost always), or a whole local stack killed mid-check. Either way the
application would wait until the expiry job (AWAITING_DOCUMENTS) or forever
(VERIFYING). The sweeper, on a schedule, finds applications that have been in
those states longer than ``STUCK_AFTER`` and asks for the missing step again:

* AWAITING_DOCUMENTS with a document in the bucket: an identity check of it,
  asked for on the identity-check queue (the path uploads take, so the OCR
  service's quota is respected and the sweep itself stays cheap);
* VERIFYING without an identity result: likewise, for its document;
* either state without an address or a sanctions result: that check, run here;
* VERIFYING with the face check asked for but not recorded (its message dead-lettered): the face check.

Every step is idempotent (a replay changes nothing), so a sweep racing the
original event, or running twice, is safe.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, Optional

from ..domain.checks import ADDRESS, IDENTITY, SANCTIONS
from ..domain.workflow.application import Application, iso
from ..domain.workflow.states import State
from ..observability import logger
from .address_check import AddressCheck
from .applications import ApplicationService
from .budget import TimeBudget
from .face_check import FaceCheck
from .ports import CheckRequests, Claims, DocumentStore
from .sanctions import SanctionsCheck

#: Longer than any step takes, shorter than anyone should wait.
STUCK_AFTER = dt.timedelta(minutes=10)
#: Applications awaiting documents are looked at only within this long after STUCK_AFTER: older ones are
#: abandoned, not stuck (the expiry job's business), and at a bank's volume there are millions of them.
#: What a lost step leaves older than this is in a DLQ, alarmed, and redriven from there.
LOOK_FOR_UPLOADS_WITHIN = dt.timedelta(hours=1)
#: A sweep's bounds besides its time budget: applications examined, and S3 listings (one per application
#: that awaits a document: did its upload's notification get lost?).
MAX_EXAMINED = 1000
MAX_LISTINGS = 200
#: A document's check is asked for again at most this often (one that keeps failing ends in the DLQ,
#: alarmed, and must not cycle through the OCR service every sweep).
ASK_AGAIN_AFTER = dt.timedelta(hours=1)


class Sweeper:
    def __init__(
        self,
        applications: ApplicationService,
        documents: DocumentStore,
        check_requests: CheckRequests,
        address_check: AddressCheck,
        sanctions_check: SanctionsCheck,
        claims: Claims,
        face_check: FaceCheck,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.applications = applications
        self.monotonic = monotonic  # the time budget's clock (a fake in tests)
        self.documents = documents
        self.check_requests = check_requests
        self.claims = claims
        self._listings = 0
        self.address_check = address_check
        self.sanctions_check = sanctions_check
        self.face_check = face_check

    def redrive_stuck(
        self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None
    ) -> dict[str, Any]:
        """Bounded: VERIFYING past STUCK_AFTER (a short-lived state: few), AWAITING_DOCUMENTS entered within
        LOOK_FOR_UPLOADS_WITHIN before that, at most MAX_EXAMINED applications and MAX_LISTINGS listings of the
        bucket a run, within the time budget; the next run (every 15 minutes) carries on. The budget counts
        from the start, candidate queries included, and is looked at between applications once one has been
        examined: a run whose queries alone spent the budget still handles the first application (else such a
        run would examine nothing, and so would every run after it)."""
        now = now or self.applications.clock()
        budget = TimeBudget(budget_seconds, self.monotonic)
        cutoff = iso(now - STUCK_AFTER)
        window = iso(now - STUCK_AFTER - LOOK_FOR_UPLOADS_WITHIN)
        repo = self.applications.repo
        summary: dict[str, Any] = {"job": "redrive_stuck", "examined": 0, "changed": 0, "requested": 0, "failed": 0}
        self._listings = 0
        for candidates in (
            repo.in_state_since_before(State.VERIFYING, cutoff),
            repo.in_state_between(State.AWAITING_DOCUMENTS, window, cutoff),
        ):
            for app in budget.each(candidates):
                if summary["examined"] >= MAX_EXAMINED:
                    summary["stopped"] = "examined enough for one run"
                    return summary
                summary["examined"] += 1
                try:
                    changed, requested = self._redrive(app)
                    summary["changed"] += changed
                    summary["requested"] += requested
                except Exception:  # noqa: BLE001 - one application never stops the sweep
                    summary["failed"] += 1
                    logger.exception("re-drive failed", extra={"application_id": app.application_id})
            if budget.stopped:
                summary["stopped"] = "time budget"
                return summary
        return summary

    def _redrive(self, app: Application) -> tuple[int, int]:
        """(checks recorded here, identity checks asked for on the queue)."""
        changed = requested = 0
        submitted = json.dumps({"application_id": app.application_id})
        if ADDRESS not in app.checks:
            changed += 1 if self.address_check.address_requested(submitted).get("changed") else 0
        if SANCTIONS not in app.checks:
            changed += 1 if self.sanctions_check.screening_requested(submitted).get("changed") else 0
        if IDENTITY not in app.checks:
            key = app.document_key
            if key is None and self._listings < MAX_LISTINGS:
                self._listings += 1
                key = next(iter(reversed(self.documents.keys_of(app.application_id))), None)
            version = app.document_version if key is not None and key == app.document_key else None
            asked = f"sweeper#identity#{key}#{version}"
            if key is not None and self.claims.claim(asked, int(ASK_AGAIN_AFTER.total_seconds())):
                self.check_requests.request_identity_check(key, version)
                requested += 1
        if FaceCheck.due(app):
            changed += 1 if self.face_check.check_requested(submitted).get("changed") else 0
        if changed or requested:
            logger.info(
                "stuck application re-driven",
                extra={"application_id": app.application_id, "changed": changed, "identity_check_asked": requested},
            )
        return changed, requested
