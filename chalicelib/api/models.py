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
from ..domain.workflow.states import EventType, State

__all__ = [
    "ApplicationRequest",
    "BiometricConsentRequest",
    "Decision",
    "DecisionRequest",
    "DocumentUploadRequest",
    "WithdrawRequest",
]


Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(text.check_printable),
    Field(json_schema_extra=text.printable_schema(required=True)),
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


class FalsePositiveRequest(_Strict):
    """A sanctions candidate that is not this applicant (issue 20): which list entry, and why."""

    list: Literal["OFAC-SDN", "UN-SC"]
    entry_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.\-]{1,32}$")]
    reason: Reason


class CaseDecision(str, enum.Enum):
    FALSE_POSITIVE = "false_positive"
    CONFIRMED = "confirmed"


class CaseResolutionRequest(_Strict):
    """A reviewer's word on a customer screening case (issue 20): not this customer, or confirmed; and why."""

    decision: CaseDecision
    reason: Reason


class BiometricConsentRequest(_Strict):
    """Explicit consent to biometric processing, naming the consent text version the applicant was shown."""

    text_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$")] = Field(
        description="The version of GET .../biometric-consent that was shown (the current one)"
    )
    accepted: Literal[True] = Field(description="Must be true: consent is never implied")


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


class ConsentOut(_Strict):
    text_version: str
    given_at: str


class LivenessAttemptOut(_Strict):
    session_id: str
    status: str
    confidence: Optional[float]
    passed: bool


class FaceBox(_Strict):
    """Where the face is on the document page, as fractions of its width and height (to crop the photo)."""

    left: float
    top: float
    width: float
    height: float


class LivenessOut(_Strict):
    status: str
    confidence: Optional[float]
    passed: bool
    attempts: int


class OtherApplication(_Strict):
    application_id: str
    similarity: float


class FaceThresholdsOut(_Strict):
    match: float = Field(description="Similarity at or above which the faces match (face_match_threshold)")
    review: float = Field(
        description="Similarity from which a person compares them (face_review_threshold); below "
        "it the faces do not match"
    )
    duplicate: float = Field(description="Similarity at which a face on another application is the same face")
    liveness: float = Field(description="Liveness confidence at or above which a live person was seen")


class FaceOut(_Strict):
    """The face check (issue 17): consent, the liveness check and, for reviewers, what the check found."""

    consent: Optional[ConsentOut]
    consent_given: bool
    liveness_state: Literal["not_started", "in_progress", "retry", "completed"] = Field(
        description="in_progress: a session is open; retry: the last attempt did not pass and another may be "
        "started (while attempts are left); completed: the result stands (it passed, or no attempt is left)"
    )
    liveness_completed: bool
    attempts: int = Field(ge=0, description="Liveness sessions started")
    check_requested: bool = Field(description="The document is read and the liveness check is in")
    purged_at: Optional[str] = Field(description="When the selfie, images and face-collection entries were deleted")
    # reviewers only
    selfie_available: bool = MayBeAbsent
    attempt_results: list[LivenessAttemptOut] = MayBeAbsent
    liveness: Optional[LivenessOut] = MayBeAbsent
    similarity: Optional[float] = MayBeAbsent
    similarity_band: Optional[Literal["match", "review", "mismatch"]] = Field(
        default=None,
        json_schema_extra=_absent_not_null,
        description="Where the similarity falls under the thresholds the check used: match (at or above match), "
        "review (from review up to match: a person compares), mismatch (below review)",
    )
    thresholds: Optional[FaceThresholdsOut] = Field(
        default=None, json_schema_extra=_absent_not_null, description="The thresholds the check used (reviewers)"
    )
    quality_findings: list[str] = MayBeAbsent
    selfie_face_count: Optional[int] = MayBeAbsent
    document_face_box: Optional[FaceBox] = MayBeAbsent
    duplicates: list[OtherApplication] = MayBeAbsent
    earlier_applications: list[OtherApplication] = MayBeAbsent


class ApplicationOut(ApplicationSummary):
    state_since: str
    declared: Declared
    checks: dict[str, CheckOut] = Field(
        description="By check name: identity, address, sanctions, face (sanctions and face details: reviewers "
        "only). The applicant's view never has the sanctions check, and leaves out of a check any reason that "
        "would tell of a screening (a list match, the same face on another application): no tipping off"
    )
    decision_reasons: list[DecisionReason] = Field(
        description="Why the checks decided as they did. In the applicant's view a reason that would tell of a "
        'screening is one neutral reason of check "review" (IN_REVIEW: "We need to check a few details"; '
        'NOT_APPROVED: "We cannot open an account for this application")'
    )
    document_received: bool
    escalated_at: Optional[str]
    purged_at: Optional[str]
    face: FaceOut


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
    """An event of the history. Staff read it as recorded. The applicant reads only the events shown to them,
    ``seq`` numbering those 1..n, and no ``prev_hash`` (the event recorded before may be one they are not shown);
    ``hash`` is the recorded one, an opaque id of the event."""

    application_id: str
    seq: int = Field(ge=1, description="Staff: the recorded sequence number; the applicant: its place among theirs")
    type: EventType
    actor: str = Field(description="kind:id, e.g. applicant:<sub>, system:consolidation")
    at: str
    from_state: Optional[State]
    to_state: State
    reason: str
    details: dict[str, Any]
    prev_hash: str = MayBeAbsent
    hash: str
    actor_name: Optional[str] = Field(
        default=None, description="Reviewers' view: the staff member in words (their verified e-mail)"
    )


class History(_Strict):
    items: list[HistoryEventOut]
    chain_intact: bool
    next_cursor: Optional[str] = None


class ClaimOut(_Strict):
    """Who holds the case (their verified e-mail), until when; ``mine``: the caller holds it."""

    by: Optional[str]
    until: str
    mine: bool


class RecommendationOut(_Strict):
    """Four eyes: the first reviewer's recommendation, awaiting a second, different reviewer."""

    decision: Decision
    by: Optional[str] = Field(description="The recommending reviewer's verified e-mail")
    at: str
    reason: str
    mine: bool


class ReviewState(_Strict):
    """Where the case stands in review: claim, recommendation (four eyes), age against the SLA."""

    claim: Optional[ClaimOut]
    recommendation: Optional[RecommendationOut]
    needs_second_review: bool = Field(description="Four eyes: approving needs two different reviewers")
    awaiting_second_review: bool
    age_hours: float = Field(description="Hours since it was flagged")
    sla_due_at: str
    overdue: bool


class QueueItem(ReviewState):
    id: str
    state: State
    version: int
    flagged_at: str
    created_at: str
    escalated_at: Optional[str]
    applicant_name: Optional[str]
    date_of_birth: Optional[str]
    nationality: Optional[str]
    decision_reasons: list[DecisionReason]


class QueuePage(_Strict):
    items: list[QueueItem]
    next_cursor: Optional[str]


class ReviewDetail(ApplicationOut):
    applicant_id: str
    history: list[HistoryEventOut]
    chain_intact: bool
    review: Optional[ReviewState] = Field(description="While in review (FLAGGED): claim, four eyes, SLA")


class ReviewDecisionOut(ApplicationOut):
    """The application after the decision; on a four-eyes case the first reviewer's word is a
    recommendation: state stays FLAGGED and ``review.awaiting_second_review`` is true."""

    review: Optional[ReviewState]


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


# --- the face check (issue 17) ---------------------------------------------------------------


class ConsentText(_Strict):
    """The biometric consent text to show before a liveness check, and the consent already given (if any)."""

    text_version: str
    text: str
    media_type: Literal["text/plain"]
    given: Optional[ConsentOut]


class LivenessSessionOut(_Strict):
    """A Rekognition Face Liveness session bound to the application: stream it before ``expires_at``."""

    session_id: str
    expires_at: str
    region: str = Field(description="Rekognition's region, for the client's streaming (Amplify FaceLivenessDetector)")
    attempt: int = Field(ge=1)
    attempts_left: int = Field(ge=0)


class LivenessCompletion(_Strict):
    """The session's result as recorded (its scores are for reviewers only)."""

    session_id: str
    status: Literal["SUCCEEDED", "FAILED", "EXPIRED"]
    retry_allowed: bool = Field(description="The check did not pass and another session may be started")
    attempts_left: int = Field(ge=0)


class SelfieLink(_Strict):
    """A presigned GET of the liveness reference image (the selfie), pinned to its version, valid 5 minutes."""

    url: str
    content_type: Literal["image/jpeg"]
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
    """One queue of the stack (every queue its outputs name): a work queue with its dead-letter queue, or a
    dead-letter queue of a function's failed events, which has no work queue (``depth`` null)."""

    name: str
    depth: Optional[int] = Field(description="Messages waiting; null for a dead-letter queue with no work queue")
    in_flight: Optional[int] = Field(description="Messages received and not yet deleted; null as depth")
    dlq_depth: int = Field(description="Messages that failed for good, waiting in the dead-letter queue")
    queue: Optional[str] = Field(description="The work queue's SQS name")
    dead_letter_queue: Optional[str] = Field(description="The dead-letter queue's SQS name")
    redrivable: bool = Field(description="Dead letters can be moved back to the work queue (POST .../redrive)")


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


class ScreeningCaseOut(_Strict):
    """A customer (an approved application) whom a changed list entry may name (``customer.screening_hit``)."""

    case_id: str
    type: Literal["customer.screening_hit"]
    application_id: str
    opened_at: str
    index_version: str
    status: Literal["OPEN", "CLEARED", "CONFIRMED"]
    customer: dict[str, Any] = Field(description="names, date_of_birth, nationality, sex, approved_at")
    candidate: dict[str, Any] = Field(description="the list entry as screening reports it: list, entry_id, score, why")
    resolution: Optional[dict[str, Any]] = Field(description="decision, reason, reviewer_email, at; null while open")
    recommendation: Optional[dict[str, Any]] = Field(
        description="four eyes: the first reviewer's word (decision, reason, reviewer_email, at) while the case "
        "awaits a second, different reviewer; null otherwise"
    )


class ScreeningCasePage(_Strict):
    items: list[ScreeningCaseOut]
    next_cursor: Optional[str]


class ScreeningCaseDetail(ScreeningCaseOut):
    application: ApplicationSummary
