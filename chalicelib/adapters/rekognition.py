"""Amazon Rekognition: Face Liveness sessions, CompareFaces and the stage's face collection.

Images are never passed as bytes: Rekognition reads each from S3 itself, with the caller's rights, by
bucket, key and the exact ``Version`` that was checked (the selfie in the biometrics bucket, the document in
the documents bucket), so no biometric image passes through Lambda or its logs. Liveness sessions write
their reference and audit images to the biometrics bucket under the application's prefix, encrypted with the
stage's key. Throttling and 5xx answers are retried by the client's standard retry mode (the composition
root); what is left is raised, so the queue message is delivered again. Answers about the image itself
(not JPEG/PNG, too large, no such object, no face) become the port's ImageRefused and NoFaceInImage.
"""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from ..domain.face import Box, DocumentFace, SelfieFace
from ..observability import logger
from ..services.ports import (
    FaceMatch,
    FaceRecognition,
    ImageRefused,
    IndexedFace,
    LivenessResult,
    LivenessSessionGone,
    NoFaceInImage,
    StoredImage,
)
from .s3_biometrics import liveness_prefix

#: Rekognition's answers about the image itself (the request was fine, the picture is not).
REFUSALS = frozenset({"InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException"})
#: DeleteFaces takes at most this many ids a call.
DELETE_BATCH = 4096


class RekognitionFaces(FaceRecognition):
    def __init__(
        self,
        rekognition: Any,
        collection_id: str,
        documents_bucket: str,
        biometrics_bucket: str,
        kms_key_id: Optional[str] = None,
        audit_images: int = 2,
    ):
        self.rekognition = rekognition
        self.collection_id = collection_id
        self.documents_bucket = documents_bucket
        self.biometrics_bucket = biometrics_bucket
        self.kms_key_id = kms_key_id
        self.audit_images = audit_images

    # --- liveness ------------------------------------------------------------------------------------

    def create_liveness_session(self, application_id: str, client_token: str) -> str:
        request: dict[str, Any] = {
            "Settings": {
                "OutputConfig": {"S3Bucket": self.biometrics_bucket, "S3KeyPrefix": liveness_prefix(application_id)},
                "AuditImagesLimit": self.audit_images,
            },
            "ClientRequestToken": client_token,
        }
        if self.kms_key_id:
            request["KmsKeyId"] = self.kms_key_id
        return str(self.rekognition.create_face_liveness_session(**request)["SessionId"])

    def liveness_results(self, session_id: str) -> LivenessResult:
        try:
            answer = self.rekognition.get_face_liveness_session_results(SessionId=session_id)
        except ClientError as error:
            if _code(error) == "SessionNotFoundException":  # unknown, or past its 3 minutes
                raise LivenessSessionGone(session_id) from None
            raise
        confidence = answer.get("Confidence")
        return LivenessResult(
            session_id=session_id,
            status=str(answer.get("Status", "")),
            confidence=None if confidence is None else float(confidence),
            reference=self._ours(answer.get("ReferenceImage")),
            audit=tuple(image for image in map(self._ours, answer.get("AuditImages") or ()) if image is not None),
        )

    def _ours(self, image: Optional[dict[str, Any]]) -> Optional[StoredImage]:
        """An image Rekognition stored in the biometrics bucket; anything else is not taken as evidence."""
        location = (image or {}).get("S3Object")
        if not location:
            return None
        if location.get("Bucket") != self.biometrics_bucket:
            logger.warning("liveness image outside the biometrics bucket ignored")
            return None
        return StoredImage(str(location["Name"]), location.get("Version"))

    # --- comparison and the collection -------------------------------------------------------------------

    def compare(self, selfie: StoredImage, document: StoredImage) -> tuple[DocumentFace, ...]:
        answer = self._call(
            self.rekognition.compare_faces,
            SourceImage=self._image(self.biometrics_bucket, selfie),
            TargetImage=self._image(self.documents_bucket, document),
            SimilarityThreshold=0,  # every face on the document comes back, with its similarity
            QualityFilter="NONE",
        )
        matched = [
            DocumentFace(float(m.get("Similarity", 0.0)), _box(m.get("Face", {}).get("BoundingBox")))
            for m in answer.get("FaceMatches") or ()
        ]
        unmatched = [DocumentFace(0.0, _box(face.get("BoundingBox"))) for face in answer.get("UnmatchedFaces") or ()]
        return tuple(matched + unmatched)

    def search(self, selfie: StoredImage, threshold: float, max_faces: int = 10) -> tuple[FaceMatch, ...]:
        answer = self._call(
            self.rekognition.search_faces_by_image,
            CollectionId=self.collection_id,
            Image=self._image(self.biometrics_bucket, selfie),
            FaceMatchThreshold=float(threshold),
            MaxFaces=max_faces,
            QualityFilter="NONE",
        )
        found = [
            FaceMatch(str(m["Face"]["FaceId"]), m["Face"].get("ExternalImageId"), float(m.get("Similarity", 0.0)))
            for m in answer.get("FaceMatches") or ()
            if m.get("Face", {}).get("FaceId")
        ]
        return tuple(sorted(found, key=lambda m: -m.similarity))

    def index(self, selfie: StoredImage, external_id: str) -> IndexedFace:
        answer = self._call(
            self.rekognition.index_faces,
            CollectionId=self.collection_id,
            Image=self._image(self.biometrics_bucket, selfie),
            ExternalImageId=external_id,
            MaxFaces=1,
            QualityFilter="NONE",  # the face check judges quality itself, from the detail returned
            DetectionAttributes=["ALL"],
        )
        records = answer.get("FaceRecords") or []
        if not records:
            raise NoFaceInImage("There are no faces in the image")
        record = records[0]
        return IndexedFace(
            face_id=str(record["Face"]["FaceId"]),
            detail=_detail(record.get("FaceDetail") or {}, record["Face"].get("BoundingBox")),
            other_faces=len(answer.get("UnindexedFaces") or ()),
        )

    def delete(self, face_ids: tuple[str, ...]) -> int:
        deleted = 0
        for start in range(0, len(face_ids), DELETE_BATCH):
            chunk = list(face_ids[start : start + DELETE_BATCH])
            answer = self.rekognition.delete_faces(CollectionId=self.collection_id, FaceIds=chunk)
            deleted += len(answer.get("DeletedFaces") or ())
        return deleted

    # --- plumbing -----------------------------------------------------------------------------------

    @staticmethod
    def _image(bucket: str, image: StoredImage) -> dict[str, Any]:
        location = {"Bucket": bucket, "Name": image.key}
        if image.version:
            location["Version"] = image.version
        return {"S3Object": location}

    @staticmethod
    def _call(operation: Any, **request: Any) -> dict[str, Any]:
        try:
            return dict(operation(**request))
        except ClientError as error:
            code = _code(error)
            if code == "InvalidParameterException":  # what Rekognition answers when a face is needed and absent
                raise NoFaceInImage(str(error.response.get("Error", {}).get("Message", ""))) from None
            if code in REFUSALS:
                raise ImageRefused(code, str(error.response.get("Error", {}).get("Message", ""))) from None
            raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _box(box: Optional[dict[str, Any]]) -> Optional[Box]:
    if not box:
        return None
    return Box(
        float(box.get("Left", 0.0)),
        float(box.get("Top", 0.0)),
        float(box.get("Width", 0.0)),
        float(box.get("Height", 0.0)),
    )


def _detail(detail: dict[str, Any], box: Optional[dict[str, Any]]) -> SelfieFace:
    """Rekognition's FaceDetail (DetectionAttributes ALL) as the rules read it."""
    quality, pose = detail.get("Quality") or {}, detail.get("Pose") or {}
    eyes, glasses = detail.get("EyesOpen") or {}, detail.get("Sunglasses") or {}

    def number(source: dict[str, Any], key: str) -> Optional[float]:
        value = source.get(key)
        return None if value is None else float(value)

    return SelfieFace(
        sharpness=number(quality, "Sharpness"),
        brightness=number(quality, "Brightness"),
        yaw=number(pose, "Yaw"),
        pitch=number(pose, "Pitch"),
        roll=number(pose, "Roll"),
        eyes_open=None if "Value" not in eyes else bool(eyes["Value"]),
        eyes_open_confidence=float(eyes.get("Confidence", 0.0)),
        sunglasses=None if "Value" not in glasses else bool(glasses["Value"]),
        sunglasses_confidence=float(glasses.get("Confidence", 0.0)),
        box=_box(detail.get("BoundingBox") or box),
    )
