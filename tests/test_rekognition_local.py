"""The local Rekognition: the app's kind of boto3 client, answered by dlib, shapes exactly AWS's.

Every response any test here receives is checked against botocore's service model
(raw JSON, strictly: tests/support/aws_shapes.py), and every error code against the
operation's listed errors. The engine is slow on 2 cores (about 0.5 s an image), so
the photos are few and each is analysed once (the engine remembers by digest).
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from devstack.rekognition import Rekognition, RekognitionServer
from devstack.rekognition.engine import distance_for, similarity
from tests.support import aws_shapes
from tests.support.deadlines import REPLY_S, scaled
from tests.support.faces import photo
from tests.support.passports import Holder, make_document

pytestmark = pytest.mark.stack  # moto's S3 (images in, liveness images out) from aws_stack

OPERATION_ERRORS: list[tuple[str, str]] = []


def bucket() -> str:
    return os.environ["DOCUMENTS_BUCKET_NAME"]


def _validating(client):
    """Check every raw response (and error code) against botocore's model for its operation."""
    def check(http_response, parsed, model, **kwargs):
        body = json.loads(http_response.content or b"{}")
        if http_response.status_code == 200:
            found = aws_shapes.problems(body, model.output_shape)
            assert not found, f"{model.name}: {found}"
        else:
            code = body.get("__type", "").split("#")[-1]
            OPERATION_ERRORS.append((model.name, code))
            assert code in {shape.name for shape in model.error_shapes}, f"{model.name} cannot answer {code}"

    client.meta.events.register("after-call.rekognition.*", check)
    return client


@pytest.fixture(scope="module")
def rekognition():
    """The app's kind of client, at AWS_ENDPOINT_URL_REKOGNITION. Named explicitly: the in-process API tests'
    scripted stand-in (tests/support/rekognition.py) answers clients made without an endpoint_url."""
    endpoint = os.environ["AWS_ENDPOINT_URL_REKOGNITION"]
    return _validating(boto3.client("rekognition", region_name="us-east-1", endpoint_url=endpoint))


@pytest.fixture(scope="module")
def s3():
    return boto3.client("s3", region_name="us-east-1")


def _put(s3, data: bytes, content_type: str = "image/jpeg") -> dict:
    key = f"test-rekognition/{uuid.uuid4()}"
    written = s3.put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)
    location = {"Bucket": bucket(), "Name": key}
    if written.get("VersionId"):
        location["Version"] = written["VersionId"]
    return location


def _code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


# --- wiring -------------------------------------------------------------------------------


def test_the_service_specific_endpoint_is_the_local_engine(rekognition):
    assert rekognition.meta.endpoint_url == os.environ["AWS_ENDPOINT_URL_REKOGNITION"]
    assert rekognition.meta.endpoint_url != os.environ["AWS_ENDPOINT_URL"]


def test_the_calibration_puts_dlibs_boundary_at_awss_default_threshold():
    assert distance_for(80) == pytest.approx(0.6, abs=1e-3)
    assert distance_for(95) == pytest.approx(0.5, abs=1e-3)
    a, b = [0.0] * 128, [0.0] * 127 + [0.6]
    assert similarity(a, b) == pytest.approx(80, abs=0.05)


# --- detection ------------------------------------------------------------------------------


def test_detect_faces_of_a_versioned_s3_object_with_all_attributes(rekognition, s3):
    location = _put(s3, photo("obama-1.jpg"))
    assert "Version" in location, "the documents bucket is versioned: the app pins versions"
    (face,) = rekognition.detect_faces(Image={"S3Object": location}, Attributes=["ALL"])["FaceDetails"]

    box = face["BoundingBox"]
    assert 0.2 < box["Left"] < 0.5 and 0.0 < box["Top"] < 0.4 and 0.2 < box["Width"] < 0.6
    assert face["Confidence"] > 99
    assert abs(face["Pose"]["Yaw"]) < 10 and abs(face["Pose"]["Roll"]) < 10 and abs(face["Pose"]["Pitch"]) < 20
    assert face["Quality"]["Sharpness"] > 50 and 20 < face["Quality"]["Brightness"] < 90
    assert face["EyesOpen"]["Value"] is True and face["Sunglasses"]["Value"] is False
    landmarks = {mark["Type"]: mark for mark in face["Landmarks"]}
    assert len(landmarks) == 30
    assert landmarks["eyeLeft"]["X"] < landmarks["nose"]["X"] < landmarks["eyeRight"]["X"]
    assert landmarks["eyeLeft"]["Y"] < landmarks["nose"]["Y"] < landmarks["mouthDown"]["Y"]
    assert landmarks["mouthDown"]["Y"] < landmarks["chinBottom"]["Y"]
    assert "AgeRange" not in face and "Emotions" not in face, "what the engine cannot estimate is absent"


def test_detect_faces_counts_every_face_and_finds_none_on_a_page_without_a_photo(rekognition):
    group = rekognition.detect_faces(Image={"Bytes": photo("group-two-people.jpg")})["FaceDetails"]
    assert len(group) == 2
    page = make_document(Holder())  # the generator's silhouette is not a face
    assert rekognition.detect_faces(Image={"Bytes": page})["FaceDetails"] == []


def test_a_blurred_face_scores_lower_sharpness(rekognition):
    from PIL import ImageFilter

    image = Image.open(io.BytesIO(photo("obama-1.jpg")))
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(4)).save(out, "JPEG")
    (blurred,) = rekognition.detect_faces(Image={"Bytes": out.getvalue()})["FaceDetails"]
    (sharp,) = rekognition.detect_faces(Image={"Bytes": photo("obama-1.jpg")})["FaceDetails"]
    assert blurred["Quality"]["Sharpness"] < 20 < 50 < sharp["Quality"]["Sharpness"]


# --- comparison -------------------------------------------------------------------------------


def test_compare_faces_genuine_pair_matches_and_an_impostor_does_not(rekognition, s3):
    source = {"S3Object": _put(s3, photo("obama-1.jpg"))}
    genuine = rekognition.compare_faces(SourceImage=source, TargetImage={"Bytes": photo("obama-2.jpg")},
                                        SimilarityThreshold=0)
    (match,) = genuine["FaceMatches"]
    assert match["Similarity"] >= 95 and genuine["UnmatchedFaces"] == []
    assert genuine["SourceImageFace"]["Confidence"] > 99

    impostor = rekognition.compare_faces(SourceImage=source, TargetImage={"Bytes": photo("biden-1.jpg")})
    assert impostor["FaceMatches"] == [] and len(impostor["UnmatchedFaces"]) == 1
    low = rekognition.compare_faces(SourceImage=source, TargetImage={"Bytes": photo("biden-1.jpg")},
                                    SimilarityThreshold=0)
    assert low["FaceMatches"][0]["Similarity"] < 30


def test_compare_faces_in_a_group_matches_only_the_person(rekognition):
    result = rekognition.compare_faces(SourceImage={"Bytes": photo("obama-1.jpg")},
                                       TargetImage={"Bytes": photo("group-obama-biden.jpg")})
    assert len(result["FaceMatches"]) == 1 and len(result["UnmatchedFaces"]) >= 1


def test_bad_images_get_awss_error_codes(rekognition, s3):
    target = {"Bytes": photo("obama-1.jpg")}
    cases = [
        ({"Bytes": b"%PDF-1.4 not an image"}, "InvalidImageFormatException"),
        ({"Bytes": b"\xff\xd8\xff\xe0 truncated jpeg"}, "InvalidImageFormatException"),
        ({"Bytes": b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)}, "ImageTooLargeException"),
        ({"S3Object": {"Bucket": bucket(), "Name": "no/such/object.jpg"}}, "InvalidS3ObjectException"),
        ({"Bytes": make_document(Holder())}, "InvalidParameterException"),  # no face in the source
    ]
    for image, code in cases:
        with pytest.raises(ClientError) as raised:
            rekognition.compare_faces(SourceImage=image, TargetImage=target)
        assert _code(raised.value) == code, image.keys()
    with pytest.raises(ClientError) as raised:  # no face in the target: the document without a photo
        rekognition.compare_faces(SourceImage=target, TargetImage={"Bytes": make_document(Holder())})
    assert _code(raised.value) == "InvalidParameterException"
    tiny = io.BytesIO()
    Image.new("RGB", (60, 60)).save(tiny, "PNG")
    with pytest.raises(ClientError) as raised:
        rekognition.detect_faces(Image={"Bytes": tiny.getvalue()})
    assert _code(raised.value) == "InvalidParameterException"


# --- collections ------------------------------------------------------------------------------


def test_a_collection_finds_the_same_face_under_another_application(rekognition):
    collection = f"test-{uuid.uuid4().hex[:8]}"
    created = rekognition.create_collection(CollectionId=collection)
    assert created["StatusCode"] == 200 and created["CollectionArn"].endswith(f":collection/{collection}")
    with pytest.raises(ClientError) as raised:
        rekognition.create_collection(CollectionId=collection)
    assert _code(raised.value) == "ResourceAlreadyExistsException"

    indexed = rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo("obama-1.jpg")},
                                      ExternalImageId="application-a", MaxFaces=1, QualityFilter="AUTO")
    (record,) = indexed["FaceRecords"]
    assert record["Face"]["ExternalImageId"] == "application-a"
    rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo("biden-2.jpg")},
                            ExternalImageId="application-b", MaxFaces=1)
    group = rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo("group-two-people.jpg")},
                                    ExternalImageId="application-c", MaxFaces=1)
    assert len(group["FaceRecords"]) == 1 and group["UnindexedFaces"][0]["Reasons"] == ["EXCEEDS_MAX_FACES"]
    assert rekognition.describe_collection(CollectionId=collection)["FaceCount"] == 3

    found = rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": photo("obama-4.jpg")},
                                              FaceMatchThreshold=90, MaxFaces=5)
    assert [m["Face"]["ExternalImageId"] for m in found["FaceMatches"]] == ["application-a"]
    assert found["FaceMatches"][0]["Similarity"] >= 90
    stranger = rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": photo("leslie-1.jpg")})
    assert stranger["FaceMatches"] == []
    with pytest.raises(ClientError) as raised:
        rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": make_document(Holder())})
    assert _code(raised.value) == "InvalidParameterException"

    listed = rekognition.list_faces(CollectionId=collection, MaxResults=2)
    assert len(listed["Faces"]) == 2 and "NextToken" in listed
    rest = rekognition.list_faces(CollectionId=collection, NextToken=listed["NextToken"])
    assert len(rest["Faces"]) == 1 and "NextToken" not in rest
    face_id = record["Face"]["FaceId"]
    deleted = rekognition.delete_faces(CollectionId=collection, FaceIds=[face_id, str(uuid.uuid4())])
    assert deleted["DeletedFaces"] == [face_id]
    again = rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": photo("obama-4.jpg")})
    assert again["FaceMatches"] == []
    assert rekognition.delete_collection(CollectionId=collection)["StatusCode"] == 200
    for call in (lambda: rekognition.describe_collection(CollectionId=collection),
                 lambda: rekognition.list_faces(CollectionId=collection),
                 lambda: rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo("obama-1.jpg")})):
        with pytest.raises(ClientError) as raised:
            call()
        assert _code(raised.value) == "ResourceNotFoundException"


# --- liveness: the stand-in -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def standin():
    """A Rekognition of its own whose sessions always ask turn_left and whose clock the test moves."""
    clock = Clock()
    service = Rekognition(lambda: boto3.client("s3", region_name="us-east-1"), clock=clock,
                          challenges=("turn_left",))
    with RekognitionServer(service) as server:
        client = _validating(boto3.client("rekognition", region_name="us-east-1", endpoint_url=server.url))
        yield server, client, clock


def _http(url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=scaled(120.0)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _frames(*datas: bytes) -> bytes:
    return json.dumps({"Frames": [base64.b64encode(d).decode() for d in datas]}).encode()


def _session(client, limit: int = 1) -> str:
    return client.create_face_liveness_session(
        KmsKeyId=os.environ["DATA_KEY_ARN"], ClientRequestToken=uuid.uuid4().hex,
        Settings={"OutputConfig": {"S3Bucket": bucket(), "S3KeyPrefix": "liveness/test-app/"},
                  "AuditImagesLimit": limit})["SessionId"]


def test_a_live_burst_succeeds_and_writes_the_images_where_aws_would(standin, s3):
    server, client, _clock = standin
    session_id = _session(client)
    status, described = _http(f"{server.liveness_url}/sessions/{session_id}")
    assert status == 200 and described["Challenge"]["Type"] == "turn_left"
    assert client.get_face_liveness_session_results(SessionId=session_id)["Status"] == "CREATED"

    status, answer = _http(f"{server.liveness_url}/sessions/{session_id}/frames",
                           _frames(photo("obama-1.jpg"), photo("obama-4.jpg")))
    assert status == 200 and answer["Status"] == "SUCCEEDED", answer
    results = client.get_face_liveness_session_results(SessionId=session_id)
    assert results["Status"] == "SUCCEEDED" and results["Confidence"] >= 90
    reference = results["ReferenceImage"]["S3Object"]
    assert reference["Name"] == f"liveness/test-app/{session_id}/reference.jpg" and reference["Version"]
    head = s3.head_object(Bucket=reference["Bucket"], Key=reference["Name"], VersionId=reference["Version"])
    assert head["ContentType"] == "image/jpeg" and head["ServerSideEncryption"] == "aws:kms"
    assert len(results["AuditImages"]) == 1

    status, again = _http(f"{server.liveness_url}/sessions/{session_id}/frames",
                          _frames(photo("obama-1.jpg"), photo("obama-4.jpg")))
    assert status == 403 and again["__type"] == "AccessDeniedException"


@pytest.mark.parametrize("frames, reason", [
    (("obama-1.jpg", "obama-1.jpg"), "FRAMES_COPIED"),  # a still photo: copies, and no turn
    (("obama-1.jpg", "lacamoire-3.jpg"), "FACE_CHANGED"),  # another person turned for them
    (("obama-1.jpg", "obama-2.jpg"), "CHALLENGE_NOT_MET"),  # turned the wrong way
    (("obama-4.jpg", "obama-4.jpg"), "NOT_FACING_CAMERA"),
])
def test_a_burst_that_is_not_a_live_person_gets_a_low_confidence(standin, frames, reason):
    server, client, _clock = standin
    session_id = _session(client, limit=0)
    status, answer = _http(f"{server.liveness_url}/sessions/{session_id}/frames", _frames(*map(photo, frames)))
    assert status == 200 and any(r.startswith(reason) for r in answer["Reasons"]), answer
    results = client.get_face_liveness_session_results(SessionId=session_id)
    assert results["Status"] == "SUCCEEDED" and results["Confidence"] <= 20
    assert "AuditImages" not in results


def test_a_picture_turned_in_front_of_the_camera_moves_like_a_flat_picture(standin):
    """A printout turned about its vertical axis: a perspective warp of the frontal photo."""
    server, client, _clock = standin
    image = Image.open(io.BytesIO(photo("obama-1.jpg")))
    w, h = image.size
    squeeze = 0.25 * h  # the far edge shrinks, as a turned sheet of paper does
    warped = image.transform((w, h), Image.Transform.QUAD,
                             (0, 0, 0, h, w, h + squeeze, w, -squeeze), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    warped.save(out, "JPEG", quality=92)
    session_id = _session(client, limit=0)
    status, answer = _http(f"{server.liveness_url}/sessions/{session_id}/frames",
                           _frames(photo("obama-1.jpg"), out.getvalue()))
    assert status == 200 and answer["Reasons"], answer
    assert any(r.startswith(("CHALLENGE_NOT_MET", "FLAT_PICTURE")) for r in answer["Reasons"])


def test_bad_bursts_are_refused_and_leave_the_session_open(standin):
    server, client, _clock = standin
    session_id = _session(client)
    url = f"{server.liveness_url}/sessions/{session_id}/frames"
    too_big = b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024)
    for body, status_code, code in [
        (_frames(photo("obama-1.jpg"), b"GIF89a not a frame"), 400, "InvalidImageFormatException"),
        (_frames(photo("obama-1.jpg")), 400, "ValidationException"),  # too few
        (_frames(*[photo("obama-1.jpg")] * 11), 400, "ValidationException"),  # too many
        (_frames(photo("obama-1.jpg"), too_big), 400, "ImageTooLargeException"),
        (b"{not json", 400, "SerializationException"),
        (json.dumps({"Frames": ["***"]}).encode(), 400, "ValidationException"),
    ]:
        status, answer = _http(url, body)
        assert (status, answer.get("__type")) == (status_code, code), answer
    assert client.get_face_liveness_session_results(SessionId=session_id)["Status"] == "CREATED"
    connection = http.client.HTTPConnection(server.url.split("//")[1], timeout=REPLY_S)
    connection.putrequest("POST", f"/liveness/sessions/{session_id}/frames")
    connection.putheader("Content-Length", str(40 * 1024 * 1024))  # refused before a byte of it is read
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["__type"] == "ImageTooLargeException"
    connection.close()


def test_unknown_and_expired_sessions(standin):
    server, client, clock = standin
    unknown = str(uuid.uuid4())
    with pytest.raises(ClientError) as raised:
        client.get_face_liveness_session_results(SessionId=unknown)
    assert _code(raised.value) == "SessionNotFoundException"
    status, answer = _http(f"{server.liveness_url}/sessions/{unknown}")
    assert status == 400 and answer["__type"] == "SessionNotFoundException"

    session_id = _session(client)
    clock.now += 181  # AWS: a session can be started for 3 minutes
    assert client.get_face_liveness_session_results(SessionId=session_id)["Status"] == "EXPIRED"
    status, answer = _http(f"{server.liveness_url}/sessions/{session_id}/frames",
                           _frames(photo("obama-1.jpg"), photo("obama-4.jpg")))
    assert status == 403 and answer["__type"] == "AccessDeniedException"


def test_the_same_client_request_token_is_the_same_session(standin):
    _server, client, _clock = standin
    token = uuid.uuid4().hex
    settings = {"OutputConfig": {"S3Bucket": bucket(), "S3KeyPrefix": "liveness/x/"}}
    first = client.create_face_liveness_session(ClientRequestToken=token, Settings=settings)["SessionId"]
    second = client.create_face_liveness_session(ClientRequestToken=token, Settings=settings)["SessionId"]
    assert first == second


def test_every_error_code_answered_is_one_aws_lists():
    """The after-call hook checked each as it came; this names the ones the suite exercised."""
    codes = {code for _operation, code in OPERATION_ERRORS}
    assert {"InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException",
            "InvalidParameterException", "ResourceNotFoundException", "SessionNotFoundException"} <= codes


# --- generated passports carrying a real face (./dev passport --photo) ------------------------


def test_a_generated_passport_with_a_photo_carries_a_face_that_matches_its_holder(rekognition, s3):
    from chalicelib.domain import mrz
    from tests.support.faces import portrait
    from tests.support.passports import mrz_lines

    holder = Holder(surname="Obama", given_names="Barack", sex="M", photo=portrait(photo("obama-3.jpg")))
    page = _put(s3, make_document(holder))
    (face,) = rekognition.detect_faces(Image={"S3Object": page})["FaceDetails"]
    assert face["BoundingBox"]["Left"] < 0.3, "the photo area is on the left of the data page"
    result = rekognition.compare_faces(SourceImage={"Bytes": photo("obama-1.jpg")}, TargetImage={"S3Object": page})
    assert result["FaceMatches"][0]["Similarity"] >= 95
    # the photo does not cost the page its machine-readable zone
    read = boto3.client("textract", region_name="us-east-1").detect_document_text(Document={"S3Object": page})
    lines = [block["Text"] for block in read["Blocks"] if block["BlockType"] == "LINE"]
    reading = mrz.find(lines)
    assert reading is not None and reading.mrz.document_number == mrz_lines(holder)[1][:9].rstrip("<")
