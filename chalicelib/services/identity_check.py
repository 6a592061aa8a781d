"""The identity check, run when a document lands in S3 (the S3 ObjectCreated event).

The document is read once (one GET of the object version, whole up to
``WHOLE_READ_BYTES``): its head and tail decide whether it is worth reading,
then OCR reads those very bytes (or, for a larger object, the exact version
that was checked, in S3), and the domain compares what was read with what was declared.
"""

from __future__ import annotations

from typing import Any, Optional

from ..domain.checks import IDENTITY
from ..domain.declaration import ApplicationRequest
from ..domain.document_file import check_file
from ..domain.identity import DOCUMENT_UNREADABLE, OcrRefusal, Reading, check_identity, worth_reading
from ..domain.workflow import application, consolidation, intake
from ..domain.workflow.application import Application, Change
from ..domain.workflow.errors import IllegalTransition, NothingToDo
from ..domain.workflow.states import State
from ..observability import logger
from .applications import ApplicationService, describe
from .checks import CheckRecorder
from .errors import NotFound
from .ports import Claims, DocumentMissing, DocumentStore, Metrics, Ocr, OcrRefused, Readings, SettingsSource
from .readings import keep_reading


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
        readings: Optional[Readings] = None,
    ):
        self.applications = applications
        self.documents = documents
        self.settings = settings
        self.recorder = recorder
        self.metrics = metrics
        self.ocr = ocr
        self.claims = claims
        self.readings = readings  # where a page's OCR text goes, out of the application item

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
        if known is None:
            logger.warning("document for unknown application", extra={"key": key})
            return {"ignored": "unknown application"}
        try:
            sample = self.documents.sample(key, version)
        except DocumentMissing:  # deleted (or that version gone) before the event was handled
            logger.warning("uploaded object no longer in the store", extra={"key": key, "version": version})
            return {"ignored": "object gone"}
        clock = self.applications.clock
        try:
            intake.receive_document(known, key, sample.size, clock(), version=sample.version)
        except IllegalTransition as error:
            return self._later_object(application_id, key, sample.version, error.state)
        except NothingToDo:
            pass  # received before (by an earlier run of this handler): the check is what is missing
        if known.document_key not in (None, key):
            return {"received": {"changed": False}, "identity": {"changed": False}}
        result = self._check(known, key, sample)

        def receive_and_record(app: Application) -> Change:
            """One transaction: the document received and its check recorded (and any decision)."""
            try:
                received = intake.receive_document(app, key, sample.size, clock(), version=sample.version)
            except NothingToDo:
                return consolidation.record_check(app, result, clock())
            return application.then(received, consolidation.record_check(received.after, result, clock()))

        try:
            change = self.applications.apply_with_retry(application_id, receive_and_record, known)
        except NotFound:
            logger.warning("document for unknown application", extra={"key": key})
            return {"ignored": "unknown application"}
        except IllegalTransition as error:  # decided or expired while the document was read
            return self._later_object(application_id, key, sample.version, error.state)
        self.recorder.count(result, change)
        return {"received": describe(change), "identity": describe(change)}

    def _check(self, app: Application, key: str, sample: Any) -> Any:
        """Read the pinned version (when the file is worth reading) and compare it with the declaration."""
        policy = self.settings.policy()
        page: Reading = None
        if worth_reading(check_file(sample, policy)[1]):
            try:
                page = self.ocr.read(key, sample.version, sample.body)
            except OcrRefused as refused:
                self.metrics.count("DocumentRefusedByOcr")
                page = OcrRefusal(refused.code, refused.message)
        result = check_identity(
            ApplicationRequest.model_validate(app.declared), sample, policy, self.applications.clock().date(), page
        )
        if self.readings is not None:
            result = keep_reading(self.readings, app.application_id, key, sample.version, result)
        self.metrics.count("DocumentChecked")  # with DocumentUnreadable: the unreadable-document rate alarm
        if any(reason.code == DOCUMENT_UNREADABLE for reason in result.reasons):
            self.metrics.count("DocumentUnreadable")
        return result

    def _later_object(
        self, application_id: str, key: str, version: Optional[str], state: Optional[State]
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
                lambda app: intake.record_unexpected_document(app, key, version, self.applications.clock()),
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
