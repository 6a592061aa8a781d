"""Rekognition's operations, with AWS's request checks, response shapes and error codes.

State (collections and their faces, liveness sessions) lives in memory for the
life of the local stack; images come as ``Bytes`` or as ``S3Object`` read from
the local S3 (moto). Every response is checked against botocore's service
model in tests/test_rekognition_local.py.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from . import liveness
from .engine import Engine, Face, ImageRejected, similarity

log = logging.getLogger("devstack.rekognition")

FACE_MODEL_VERSION = "6.0"
MAX_BYTES = 5 * 1024 * 1024  # Rekognition: 5 MB as Bytes
MAX_S3_BYTES = 15 * 1024 * 1024  # and 15 MB as an S3 object
ACCOUNT = "123456789012"
COLLECTION_ID = re.compile(r"^[a-zA-Z0-9_.\-]{1,255}$")
EXTERNAL_IMAGE_ID = re.compile(r"^[a-zA-Z0-9_.\-:]{1,255}$")
SESSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CLIENT_TOKEN = re.compile(r"^[a-zA-Z0-9\-_]{1,64}$")
# Quality filters (IndexFaces, SearchFacesByImage, CompareFaces): the sharpness, brightness
# and face size (share of the shorter image side) below which a face is "low quality".
_QUALITY_BARS = {"LOW": (5.0, 8.0, 0.03), "AUTO": (10.0, 10.0, 0.05), "MEDIUM": (10.0, 10.0, 0.05),
                 "HIGH": (25.0, 20.0, 0.08)}


class RekognitionError(Exception):
    """An error Rekognition would return: its ``__type``, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _invalid(message: str) -> RekognitionError:
    return RekognitionError("InvalidParameterException", message)


@dataclass
class StoredFace:
    face_id: str
    image_id: str
    external_image_id: Optional[str]
    bounding_box: dict[str, float]
    confidence: float
    descriptor: Any

    def shape(self) -> dict[str, Any]:
        face = {"FaceId": self.face_id, "BoundingBox": self.bounding_box, "ImageId": self.image_id,
                "Confidence": self.confidence, "IndexFacesModelVersion": FACE_MODEL_VERSION}
        if self.external_image_id:
            face["ExternalImageId"] = self.external_image_id
        return face


@dataclass
class Collection:
    collection_id: str
    created: float
    faces: dict[str, StoredFace] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"aws:rekognition:{os.environ.get('AWS_REGION', 'us-east-1')}:{ACCOUNT}:collection/{self.collection_id}"


@dataclass
class Session:
    session_id: str
    created: float
    kms_key_id: Optional[str]
    bucket: Optional[str]
    prefix: str
    audit_images_limit: int
    challenge: str
    client_token: Optional[str] = None
    status: str = "CREATED"  # CREATED -> IN_PROGRESS (judging) -> SUCCEEDED | FAILED; or EXPIRED
    confidence: Optional[float] = None
    reasons: list[str] = field(default_factory=list)
    reference: Optional[dict[str, Any]] = None
    audit: list[dict[str, Any]] = field(default_factory=list)


class Rekognition:
    """The operations; ``s3`` makes a boto3 S3 client of the local AWS."""

    def __init__(self, s3_factory: Callable[[], Any], engine: Optional[Callable[[], Engine]] = None,
                 clock: Callable[[], float] = time.time, session_ttl: Optional[float] = None,
                 challenges: Optional[tuple[str, ...]] = None) -> None:
        self._s3_factory = s3_factory
        self._s3: Any = None
        self._engine = engine or Engine.shared
        self._clock = clock
        # A session can be started for 3 minutes after it is created, as on AWS.
        self.session_ttl = session_ttl if session_ttl is not None else float(
            os.environ.get("DEVSTACK_LIVENESS_SESSION_TTL_S", "180"))
        self.challenges = challenges or _challenges_from_env()
        self._lock = threading.RLock()
        self.collections: dict[str, Collection] = {}
        self.sessions: dict[str, Session] = {}

    # --- dispatch ------------------------------------------------------------------

    OPERATIONS = ("CreateCollection", "DescribeCollection", "DeleteCollection", "ListCollections",
                  "DetectFaces", "CompareFaces", "IndexFaces", "SearchFacesByImage", "DeleteFaces",
                  "ListFaces", "CreateFaceLivenessSession", "GetFaceLivenessSessionResults")

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.OPERATIONS:
            raise RekognitionError("UnknownOperationException", f"{operation or 'no operation'} is not "
                                   "supported by the local Rekognition")
        if not isinstance(request, dict):
            raise RekognitionError("SerializationException", "the request body is not a JSON object")
        handler = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower())
        result: dict[str, Any] = handler(request)
        return result

    # --- images ----------------------------------------------------------------------

    def _client(self) -> Any:
        with self._lock:
            if self._s3 is None:
                self._s3 = self._s3_factory()
            return self._s3

    def image_bytes(self, image: Any, name: str = "Image") -> bytes:
        if not isinstance(image, dict) or not (("Bytes" in image) ^ ("S3Object" in image)):
            raise _invalid(f"{name} needs exactly one of Bytes or S3Object")
        if "Bytes" in image:
            try:
                data = base64.b64decode(image["Bytes"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise RekognitionError("SerializationException", f"{name}.Bytes is not base64") from None
            if len(data) > MAX_BYTES:
                raise RekognitionError("ImageTooLargeException", "Image size is too large.")
            return data
        location = image["S3Object"]
        if not isinstance(location, dict) or not location.get("Bucket") or not location.get("Name"):
            raise _invalid(f"{name}.S3Object needs Bucket and Name")
        arguments = {"Bucket": location["Bucket"], "Key": location["Name"]}
        if location.get("Version"):
            arguments["VersionId"] = location["Version"]
        s3 = self._client()
        try:
            head = s3.head_object(**arguments)
        except Exception as error:  # noqa: BLE001
            raise RekognitionError("InvalidS3ObjectException",
                                   f"Unable to get object metadata from S3. Check object key, region "
                                   f"and/or access permissions. ({type(error).__name__})") from None
        if head["ContentLength"] > MAX_S3_BYTES:
            raise RekognitionError("ImageTooLargeException", "Image size is too large.")
        try:
            data: bytes = s3.get_object(**arguments)["Body"].read()
        except Exception as error:  # noqa: BLE001
            raise RekognitionError("InvalidS3ObjectException",
                                   f"Unable to get object from S3 ({type(error).__name__})") from None
        return data

    def faces_in(self, image: Any, name: str = "Image") -> list[Face]:
        data = self.image_bytes(image, name)
        try:
            return self._engine().faces_of(data)
        except ImageRejected as error:
            raise RekognitionError(error.code, error.message) from None

    # --- detection and comparison -------------------------------------------------------

    def _detect_faces(self, request: dict[str, Any]) -> dict[str, Any]:
        attributes = request.get("Attributes") or ["DEFAULT"]
        if not isinstance(attributes, list) or any(a not in ("DEFAULT", "ALL") for a in attributes):
            raise _invalid("Attributes: DEFAULT and ALL are the values this engine supports")
        level = "ALL" if "ALL" in attributes else "DEFAULT"
        faces = self.faces_in(request.get("Image"))[:100]
        return {"FaceDetails": [face.detail(level) for face in faces]}

    def _compare_faces(self, request: dict[str, Any]) -> dict[str, Any]:
        threshold = _percent(request.get("SimilarityThreshold", 80.0), "SimilarityThreshold")
        quality = _quality_filter(request.get("QualityFilter", "NONE"))
        sources = self.faces_in(request.get("SourceImage"), "SourceImage")
        if not sources:
            raise _invalid("There are no faces in the source image.")
        targets = self.faces_in(request.get("TargetImage"), "TargetImage")[:100]
        if not targets:
            raise _invalid("There are no faces in the target image.")
        source = sources[0]
        matches, unmatched = [], []
        for face in targets:
            if _low_quality(face, quality):
                continue
            compared = {"BoundingBox": face.bounding_box, "Confidence": face.confidence,
                        "Landmarks": face.landmarks(), "Pose": face.pose(), "Quality": face.quality()}
            score = similarity(source.descriptor, face.descriptor)
            if score >= threshold:
                matches.append({"Similarity": score, "Face": compared})
            else:
                unmatched.append(compared)
        matches.sort(key=lambda match: -match["Similarity"])
        return {"SourceImageFace": {"BoundingBox": source.bounding_box, "Confidence": source.confidence},
                "FaceMatches": matches, "UnmatchedFaces": unmatched}

    # --- collections -------------------------------------------------------------------

    def _collection(self, request: dict[str, Any]) -> Collection:
        collection_id = request.get("CollectionId")
        if not isinstance(collection_id, str) or not COLLECTION_ID.match(collection_id):
            raise _invalid("CollectionId must match [a-zA-Z0-9_.\\-]+ (1 to 255 characters)")
        collection = self.collections.get(collection_id)
        if collection is None:
            raise RekognitionError("ResourceNotFoundException",
                                   f"The collection id: {collection_id} does not exist")
        return collection

    def _create_collection(self, request: dict[str, Any]) -> dict[str, Any]:
        collection_id = request.get("CollectionId")
        if not isinstance(collection_id, str) or not COLLECTION_ID.match(collection_id):
            raise _invalid("CollectionId must match [a-zA-Z0-9_.\\-]+ (1 to 255 characters)")
        with self._lock:
            if collection_id in self.collections:
                raise RekognitionError("ResourceAlreadyExistsException",
                                       f"The collection id: {collection_id} already exists")
            collection = self.collections[collection_id] = Collection(collection_id, self._clock())
        return {"StatusCode": 200, "CollectionArn": collection.arn, "FaceModelVersion": FACE_MODEL_VERSION}

    def _describe_collection(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        return {"FaceCount": len(collection.faces), "FaceModelVersion": FACE_MODEL_VERSION,
                "CollectionARN": collection.arn, "CreationTimestamp": collection.created, "UserCount": 0}

    def _delete_collection(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        with self._lock:
            self.collections.pop(collection.collection_id, None)
        return {"StatusCode": 200}

    def _list_collections(self, request: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.collections)
        return {"CollectionIds": names, "FaceModelVersions": [FACE_MODEL_VERSION] * len(names)}

    def _index_faces(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        external = request.get("ExternalImageId")
        if external is not None and (not isinstance(external, str) or not EXTERNAL_IMAGE_ID.match(external)):
            raise _invalid("ExternalImageId must match [a-zA-Z0-9_.\\-:]+")
        max_faces = request.get("MaxFaces", 100)
        if not isinstance(max_faces, int) or isinstance(max_faces, bool) or max_faces < 1:
            raise _invalid("MaxFaces must be an integer of at least 1")
        attributes = request.get("DetectionAttributes") or ["DEFAULT"]
        level = "ALL" if "ALL" in attributes else "DEFAULT"
        quality = _quality_filter(request.get("QualityFilter", "AUTO"))
        faces = self.faces_in(request.get("Image"))
        image_id = str(uuid.uuid4())
        records, unindexed = [], []
        for face in faces:
            reasons = _low_quality(face, quality)
            if not reasons and len(records) >= max_faces:
                reasons = ["EXCEEDS_MAX_FACES"]
            if reasons:
                unindexed.append({"Reasons": reasons, "FaceDetail": face.detail(level)})
                continue
            stored = StoredFace(str(uuid.uuid4()), image_id, external, face.bounding_box, face.confidence,
                                face.descriptor)
            with self._lock:
                collection.faces[stored.face_id] = stored
            records.append({"Face": {key: value for key, value in stored.shape().items()
                                     if key != "IndexFacesModelVersion"},
                            "FaceDetail": face.detail(level)})
        return {"FaceRecords": records, "FaceModelVersion": FACE_MODEL_VERSION, "UnindexedFaces": unindexed}

    def _search_faces_by_image(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        threshold = _percent(request.get("FaceMatchThreshold", 80.0), "FaceMatchThreshold")
        max_faces = request.get("MaxFaces", 80)
        if not isinstance(max_faces, int) or isinstance(max_faces, bool) or not 1 <= max_faces <= 4096:
            raise _invalid("MaxFaces must be an integer from 1 to 4096")
        quality = _quality_filter(request.get("QualityFilter", "NONE"))
        faces = self.faces_in(request.get("Image"))
        if not faces or _low_quality(faces[0], quality):
            raise _invalid("There are no faces in the image. Should be at least 1.")
        searched = faces[0]
        with self._lock:
            stored = list(collection.faces.values())
        matches = []
        for face in stored:
            score = similarity(searched.descriptor, face.descriptor)
            if score >= threshold:
                matches.append({"Similarity": score, "Face": face.shape()})
        matches.sort(key=lambda match: -match["Similarity"])
        return {"SearchedFaceBoundingBox": searched.bounding_box, "SearchedFaceConfidence": searched.confidence,
                "FaceMatches": matches[:max_faces], "FaceModelVersion": FACE_MODEL_VERSION}

    def _delete_faces(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        face_ids = request.get("FaceIds")
        if not isinstance(face_ids, list) or not 1 <= len(face_ids) <= 4096 or \
                not all(isinstance(f, str) and SESSION_ID.match(f) for f in face_ids):
            raise _invalid("FaceIds must be 1 to 4096 face ids")
        deleted = []
        with self._lock:
            for face_id in face_ids:
                if collection.faces.pop(face_id, None) is not None:
                    deleted.append(face_id)
        # AWS answers an unknown face id by leaving it out of DeletedFaces, not by an error.
        return {"DeletedFaces": deleted}

    def _list_faces(self, request: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(request)
        max_results = request.get("MaxResults", 1000)
        if not isinstance(max_results, int) or isinstance(max_results, bool) or not 0 <= max_results <= 4096:
            raise _invalid("MaxResults must be an integer from 0 to 4096")
        with self._lock:
            faces = sorted(collection.faces.values(), key=lambda face: face.face_id)
        start = 0
        token = request.get("NextToken")
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except (ValueError, binascii.Error):
                raise _invalid("NextToken is not one this collection issued") from None
        page = faces[start:start + max_results] if max_results else faces[start:start + 1000]
        response: dict[str, Any] = {"Faces": [face.shape() for face in page],
                                    "FaceModelVersion": FACE_MODEL_VERSION}
        if start + len(page) < len(faces):
            response["NextToken"] = base64.b64encode(str(start + len(page)).encode()).decode()
        return response

    # --- liveness ------------------------------------------------------------------------

    def _create_face_liveness_session(self, request: dict[str, Any]) -> dict[str, Any]:
        kms_key = request.get("KmsKeyId")
        if kms_key is not None and (not isinstance(kms_key, str) or not 1 <= len(kms_key) <= 2048):
            raise _invalid("KmsKeyId must be 1 to 2048 characters")
        token = request.get("ClientRequestToken")
        if token is not None and (not isinstance(token, str) or not CLIENT_TOKEN.match(token)):
            raise _invalid("ClientRequestToken must match ^[a-zA-Z0-9-_]+$ (1 to 64 characters)")
        settings = request.get("Settings") or {}
        output = settings.get("OutputConfig") or {}
        bucket = output.get("S3Bucket")
        if output and not bucket:
            raise _invalid("Settings.OutputConfig.S3Bucket is required")
        limit = settings.get("AuditImagesLimit", 0)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 4:
            raise _invalid("Settings.AuditImagesLimit must be 0 to 4")
        with self._lock:
            if token:  # idempotent on the token, as AWS is
                for session in self.sessions.values():
                    if session.client_token == token:
                        return {"SessionId": session.session_id}
            session = Session(str(uuid.uuid4()), self._clock(), kms_key, bucket, output.get("S3KeyPrefix", ""),
                              limit, random.SystemRandom().choice(self.challenges), client_token=token)
            self.sessions[session.session_id] = session
        return {"SessionId": session.session_id}

    def session(self, session_id: Any) -> Session:
        if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
            raise _invalid("SessionId must be a 36-character session id")
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise RekognitionError("SessionNotFoundException", f"Session {session_id} was not found", 400)
            if session.status == "CREATED" and self._clock() - session.created > self.session_ttl:
                session.status = "EXPIRED"
            return session

    def _get_face_liveness_session_results(self, request: dict[str, Any]) -> dict[str, Any]:
        session = self.session(request.get("SessionId"))
        response: dict[str, Any] = {"SessionId": session.session_id, "Status": session.status,
                                    "Challenge": {"Type": "FaceMovementChallenge", "Version": "1.0.0"}}
        if session.confidence is not None:
            response["Confidence"] = session.confidence
        if session.reference:
            response["ReferenceImage"] = session.reference
        if session.audit:
            response["AuditImages"] = session.audit
        return response

    def describe_session(self, session_id: str, can: Optional[tuple[str, ...]] = None) -> dict[str, Any]:
        """What the local client is told when it opens a session (the stand-in's GET).

        ``can``: the challenges this client can perform. A person at a camera can meet any; a client fed with
        photos cannot blink without a photo of closed eyes (``./dev selfie``). Before any frame, a session
        whose challenge the client cannot meet is given one it can, from the stack's draw: otherwise the
        client spends one of the app's attempts on a challenge it could never meet (three blinks in a row,
        1 time in 27, used every attempt of a newcomer's ``./dev selfie``). No looser than the stand-in is:
        it trusts the client's frames entirely (docs/face-local.md)."""
        session = self.session(session_id)
        with self._lock:
            possible = [c for c in self.challenges if c in (can or ())]
            if session.status == "CREATED" and possible and session.challenge not in possible:
                session.challenge = random.SystemRandom().choice(possible)
        return {"SessionId": session.session_id, "Status": session.status,
                "Challenge": {"Type": session.challenge, "Instructions": liveness.INSTRUCTIONS[session.challenge]},
                "ExpiresAt": session.created + self.session_ttl,
                "Frames": {"Min": liveness.MIN_FRAMES, "Max": liveness.MAX_FRAMES,
                           "MaxBytes": liveness.MAX_FRAME_BYTES}}

    def post_frames(self, session_id: str, frames: list[bytes]) -> dict[str, Any]:
        """Judge a burst for an open session; write the reference and audit images to S3."""
        with self._lock:
            session = self.session(session_id)
            if session.status != "CREATED":
                raise RekognitionError("AccessDeniedException",
                                       f"Session {session_id} is {session.status}: it takes no more frames", 403)
            session.status = "IN_PROGRESS"
        try:
            images = liveness.decode_frames(frames)
        except ImageRejected as error:
            with self._lock:
                session.status = "CREATED"  # a refused request leaves the session open, as a failed upload would
            raise RekognitionError(error.code, error.message) from None
        try:
            verdict = liveness.judge(session.challenge, frames, images, self._engine())
            if verdict.frames and verdict.frames[verdict.reference].faces:
                self._store_images(session, verdict)
        except RekognitionError:
            with self._lock:
                session.status = "FAILED"
            raise
        except Exception:  # noqa: BLE001
            with self._lock:
                session.status = "FAILED"
            log.exception("rekognition: liveness judging failed")
            raise RekognitionError("InternalServerError", "the liveness check failed", 500) from None
        with self._lock:
            session.status, session.confidence, session.reasons = verdict.status, verdict.confidence, verdict.reasons
        log.info("rekognition: liveness session %s %s, confidence %.1f %s", session_id, verdict.status,
                 verdict.confidence, verdict.reasons)
        return {"SessionId": session_id, "Status": verdict.status, "Reasons": verdict.reasons}

    def _store_images(self, session: Session, verdict: liveness.Verdict) -> None:
        reference = verdict.frames[verdict.reference]
        session.reference = self._put_image(session, "reference.jpg", reference)
        others = [i for i in range(len(verdict.frames)) if i != verdict.reference and verdict.frames[i].faces]
        step = max(1, len(others) // max(1, session.audit_images_limit)) if others else 1
        chosen = others[::step][:session.audit_images_limit]
        session.audit = [self._put_image(session, f"audit_images/{n}.jpg", verdict.frames[i])
                         for n, i in enumerate(chosen)]

    def _put_image(self, session: Session, name: str, frame: liveness.Frame) -> dict[str, Any]:
        """Store one frame as AWS does: <prefix><session id>/<name>, SSE-KMS with the session's key."""
        box = frame.subject.bounding_box
        data = liveness.jpeg(frame.image)
        if not session.bucket:  # no OutputConfig: AWS returns the bytes
            return {"Bytes": base64.b64encode(data).decode(), "BoundingBox": box}
        key = f"{session.prefix}{session.session_id}/{name}"
        arguments: dict[str, Any] = {"Bucket": session.bucket, "Key": key, "Body": data, "ContentType": "image/jpeg"}
        if session.kms_key_id:
            arguments.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=session.kms_key_id)
        try:
            written = self._client().put_object(**arguments)
        except Exception as error:  # noqa: BLE001
            raise RekognitionError("AccessDeniedException",
                                   f"Unable to write the liveness images to s3://{session.bucket} "
                                   f"({type(error).__name__})", 403) from None
        location = {"Bucket": session.bucket, "Name": key}
        if written.get("VersionId"):
            location["Version"] = written["VersionId"]
        return {"S3Object": location, "BoundingBox": box}


def _challenges_from_env() -> tuple[str, ...]:
    """DEVSTACK_LIVENESS_CHALLENGES (comma-separated) narrows the draw, e.g. to the turns for photo-fed
    tests (tests/data/faces has no photo with closed eyes); default: all of them."""
    names = tuple(n.strip() for n in os.environ.get("DEVSTACK_LIVENESS_CHALLENGES", "").split(",") if n.strip())
    unknown = [name for name in names if name not in liveness.CHALLENGES]
    if unknown:
        raise ValueError(f"DEVSTACK_LIVENESS_CHALLENGES: unknown challenge(s) {unknown}; "
                         f"known: {', '.join(liveness.CHALLENGES)}")
    return names or liveness.CHALLENGES


def _percent(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise _invalid(f"{name} must be a number from 0 to 100")
    return float(value)


def _quality_filter(value: Any) -> str:
    if value not in ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH"):
        raise _invalid("QualityFilter must be NONE, AUTO, LOW, MEDIUM or HIGH")
    return str(value)


def _low_quality(face: Face, quality: str) -> list[str]:
    """IndexFaces' reasons for leaving a face out under a quality filter (none under NONE)."""
    if quality == "NONE":
        return []
    sharp_bar, bright_bar, size_bar = _QUALITY_BARS[quality]
    measured = face.quality()
    reasons = []
    if measured["Sharpness"] < sharp_bar:
        reasons.append("LOW_SHARPNESS")
    if measured["Brightness"] < bright_bar:
        reasons.append("LOW_BRIGHTNESS")
    left, top, right, bottom = face.rect
    if min(right - left, bottom - top) < size_bar * min(face.width, face.height):
        reasons.append("SMALL_BOUNDING_BOX")
    if abs(face.pose()["Yaw"]) > 60 or abs(face.pose()["Pitch"]) > 60:
        reasons.append("EXTREME_POSE")
    return reasons
