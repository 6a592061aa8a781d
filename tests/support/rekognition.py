"""Rekognition for the in-process test stack, where moto has none: botocore answers it here.

moto answers CompareFaces with a canned reply and nothing else the face check calls (no liveness sessions,
no collections). Until the local Rekognition (devstack/rekognition, a real face engine behind
``AWS_ENDPOINT_URL_REKOGNITION``) runs in the test session, ``install(client)`` registers a ``before-call``
handler on a Rekognition client that answers each call from the in-memory engine
(``chalicelib.adapters.memory.face``: who is in an image is written in it) over the test stack's S3, in
Rekognition's own response shapes. The app's real adapter (``adapters/rekognition.py``) builds every request,
which botocore validates against Rekognition's API model before the handler sees it, so the requests the
IAM test records and the adapter's parameters are the real ones; liveness images are written to the real
(moto) biometrics bucket, so presigned links and deletions act on real objects.

``stream(session_id, image)`` plays the applicant's client streaming a session.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Optional

from chalicelib.adapters.memory.face import InMemoryFaceRecognition
from chalicelib.services.ports import ImageRefused, LivenessSessionGone, NoFaceInImage, StoredImage


class LocalRekognition:
    def __init__(self, s3: Any, documents_bucket: Optional[str] = None, biometrics_bucket: Optional[str] = None):
        self.s3 = s3
        self.documents_bucket = documents_bucket or os.environ["DOCUMENTS_BUCKET_NAME"]
        self.biometrics_bucket = biometrics_bucket or os.environ["BIOMETRICS_BUCKET_NAME"]
        self.engine = InMemoryFaceRecognition(self._read_selfie, self._read_document, self._write_selfie)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        # On AWS Rekognition reads the images itself: this stand-in's own S3 reads are marked, so call counts
        # (bench/aws_calls.py) leave them out of the app's calls.
        s3.meta.events.register_first("before-call.s3", _stand_ins_own_call)

    # --- the buckets, through the test stack's S3 ---------------------------------------------------

    def _read(self, bucket: str, image: StoredImage) -> bytes:
        where: dict[str, Any] = {"Bucket": bucket, "Key": image.key}
        if image.version:
            where["VersionId"] = image.version
        try:
            return bytes(self.s3.get_object(**where)["Body"].read())
        except self.s3.exceptions.ClientError as error:
            raise KeyError(image.key) from error

    def _read_selfie(self, image: StoredImage) -> bytes:
        return self._read(self.biometrics_bucket, image)

    def _read_document(self, image: StoredImage) -> bytes:
        return self._read(self.documents_bucket, image)

    def _write_selfie(self, key: str, body: bytes) -> Optional[str]:
        answer = self.s3.put_object(Bucket=self.biometrics_bucket, Key=key, Body=body, ContentType="image/jpeg")
        version = answer.get("VersionId")
        return None if version in (None, "null") else str(version)

    def stream(self, session_id: str, image: Optional[bytes], status: str = "SUCCEEDED", confidence: float = 99.0):
        """The applicant's client streamed the session (its images land in the biometrics bucket)."""
        self.engine.stream(session_id, image, status, confidence)

    # --- botocore -----------------------------------------------------------------------------------

    def install(self, client: Any) -> Any:
        """Answer this Rekognition client's calls here (idempotent per client)."""
        if getattr(client, "_local_rekognition", None) is not self:
            client._local_rekognition = self
            client.meta.events.register(
                "before-parameter-build.rekognition", self._params, unique_id=f"rek-params-{id(self)}"
            )
            # On the general event, last: botocore calls handlers of a more specific event first, and a
            # recorder or counter hooked to "before-call" must see the call before this answers it.
            client.meta.events.register_last("before-call", self._before_call, unique_id=f"rek-{id(self)}")
        return client

    @staticmethod
    def _params(params: Any = None, context: Any = None, **_: Any) -> None:
        if context is not None:
            context["local_rekognition_params"] = dict(params or {})  # the API's parameters, before serialising

    def _before_call(self, model: Any = None, context: Any = None, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if model.service_model.service_name != "rekognition":
            return None
        operation = model.name
        params = (context or {}).get("local_rekognition_params", {})
        with self._lock:
            self.calls.append((operation, dict(params or {})))
        try:
            body = self.answer(operation, dict(params or {}))
        except _Refused as refused:
            return AWSResponse("https://rekognition.local", 400, {}, None), {
                "Error": {"Code": refused.code, "Message": refused.message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return AWSResponse("https://rekognition.local", 200, {}, None), {
            **body,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        engine = self.engine
        try:
            if operation == "CreateFaceLivenessSession":
                prefix = params["Settings"]["OutputConfig"]["S3KeyPrefix"]
                application_id = prefix.strip("/").split("/")[-1]
                return {"SessionId": engine.create_liveness_session(application_id, params["ClientRequestToken"])}
            if operation == "GetFaceLivenessSessionResults":
                result = engine.liveness_results(params["SessionId"])
                found: dict[str, Any] = {"SessionId": result.session_id, "Status": result.status}
                if result.confidence is not None and result.status in ("SUCCEEDED", "FAILED"):
                    found["Confidence"] = result.confidence
                if result.reference is not None:
                    found["ReferenceImage"] = {"S3Object": self._location(result.reference)}
                found["AuditImages"] = [{"S3Object": self._location(a)} for a in result.audit]
                return found
            if operation == "CompareFaces":
                faces = engine.compare(self._image(params["SourceImage"]), self._image(params["TargetImage"]))
                return {
                    "SourceImageFace": {"Confidence": 99.9},
                    "FaceMatches": [
                        {"Similarity": f.similarity, "Face": {"BoundingBox": _box(f.box), "Confidence": 99.9}}
                        for f in faces
                        if f.similarity >= float(params.get("SimilarityThreshold", 80))
                    ],
                    "UnmatchedFaces": [
                        {"BoundingBox": _box(f.box), "Confidence": 99.9}
                        for f in faces
                        if f.similarity < float(params.get("SimilarityThreshold", 80))
                    ],
                }
            if operation == "SearchFacesByImage":
                matches = engine.search(
                    self._image(params["Image"]), float(params.get("FaceMatchThreshold", 80)),
                    int(params.get("MaxFaces", 4096)),
                )
                return {
                    "SearchedFaceConfidence": 99.9,
                    "FaceMatches": [
                        {"Similarity": m.similarity, "Face": {"FaceId": m.face_id, "ExternalImageId": m.external_id}}
                        for m in matches
                    ],
                }
            if operation == "IndexFaces":
                try:
                    indexed = engine.index(self._image(params["Image"]), params.get("ExternalImageId", ""))
                except NoFaceInImage:
                    return {"FaceRecords": [], "UnindexedFaces": []}
                detail = indexed.detail
                face_detail = {
                    "BoundingBox": _box(detail.box),
                    "Confidence": 99.9,
                    "Quality": {"Sharpness": detail.sharpness, "Brightness": detail.brightness},
                    "Pose": {"Yaw": detail.yaw, "Pitch": detail.pitch, "Roll": detail.roll},
                    "EyesOpen": {"Value": detail.eyes_open, "Confidence": detail.eyes_open_confidence},
                    "Sunglasses": {"Value": detail.sunglasses, "Confidence": detail.sunglasses_confidence},
                }
                return {
                    "FaceRecords": [
                        {
                            "Face": {
                                "FaceId": indexed.face_id,
                                "BoundingBox": _box(detail.box),
                                "ExternalImageId": params.get("ExternalImageId"),
                            },
                            "FaceDetail": face_detail,
                        }
                    ],
                    "UnindexedFaces": [{"Reasons": ["EXCEEDS_MAX_FACES"]} for _ in range(indexed.other_faces)],
                }
            if operation == "DeleteFaces":
                ids = tuple(params["FaceIds"])
                gone = [f for f in ids if f in engine.collection]
                engine.delete(ids)
                return {"DeletedFaces": gone}
            if operation in ("CreateCollection", "DescribeCollection"):
                return {"StatusCode": 200}
        except LivenessSessionGone as error:
            raise _Refused("SessionNotFoundException", f"session {error} not found") from None
        except NoFaceInImage as error:
            raise _Refused("InvalidParameterException", str(error)) from None
        except ImageRefused as error:
            raise _Refused(error.code, error.message) from None
        raise _Refused("InvalidParameterException", f"{operation} is not answered by the test stack")

    def _image(self, image: dict[str, Any]) -> StoredImage:
        location = image["S3Object"]
        return StoredImage(location["Name"], location.get("Version"))

    def _location(self, image: StoredImage) -> dict[str, Any]:
        found = {"Bucket": self.biometrics_bucket, "Name": image.key}
        if image.version:
            found["Version"] = image.version
        return found


def _stand_ins_own_call(context: Any = None, **_: Any) -> None:
    if context is not None:
        context["rekognition_stand_in"] = True


class _Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _box(box: Any) -> dict[str, float]:
    if box is None:
        return {"Left": 0.3, "Top": 0.2, "Width": 0.4, "Height": 0.5}
    return {"Left": box.left, "Top": box.top, "Width": box.width, "Height": box.height}


#: The stand-in of this test session (``start``), for tests to stream sessions with.
LOCAL: Optional[LocalRekognition] = None


def start(s3: Any) -> LocalRekognition:
    """Answer every Rekognition client made from now on in this process (once per session)."""
    global LOCAL
    if LOCAL is not None:
        return LOCAL
    import botocore.session

    LOCAL = local = LocalRekognition(s3)
    create_client = botocore.session.Session.create_client

    def create_client_with_rekognition(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, service_name, *args, **kwargs)
        # a client given its own endpoint (a test of moto, or of the local Rekognition server) is left alone
        wanted = service_name == "rekognition" and not kwargs.get("endpoint_url")
        return local.install(client) if wanted else client

    botocore.session.Session.create_client = create_client_with_rekognition
    return local


def local() -> LocalRekognition:
    assert LOCAL is not None, "the test stack's Rekognition stand-in is not started (tests/support/aws.py)"
    return LOCAL
