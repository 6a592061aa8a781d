"""The applicant's biometric evidence through the state machine: consent, liveness sessions, their results,
the FACE check's record, the reviewer's view of the selfie and the deletion of it all.

Each command returns a ``Change`` (the application with ``biometrics`` rebuilt, plus its history event), so
each is one conditional transaction, as every other step of the workflow; none moves the state. The rules:

* **Consent first.** A liveness session needs consent to the current consent text version (a policy
  setting); consent is recorded with its text version, time and who gave it.
* **Sessions are bound to the application, single use and short-lived.** A session is created for this
  application (its output prefix is this application's); its id is recorded with an expiry. Only an open
  session of this application can be completed, once; asking for a session while one is open returns that
  one; a new one supersedes an expired one. At most ``face_liveness_max_attempts`` sessions.
* **The liveness result settles** when it passed, or when no attempt is left; a failed attempt with
  attempts left lets the applicant try again. Once settled, and once the document is read, the FACE check
  is asked for (``workflow.request_face_check``), exactly once.
* **Nothing after the decision**: every command here is refused from a final state (the transition table),
  except the reviewer's audited view and the purge.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from . import face_evidence as evidence
from .checks import FACE, CheckResult
from .face import SUCCEEDED, liveness_passed
from .policy import Policy
from .workflow.application import Application, Change, ChangeBuilder, iso, parse_iso
from .workflow.consolidation import record_check, request_face_check
from .workflow.errors import DomainError, IllegalTransition, NothingToDo
from .workflow.history import Actor
from .workflow.states import FINAL_STATES, TAKES_EVIDENCE, EventType, State

#: A session may be completed this long after its expiry: the applicant may have streamed just in time.
COMPLETION_GRACE = dt.timedelta(minutes=10)
#: What the applicant's own history shows of a biometric event (never scores or image locations).
#: ``passed``: whether their attempt passed, which the capture already told them (never the confidence).
APPLICANT_DETAILS = ("text_version", "session_id", "attempt", "expires_at", "status", "passed", "settled")
BIOMETRIC_EVENTS = frozenset(
    {
        EventType.BIOMETRIC_CONSENT_GIVEN,
        EventType.LIVENESS_SESSION_CREATED,
        EventType.LIVENESS_COMPLETED,
        EventType.FACE_REQUESTED,
        EventType.SELFIE_VIEWED,
        EventType.BIOMETRICS_PURGED,
    }
)


class ConsentOutdated(DomainError):
    """The consent names a text version that is not the current one."""

    code = "consent_version_outdated"

    def __init__(self, current: str):
        self.current = current
        super().__init__(f"the current biometric consent text is version {current}")


class ConsentRequired(DomainError):
    code = "consent_required"

    def __init__(self, current: str):
        self.current = current
        super().__init__(f"biometric consent to text version {current} is needed before a liveness check")


class LivenessAttemptsExhausted(DomainError):
    code = "liveness_attempts_exhausted"


class LivenessAlreadyCompleted(DomainError):
    code = "liveness_already_completed"


class LivenessSessionNotFound(DomainError):
    """Not a session of this application (unknown, malformed, or another application's)."""

    code = "liveness_session_not_found"


class LivenessSessionClosed(DomainError):
    """The session was used, or superseded by a newer one: a session counts once."""

    code = "liveness_session_closed"

    def __init__(self, state: str):
        self.state = state
        super().__init__(f"this liveness session is {state}")


class LivenessInProgress(DomainError):
    """Rekognition has no result yet (the client has not finished streaming): try again shortly."""

    code = "liveness_in_progress"


class StaleSessionPlan(DomainError):
    """Another session was started meanwhile: the request should be made again."""

    code = "conflict"


class NoSelfie(DomainError):
    code = "no_selfie"

    @property
    def purged(self) -> bool:
        return str(self) == "purged"


# --- consent ------------------------------------------------------------------------------------------


def give_consent(app: Application, applicant_id: str, text_version: str, policy: Policy, now: dt.datetime) -> Change:
    """Record consent to the current text version; NothingToDo when that version was already given."""
    _takes_evidence(app, EventType.BIOMETRIC_CONSENT_GIVEN)
    if text_version != policy.face_consent_text_version:
        raise ConsentOutdated(policy.face_consent_text_version)
    if evidence.consented_to(app.biometrics, text_version):
        raise NothingToDo("consent to this text version already given")
    actor = Actor("applicant", applicant_id)
    given = {"text_version": text_version, "at": iso(now), "by": str(actor)}
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.BIOMETRIC_CONSENT_GIVEN,
            actor,
            f"explicit consent to biometric processing (text version {text_version})",
            {"text_version": text_version},
            biometrics={**app.biometrics, "consent": given},
        )
        .build()
    )


# --- liveness sessions ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SessionPlan:
    """What a request for a liveness session does: hand back the open one, or start attempt ``attempt``."""

    attempt: int
    client_token: str
    existing: Optional[Mapping[str, Any]] = None


def plan_session(app: Application, policy: Policy, now: dt.datetime) -> SessionPlan:
    """Decide, before Rekognition is called, whether a new session may be started (and which attempt)."""
    _takes_evidence(app, EventType.LIVENESS_SESSION_CREATED)
    if not evidence.consented_to(app.biometrics, policy.face_consent_text_version):
        raise ConsentRequired(policy.face_consent_text_version)
    if evidence.liveness_settled(app.biometrics) or FACE in app.checks:
        raise LivenessAlreadyCompleted("the liveness check is already complete for this application")
    current = evidence.open_session(app.biometrics)
    if current is not None and not _expired(current, now):
        return SessionPlan(int(current["attempt"]), "", existing=current)
    used = evidence.attempts_used(app.biometrics)
    if used >= policy.face_liveness_max_attempts:
        raise LivenessAttemptsExhausted(f"all {policy.face_liveness_max_attempts} liveness attempts were used")
    attempt = used + 1
    # Rekognition answers the same session for the same token: a retried request cannot start two.
    return SessionPlan(attempt, f"{app.application_id}-{attempt}")


def start_session(app: Application, session_id: str, attempt: int, policy: Policy, now: dt.datetime) -> Change:
    """Bind a session Rekognition created to the application (expiring, single use); earlier open ones close."""
    if evidence.session(app.biometrics, session_id) is not None:
        raise NothingToDo("session already bound")
    plan = plan_session(app, policy, now)
    if plan.existing is not None or plan.attempt != attempt:
        raise StaleSessionPlan("another liveness session was started meanwhile; ask again")
    expires = now + dt.timedelta(seconds=policy.face_liveness_session_seconds)
    earlier = [
        {**s, "state": evidence.SUPERSEDED} if s.get("state") == evidence.OPEN else dict(s)
        for s in evidence.sessions(app.biometrics)
    ]
    bound = {
        "session_id": session_id,
        "attempt": attempt,
        "created_at": iso(now),
        "expires_at": iso(expires),
        "state": evidence.OPEN,
    }
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.LIVENESS_SESSION_CREATED,
            Actor("applicant", app.applicant_id),
            f"liveness session {attempt} of {policy.face_liveness_max_attempts} started",
            {"session_id": session_id, "attempt": attempt, "expires_at": iso(expires)},
            biometrics={**app.biometrics, "sessions": [*earlier, bound]},
        )
        .build()
    )


def completable(app: Application, session_id: str) -> Mapping[str, Any]:
    """The open session of this application to complete, or why not (checked before Rekognition is asked)."""
    _takes_evidence(app, EventType.LIVENESS_COMPLETED)
    found = evidence.session(app.biometrics, session_id) if evidence.is_session_id(session_id) else None
    if found is None:
        raise LivenessSessionNotFound("no such liveness session for this application")
    if found.get("state") != evidence.OPEN:
        raise LivenessSessionClosed(str(found.get("state")))
    return found


def too_late(session: Mapping[str, Any], now: dt.datetime) -> bool:
    """Past its expiry and the grace after it: recorded as expired without asking Rekognition."""
    return now > parse_iso(str(session["expires_at"])) + COMPLETION_GRACE


def liveness_reason(
    attempt: int,
    status: str,
    confidence: Optional[float],
    has_reference: bool,
    passed: bool,
    settled: bool,
    policy: Policy,
) -> str:
    """What happened, in the history's words: passed or failed, and why; whether another attempt is allowed.
    Rekognition's SUCCEEDED only says the check ran (a low confidence is a failed attempt): never the headline."""
    if passed:
        return f"liveness check {attempt}: passed (confidence {confidence:.1f})"
    if status != SUCCEEDED:
        why = f"session {status.lower()}"
    elif not has_reference:
        why = "no reference image"
    else:
        shown = "none" if confidence is None else f"{confidence:.1f}"
        why = f"confidence {shown}, below the {policy.face_liveness_threshold:g} needed"
    more = "no attempt left" if settled else "another attempt allowed"
    return f"liveness check {attempt}: failed ({why}); {more}"


def complete_session(
    app: Application,
    session_id: str,
    status: str,
    confidence: Optional[float],
    reference: Optional[Mapping[str, Any]],
    audit: Sequence[Mapping[str, Any]],
    policy: Policy,
    now: dt.datetime,
) -> Change:
    """Record a session's result (once); the result settles when it passed or no attempt is left, and then
    (with the document read) the face check is asked for in the same transaction."""
    session = completable(app, session_id)
    passed = liveness_passed(status, confidence, policy) and reference is not None
    attempt = int(session["attempt"])
    settled = passed or evidence.attempts_used(app.biometrics) >= policy.face_liveness_max_attempts
    result = {
        "session_id": session_id,
        "attempt": attempt,
        "status": status,
        "confidence": confidence,
        "passed": passed,
        "reference": dict(reference) if reference else None,
        "audit": [dict(a) for a in audit],
        "completed_at": iso(now),
    }
    summary = {k: result[k] for k in ("session_id", "status", "confidence", "passed")}
    biometrics = {
        **evidence.with_session_state(app.biometrics, session_id, evidence.USED),
        "liveness": result,
        "attempts": [*(app.biometrics.get("attempts") or ()), summary],
    }
    if settled:
        biometrics["liveness_settled_at"] = iso(now)
    builder = ChangeBuilder(app, app, now).apply(
        EventType.LIVENESS_COMPLETED,
        Actor("applicant", app.applicant_id),
        liveness_reason(attempt, status, confidence, reference is not None, passed, settled, policy),
        {**result, "settled": settled},
        biometrics=biometrics,
    )
    request_face_check(builder)
    return builder.build()


# --- the face check's record ----------------------------------------------------------------------------


def record_face_check(app: Application, result: CheckResult, face_ids: Sequence[str], now: dt.datetime) -> Change:
    """The FACE result joins the fan-in like any check; the collection's face ids are kept, for deletion."""
    return record_check(app, result, now, biometrics=evidence.with_face_ids(app.biometrics, face_ids))


# --- the reviewer's view ---------------------------------------------------------------------------------


def view_selfie(app: Application, reviewer_id: str, reviewer_email: Optional[str], now: dt.datetime) -> Change:
    """Record that a reviewer is shown the selfie, before the link exists (like ``workflow.view_document``)."""
    if evidence.purged(app.biometrics):
        raise NoSelfie("purged")
    found = evidence.reference(app.biometrics)
    if found is None:
        raise NoSelfie("no selfie was taken")
    details = {"key": found["key"], "version": found.get("version"), "reviewer_email": reviewer_email}
    return (
        ChangeBuilder(app, app, now)
        .apply(EventType.SELFIE_VIEWED, Actor("reviewer", reviewer_id), "selfie viewed", details)
        .build()
    )


# --- deletion ----------------------------------------------------------------------------------------------


def biometrics_due(app: Application, policy: Policy, now: dt.datetime) -> bool:
    """Whether the application's biometric data must go now: at once once withdrawn or expired, the
    retention after a decision, never while the application is open."""
    if app.state not in FINAL_STATES or not evidence.holds_biometric_data(app.biometrics):
        return False
    if app.state in (State.WITHDRAWN, State.EXPIRED):
        return True
    return now - parse_iso(app.state_since) >= dt.timedelta(days=policy.biometric_retention)


def purge_biometrics(
    app: Application, policy: Policy, now: dt.datetime, objects_deleted: int, faces_deleted: int
) -> Change:
    """Record that the images and the collection entries are gone (deleted just before, by the caller).

    The consent record, the attempts' scores and the face check's result stay: they say what was decided
    and why, and identify nobody; the image locations and face ids go."""
    if not biometrics_due(app, policy, now):
        raise NothingToDo("no biometric data due for deletion")
    liveness = {k: v for k, v in evidence.liveness(app.biometrics).items() if k not in ("reference", "audit")}
    kept = {k: v for k, v in app.biometrics.items() if k not in ("face_ids", "liveness")}
    why = (
        "at once (withdrawn or expired)"
        if app.state in (State.WITHDRAWN, State.EXPIRED)
        else (f"{policy.biometric_retention} days after the decision")
    )
    return (
        ChangeBuilder(app, app, now)
        .apply(
            EventType.BIOMETRICS_PURGED,
            Actor("system", "biometric-retention-job"),
            f"selfie, liveness images and face-collection entries deleted {why}",
            {"objects_deleted": objects_deleted, "faces_deleted": faces_deleted},
            biometrics={**kept, "liveness": liveness, "face_ids": [], "purged_at": iso(now)},
        )
        .build()
    )


def for_applicant(details: Mapping[str, Any]) -> dict[str, Any]:
    """A biometric event's details as the applicant sees them: no scores, image locations or reviewer."""
    return {k: v for k, v in details.items() if k in APPLICANT_DETAILS}


def _takes_evidence(app: Application, event_type: EventType) -> None:
    if app.state not in TAKES_EVIDENCE:
        raise IllegalTransition(event_type, app.state)


def _expired(session: Mapping[str, Any], now: dt.datetime) -> bool:
    return now >= parse_iso(str(session["expires_at"]))
