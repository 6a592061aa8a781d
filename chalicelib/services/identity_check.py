"""The identity check, run when a document lands in S3 (the S3 ObjectCreated event)."""

from __future__ import annotations

from typing import Any

from ..domain import workflow
from ..domain.checks import IDENTITY
from ..domain.declaration import ApplicationRequest
from ..domain.identity import check_identity
from ..domain.workflow import IllegalTransition
from ..observability import logger
from .applications import ApplicationService, describe
from .checks import CheckRecorder
from .errors import NotFound
from .ports import DocumentStore, Metrics, SettingsSource


class IdentityCheck:
    def __init__(
        self,
        applications: ApplicationService,
        documents: DocumentStore,
        settings: SettingsSource,
        recorder: CheckRecorder,
        metrics: Metrics,
    ):
        self.applications = applications
        self.documents = documents
        self.settings = settings
        self.recorder = recorder
        self.metrics = metrics

    def document_uploaded(self, key: str) -> dict[str, Any]:
        application_id = self.documents.application_id_of(key)
        if application_id is None:
            logger.warning("object outside the upload layout ignored", extra={"key": key})
            return {"ignored": "unknown key"}
        known = self.applications.repo.get(application_id)
        if known is not None and known.document_key == key and IDENTITY in known.checks:
            return {"received": {"changed": False}, "identity": {"changed": False}}  # a replay: no S3 reads
        sample = self.documents.sample(key)
        try:
            received = self.applications.apply_with_retry(
                application_id, lambda app: workflow.receive_document(app, key, sample.size, self.applications.clock())
            )
        except NotFound:
            logger.warning("document for unknown application", extra={"key": key})
            return {"ignored": "unknown application"}
        except IllegalTransition as error:
            logger.info("document not expected in this state", extra={"key": key, "state": str(error.state)})
            self.metrics.count("DocumentIgnored")
            return {"ignored": f"state {error.state.value if error.state else None}"}
        app = received.after if received else self.applications.repo.get(application_id)
        if app is None or app.document_key != key or IDENTITY in app.checks:
            return {"received": describe(received), "identity": {"changed": False}}
        result = check_identity(
            ApplicationRequest.model_validate(app.declared),
            sample,
            self.settings.policy(),
            self.applications.clock().date(),
        )
        return {"received": describe(received), "identity": describe(self.recorder.record(application_id, result))}
