"""Identity document uploads: a presigned POST straight to S3, only for the owner, only while awaited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..domain.users import Identity
from ..domain.workflow.application import Application, iso
from ..domain.workflow.errors import IllegalTransition
from ..domain.workflow.states import EventType, State
from .applications import ApplicationService
from .ports import DocumentStore, SettingsSource

#: What an identity document may be; one upload form per type comes with a new application.
CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf")


class DocumentUploads:
    def __init__(self, applications: ApplicationService, documents: DocumentStore, settings: SettingsSource):
        self.applications = applications
        self.documents = documents
        self.settings = settings

    def request_upload(self, who: Identity, application_id: str, content_type: str) -> dict[str, Any]:
        app = self.applications.get_own(who, application_id)
        if app.state != State.AWAITING_DOCUMENTS:
            raise IllegalTransition(EventType.DOCUMENT_RECEIVED, app.state)
        return self._form(self.documents.key_for_new_upload(application_id), content_type)

    def forms_for(self, app: Application) -> dict[str, dict[str, Any]]:
        """Upload forms for an application its caller already holds (the create's answer): one per type,
        all for one key, signed here with no AWS call and no read. None once no document is awaited."""
        if app.state != State.AWAITING_DOCUMENTS:
            return {}
        key = self.documents.key_for_new_upload(app.application_id)
        return {content_type: self._form(key, content_type) for content_type in CONTENT_TYPES}

    def _form(self, key: str, content_type: str) -> dict[str, Any]:
        policy = self.settings.policy()
        upload = self.documents.presigned_upload(
            key,
            content_type,
            policy.document_min_bytes,
            policy.document_max_bytes,
            policy.upload_url_ttl_seconds,
        )
        expires = self.applications.clock() + dt.timedelta(seconds=policy.upload_url_ttl_seconds)
        return {
            "key": upload.key,
            "url": upload.url,
            "fields": upload.fields,
            "expires_at": iso(expires),
            "content_type": content_type,
            "min_bytes": policy.document_min_bytes,
            "max_bytes": policy.document_max_bytes,
        }
