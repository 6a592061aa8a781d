"""Data verification: the identity and address checks and their fan-in.

Both checks run in parallel. Each records its result with a conditional
transaction on the application's version; whichever lands second sees the
other's result and consolidates in that same transaction, so consolidation
happens exactly once however the two race or how often an event is replayed.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Optional

from . import documents
from .auth import Identity
from .domain import workflow
from .domain.address import check_address
from .domain.checks import CheckResult
from .domain.declared import Address, ApplicationRequest
from .domain.identity import check_identity
from .domain.policy import Policy
from .domain.workflow import IllegalTransition, State
from .observability import count, logger
from .service import ApplicationService, NotFound, describe


class PoisonMessage(ValueError):
    """A message that can never be processed: it goes to the DLQ for a human."""


class VerificationService:
    def __init__(self, applications: ApplicationService, policy: Callable[[], Policy]):
        self.applications = applications
        self.policy = policy

    def request_upload(self, who: Identity, application_id: str, content_type: str) -> dict[str, Any]:
        app = self.applications.get_own(who, application_id)
        if app.state != State.AWAITING_DOCUMENTS:
            raise IllegalTransition(workflow.EventType.DOCUMENT_RECEIVED, app.state)
        policy = self.policy()
        upload = documents.presigned_upload(application_id, content_type, policy.document_min_bytes,
                                            policy.document_max_bytes, policy.upload_url_ttl_seconds)
        expires = self.applications.clock() + dt.timedelta(seconds=policy.upload_url_ttl_seconds)
        return {"key": upload.key, "url": upload.url, "fields": upload.fields,
                "expires_at": workflow.iso(expires), "content_type": content_type,
                "min_bytes": policy.document_min_bytes, "max_bytes": policy.document_max_bytes}

    # --- identity (S3 ObjectCreated) -------------------------------------

    def document_uploaded(self, bucket: str, key: str) -> dict[str, Any]:
        application_id = documents.application_id_of(key)
        if application_id is None:
            logger.warning("object outside the upload layout ignored", extra={"key": key})
            return {"ignored": "unknown key"}
        known = self.applications.repo.get(application_id)
        if known is not None and known.document_key == key and "identity" in known.checks:
            return {"received": {"changed": False}, "identity": {"changed": False}}  # a replay: no S3 reads
        sample = documents.sample(key, bucket)
        try:
            received = self.applications.apply_with_retry(
                application_id,
                lambda app: workflow.receive_document(app, key, sample.size, self.applications.clock()))
        except NotFound:
            logger.warning("document for unknown application", extra={"key": key})
            return {"ignored": "unknown application"}
        except IllegalTransition as error:
            logger.info("document not expected in this state", extra={"key": key, "state": str(error.state)})
            count("DocumentIgnored")
            return {"ignored": f"state {error.state.value if error.state else None}"}
        app = received.after if received else self.applications.repo.get(application_id)
        if app is None or app.document_key != key or "identity" in app.checks:
            return {"received": describe(received), "identity": {"changed": False}}
        result = check_identity(ApplicationRequest.model_validate(app.declared), sample, self.policy(),
                                self.applications.clock().date())
        return {"received": describe(received), "identity": describe(self.record(application_id, result))}

    # --- address (SQS) --------------------------------------------------

    def address_requested(self, body: str) -> dict[str, Any]:
        application_id = _application_id_from(body)
        app = self.applications.repo.get(application_id)
        if app is None:
            raise PoisonMessage(f"unknown application {application_id}")
        if "address" in app.checks or app.state not in (State.AWAITING_DOCUMENTS, State.VERIFYING):
            return {"changed": False}
        result = check_address(Address.model_validate(app.declared["address"]), self.policy())
        return describe(self.record(application_id, result))

    def record(self, application_id: str, result: CheckResult) -> Optional[workflow.Change]:
        try:
            change = self.applications.apply_with_retry(
                application_id, lambda app: workflow.record_check(app, result, self.applications.clock()))
        except IllegalTransition as error:
            logger.info("check result arrived after the application moved on",
                        extra={"application_id": application_id, "state": str(error.state)})
            return None
        if change is not None:
            count(f"{result.check.capitalize()}Check{result.outcome.value.capitalize()}")
            decided = [e for e in change.events if e.to_state != e.from_state]
            if decided:
                count(f"Application{decided[-1].to_state.value.capitalize()}")
        return change


def _application_id_from(body: str) -> str:
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
