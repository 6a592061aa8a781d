"""Fakes of Rekognition (liveness, comparison, the face collection) and of the biometrics bucket.

The fake Rekognition reads the images the real one would (the selfie in the biometrics bucket, the document
in the documents bucket) through the callables it is given, so it works over the in-memory stores in use-case
tests and over the local S3 (moto) in API tests. A test says who is in an image by embedding ``FACES:``, a
JSON list of faces and ``:END`` in it (``face_image`` makes one; ``with_faces`` adds faces to a JPEG page):
each face a person's name and, optionally, where it is and how it looks. Faces of one person are 99.0
similar, of two people ``similarities`` says (20.0 unless told). The name ``HOLDER`` stands for the holder
of the application the image belongs to (the application id in its key): a genuine pair wherever it is
used, and never the same person as another application's holder. Like Rekognition it refuses what is not a
JPEG or PNG, what is too large and what is not there, and answers a missing face with NoFaceInImage.

``stream`` plays the applicant's client and Rekognition's streaming endpoint: it finishes a session and
writes its reference (and audit) images under the session's output prefix, as Rekognition does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any, Optional

from ...domain.face import Box, DocumentFace, SelfieFace
from ...services.ports import (
    BiometricImages,
    Clock,
    FaceMatch,
    FaceRecognition,
    ImageRefused,
    IndexedFace,
    LivenessResult,
    LivenessSessionGone,
    NoFaceInImage,
    StoredImage,
    utc_now,
)
from ..s3_biometrics import liveness_prefix

FACES_MARKER = b"FACES:"
#: "This application's holder": unique to the application whose key the image lies under.
HOLDER = "the-holder"
_END = b":END"
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
MAX_IMAGE_BYTES = 15 * 1024 * 1024  # Rekognition's limit for an image in S3
SAME_PERSON = 99.0
DIFFERENT_PEOPLE = 20.0
DEFAULT_BOX = (0.3, 0.2, 0.4, 0.5)


def face_image(*faces: Any, size: int = 2048, fmt: str = "jpeg") -> bytes:
    """Image bytes showing ``faces``: each a person's name or a dict (``person``, ``box`` [l, t, w, h],
    ``sharpness``, ``brightness``, ``yaw``, ``pitch``, ``roll``, ``eyes_open``, ``sunglasses``)."""
    magic = b"\x89PNG\r\n\x1a\n" if fmt == "png" else b"\xff\xd8\xff\xe0"
    body = magic + FACES_MARKER + json.dumps([_face(f) for f in faces]).encode() + _END
    return body + b"\0" * max(0, size - len(body) - 2) + (b"" if fmt == "png" else b"\xff\xd9")


def with_faces(jpeg: bytes, *faces: Any) -> bytes:
    """A JPEG with ``faces`` added in a comment segment after its start (its pixels unchanged)."""
    text = FACES_MARKER + json.dumps([_face(f) for f in faces]).encode() + _END
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def _face(face: Any) -> dict[str, Any]:
    return {"person": face} if isinstance(face, str) else dict(face)


def faces_in(image: bytes) -> list[dict[str, Any]]:
    """The faces a test put in ``image`` (none if it says nothing). Raises ImageRefused as Rekognition would."""
    if len(image) > MAX_IMAGE_BYTES:
        raise ImageRefused("ImageTooLargeException", "Image size is too large")
    if not image.startswith(_IMAGE_MAGIC):
        raise ImageRefused("InvalidImageFormatException", "Request has invalid image format")
    start = image.find(FACES_MARKER)
    if start < 0:
        return []
    end = image.find(_END, start)
    return list(json.loads(image[start + len(FACES_MARKER) : end if end >= 0 else None]))


def _person(face: dict[str, Any], image: StoredImage) -> str:
    """Who the face is: its name, or for ``HOLDER`` the holder of the application the image belongs to."""
    name = str(face.get("person"))
    if name != HOLDER:
        return name
    parts = image.key.split("/")
    return f"{HOLDER}@{parts[1] if len(parts) > 1 else image.key}"


def _box(face: dict[str, Any]) -> Box:
    left, top, width, height = face.get("box") or DEFAULT_BOX
    return Box(float(left), float(top), float(width), float(height))


def _largest(faces: list[dict[str, Any]]) -> dict[str, Any]:
    if not faces:
        raise NoFaceInImage("There are no faces in the image")
    return max(faces, key=lambda f: _box(f).area)


def _detail(face: dict[str, Any]) -> SelfieFace:
    return SelfieFace(
        sharpness=float(face.get("sharpness", 90.0)),
        brightness=float(face.get("brightness", 80.0)),
        yaw=float(face.get("yaw", 0.0)),
        pitch=float(face.get("pitch", 0.0)),
        roll=float(face.get("roll", 0.0)),
        eyes_open=bool(face.get("eyes_open", True)),
        eyes_open_confidence=99.0,
        sunglasses=bool(face.get("sunglasses", False)),
        sunglasses_confidence=99.0,
        box=_box(face),
    )


@dataclasses.dataclass
class _Session:
    application_id: str
    created_at: dt.datetime
    status: str = "CREATED"
    confidence: Optional[float] = None
    reference: Optional[StoredImage] = None
    audit: tuple[StoredImage, ...] = ()


class InMemoryFaceRecognition(FaceRecognition):
    """Rekognition over the images the callables read; one collection; sessions on the given clock."""

    def __init__(
        self,
        read_selfie: Callable[[StoredImage], bytes],
        read_document: Callable[[StoredImage], bytes],
        write_selfie: Callable[[str, bytes], Optional[str]],
        clock: Clock = utc_now,
        session_seconds: int = 180,
    ) -> None:
        self._lock = threading.RLock()
        self.read_selfie = read_selfie
        self.read_document = read_document
        self.write_selfie = write_selfie
        self.clock = clock
        self.session_seconds = session_seconds
        self.sessions: dict[str, _Session] = {}
        self.tokens: dict[str, str] = {}
        self.collection: dict[str, tuple[str, str]] = {}  # face id -> (person, external id)
        self.similarities: dict[frozenset[str], float] = {}
        self.calls: list[str] = []  # every operation, in order (what a test can count)

    def similarity(self, first: str, second: str) -> float:
        if first == second:
            return self.similarities.get(frozenset({first}), SAME_PERSON)
        return self.similarities.get(frozenset({first, second}), DIFFERENT_PEOPLE)

    # --- liveness --------------------------------------------------------------------------------

    def create_liveness_session(self, application_id: str, client_token: str) -> str:
        with self._lock:
            self.calls.append("CreateFaceLivenessSession")
            if client_token in self.tokens:
                return self.tokens[client_token]
            session_id = str(uuid.uuid4())
            self.sessions[session_id] = _Session(application_id, self.clock())
            self.tokens[client_token] = session_id
            return session_id

    def stream(
        self,
        session_id: str,
        selfie: Optional[bytes],
        status: str = "SUCCEEDED",
        confidence: float = 99.0,
        audit: int = 1,
    ) -> None:
        """The applicant's client streamed the session: write its images, as Rekognition does (test hook)."""
        with self._lock:
            session = self.sessions[session_id]
            prefix = f"{liveness_prefix(session.application_id)}{session_id}/"
            session.status, session.confidence = status, confidence
            if selfie is not None:
                key = f"{prefix}reference.jpg"
                session.reference = StoredImage(key, self.write_selfie(key, selfie))
                session.audit = tuple(
                    StoredImage(
                        f"{prefix}audit_images/{i}.jpg", self.write_selfie(f"{prefix}audit_images/{i}.jpg", selfie)
                    )
                    for i in range(1, audit + 1)
                )

    def liveness_results(self, session_id: str) -> LivenessResult:
        with self._lock:
            self.calls.append("GetFaceLivenessSessionResults")
            session = self.sessions.get(session_id)
            if session is None:
                raise LivenessSessionGone(session_id)
            status = session.status
            if status == "CREATED" and self.clock() > session.created_at + dt.timedelta(seconds=self.session_seconds):
                status = "EXPIRED"
            return LivenessResult(session_id, status, session.confidence, session.reference, session.audit)

    # --- comparison and the collection -----------------------------------------------------------------

    def compare(self, selfie: StoredImage, document: StoredImage) -> tuple[DocumentFace, ...]:
        self.calls.append("CompareFaces")
        person = _person(_largest(faces_in(self._read(self.read_selfie, selfie))), selfie)
        found = faces_in(self._read(self.read_document, document))
        if not found:  # like Rekognition: no face on either side is an InvalidParameterException
            raise NoFaceInImage("There are no faces in the target image")
        return tuple(DocumentFace(self.similarity(person, _person(f, document)), _box(f)) for f in found)

    def search(self, selfie: StoredImage, threshold: float, max_faces: int = 10) -> tuple[FaceMatch, ...]:
        self.calls.append("SearchFacesByImage")
        person = _person(_largest(faces_in(self._read(self.read_selfie, selfie))), selfie)
        with self._lock:
            matches = [
                FaceMatch(face_id, external, self.similarity(person, other))
                for face_id, (other, external) in self.collection.items()
            ]
        found = sorted((m for m in matches if m.similarity >= threshold), key=lambda m: -m.similarity)
        return tuple(found[:max_faces])

    def index(self, selfie: StoredImage, external_id: str) -> IndexedFace:
        self.calls.append("IndexFaces")
        faces = faces_in(self._read(self.read_selfie, selfie))
        largest = _largest(faces)
        face_id = str(uuid.uuid4())
        with self._lock:
            self.collection[face_id] = (_person(largest, selfie), external_id)
        return IndexedFace(face_id, _detail(largest), other_faces=len(faces) - 1)

    def delete(self, face_ids: tuple[str, ...]) -> int:
        self.calls.append("DeleteFaces")
        with self._lock:
            gone = [f for f in face_ids if self.collection.pop(f, None) is not None]
        return len(gone)

    def faces_of(self, external_id: str) -> list[str]:
        with self._lock:
            return sorted(f for f, (_, external) in self.collection.items() if external == external_id)

    @staticmethod
    def _read(read: Callable[[StoredImage], bytes], image: StoredImage) -> bytes:
        try:
            return read(image)
        except KeyError:
            raise ImageRefused("InvalidS3ObjectException", "Unable to get object metadata from S3") from None


class InMemoryBiometricImages(BiometricImages):
    """The biometrics bucket, versioned: ``put`` plays Rekognition writing a session's images."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.objects: dict[str, list[tuple[str, bytes]]] = {}
        self.views: list[tuple[StoredImage, int]] = []

    def put(self, key: str, body: bytes) -> str:
        version = uuid.uuid4().hex
        with self._lock:
            self.objects.setdefault(key, []).append((version, bytes(body)))
        return version

    def get(self, image: StoredImage) -> bytes:
        with self._lock:
            versions = self.objects.get(image.key) or []
            for version, body in versions:
                if image.version in (None, version):
                    return body
        raise KeyError(image.key)

    def keys_of(self, application_id: str) -> list[str]:
        with self._lock:
            return sorted(k for k in self.objects if k.startswith(liveness_prefix(application_id)))

    def belongs_to(self, image: StoredImage, application_id: str) -> bool:
        return image.key.startswith(liveness_prefix(application_id)) and ".." not in image.key

    def presigned_view(self, image: StoredImage, ttl_seconds: int) -> str:
        with self._lock:
            self.views.append((image, ttl_seconds))
        return f"memory://biometrics/{image.key}?version={image.version}&ttl={ttl_seconds}"

    def delete_all_for(self, application_id: str) -> int:
        prefix = liveness_prefix(application_id)
        with self._lock:
            keys = [k for k in self.objects if k.startswith(prefix)]
            deleted = sum(len(self.objects.pop(k)) for k in keys)
        return deleted


def over_memory(
    documents: Any, images: InMemoryBiometricImages, clock: Clock = utc_now, session_seconds: int = 180
) -> InMemoryFaceRecognition:
    """The fake Rekognition over the in-memory documents bucket and biometrics bucket."""

    def read_document(image: StoredImage) -> bytes:
        return bytes(documents.objects[image.key].body)

    return InMemoryFaceRecognition(images.get, read_document, images.put, clock, session_seconds)
