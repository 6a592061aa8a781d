"""The FACE check, run for each ``face.requested`` event on the face-check queue (issue 17).

One read of the application, then at most three Rekognition calls, each reading the images from S3 itself
(pinned versions; no image passes through Lambda):

* ``IndexFaces``: the selfie's face into the stage's collection under the application's id, with its
  description (count of faces, quality, pose, eyes, sunglasses: what DetectFaces would say, without a
  fourth call) -- only for a selfie that passed the liveness check; its FaceId is recorded, so the face is
  deleted with the rest of the biometrics;
* ``CompareFaces``: the liveness reference image (the selfie) against the identity document, every face
  on the document with its similarity (not called for a PDF document: Rekognition reads JPEG and PNG).
  Rekognition answers "no face" without saying on which side; the selfie was just indexed, so it is the
  document's (DOCUMENT_PHOTO_NOT_FOUND);
* ``SearchFacesByImage``: the same face indexed for other applications (DUPLICATE_FACE). Indexing before
  searching means two applications with one face, checked at the same instant, cannot both miss each other.

then ``domain.face.decide`` and one conditional transaction that records the result (and, when it completes
the set, the decision: the fan-in of ``workflow.consolidation.record_check``). A replay, or an application
that moved on, changes nothing; faces indexed by a run whose result is not recorded are deleted again at once.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from ..domain import face_evidence as evidence
from ..domain import face_workflow
from ..domain.checks import FACE, IDENTITY, CheckResult
from ..domain.face import COMPARABLE_TYPES, DocumentFace, Duplicate, FaceEvidence, SelfieFace, decide
from ..domain.workflow.application import Application, Change, is_application_id
from ..domain.workflow.errors import IllegalTransition
from ..domain.workflow.states import State
from ..observability import logger
from .applications import ApplicationService, describe
from .checks import CheckRecorder, application_id_from
from .errors import PoisonMessage
from .ports import FaceRecognition, ImageRefused, NoFaceInImage, SettingsSource, StoredImage

#: How many faces of the collection a search returns: one is ours (indexed just before), the rest are others.
SEARCH_MAX_FACES = 10


class FaceCheck:
    def __init__(
        self,
        applications: ApplicationService,
        faces: FaceRecognition,
        settings: SettingsSource,
        recorder: CheckRecorder,
    ):
        self.applications = applications
        self.faces = faces
        self.settings = settings
        self.recorder = recorder

    def check_requested(self, body: str) -> dict[str, Any]:
        """The queue's message: one read; a replay, or an application that moved on, changes nothing."""
        application_id = application_id_from(body)
        app = self.applications.repo.get(application_id)
        if app is None:
            raise PoisonMessage(f"unknown application {application_id}")
        if not self.due(app):
            return {"changed": False}
        started = time.perf_counter()
        result, face_ids = self.run(app)
        logger.info(
            "face check ran",
            extra={
                "application_id": application_id,
                "outcome": result.outcome.value,
                "codes": [r.code for r in result.reasons],
                "milliseconds": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return self.record(app, result, face_ids)

    @staticmethod
    def due(app: Application) -> bool:
        return (
            app.state == State.VERIFYING
            and FACE not in app.checks
            and IDENTITY in app.checks
            and evidence.face_requested(app.biometrics)
        )

    def run(self, app: Application) -> tuple[CheckResult, list[str]]:
        """Ask Rekognition what it sees and decide; returns the result and the faces now in the collection."""
        policy = self.settings.policy()
        liveness = evidence.liveness(app.biometrics)
        found = evidence.reference(app.biometrics)
        selfie = StoredImage(str(found["key"]), found.get("version")) if found else None
        document_type = ((app.checks.get(IDENTITY) or {}).get("details") or {}).get("mime_type")
        document_faces: Optional[tuple[DocumentFace, ...]] = None
        selfie_faces: Optional[int] = None
        selfie_face: Optional[SelfieFace] = None
        duplicates: list[Duplicate] = []
        face_ids: list[str] = []
        refused: Optional[str] = None
        if selfie is not None:
            try:
                if liveness.get("passed"):  # only a live face joins the collection
                    indexed = self.faces.index(selfie, app.application_id)
                    face_ids.append(indexed.face_id)
                    selfie_faces, selfie_face = 1 + indexed.other_faces, indexed.detail
            except NoFaceInImage:
                selfie_faces = 0
            except ImageRefused as error:
                refused = error.code
            if document_type in COMPARABLE_TYPES and app.document_key and selfie_faces != 0:
                try:
                    document_faces = self.faces.compare(selfie, StoredImage(app.document_key, app.document_version))
                except NoFaceInImage:  # no face on one side: the selfie has one (indexed) -> not on the document
                    document_faces = () if selfie_faces else None
                except ImageRefused as error:
                    refused = refused or error.code
            if selfie_faces != 0:
                try:
                    for match in self.faces.search(selfie, policy.face_duplicate_threshold, SEARCH_MAX_FACES):
                        if match.external_id == app.application_id:
                            face_ids.append(match.face_id)  # ours: this run's, or an interrupted earlier run's
                        elif match.external_id:
                            duplicates.append(
                                Duplicate(
                                    match.external_id,
                                    match.similarity,
                                    self._reapplication(app, match.external_id),
                                )
                            )
                except NoFaceInImage:
                    selfie_faces = 0
                except ImageRefused as error:
                    refused = refused or error.code
        found_evidence = FaceEvidence(
            liveness_status=str(liveness.get("status") or "NOT_STARTED"),
            liveness_confidence=liveness.get("confidence"),
            document_type=document_type,
            document_faces=document_faces,
            selfie_faces=selfie_faces,
            selfie_face=selfie_face,
            duplicates=tuple(duplicates),
            attempts=len(app.biometrics.get("attempts") or ()),
            refused=refused,
        )
        return decide(found_evidence, policy, app.application_id), list(dict.fromkeys(face_ids))

    def _reapplication(self, app: Application, other_id: str) -> bool:
        """Whether the other application is this applicant's own, under the same declared name and birth date
        (one read, only when the collection found the face elsewhere: rare)."""
        other = self.applications.repo.get(other_id) if is_application_id(other_id) else None
        if other is None or other.applicant_id != app.applicant_id:
            return False
        return all(other.declared.get(k) == app.declared.get(k) for k in ("full_name", "date_of_birth"))

    def record(self, app: Application, result: CheckResult, face_ids: list[str]) -> dict[str, Any]:
        """Record the result (the fan-in); when it cannot be, take this run's faces out of the collection."""
        latest = [app]

        def step(current: Application) -> Change:
            latest[0] = current
            return face_workflow.record_face_check(current, result, face_ids, self.applications.clock())

        try:
            change = self.applications.apply_with_retry(app.application_id, step, app)
        except IllegalTransition as error:
            logger.info(
                "face check result arrived after the application moved on",
                extra={"application_id": app.application_id, "state": str(error.state)},
            )
            change = None
        if change is None:
            kept = set(evidence.face_ids(latest[0].biometrics))
            orphans = tuple(face_id for face_id in face_ids if face_id not in kept)
            if orphans:
                self.faces.delete(orphans)
            return {"changed": False}
        self.recorder.count(result, change)
        return describe(change)
