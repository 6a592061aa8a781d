"""The identity check, run when a document lands in S3 (the S3 ObjectCreated event).

The document is read where it lies: the file's head and tail decide whether
it is worth reading, then OCR reads the exact object version that was
checked, and the domain compares what was read with what was declared.
"""

from __future__ import annotations

from typing import Any, Optional

from ..domain import workflow
from ..domain.checks import IDENTITY
from ..domain.declaration import ApplicationRequest
from ..domain.identity import DOCUMENT_UNREADABLE, OcrRefusal, Reading, check_file, check_identity, worth_reading
from ..domain.workflow import IllegalTransition
from ..observability import logger
from .applications import ApplicationService, describe
from .checks import CheckRecorder
from .errors import NotFound
from .ports import Claims, DocumentStore, Metrics, Ocr, OcrRefused, SettingsSource


class IdentityCheck:
    def __init__(
        self,
        applications: ApplicationService,
        documents: DocumentStore,
        settings: SettingsSource,
        recorder: CheckRecorder,
        metrics: Metrics,
        ocr: Ocr,
        claims: Claims,
    ):
        self.applications = applications
        self.documents = documents
        self.settings = settings
        self.recorder = recorder
        self.metrics = metrics
        self.ocr = ocr
        self.claims = claims

    def document_uploaded(self, key: str, version: Optional[str] = None) -> dict[str, Any]:
        """``version``: the object version the S3 event names, when the bucket is versioned."""
        application_id = self.documents.application_id_of(key)
        if application_id is None:
            logger.warning("object outside the upload layout ignored", extra={"key": key})
            return {"ignored": "unknown key"}
        known = self.applications.repo.get(application_id)
        if known is not None and known.document_key == key and IDENTITY in known.checks:
            if version is not None and version != known.document_version:
                return self._later_object(application_id, key, version, known.state)
            return {"received": {"changed": False}, "identity": {"changed": False}}  # a replay: no S3 reads
        sample = self.documents.sample(key, version)
        try:
            received = self.applications.apply_with_retry(
                application_id,
                lambda app: workflow.receive_document(
                    app, key, sample.size, self.applications.clock(), version=sample.version
                ),
            )
        except NotFound:
            logger.warning("document for unknown application", extra={"key": key})
            return {"ignored": "unknown application"}
        except IllegalTransition as error:
            return self._later_object(application_id, key, sample.version, error.state)
        app = received.after if received else self.applications.repo.get(application_id)
        if app is None or app.document_key != key or IDENTITY in app.checks:
            return {"received": describe(received), "identity": {"changed": False}}
        policy = self.settings.policy()
        page: Reading = None
        if worth_reading(check_file(sample, policy)[1]):
            try:
                page = self.ocr.read(key, app.document_version)
            except OcrRefused as refused:
                self.metrics.count("DocumentRefusedByOcr")
                page = OcrRefusal(refused.code, refused.message)
        result = check_identity(
            ApplicationRequest.model_validate(app.declared), sample, policy, self.applications.clock().date(), page
        )
        self.metrics.count("DocumentChecked")  # with DocumentUnreadable: the unreadable-document rate alarm
        if any(reason.code == DOCUMENT_UNREADABLE for reason in result.reasons):
            self.metrics.count("DocumentUnreadable")
        return {"received": describe(received), "identity": describe(self.recorder.record(application_id, result))}

    def _later_object(
        self, application_id: str, key: str, version: Optional[str], state: Optional[workflow.State]
    ) -> dict[str, Any]:
        """A document after the one being checked or decided: it never changes the application, but is kept
        in its history (once per object version) so a person sees that someone tried."""
        ignored = f"state {state.value if state else None}"
        claim = f"unexpected-document:{key}#{version}"
        if not self.claims.claim(claim):
            return {"ignored": ignored, "recorded": {"changed": False}}  # a replay
        try:
            change = self.applications.apply_with_retry(
                application_id,
                lambda app: workflow.record_unexpected_document(app, key, version, self.applications.clock()),
            )
        except IllegalTransition:
            change = None
        except Exception:
            self.claims.release(claim)  # not recorded: the next delivery tries again
            raise
        self.metrics.count("DocumentIgnored")
        logger.warning(
            "a further document for an application past AWAITING_DOCUMENTS: recorded, not checked",
            extra={"key": key, "version": version, "state": str(state)},
        )
        return {"ignored": ignored, "recorded": describe(change)}
