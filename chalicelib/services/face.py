"""The applicant's side of the face check: consent, liveness sessions and their results (issue 17).

1. Consent to the current text version (a policy setting) is recorded before anything biometric happens.
2. A liveness session is created by Rekognition for this application (its images go under the application's
   own prefix in the biometrics bucket, encrypted with the stage's key) and bound to it: single use,
   expiring, at most ``face_liveness_max_attempts`` of them.
3. The applicant's client streams the session (Amplify's FaceLivenessDetector on AWS, the console's capture
   and the local stand-in on the local stack), then asks to complete it: the result is read from Rekognition
   once and recorded; when it settles and the document is read, the FACE check is asked for.

Each step is one read, at most one Rekognition call and one conditional transaction. Refusals are the
domain's errors (``face_workflow``): consent missing or outdated, a session that is not this application's,
used, superseded or still streaming, and anything after the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..domain import face_evidence as evidence
from ..domain import face_workflow
from ..domain.face import EXPIRED, UNFINISHED
from ..domain.users import Identity
from ..observability import logger
from .applications import ApplicationService
from .ports import BiometricImages, FaceRecognition, LivenessSessionGone, Metrics, SettingsSource, StoredImage


@dataclass(frozen=True)
class ConsentStatus:
    text_version: str
    given: Optional[dict[str, Any]]


@dataclass(frozen=True)
class SessionView:
    session_id: str
    expires_at: str
    attempt: int
    attempts_left: int


@dataclass(frozen=True)
class Completion:
    session_id: str
    status: str
    retry_allowed: bool
    attempts_left: int


class LivenessService:
    def __init__(
        self,
        applications: ApplicationService,
        faces: FaceRecognition,
        images: BiometricImages,
        settings: SettingsSource,
        metrics: Metrics,
    ):
        self.applications = applications
        self.faces = faces
        self.images = images
        self.settings = settings
        self.metrics = metrics

    # --- consent -------------------------------------------------------------------------------------

    def consent_status(self, who: Identity, application_id: str) -> ConsentStatus:
        """The consent text version to show, and the consent this application holds (if any)."""
        app = self.applications.get_own(who, application_id)
        given = evidence.consent(app.biometrics)
        return ConsentStatus(self.settings.policy().face_consent_text_version, dict(given) if given else None)

    def give_consent(self, who: Identity, application_id: str, text_version: str) -> tuple[dict[str, Any], bool]:
        """Record consent to ``text_version`` (the current one); returns it and whether this call recorded it."""
        app = self.applications.get_own(who, application_id)
        policy = self.settings.policy()
        change = self.applications.apply_with_retry(
            application_id,
            lambda current: face_workflow.give_consent(
                current, who.sub, text_version, policy, self.applications.clock()
            ),
            app,
        )
        after = change.after if change else self.applications.get(application_id)
        given = evidence.consent(after.biometrics)
        assert given is not None
        if change:
            self.metrics.count("BiometricConsentGiven")
        return dict(given), change is not None

    # --- sessions ------------------------------------------------------------------------------------

    def create_session(self, who: Identity, application_id: str) -> tuple[SessionView, bool]:
        """A new liveness session bound to the application, or the one still open (False: not new)."""
        app = self.applications.get_own(who, application_id)
        policy = self.settings.policy()
        plan = face_workflow.plan_session(app, policy, self.applications.clock())
        if plan.existing is not None:
            return self._view(plan.existing, app.biometrics), False
        session_id = self.faces.create_liveness_session(application_id, plan.client_token)
        try:
            change = self.applications.apply_with_retry(
                application_id,
                lambda current: face_workflow.start_session(
                    current, session_id, plan.attempt, policy, self.applications.clock()
                ),
                app,
            )
        except face_workflow.StaleSessionPlan:
            change = None  # a concurrent request started one first: hand that one back
        if change is None:
            latest = self.applications.get(application_id)
            bound = evidence.session(latest.biometrics, session_id) or evidence.open_session(latest.biometrics)
            if bound is None:
                raise face_workflow.StaleSessionPlan("another liveness session was started meanwhile; ask again")
            return self._view(bound, latest.biometrics), False
        self.metrics.count("LivenessSessionCreated")
        bound = evidence.session(change.after.biometrics, session_id)
        assert bound is not None
        return self._view(bound, change.after.biometrics), True

    def complete_session(self, who: Identity, application_id: str, session_id: str) -> Completion:
        """Read the session's result from Rekognition (once) and record it; 409 while it is still streaming."""
        app = self.applications.get_own(who, application_id)
        policy = self.settings.policy()
        session = face_workflow.completable(app, session_id)
        status, confidence, reference, audit = EXPIRED, None, None, []
        if not face_workflow.too_late(session, self.applications.clock()):
            try:
                result = self.faces.liveness_results(session_id)
            except LivenessSessionGone:
                result = None  # past Rekognition's 3 minutes: the attempt expired
            if result is not None:
                if result.status in UNFINISHED:
                    raise face_workflow.LivenessInProgress("the liveness check has not finished; try again shortly")
                status, confidence = result.status, result.confidence
                reference = self._own(result.reference, application_id)
                audit = [image.to_dict() for image in result.audit if self._own(image, application_id)]
        change = self.applications.apply_with_retry(
            application_id,
            lambda current: face_workflow.complete_session(
                current, session_id, status, confidence, reference, audit, policy, self.applications.clock()
            ),
            app,
        )
        assert change is not None  # completing a session always records an event (or raises)
        recorded = evidence.liveness(change.after.biometrics)
        settled = evidence.liveness_settled(change.after.biometrics)
        self.metrics.count("LivenessPassed" if recorded.get("passed") else "LivenessNotPassed")
        left = max(0, policy.face_liveness_max_attempts - evidence.attempts_used(change.after.biometrics))
        return Completion(session_id, status, retry_allowed=not settled and left > 0, attempts_left=left)

    def _own(self, image: Optional[StoredImage], application_id: str) -> Optional[dict[str, Any]]:
        """An image under this application's own prefix; anything else is not this application's evidence."""
        if image is None:
            return None
        if not self.images.belongs_to(image, application_id):
            self.metrics.count("LivenessImageMisplaced")
            logger.warning("liveness image outside the application's prefix ignored")
            return None
        return image.to_dict()

    def _view(self, session: Any, biometrics: Any) -> SessionView:
        left = self.settings.policy().face_liveness_max_attempts - evidence.attempts_used(biometrics)
        return SessionView(
            session_id=str(session["session_id"]),
            expires_at=str(session["expires_at"]),
            attempt=int(session["attempt"]),
            attempts_left=max(0, left),
        )
