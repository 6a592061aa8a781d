"""Faces: Rekognition (liveness sessions, comparison, the stage's face collection) and the biometrics bucket.

Images are named by where they are stored (``StoredImage``: key and pinned version); which bucket holds a
selfie or a document is the adapters' business, so no use case handles bucket names or image bytes.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Optional

from ...domain.face import DocumentFace, SelfieFace


@dataclass(frozen=True)
class StoredImage:
    """One object version: a liveness image in the biometrics bucket, or a document in the documents bucket."""

    key: str
    version: Optional[str] = None

    def to_dict(self) -> dict[str, Optional[str]]:
        return {"key": self.key, "version": self.version}


@dataclass(frozen=True)
class LivenessResult:
    """GetFaceLivenessSessionResults: ``status`` CREATED | IN_PROGRESS | SUCCEEDED | FAILED | EXPIRED."""

    session_id: str
    status: str
    confidence: Optional[float] = None
    reference: Optional[StoredImage] = None
    audit: tuple[StoredImage, ...] = ()


@dataclass(frozen=True)
class FaceMatch:
    """A face of the collection found by a search: its id, the application it was indexed for, similarity."""

    face_id: str
    external_id: Optional[str]
    similarity: float


@dataclass(frozen=True)
class IndexedFace:
    """The largest face of an image, now in the collection; ``other_faces``: faces in the image left out."""

    face_id: str
    detail: SelfieFace
    other_faces: int = 0


class LivenessSessionGone(Exception):
    """Rekognition no longer knows the session, or will not answer for it (expired, finished long ago)."""


class NoFaceInImage(Exception):
    """Rekognition found no face where one is required (``InvalidParameterException``)."""


class ImageRefused(Exception):
    """Rekognition will not read the image: not JPEG/PNG, too large, no such object (its error ``code``)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FaceRecognition(abc.ABC):
    """Amazon Rekognition, as the face check uses it (one stage's collection, one biometrics bucket)."""

    @abc.abstractmethod
    def create_liveness_session(self, application_id: str, client_token: str) -> str:
        """A new Face Liveness session writing its images under the application's prefix, encrypted with the
        stage's key; the same ``client_token`` answers the same session. Returns the session id."""

    @abc.abstractmethod
    def liveness_results(self, session_id: str) -> LivenessResult:
        """The session's status and, when finished, its confidence and images. Raises LivenessSessionGone."""

    @abc.abstractmethod
    def compare(self, selfie: StoredImage, document: StoredImage) -> tuple[DocumentFace, ...]:
        """Every face found on the document with its similarity to the selfie's (largest) face. Raises
        NoFaceInImage when either image holds no face (Rekognition does not say which), or ImageRefused."""

    @abc.abstractmethod
    def search(self, selfie: StoredImage, threshold: float, max_faces: int = 10) -> tuple[FaceMatch, ...]:
        """Faces of the collection at least ``threshold`` similar to the selfie's face, most similar first.
        Raises NoFaceInImage or ImageRefused."""

    @abc.abstractmethod
    def index(self, selfie: StoredImage, external_id: str) -> IndexedFace:
        """Add the selfie's largest face to the collection under ``external_id`` (the application id), with
        its description. Raises NoFaceInImage or ImageRefused."""

    @abc.abstractmethod
    def delete(self, face_ids: tuple[str, ...]) -> int:
        """Remove faces from the collection; ids it does not hold are no error. Returns how many went."""


class BiometricImages(abc.ABC):
    """The biometrics bucket: where Rekognition writes each session's reference and audit images."""

    @abc.abstractmethod
    def belongs_to(self, image: StoredImage, application_id: str) -> bool:
        """Whether the image lies under the application's own liveness prefix."""

    @abc.abstractmethod
    def presigned_view(self, image: StoredImage, ttl_seconds: int) -> str:
        """A short-lived GET of that very version, shown inline as a JPEG, never cached."""

    @abc.abstractmethod
    def delete_all_for(self, application_id: str) -> int:
        """Delete every version of every object of the application (no delete markers left behind)."""
