"""The face check's decision rules (issue 17): the live selfie against the document's photo.

The document proves that an identity exists; only a live face that matches the document's photo proves
that the applicant holds it. What Rekognition found (``FaceEvidence``) becomes one ``CheckResult``:

* PASS only when the liveness check passed (status SUCCEEDED, confidence at or above
  ``face_liveness_threshold``), exactly one face is in the selfie and at least one on the document, the
  document's best face is at or above ``face_match_threshold``, the selfie is good enough to trust (sharp,
  bright, facing the camera, eyes open, no sunglasses), and the face is on no other application;
* anything else is REVIEW (the application is FLAGGED for a person), with one reason per finding, each
  written to be shown to the applicant as well: the numbers a reviewer needs (similarities, confidences,
  the other applications) are in the details, which only reviewers see (``checks.REVIEWER_ONLY_DETAILS``).

The face check never rejects on its own (no FAIL): a mismatch may be a bad photo, a failed liveness check a
bad camera; a person decides. It therefore never approves without its PASS either: the workflow waits for
it (``workflow.consolidation.record_check``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from .checks import FACE, CheckResult, Outcome, Reason
from .policy import Policy

LIVENESS_FAILED = "LIVENESS_FAILED"
FACE_MISMATCH = "FACE_MISMATCH"
FACE_SIMILARITY_LOW = "FACE_SIMILARITY_LOW"
DOCUMENT_PHOTO_NOT_FOUND = "DOCUMENT_PHOTO_NOT_FOUND"
DOCUMENT_NOT_COMPARABLE = "DOCUMENT_NOT_COMPARABLE"
DOCUMENT_MULTIPLE_FACES = "DOCUMENT_MULTIPLE_FACES"
SELFIE_FACE_NOT_FOUND = "SELFIE_FACE_NOT_FOUND"
SELFIE_MULTIPLE_FACES = "SELFIE_MULTIPLE_FACES"
FACE_QUALITY_LOW = "FACE_QUALITY_LOW"
DUPLICATE_FACE = "DUPLICATE_FACE"

#: Liveness statuses of Rekognition (GetFaceLivenessSessionResults).
SUCCEEDED, FAILED, EXPIRED = "SUCCEEDED", "FAILED", "EXPIRED"
UNFINISHED = frozenset({"CREATED", "IN_PROGRESS"})
#: Rekognition compares JPEG and PNG only; a PDF document's photo is compared by a person.
COMPARABLE_TYPES = frozenset({"image/jpeg", "image/png"})
#: How sure Rekognition must be that the eyes are closed / sunglasses are worn before it counts.
ATTRIBUTE_CONFIDENCE = 80.0

MESSAGES = {
    LIVENESS_FAILED: "The liveness check could not confirm a live person in front of the camera",
    FACE_MISMATCH: "The face in the selfie does not match the photo on the identity document",
    FACE_SIMILARITY_LOW: "The face in the selfie resembles the document's photo, but not closely enough to "
    "match it automatically",
    DOCUMENT_PHOTO_NOT_FOUND: "No face was found on the identity document's page",
    DOCUMENT_NOT_COMPARABLE: "The identity document is not a photo (a PDF): its photo is compared by a person",
    DOCUMENT_MULTIPLE_FACES: "The identity document's page shows a face that is not the holder's",
    SELFIE_FACE_NOT_FOUND: "No face was found in the selfie",
    SELFIE_MULTIPLE_FACES: "More than one face appears in the selfie",
    FACE_QUALITY_LOW: "The selfie is not clear enough to compare with confidence",
    DUPLICATE_FACE: "The same face appears on another application",
}


@dataclass(frozen=True)
class Box:
    """Where a face is, as fractions of the image's width and height (Rekognition's BoundingBox)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def to_dict(self) -> dict[str, float]:
        return {
            "left": round(self.left, 4),
            "top": round(self.top, 4),
            "width": round(self.width, 4),
            "height": round(self.height, 4),
        }


@dataclass(frozen=True)
class DocumentFace:
    """A face found on the document's page and how similar it is to the selfie's face (0-100)."""

    similarity: float
    box: Optional[Box] = None


@dataclass(frozen=True)
class SelfieFace:
    """The selfie's face as Rekognition describes it (FaceDetail); None where it said nothing."""

    sharpness: Optional[float] = None
    brightness: Optional[float] = None
    yaw: Optional[float] = None
    pitch: Optional[float] = None
    roll: Optional[float] = None
    eyes_open: Optional[bool] = None
    eyes_open_confidence: float = 0.0
    sunglasses: Optional[bool] = None
    sunglasses_confidence: float = 0.0
    box: Optional[Box] = None


@dataclass(frozen=True)
class Duplicate:
    """The same face indexed for another application. ``reapplication``: that application is the same
    applicant's (their account) under the same declared name and birth date -- someone applying again, not
    a second identity, so it is shown to the reviewer but is no reason to flag."""

    application_id: str
    similarity: float
    reapplication: bool = False


@dataclass(frozen=True)
class FaceEvidence:
    """Everything the face check found for one application.

    ``document_faces`` None: the faces were not compared (no selfie to compare, or a PDF document);
    ``selfie_faces`` None: the selfie was not examined (the liveness check did not pass).
    """

    liveness_status: str
    liveness_confidence: Optional[float]
    document_type: Optional[str]
    document_faces: Optional[tuple[DocumentFace, ...]] = None
    selfie_faces: Optional[int] = None
    selfie_face: Optional[SelfieFace] = None
    duplicates: tuple[Duplicate, ...] = ()
    attempts: int = 1
    refused: Optional[str] = None  # Rekognition refused an image (its error code): what a reviewer should know
    extra: Mapping[str, Any] = field(default_factory=dict)


def liveness_passed(status: str, confidence: Optional[float], policy: Policy) -> bool:
    """A live person, as sure as the policy asks: Rekognition's SUCCEEDED says the check ran, not that it passed."""
    return status == SUCCEEDED and confidence is not None and confidence >= policy.face_liveness_threshold


def thresholds(policy: Policy) -> tuple[float, float]:
    """(review, match): a review threshold above the match threshold is read as the match threshold."""
    return min(policy.face_review_threshold, policy.face_match_threshold), policy.face_match_threshold


#: Where a similarity falls, for the reviewer: at or above the match threshold, between the review and match
#: thresholds (a person decides), or below the review threshold (not the same person).
MATCH_BAND, REVIEW_BAND, MISMATCH_BAND = "match", "review", "mismatch"


def similarity_band(similarity: Optional[float], review_at: float, match_at: float) -> Optional[str]:
    """The band of a similarity under the thresholds the check used (None: nothing was compared)."""
    if similarity is None:
        return None
    if similarity >= match_at:
        return MATCH_BAND
    return REVIEW_BAND if similarity >= min(review_at, match_at) else MISMATCH_BAND


def quality_findings(face: SelfieFace, policy: Policy) -> list[str]:
    """What makes the selfie too poor to trust, in words a reviewer (and the applicant) understands."""
    found = []
    if face.sharpness is not None and face.sharpness < policy.face_min_sharpness:
        found.append("blurred")
    if face.brightness is not None and face.brightness < policy.face_min_brightness:
        found.append("too dark")
    turned = [abs(angle) for angle in (face.yaw, face.pitch) if angle is not None]
    if turned and max(turned) > policy.face_max_pose_degrees:
        found.append("head turned away from the camera")
    if face.eyes_open is False and face.eyes_open_confidence >= ATTRIBUTE_CONFIDENCE:
        found.append("eyes closed")
    if face.sunglasses is True and face.sunglasses_confidence >= ATTRIBUTE_CONFIDENCE:
        found.append("sunglasses")
    return found


def decide(evidence: FaceEvidence, policy: Policy, application_id: str) -> CheckResult:
    """The face check's result: PASS only when everything above holds, REVIEW with a reason per finding."""
    reasons: list[Reason] = []

    def review(code: str, message: Optional[str] = None) -> None:
        reasons.append(Reason(code, Outcome.REVIEW, message or MESSAGES[code]))

    review_at, match_at = thresholds(policy)
    live = liveness_passed(evidence.liveness_status, evidence.liveness_confidence, policy)
    if not live:
        review(LIVENESS_FAILED)
    best: Optional[DocumentFace] = None
    if evidence.document_type not in COMPARABLE_TYPES:
        review(DOCUMENT_NOT_COMPARABLE)
    elif evidence.document_faces is not None:
        if not evidence.document_faces:
            review(DOCUMENT_PHOTO_NOT_FOUND)
        else:
            best = max(evidence.document_faces, key=lambda f: f.similarity)
            if best.similarity < review_at:
                review(FACE_MISMATCH)
            elif best.similarity < match_at:
                review(FACE_SIMILARITY_LOW)
            if any(f is not best and f.similarity < review_at for f in evidence.document_faces):
                review(DOCUMENT_MULTIPLE_FACES)
    elif live:  # nothing compared although the liveness check passed: no face Rekognition could use
        review(SELFIE_FACE_NOT_FOUND)
    findings: list[str] = []
    if evidence.selfie_faces is not None:
        if evidence.selfie_faces == 0 and not any(r.code == SELFIE_FACE_NOT_FOUND for r in reasons):
            review(SELFIE_FACE_NOT_FOUND)
        elif evidence.selfie_faces > 1:
            review(SELFIE_MULTIPLE_FACES)
    elif live:
        review(SELFIE_FACE_NOT_FOUND)  # the selfie was not examined: nothing says it holds exactly one face
    if evidence.selfie_face is not None:
        findings = quality_findings(evidence.selfie_face, policy)
        if findings:
            review(FACE_QUALITY_LOW, f"{MESSAGES[FACE_QUALITY_LOW]}: {', '.join(findings)}")
    same_face = sorted(
        (
            d
            for d in evidence.duplicates
            if d.application_id != application_id and d.similarity >= policy.face_duplicate_threshold
        ),
        key=lambda d: (-d.similarity, d.application_id),
    )
    duplicates = [d for d in same_face if not d.reapplication]
    if duplicates:
        review(DUPLICATE_FACE)
    details = _details(evidence, policy, application_id, best, duplicates)
    details["earlier_applications"] = [
        {"application_id": d.application_id, "similarity": round(d.similarity, 1)} for d in same_face if d.reapplication
    ]
    return CheckResult(FACE, tuple(_unique(reasons)), details)


def _unique(reasons: Sequence[Reason]) -> list[Reason]:
    seen: set[str] = set()
    kept = []
    for reason in reasons:
        if reason.code not in seen:
            seen.add(reason.code)
            kept.append(reason)
    return kept


def _details(
    evidence: FaceEvidence,
    policy: Policy,
    application_id: str,
    best: Optional[DocumentFace],
    duplicates: Sequence[Duplicate],
) -> dict[str, Any]:
    """What the reviewer's face panel shows: scores, the document face to crop, the selfie's quality."""
    review_at, match_at = thresholds(policy)
    faces = evidence.document_faces
    shown = best
    if faces and (best is None or best.similarity < review_at):  # no match: the holder's photo is the largest
        shown = max(faces, key=lambda f: f.box.area if f.box else 0.0)
    details: dict[str, Any] = {
        "application_id": application_id,
        "similarity": None if best is None else round(best.similarity, 1),
        "thresholds": {
            "match": match_at,
            "review": review_at,
            "duplicate": policy.face_duplicate_threshold,
            "liveness": policy.face_liveness_threshold,
        },
        "liveness": {
            "status": evidence.liveness_status,
            "confidence": None if evidence.liveness_confidence is None else round(evidence.liveness_confidence, 1),
            "passed": liveness_passed(evidence.liveness_status, evidence.liveness_confidence, policy),
            "attempts": evidence.attempts,
        },
        "document": {
            "type": evidence.document_type,
            "compared": faces is not None,
            "faces": None if faces is None else len(faces),
            "face": None
            if shown is None
            else {
                "similarity": round(shown.similarity, 1),
                "bounding_box": shown.box.to_dict() if shown.box else None,
            },
        },
        "selfie": _selfie_details(evidence, policy),
        "duplicates": [{"application_id": d.application_id, "similarity": round(d.similarity, 1)} for d in duplicates],
    }
    if evidence.refused:
        details["refused"] = evidence.refused
    return {**details, **dict(evidence.extra)}


def _selfie_details(evidence: FaceEvidence, policy: Policy) -> dict[str, Any]:
    face = evidence.selfie_face
    shown: dict[str, Any] = {"faces": evidence.selfie_faces}
    if face is None:
        return shown
    shown.update(
        {
            "quality": {"sharpness": _round(face.sharpness), "brightness": _round(face.brightness)},
            "pose": {"yaw": _round(face.yaw), "pitch": _round(face.pitch), "roll": _round(face.roll)},
            "eyes_open": face.eyes_open,
            "sunglasses": face.sunglasses,
            "bounding_box": face.box.to_dict() if face.box else None,
            "findings": quality_findings(face, policy),
        }
    )
    return shown


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)
