"""Faces: the in-memory fakes and the real adapters answer alike (issue 17).

``fake``: ``memory.InMemoryFaceRecognition`` over ``memory.InMemoryBiometricImages`` and the in-memory
documents bucket. ``real``: what ``bootstrap.services()`` builds -- ``RekognitionFaces`` (its requests
validated by botocore against Rekognition's API model) and ``S3BiometricImages`` on the test stack's S3
(moto: real versions, delete markers and presigned URLs). moto has no Rekognition for the face check, so the
real adapter's calls are answered in-process by the test stack's stand-in (tests/support/rekognition.py),
the same engine as the fake: who is in an image is written in it. Against the local Rekognition's face
engine (devstack/rekognition, real photos) the same contract is the local-vs-AWS check of face-local's work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

import pytest

from chalicelib.adapters import memory
from chalicelib.adapters.memory import face_image
from chalicelib.adapters.s3_biometrics import liveness_prefix
from chalicelib.services.ports import (
    BiometricImages,
    FaceRecognition,
    ImageRefused,
    LivenessSessionGone,
    NoFaceInImage,
    StoredImage,
)
from tests.contracts.conftest import real_services
from tests.support.documents import exe_bytes, jpeg_bytes


@dataclass
class Faces:
    port: FaceRecognition
    images: BiometricImages
    put_selfie: Callable[[str, bytes], StoredImage]  # as Rekognition would write one, under a key
    put_document: Callable[[str, bytes], StoredImage]
    stream: Callable[[str, Optional[bytes]], None]  # the applicant's client streams a session
    exists: Callable[[str], bool]  # any version of the biometrics object is still there

    def selfie(self, application_id: str, *people: Any) -> StoredImage:
        return self.put_selfie(f"{liveness_prefix(application_id)}{uuid.uuid4()}/reference.jpg", face_image(*people))

    def document(self, application_id: str, body: bytes) -> StoredImage:
        return self.put_document(f"applications/{application_id}/identity/{uuid.uuid4().hex}", body)


@pytest.fixture
def faces(kind: str) -> Faces:
    if kind == "fake":
        documents, images = memory.InMemoryDocumentStore(), memory.InMemoryBiometricImages()
        port = memory.over_memory(documents, images)

        def put_document(key: str, body: bytes) -> StoredImage:
            documents.put(key, body, "image/jpeg")
            return StoredImage(key, None)

        return Faces(
            port,
            images,
            lambda key, body: StoredImage(key, images.put(key, body)),
            put_document,
            lambda session_id, body: port.stream(session_id, body),
            lambda key: key in images.objects,
        )
    from tests.support import rekognition

    svc = real_services()
    s3, config = svc.client("s3"), svc.config

    def put(bucket: str) -> Callable[[str, bytes], StoredImage]:
        def write(key: str, body: bytes) -> StoredImage:
            return StoredImage(key, s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])

        return write

    def exists(key: str) -> bool:
        found = s3.list_object_versions(Bucket=config.biometrics_bucket, Prefix=key)
        return bool(found.get("Versions") or found.get("DeleteMarkers"))

    return Faces(
        svc.faces,
        svc.biometric_images,
        put(config.biometrics_bucket),
        put(config.documents_bucket),
        lambda session_id, body: rekognition.local().stream(session_id, body),
        exists,
    )


def new_id() -> str:
    return str(uuid.uuid4())


# --- liveness sessions -------------------------------------------------------------------------------


def test_the_same_token_is_the_same_session_and_another_token_another(faces):
    app = new_id()
    first = faces.port.create_liveness_session(app, f"{app}-1")
    assert faces.port.create_liveness_session(app, f"{app}-1") == first
    assert faces.port.create_liveness_session(app, f"{app}-2") != first


def test_a_session_is_unfinished_until_streamed_then_its_images_are_the_applications(faces):
    app = new_id()
    session = faces.port.create_liveness_session(app, f"{app}-1")
    assert faces.port.liveness_results(session).status in ("CREATED", "IN_PROGRESS")
    faces.stream(session, face_image("someone"))
    result = faces.port.liveness_results(session)
    assert result.status == "SUCCEEDED" and 0 <= result.confidence <= 100
    assert result.reference is not None and result.reference.version
    assert faces.images.belongs_to(result.reference, app) and not faces.images.belongs_to(result.reference, new_id())
    assert all(faces.images.belongs_to(image, app) for image in result.audit)


def test_an_unknown_session_is_gone(faces):
    with pytest.raises(LivenessSessionGone):
        faces.port.liveness_results(new_id())


# --- comparison ---------------------------------------------------------------------------------------


def test_every_face_on_the_document_comes_back_with_its_similarity(faces):
    app = new_id()
    selfie = faces.selfie(app, "ana")
    genuine = faces.port.compare(selfie, faces.document(app, face_image("ana")))
    impostor = faces.port.compare(selfie, faces.document(app, face_image("bo")))
    assert len(genuine) == 1 and genuine[0].similarity >= 90 and genuine[0].box is not None
    assert len(impostor) == 1 and impostor[0].similarity < 50
    two = faces.port.compare(selfie, faces.document(app, face_image("ana", {"person": "cy", "box": [0.7, 0, .1, .1]})))
    assert sorted(round(f.similarity) >= 90 for f in two) == [False, True]


def test_no_face_on_either_side_is_refused_as_rekognition_does(faces):
    app = new_id()
    with pytest.raises(NoFaceInImage):
        faces.port.compare(faces.selfie(app, "ana"), faces.document(app, jpeg_bytes()))
    with pytest.raises(NoFaceInImage):
        faces.port.compare(faces.selfie(app), faces.document(app, face_image("ana")))


@pytest.mark.parametrize("body, code", [(exe_bytes(), "InvalidImageFormatException")])
def test_what_is_not_a_picture_and_what_is_not_there_are_refused(faces, body, code):
    app = new_id()
    with pytest.raises(ImageRefused) as refused:
        faces.port.compare(faces.selfie(app, "ana"), faces.document(app, body))
    assert refused.value.code == code
    with pytest.raises(ImageRefused) as missing:
        faces.port.compare(faces.selfie(app, "ana"), StoredImage(f"applications/{app}/identity/none", None))
    assert missing.value.code == "InvalidS3ObjectException"


# --- the collection -----------------------------------------------------------------------------------


def test_an_indexed_face_is_found_under_its_application_and_deleted(faces):
    app, other = new_id(), new_id()
    person = f"dee-{uuid.uuid4().hex[:8]}"
    indexed = faces.port.index(faces.selfie(app, person), app)
    assert indexed.face_id and indexed.other_faces == 0 and indexed.detail.sharpness is not None
    found = faces.port.search(faces.selfie(other, person), 90.0)
    assert [(m.face_id, m.external_id) for m in found] == [(indexed.face_id, app)] and found[0].similarity >= 90
    assert faces.port.search(faces.selfie(other, f"eve-{uuid.uuid4().hex[:8]}"), 90.0) == ()
    assert faces.port.delete((indexed.face_id, str(uuid.uuid4()))) == 1  # an unknown id is no error
    assert faces.port.search(faces.selfie(other, person), 90.0) == ()


def test_indexing_takes_the_largest_face_and_counts_the_others(faces):
    app = new_id()
    group = faces.selfie(app, f"fay-{uuid.uuid4().hex[:6]}", {"person": "gus", "box": [0.8, 0.1, 0.1, 0.1]})
    indexed = faces.port.index(group, app)
    assert indexed.other_faces == 1
    faces.port.delete((indexed.face_id,))
    with pytest.raises(NoFaceInImage):
        faces.port.index(faces.selfie(app), app)


# --- the biometrics bucket ----------------------------------------------------------------------------


def test_every_version_of_an_applications_images_is_deleted_and_no_one_elses(faces):
    app, other = new_id(), new_id()
    first = faces.selfie(app, "hal")
    again = faces.put_selfie(first.key, face_image("hal"))  # a second version of the same key
    kept = faces.selfie(other, "ivy")
    assert again.version != first.version
    assert faces.images.delete_all_for(app) == 2
    assert not faces.exists(first.key) and faces.exists(kept.key)
    assert faces.images.delete_all_for(app) == 0


def test_a_view_is_a_link_to_that_version(faces):
    app = new_id()
    image = faces.selfie(app, "jo")
    url = faces.images.presigned_view(image, 300)
    assert image.key in url and str(image.version) in url
