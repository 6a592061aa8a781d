"""Request and response bodies.

The application a request declares is the domain's declaration (domain/declaration.py). The response
models describe exactly what ``presenters.py`` emits; nothing validates against them at run time, they
are the OpenAPI document's schemas (and the test that real responses match it keeps them honest).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ..domain import text
from ..domain.checks import Outcome
from ..domain.declaration import Address, ApplicationRequest, FullName, IcaoCode, IdentityDocument, Phone
from ..domain.workflow import EventType, State

__all__ = ["ApplicationRequest", "Decision", "DecisionRequest", "DocumentUploadRequest", "WithdrawRequest"]


Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(text.check_printable),
    Field(json_schema_extra=text.printable_schema()),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WithdrawRequest(_Strict):
    reason: Optional[Reason] = None


class DocumentUploadRequest(_Strict):
    content_type: Annotated[str, StringConstraints(pattern=r"^(image/jpeg|image/png|application/pdf)$")]


class Decision(str, enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"


class DecisionRequest(_Strict):
    decision: Decision
    reason: Reason


# --- responses: exactly what presenters.py emits (extra="forbid": a new key is a documentation change) --------


def _absent_not_null(schema: dict[str, Any]) -> None:
    """A field that is left out when it has no value, never sent as null."""
    schema.pop("default", None)


#: ``Field`` of a key the presenter omits instead of sending null (e.g. personal data after the purge).
MayBeAbsent: Any = Field(default=None, json_schema_extra=_absent_not_null)


class ErrorBody(_Strict):
    code: str = Field(description="Machine-readable, e.g. validation_failed, not_found, conflict")
    message: str
    details: Any = Field(description="An object; its keys depend on the code ({} when there is nothing to add)")


class Error(_Strict):
    """The one error shape (chalicelib/api/errors.py)."""

    error: ErrorBody
    request_id: str


class ReasonOut(_Strict):
    code: str
    outcome: Outcome
    message: str


class CheckOut(_Strict):
    check: str
    outcome: Outcome
    reasons: list[ReasonOut]
    details: dict[str, Any]


class DecisionReason(_Strict):
    check: str
    code: str
    outcome: Outcome
    message: str


class Declared(_Strict):
    """What the applicant declared; after the retention purge only the name, birth date and nationality stay."""

    full_name: FullName
    date_of_birth: dt.date
    nationality: IcaoCode
    email: EmailStr = MayBeAbsent
    phone: Phone = MayBeAbsent
    address: Address = MayBeAbsent
    identity_document: IdentityDocument = MayBeAbsent


class ApplicationSummary(_Strict):
    id: str
    state: State
    version: int
    created_at: str
    updated_at: str


class ApplicationOut(ApplicationSummary):
    state_since: str
    declared: Declared
    checks: dict[str, CheckOut] = Field(description="By check name: identity, address")
    decision_reasons: list[DecisionReason]
    document_received: bool
    escalated_at: Optional[str]
    purged_at: Optional[str]


class UploadForm(_Strict):
    """A presigned S3 POST: send ``fields`` and then the file as multipart/form-data to ``url``."""

    key: str
    url: str
    fields: dict[str, str]
    expires_at: str
    content_type: str
    min_bytes: int
    max_bytes: int


class ApplicationCreated(ApplicationOut):
    uploads: dict[str, UploadForm] = Field(
        description="Presigned S3 POSTs for the identity document, one per allowed content type "
        "(image/jpeg, image/png, application/pdf), all for one key: post the file with the form of its type. "
        "Empty once no document is awaited. A new form: POST /applications/{id}/documents."
    )


class ApplicationPage(_Strict):
    items: list[ApplicationSummary]
    next_cursor: Optional[str] = Field(description="Pass as ?cursor= for the next page; null on the last one")


class HistoryEventOut(_Strict):
    application_id: str
    seq: int = Field(ge=1)
    type: EventType
    actor: str = Field(description="kind:id, e.g. applicant:<sub>, system:consolidation")
    at: str
    from_state: Optional[State]
    to_state: State
    reason: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class History(_Strict):
    items: list[HistoryEventOut]
    chain_intact: bool
    next_cursor: Optional[str] = None


class QueueItem(_Strict):
    id: str
    state: State
    version: int
    flagged_at: str
    created_at: str
    escalated_at: Optional[str]
    applicant_name: Optional[str]
    decision_reasons: list[DecisionReason]


class QueuePage(_Strict):
    items: list[QueueItem]
    next_cursor: Optional[str]


class ReviewDetail(ApplicationOut):
    applicant_id: str
    history: list[HistoryEventOut]
    chain_intact: bool


class Probe(_Strict):
    status: Literal["ok", "error"]
    error: str = MayBeAbsent
    ms: float


class Health(_Strict):
    status: Literal["ok", "degraded"]
    checks: dict[str, Probe]


# --- the console's routes ----------------------------------------------------------------


class DocumentLink(_Strict):
    """A presigned GET of the identity document: valid 5 minutes, typed by its bytes, shown inline."""

    url: str
    content_type: Literal["image/jpeg", "image/png", "application/pdf"]
    expires_at: str


class StateCount(_Strict):
    state: State
    final: bool
    count: int = Field(ge=0)
    oldest_since: Optional[str] = Field(description="When the oldest application entered the state; null if none")


class TransitionOut(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event: EventType
    from_state: Optional[State] = Field(alias="from", description="null: the event creates the application")
    to: State


class WorkflowOut(_Strict):
    """The state machine as data: generated from the domain's transition table, with live counts."""

    states: list[StateCount]
    transitions: list[TransitionOut]
    as_of: str


class QueueStatusOut(_Strict):
    name: str
    depth: int
    in_flight: int
    dlq_depth: int


class QueuesOut(_Strict):
    queues: list[QueueStatusOut]


class Redriven(_Strict):
    queue: str
    moved: int


class JobRunOut(_Strict):
    started_at: str
    finished_at: str
    ok: bool
    summary: dict[str, Any]


class JobOut(_Strict):
    name: str
    schedule: str
    description: str
    last_run: Optional[JobRunOut]


class JobsOut(_Strict):
    jobs: list[JobOut]
