"""Biometric data as special-category personal data: the reviewer's audited view of the selfie, and its
deletion on a retention of its own (issue 17).

* A reviewer who may read the application (in review, or decided by them) gets a presigned GET of the
  liveness reference image, pinned to its version, valid five minutes; the view is recorded in the history
  (``selfie.viewed``, naming the reviewer) before the link exists.
* ``BiometricPurge`` (its own schedule, hourly) deletes, for each closed application that holds any: the
  faces in the stage's collection (``DeleteFaces``), every version of every liveness object, then records
  ``biometrics.purged``. Withdrawn and expired applications lose them at the next run, decided ones
  ``biometric_retention`` days after the decision (never later than their documents). An application whose
  face check was asked for but never recorded may hold a face indexed by an interrupted run: the collection
  is searched with its selfie for faces of that application before the selfie goes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Optional

from ..domain import face_evidence as evidence
from ..domain import face_workflow
from ..domain.checks import FACE
from ..domain.policy import Policy
from ..domain.users import Identity
from ..domain.workflow import review
from ..domain.workflow.application import Application, Change, iso
from ..domain.workflow.errors import IllegalTransition
from ..domain.workflow.states import State
from ..observability import logger
from .applications import ApplicationService
from .budget import TimeBudget
from .errors import NotFound
from .ports import BiometricImages, FaceRecognition, ImageRefused, Metrics, NoFaceInImage, SettingsSource, StoredImage

#: How long a reviewer's link to the selfie works.
SELFIE_LINK_SECONDS = 300
#: How far back the purge looks for applications that entered a final state (bounded, so the hourly run's
#: queries do not grow with every application ever decided; far longer than any outage of the job).
LOOKBACK = dt.timedelta(days=400)


@dataclass(frozen=True)
class SelfieLink:
    url: str
    content_type: str
    expires_at: str


class FaceReview:
    def __init__(self, applications: ApplicationService, images: BiometricImages, metrics: Metrics):
        self.applications = applications
        self.images = images
        self.metrics = metrics

    def view_selfie(self, reviewer: Identity, application_id: str) -> SelfieLink:
        """Raises NotFound (unknown, or not the reviewer's to read) or NoSelfie (none taken, or purged)."""
        app = self.applications.get(application_id)
        history = [] if app.state == State.FLAGGED else self.applications.repo.history(application_id)
        if not review.may_review(app, history, reviewer.sub):
            raise NotFound(application_id)
        clock = self.applications.clock
        change = self.applications.apply_with_retry(
            application_id,
            lambda current: face_workflow.view_selfie(current, reviewer.sub, reviewer.email, clock()),
            app,
        )
        found = evidence.reference((change.after if change else app).biometrics)
        assert found is not None  # view_selfie refuses otherwise
        self.metrics.count("SelfieViewed")
        image = StoredImage(str(found["key"]), found.get("version"))
        expires = clock() + dt.timedelta(seconds=SELFIE_LINK_SECONDS)
        return SelfieLink(self.images.presigned_view(image, SELFIE_LINK_SECONDS), "image/jpeg", iso(expires))


class BiometricPurge:
    def __init__(
        self,
        applications: ApplicationService,
        faces: FaceRecognition,
        images: BiometricImages,
        settings: SettingsSource,
    ):
        self.applications = applications
        self.faces = faces
        self.images = images
        self.settings = settings

    def purge_due(self, now: Optional[dt.datetime] = None, budget_seconds: Optional[float] = None) -> dict[str, Any]:
        """Delete the biometric data of every application due (see the module); idempotent, resumable."""
        now = now or self.applications.clock()
        policy = self.settings.policy()
        # a run whose queries alone spent the budget still purges its first application (budget.TimeBudget)
        budget = TimeBudget(budget_seconds)
        tally: Counter[str] = Counter()
        for app in budget.each(self._candidates(now, policy.biometric_retention)):
            tally["candidates"] += 1
            if not face_workflow.biometrics_due(app, policy, now):
                tally["already_done"] += 1
                continue
            try:
                faces, objects = self._delete(app)
                tally.update({"faces_deleted": faces, "objects_deleted": objects})
                change = self.applications.apply_with_retry(
                    app.application_id, _purge_step(policy, now, objects, faces)
                )
            except (IllegalTransition, NotFound):
                tally["moved_on"] += 1
            except Exception:  # noqa: BLE001 - one application never stops the others
                logger.exception("biometric purge failed", extra={"application_id": app.application_id})
                tally["failed"] += 1
            else:
                tally["changed" if change is not None else "already_done"] += 1
        summary: dict[str, Any] = {
            "job": "purge_biometric_data",
            "candidates": 0,
            "changed": 0,
            "already_done": 0,
            "moved_on": 0,
            "failed": 0,
            "faces_deleted": 0,
            "objects_deleted": 0,
        }
        summary.update(tally)
        summary.update(truncated=budget.stopped, biometric_retention_days=policy.biometric_retention)
        return summary

    def _candidates(self, now: dt.datetime, retention_days: int) -> Iterator[Application]:
        repo = self.applications.repo
        cutoff = now - dt.timedelta(days=retention_days)
        windows: Iterable[tuple[State, dt.datetime]] = (
            (State.WITHDRAWN, now),
            (State.EXPIRED, now),
            (State.APPROVED, cutoff),
            (State.REJECTED, cutoff),
        )
        for state, until in windows:
            yield from repo.in_state_between(state, iso(until - LOOKBACK), iso(until))

    def _delete(self, app: Application) -> tuple[int, int]:
        """The collection's faces first (found by the selfie if an interrupted run left one), then the images."""
        face_ids = evidence.face_ids(app.biometrics)
        reference = evidence.reference(app.biometrics)
        if not face_ids and evidence.face_requested(app.biometrics) and FACE not in app.checks and reference:
            try:
                selfie = StoredImage(str(reference["key"]), reference.get("version"))
                policy = self.settings.policy()
                face_ids = [
                    m.face_id
                    for m in self.faces.search(selfie, policy.face_duplicate_threshold)
                    if m.external_id == app.application_id
                ]
            except (NoFaceInImage, ImageRefused):
                face_ids = []
        faces = self.faces.delete(tuple(face_ids)) if face_ids else 0
        return faces, self.images.delete_all_for(app.application_id)


def _purge_step(policy: Policy, now: dt.datetime, objects: int, faces: int) -> Callable[[Application], Change]:
    return lambda current: face_workflow.purge_biometrics(current, policy, now, objects, faces)
