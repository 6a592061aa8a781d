"""Re-drives applications an asynchronous step lost, so none sits in AWAITING_DOCUMENTS or VERIFYING for good.

S3 invokes the identity check asynchronously: after Lambda's own retries a
failed event goes to the function's on-failure destination and nothing else
happens. An address-check message can land in its DLQ. Either way the
application would wait until the expiry job (AWAITING_DOCUMENTS) or forever
(VERIFYING). The sweeper, on a schedule, finds applications that have been in
those states longer than ``STUCK_AFTER`` and runs the missing step again:

* AWAITING_DOCUMENTS with a document in the bucket: the identity check on it;
* VERIFYING without an identity result: the identity check on its document;
* either state without an address or a sanctions result: that check;
* VERIFYING with the face check asked for but not recorded (its message dead-lettered): the face check.

Every step is idempotent (a replay changes nothing), so a sweep racing the
original event, or running twice, is safe.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Optional

from ..domain.checks import ADDRESS, IDENTITY, SANCTIONS
from ..domain.workflow import Application, State, iso
from ..observability import logger
from .address_check import AddressCheck
from .applications import ApplicationService
from .face_check import FaceCheck
from .identity_check import IdentityCheck
from .ports import DocumentStore
from .sanctions import SanctionsCheck

#: Longer than any step takes, shorter than anyone should wait.
STUCK_AFTER = dt.timedelta(minutes=10)
#: An application still awaiting documents after this is abandoned, not stuck (the expiry job's business):
#: the bucket is no longer listed for it on every sweep.
LOOK_FOR_UPLOADS_WITHIN = dt.timedelta(days=2)


class Sweeper:
    def __init__(
        self,
        applications: ApplicationService,
        documents: DocumentStore,
        identity_check: IdentityCheck,
        address_check: AddressCheck,
        sanctions_check: SanctionsCheck,
        face_check: FaceCheck,
    ):
        self.applications = applications
        self.documents = documents
        self.identity_check = identity_check
        self.address_check = address_check
        self.sanctions_check = sanctions_check
        self.face_check = face_check

    def redrive_stuck(
        self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None
    ) -> dict[str, Any]:
        now = now or self.applications.clock()
        started = time.monotonic()
        cutoff = iso(now - STUCK_AFTER)
        oldest_upload = iso(now - LOOK_FOR_UPLOADS_WITHIN)
        summary: dict[str, Any] = {"job": "redrive_stuck", "examined": 0, "changed": 0, "failed": 0}
        for state in (State.VERIFYING, State.AWAITING_DOCUMENTS):
            for app in self.applications.repo.in_state_since_before(state, cutoff):
                if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                    summary["stopped"] = "time budget"
                    return summary
                awaited = ADDRESS in app.checks and SANCTIONS in app.checks
                if state is State.AWAITING_DOCUMENTS and app.state_since < oldest_upload and awaited:
                    continue
                summary["examined"] += 1
                try:
                    summary["changed"] += self._redrive(app)
                except Exception:  # noqa: BLE001 - one application never stops the sweep
                    summary["failed"] += 1
                    logger.exception("re-drive failed", extra={"application_id": app.application_id})
        return summary

    def _redrive(self, app: Application) -> int:
        changed = 0
        submitted = json.dumps({"application_id": app.application_id})
        if ADDRESS not in app.checks:
            changed += 1 if self.address_check.address_requested(submitted).get("changed") else 0
        if SANCTIONS not in app.checks:
            changed += 1 if self.sanctions_check.screening_requested(submitted).get("changed") else 0
        if IDENTITY not in app.checks:
            key = app.document_key or next(iter(reversed(self.documents.keys_of(app.application_id))), None)
            if key is not None:
                outcome = self.identity_check.document_uploaded(key, app.document_version if app.document_key else None)
                changed += (
                    1 if outcome.get("identity", {}).get("changed") or outcome.get("received", {}).get("changed") else 0
                )
        if FaceCheck.due(app):
            changed += 1 if self.face_check.check_requested(submitted).get("changed") else 0
        if changed:
            logger.info("stuck application re-driven", extra={"application_id": app.application_id})
        return changed
