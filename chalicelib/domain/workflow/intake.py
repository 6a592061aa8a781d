"""The applicant's commands: submit an application, the identity document arriving (and any further
object after it), withdraw."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Optional

from .application import Application, Change, ChangeBuilder, iso
from .errors import IllegalTransition, NothingToDo
from .history import Actor, jsonable
from .states import EventType, State


def submit(application_id: str, applicant_id: str, declared: Mapping[str, Any], now: dt.datetime) -> Change:
    stamp = iso(now)
    blank = Application(
        application_id=application_id,
        applicant_id=applicant_id,
        state=State.AWAITING_DOCUMENTS,
        version=0,
        created_at=stamp,
        updated_at=stamp,
        state_since=stamp,
        declared=jsonable(declared),
        watched=False,  # nobody can have subscribed to an application not yet created
    )
    return (
        ChangeBuilder(None, blank, now)
        .apply(EventType.SUBMITTED, Actor("applicant", applicant_id), "application submitted")
        .build()
    )


def receive_document(app: Application, key: str, size: int, now: dt.datetime, version: Optional[str] = None) -> Change:
    """The one document of the application: its key and version are what the identity check reads."""
    if app.state != State.AWAITING_DOCUMENTS:
        if app.document_key == key and (version is None or app.document_version in (None, version)):
            raise NothingToDo("document already received")
        raise IllegalTransition(EventType.DOCUMENT_RECEIVED, app.state)
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.DOCUMENT_RECEIVED,
            Actor("system", "documents"),
            "identity document uploaded",
            {"key": key, "size": size, "version": version},
            document_key=key,
            document_version=version,
        )
        .build()
    )


def record_unexpected_document(app: Application, key: str, version: Optional[str], now: dt.datetime) -> Change:
    """Another object under the application once its document is being checked or decided: kept in the
    history for the reviewer and the audit, never checked, never changing the state. A later version of
    the checked document's own key is ``document.replaced``: every read stays pinned to the checked one."""
    kind, reason = (
        (EventType.DOCUMENT_REPLACED, "the checked document's key was written again; the new version was not used")
        if key == app.document_key
        else (EventType.DOCUMENT_UNEXPECTED, "a further document was uploaded after the one checked; it was not used")
    )
    return (
        ChangeBuilder(app, app, now)
        .apply(
            kind,
            Actor("system", "documents"),
            reason,
            {"key": key, "version": version, "checked_key": app.document_key, "checked_version": app.document_version},
        )
        .build()
    )


def withdraw(app: Application, applicant_id: str, reason: str, now: dt.datetime) -> Change:
    return (
        ChangeBuilder(app, app, now)
        .apply(EventType.WITHDRAWN, Actor("applicant", applicant_id), reason or "withdrawn by applicant")
        .build()
    )
