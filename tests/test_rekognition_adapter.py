"""The Rekognition adapter's requests and its reading of the answers (issue 17).

botocore's Stubber checks every request against Rekognition's API model and answers in its shapes,
including the errors the adapter turns into the port's (no face, an image refused, a session gone); moto's
CompareFaces (a canned answer) checks the wire round trip of the one face call moto has."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.rekognition import RekognitionFaces
from chalicelib.services.ports import ImageRefused, LivenessSessionGone, NoFaceInImage, StoredImage

APP = "11111111-1111-4111-8111-111111111111"
SESSION = "22222222-2222-4222-8222-222222222222"
KEY = "arn:aws:kms:us-east-1:123456789012:key/abc"
SELFIE = StoredImage(f"liveness/{APP}/{SESSION}/reference.jpg", "v-selfie")
DOCUMENT = StoredImage(f"applications/{APP}/identity/{'a' * 32}", "v-doc")


@pytest.fixture
def stubbed():
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          endpoint_url="https://rekognition.invalid")
    with Stubber(client) as stubber:
        yield RekognitionFaces(client, "faces-test", "docs-bucket", "bio-bucket", KEY), stubber
        stubber.assert_no_pending_responses()


pytestmark = pytest.mark.no_stack


def test_a_session_writes_under_the_applications_prefix_encrypted_with_the_stage_key(stubbed):
    faces, stub = stubbed
    stub.add_response("create_face_liveness_session", {"SessionId": SESSION}, {
        "KmsKeyId": KEY, "ClientRequestToken": f"{APP}-1",
        "Settings": {"OutputConfig": {"S3Bucket": "bio-bucket", "S3KeyPrefix": f"liveness/{APP}/"},
                     "AuditImagesLimit": 2}})
    assert faces.create_liveness_session(APP, f"{APP}-1") == SESSION


def test_results_keep_only_images_in_the_biometrics_bucket_and_a_gone_session_says_so(stubbed):
    faces, stub = stubbed
    stub.add_response("get_face_liveness_session_results", {
        "SessionId": SESSION, "Status": "SUCCEEDED", "Confidence": 97.5,
        "ReferenceImage": {"S3Object": {"Bucket": "bio-bucket", "Name": SELFIE.key, "Version": "v1"}},
        "AuditImages": [{"S3Object": {"Bucket": "elsewhere", "Name": "x.jpg"}},
                        {"S3Object": {"Bucket": "bio-bucket", "Name": "a.jpg", "Version": "v2"}}]},
        {"SessionId": SESSION})
    result = faces.liveness_results(SESSION)
    assert (result.status, result.confidence) == ("SUCCEEDED", 97.5)
    assert result.reference == StoredImage(SELFIE.key, "v1") and result.audit == (StoredImage("a.jpg", "v2"),)
    stub.add_client_error("get_face_liveness_session_results", "SessionNotFoundException", "gone")
    with pytest.raises(LivenessSessionGone):
        faces.liveness_results(SESSION)
    stub.add_client_error("get_face_liveness_session_results", "AccessDeniedException", "no", 400)
    with pytest.raises(Exception) as denied:  # an IAM error is an outage, never "expired"
        faces.liveness_results(SESSION)
    assert not isinstance(denied.value, LivenessSessionGone)


def test_compare_reads_both_pinned_versions_and_returns_every_document_face(stubbed):
    faces, stub = stubbed
    box = {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}
    stub.add_response("compare_faces", {"FaceMatches": [{"Similarity": 98.5, "Face": {"BoundingBox": box}}],
                                        "UnmatchedFaces": [{"BoundingBox": box}]}, {
        "SourceImage": {"S3Object": {"Bucket": "bio-bucket", "Name": SELFIE.key, "Version": "v-selfie"}},
        "TargetImage": {"S3Object": {"Bucket": "docs-bucket", "Name": DOCUMENT.key, "Version": "v-doc"}},
        "SimilarityThreshold": 0, "QualityFilter": "NONE"})
    found = faces.compare(SELFIE, DOCUMENT)
    assert [f.similarity for f in found] == [98.5, 0.0] and found[0].box.width == 0.3


@pytest.mark.parametrize("code, error", [("InvalidParameterException", NoFaceInImage),
                                         ("InvalidImageFormatException", ImageRefused),
                                         ("ImageTooLargeException", ImageRefused),
                                         ("InvalidS3ObjectException", ImageRefused)])
def test_what_rekognition_says_about_an_image_becomes_the_ports_error(stubbed, code, error):
    faces, stub = stubbed
    stub.add_client_error("compare_faces", code, "about the image")
    with pytest.raises(error) as raised:
        faces.compare(SELFIE, DOCUMENT)
    if error is ImageRefused:
        assert raised.value.code == code


def test_index_asks_for_the_whole_description_and_search_sorts_by_similarity(stubbed):
    faces, stub = stubbed
    stub.add_response("index_faces", {
        "FaceRecords": [{"Face": {"FaceId": "f" * 8 + "-0000-4000-8000-" + "0" * 12},
                         "FaceDetail": {"Quality": {"Sharpness": 88.0, "Brightness": 70.0},
                                        "Pose": {"Yaw": 3.0, "Pitch": -2.0, "Roll": 1.0},
                                        "EyesOpen": {"Value": True, "Confidence": 99.0},
                                        "Sunglasses": {"Value": False, "Confidence": 98.0},
                                        "BoundingBox": {"Left": 0.3, "Top": 0.2, "Width": 0.4, "Height": 0.5}}}],
        "UnindexedFaces": [{"Reasons": ["EXCEEDS_MAX_FACES"]}]}, {
        "CollectionId": "faces-test", "Image": {"S3Object": {"Bucket": "bio-bucket", "Name": SELFIE.key,
                                                              "Version": "v-selfie"}},
        "ExternalImageId": APP, "MaxFaces": 1, "QualityFilter": "NONE", "DetectionAttributes": ["ALL"]})
    indexed = faces.index(SELFIE, APP)
    assert indexed.other_faces == 1 and indexed.detail.sharpness == 88.0 and indexed.detail.eyes_open is True
    stub.add_response("search_faces_by_image", {"FaceMatches": [
        {"Similarity": 96.0, "Face": {"FaceId": "a" * 8 + "-0000-4000-8000-" + "0" * 12, "ExternalImageId": "x"}},
        {"Similarity": 99.0, "Face": {"FaceId": "b" * 8 + "-0000-4000-8000-" + "0" * 12, "ExternalImageId": APP}}]},
        {"CollectionId": "faces-test", "Image": {"S3Object": {"Bucket": "bio-bucket", "Name": SELFIE.key,
                                                              "Version": "v-selfie"}},
         "FaceMatchThreshold": 95.0, "MaxFaces": 10, "QualityFilter": "NONE"})
    assert [m.external_id for m in faces.search(SELFIE, 95.0)] == [APP, "x"]
    stub.add_response("index_faces", {"FaceRecords": [], "UnindexedFaces": []})
    with pytest.raises(NoFaceInImage):
        faces.index(SELFIE, APP)


def test_deleting_no_faces_asks_nothing_and_deletes_in_batches(stubbed):
    faces, stub = stubbed
    assert faces.delete(()) == 0
    ids = tuple(f"{i:08x}-0000-4000-8000-000000000000" for i in range(3))
    stub.add_response("delete_faces", {"DeletedFaces": list(ids[:2])},
                      {"CollectionId": "faces-test", "FaceIds": list(ids)})
    assert faces.delete(ids) == 2


@pytest.mark.stack
def test_compare_faces_round_trips_through_moto():
    import os

    client = boto3.client("rekognition", endpoint_url=os.environ["MOTO_SERVER"])  # moto itself, no stand-in
    faces = RekognitionFaces(client, "c", os.environ["DOCUMENTS_BUCKET_NAME"], os.environ["BIOMETRICS_BUCKET_NAME"])
    found = faces.compare(SELFIE, DOCUMENT)  # moto answers the same canned faces for any images
    assert found and all(0 <= f.similarity <= 100 and f.box is not None for f in found)
