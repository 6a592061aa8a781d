"""The face check through its real entry points (issue 17): the applicant's routes, the face-check queue's
handler, the reviewer's selfie link and the purge schedule, on the test stack (moto's S3 and DynamoDB; its
Rekognition answered by tests/support/rekognition.py, the adapter's requests validated by botocore)."""

from __future__ import annotations

import json
import os
import uuid

import boto3
import pytest

from chalicelib.adapters.memory import face_image
from tests.support import rekognition
from tests.support.documents import exe_bytes, make_declared, passport_bytes
from tests.support.flows import (address_message, check_face, create_application, give_selfie, history_types,
                                 s3_event, screen_sanctions, sqs_event, state_of, upload_document, with_face)


def verifying(api, client, applicant, document=None) -> str:
    """Submitted, screened, address checked and the document read: waiting for the selfie."""
    app_id = create_application(api, applicant)
    screen_sanctions(client, app_id)
    client.lambda_.invoke("check_address", sqs_event(client, address_message(app_id)))
    client.lambda_.invoke("verify_identity_document", s3_event(client, upload_document(api, applicant, app_id,
                                                                                        document)))
    assert state_of(app_id) == "VERIFYING"
    return app_id


def base(app_id: str) -> str:
    return f"/applications/{app_id}"


def consent(api, user, app_id, version="v1"):
    return api.post(f"{base(app_id)}/biometric-consent", {"text_version": version, "accepted": True}, user=user)


def session(api, user, app_id):
    return api.post(f"{base(app_id)}/liveness-sessions", user=user)


def complete(api, user, app_id, session_id):
    return api.post(f"{base(app_id)}/liveness-sessions/{session_id}/complete", user=user)


def stored(app_id):
    from chalicelib.bootstrap import services

    return services().repository.get(app_id)


# --- consent ----------------------------------------------------------------------------------------


def test_the_consent_text_is_served_and_consent_is_recorded_once_with_its_version(api, applicant):
    app_id = create_application(api, applicant)
    text = api.get(f"{base(app_id)}/biometric-consent", user=applicant)
    assert text.status == 200 and text.body["text_version"] == "v1" and text.body["given"] is None
    assert "biometric" in text.body["text"].lower() and text.body["media_type"] == "text/plain"
    first = consent(api, applicant, app_id)
    assert first.status == 201 and first.body["text_version"] == "v1" and first.body["given_at"]
    assert consent(api, applicant, app_id).status == 200
    assert api.get(f"{base(app_id)}/biometric-consent", user=applicant).body["given"] == first.body
    assert history_types(app_id).count("biometric.consent_given") == 1
    mine = api.get(base(app_id), user=applicant).body["face"]
    assert mine["consent_given"] and mine["liveness_state"] == "not_started" and "similarity" not in mine


@pytest.mark.parametrize("body, code", [
    ({"text_version": "v0", "accepted": True}, "consent_version_outdated"),
    ({"text_version": "v1", "accepted": False}, "validation_failed"),
    ({"text_version": "v1"}, "validation_failed"),
    ({"text_version": "../../etc/passwd", "accepted": True}, "validation_failed"),
    ({"text_version": "v1", "accepted": True, "extra": 1}, "validation_failed"),
])
def test_consent_must_be_explicit_and_to_the_current_text(api, applicant, body, code):
    app_id = create_application(api, applicant)
    reply = api.post(f"{base(app_id)}/biometric-consent", body, user=applicant)
    assert reply.status == 422 and reply.error_code == code, reply.body
    if code == "consent_version_outdated":
        assert reply.body["error"]["details"] == {"current_version": "v1"}
    assert "biometric.consent_given" not in history_types(app_id)


def test_no_session_before_consent(api, applicant):
    app_id = create_application(api, applicant)
    reply = session(api, applicant, app_id)
    assert reply.status == 409 and reply.error_code == "consent_required"
    assert reply.body["error"]["details"] == {"text_version": "v1"}


# --- sessions -------------------------------------------------------------------------------------------


def test_a_session_is_bound_to_the_application_and_answered_with_its_region(api, applicant):
    app_id = create_application(api, applicant)
    consent(api, applicant, app_id)
    created = session(api, applicant, app_id)
    assert created.status == 201, created.body
    assert set(created.body) == {"session_id", "expires_at", "region", "attempt", "attempts_left"}
    assert created.body["region"] == "us-east-1" and created.body["attempt"] == 1
    again = session(api, applicant, app_id)  # a double click: the open session again
    assert again.status == 200 and again.body == created.body
    sent = [params for operation, params in rekognition.local().calls
            if operation == "CreateFaceLivenessSession" and params["ClientRequestToken"] == f"{app_id}-1"]
    assert sent == [{"KmsKeyId": os.environ["DATA_KEY_ARN"], "ClientRequestToken": f"{app_id}-1", "Settings": {
        "OutputConfig": {"S3Bucket": os.environ["BIOMETRICS_BUCKET_NAME"], "S3KeyPrefix": f"liveness/{app_id}/"},
        "AuditImagesLimit": 2}}]


def test_replayed_foreign_unknown_and_unfinished_sessions_are_clear_errors(api, applicant, other_applicant):
    mine, theirs = create_application(api, applicant), create_application(api, other_applicant)
    consent(api, applicant, mine)
    consent(api, other_applicant, theirs)
    my_session = session(api, applicant, mine).body["session_id"]
    their_session = session(api, other_applicant, theirs).body["session_id"]
    still = complete(api, applicant, mine, my_session)
    assert still.status == 409 and still.error_code == "liveness_in_progress" and still.headers["Retry-After"]
    for wrong in (their_session, str(uuid.uuid4()), "not-a-session-id", "x" * 300):
        reply = complete(api, applicant, mine, wrong)
        assert reply.status == 404 and reply.error_code == "liveness_session_not_found", (wrong, reply.body)
    assert complete(api, other_applicant, mine, my_session).status == 404  # someone else's application
    rekognition.local().stream(my_session, face_image("the-holder"))
    done = complete(api, applicant, mine, my_session)
    assert done.status == 202 and done.body == {"session_id": my_session, "status": "SUCCEEDED",
                                                 "retry_allowed": False, "attempts_left": 2}
    replay = complete(api, applicant, mine, my_session)
    assert replay.status == 409 and replay.error_code == "liveness_session_closed"
    assert replay.body["error"]["details"] == {"state": "used"}
    assert history_types(mine).count("liveness.completed") == 1
    assert session(api, applicant, mine).error_code == "liveness_already_completed"


def test_liveness_after_the_decision_is_refused_and_nothing_changes(api, client, applicant):
    app_id = verifying(api, client, applicant)
    consent(api, applicant, app_id)
    open_session = session(api, applicant, app_id).body["session_id"]
    rekognition.local().stream(open_session, face_image("the-holder"))
    assert api.post(f"{base(app_id)}/withdraw", {}, user=applicant).status == 200
    before = history_types(app_id)
    for reply in (complete(api, applicant, app_id, open_session), session(api, applicant, app_id),
                  consent(api, applicant, app_id, "v1")):
        assert reply.status == 409 and reply.error_code == "illegal_transition", reply.body
    assert history_types(app_id) == before and state_of(app_id) == "WITHDRAWN"


# --- the check -------------------------------------------------------------------------------------------


def test_a_genuine_selfie_is_approved_and_the_applicant_sees_no_score(api, client, applicant):
    app_id = verifying(api, client, applicant)
    with_face(api, client, applicant, app_id)
    mine = api.get(base(app_id), user=applicant).body
    assert mine["state"] == "APPROVED" and mine["checks"]["face"]["details"] == {}
    assert mine["face"]["liveness_completed"] and mine["face"]["check_requested"]
    history = api.get(f"{base(app_id)}/history", user=applicant).body["items"]
    completed = next(e for e in history if e["type"] == "liveness.completed")
    assert set(completed["details"]) <= {"session_id", "attempt", "status", "passed", "settled"}
    assert completed["details"]["passed"] is True and "confidence" not in completed["details"]
    face_checks = [e for e in history if e["type"] == "check.completed" and e["details"].get("check") == "face"]
    assert face_checks and all(e["details"]["details"] == {} for e in face_checks)
    assert "reference.jpg" not in json.dumps(history) and "face_ids" not in json.dumps(history)


def test_an_impostor_is_flagged_and_the_reviewer_sees_why_and_the_selfie_with_an_audit(
        api, client, applicant, reviewer):
    app_id = verifying(api, client, applicant)
    with_face(api, client, applicant, app_id, "an-impostor")
    assert state_of(app_id) == "FLAGGED"
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    face = detail["face"]
    assert face["similarity"] < 80 and face["liveness"]["passed"] and face["selfie_face_count"] == 1
    assert face["similarity_band"] == "mismatch" and face["thresholds"] == {
        "match": 95.0, "review": 80.0, "duplicate": 95.0, "liveness": 90.0}  # what the check used
    assert face["document_face_box"]["width"] > 0 and face["selfie_available"] and face["duplicates"] == []
    assert {r["code"] for r in detail["checks"]["face"]["reasons"]} == {"FACE_MISMATCH"}
    link = api.get(f"/review/applications/{app_id}/selfie", user=reviewer)
    assert link.status == 200 and link.headers["Cache-Control"] == "no-store", link.body
    reference = stored(app_id).biometrics["liveness"]["reference"]
    assert f"versionId={reference['version']}" in link.body["url"] and link.body["content_type"] == "image/jpeg"
    last = history_types(app_id)[-1]
    assert last == "selfie.viewed"
    assert api.get(f"/review/applications/{app_id}/selfie", user=applicant).status == 403


def test_the_same_face_under_another_name_is_a_duplicate_naming_both_applications(
        api, client, applicant, other_applicant, reviewer):
    face = f"twin-{uuid.uuid4().hex[:8]}"
    first = verifying(api, client, applicant, passport_bytes_with(face))
    with_face(api, client, applicant, first, face)
    assert state_of(first) == "APPROVED"
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"})
    second = create_application(api, other_applicant, full_name=other["full_name"])
    screen_sanctions(client, second)
    client.lambda_.invoke("check_address", sqs_event(client, address_message(second)))
    client.lambda_.invoke("verify_identity_document", s3_event(
        client, upload_document(api, other_applicant, second, passport_bytes_with(face, other))))
    with_face(api, client, other_applicant, second, face)
    assert state_of(second) == "FLAGGED"
    detail = api.get(f"/review/applications/{second}", user=reviewer).body
    assert [d["application_id"] for d in detail["face"]["duplicates"]] == [first]
    assert detail["checks"]["face"]["details"]["application_id"] == second
    mine = api.get(base(second), user=other_applicant).body
    assert first not in json.dumps(mine)  # the other application is the reviewer's to see, not the applicant's


def passport_bytes_with(face, declared=None):
    return passport_bytes(declared or make_declared(), face=face)


@pytest.mark.parametrize("selfie, code", [
    (exe_bytes(), "SELFIE_FACE_NOT_FOUND"),  # not a picture at all: Rekognition refuses it, a person looks
    (face_image(), "SELFIE_FACE_NOT_FOUND"),  # a picture without a face
    (face_image("the-holder", {"person": "friend", "box": [0.75, 0.1, 0.1, 0.1]}), "SELFIE_MULTIPLE_FACES"),
])
def test_a_selfie_that_cannot_pass_is_flagged_never_approved_nor_stuck(api, client, applicant, selfie, code):
    app_id = verifying(api, client, applicant)
    consent(api, applicant, app_id)
    session_id = session(api, applicant, app_id).body["session_id"]
    rekognition.local().stream(session_id, selfie)
    assert complete(api, applicant, app_id, session_id).status == 202
    assert check_face(client, app_id).payload == {"batchItemFailures": []}
    app = stored(app_id)
    assert app.state.value == "FLAGGED" and code in {r["code"] for r in app.decision_reasons}


def test_a_failed_liveness_may_be_retried_and_three_failures_are_flagged(api, client, applicant):
    app_id = verifying(api, client, applicant)
    for attempt in (1, 2, 3):
        reply = give_selfie(api, applicant, app_id, confidence=12.0)
        assert reply.status == 202 and reply.body["retry_allowed"] is (attempt < 3)
    assert session(api, applicant, app_id).error_code == "liveness_already_completed"
    check_face(client, app_id)
    assert state_of(app_id) == "FLAGGED"
    assert {r["code"] for r in stored(app_id).decision_reasons} == {"LIVENESS_FAILED"}


def test_replayed_face_check_messages_change_nothing(api, client, applicant):
    app_id = verifying(api, client, applicant)
    with_face(api, client, applicant, app_id)
    before, calls = history_types(app_id), len(rekognition.local().calls)
    for _ in range(3):
        assert check_face(client, app_id).payload == {"batchItemFailures": []}
    assert history_types(app_id) == before and len(rekognition.local().calls) == calls
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):  # the whole batch failed: redelivered, then the DLQ, for a person
        client.lambda_.invoke("check_face", client.events.generate_sqs_event(
            queue_name=os.environ["FACE_CHECK_QUEUE_NAME"], message_bodies=["not json"]))


# --- deletion ------------------------------------------------------------------------------------------


def test_a_withdrawn_applications_selfie_and_face_are_deleted_by_the_next_purge(api, client, applicant, reviewer):
    app_id = verifying(api, client, applicant)
    with_face(api, client, applicant, app_id, "an-impostor")
    face_ids = stored(app_id).biometrics["face_ids"]
    assert face_ids and all(f in rekognition.local().engine.collection for f in face_ids)
    assert api.post(f"{base(app_id)}/withdraw", {}, user=applicant).status == 200
    import time

    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:123456789012:rule/x"],
                                            region="us-east-1")
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))  # the next tick
    client.lambda_.invoke("purge_biometric_data", event)
    versions = boto3.client("s3").list_object_versions(Bucket=os.environ["BIOMETRICS_BUCKET_NAME"],
                                                       Prefix=f"liveness/{app_id}/")
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    assert not any(f in rekognition.local().engine.collection for f in face_ids)
    assert history_types(app_id)[-1] == "biometrics.purged"
    assert stored(app_id).biometrics["consent"]["text_version"] == "v1"
