"""The face check against the running local stack: real OCR, real face engine, liveness from photos.

Each outcome of issue 17 through the public API only (create, presigned upload, consent, liveness
session, the stand-in's frames, complete), decided by the app's FACE check calling the local
Rekognition (dlib) on the session's one stack. Kept few -- each application costs an OCR read and
3-4 face-engine images -- and they share applications where one can prove two things: the genuine
application is also the one replayed; the duplicate is also the one withdrawn and purged; the
impostor is also the browser test's reviewer case (tests/e2e/face.py keeps one per stack).

The stage's collection lives as long as the stack. Obama's face (the holder's, tests/e2e/face.py)
is shown only by the demo applicant under make_declared()'s name (re-applying as oneself is shown,
not flagged), so no approval meets another name's Obama face whatever order the session runs in;
the duplicate pair uses Lacamoire's face, which no other application indexes.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from tests.e2e.face import (
    apply,
    decided,
    face_check,
    fail_liveness,
    impostor,
    mirrored,
    reason_codes,
    someone_behind,
    take_selfie,
    upload_passport,
)
from tests.e2e.face import rekognition as face_engine
from tests.e2e.http import call, poll
from tests.support.deadlines import EVENT_S, REPLY_S

pytestmark = pytest.mark.e2e

OBAMA_LIVE = ["obama-1.jpg", "obama-4.jpg", "obama-2.jpg"]  # facing the camera, then turned each way


@pytest.fixture(scope="module")
def genuine(local_stack) -> dict[str, Any]:
    """The demo applicant's own passport (Obama's photo) and their own live face: decided."""
    token = local_stack.token("applicant")
    app_id = upload_passport(local_stack, token, "Carter", "Emily Jane", "F10000001", "obama-3.jpg")
    taken = take_selfie(local_stack, token, app_id, OBAMA_LIVE)
    return {**decided(local_stack, token, app_id), "session_id": taken["session_id"]}


def history(stack: Any, token: str, app_id: str) -> list[tuple[int, str]]:
    found = call(stack, "GET", f"/applications/{app_id}/history?limit=100", token)
    assert found.status_code == 200, found.text
    return [(event["seq"], event["type"]) for event in found.json()["items"]]


def queue_drained(stack: Any, queue_url: str) -> bool:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return all(int(value) == 0 for value in attributes.values())


def test_a_genuine_pair_is_approved_once_however_often_its_events_come_again(local_stack, genuine):
    token = local_stack.token("applicant")
    app_id = genuine["id"]
    assert genuine["state"] == "APPROVED", genuine["checks"]
    face = face_check(genuine)
    assert face["outcome"] == "PASS" and not face["reasons"]
    before = history(local_stack, token, app_id)
    kinds = [kind for _, kind in before]
    # three: the sanctions check is never shown to the applicant (tipping off, domain/disclosure.py)
    assert kinds.count("check.completed") == 3 and kinds.count("application.approved") == 1, kinds
    assert kinds.count("face.requested") == 1 and kinds.count("liveness.completed") == 1, kinds

    # The applicant's client replays: the used session, a new session after the decision.
    again = call(local_stack, "POST", f"/applications/{app_id}/liveness-sessions/{genuine['session_id']}/complete",
                 token)
    assert again.status_code == 409, again.text
    late = call(local_stack, "POST", f"/applications/{app_id}/liveness-sessions", token, json={})
    assert late.status_code == 409 and late.json()["error"]["code"] == "illegal_transition", late.text

    # The queue delivers the face check's request again (at-least-once), twice, and the sweeper runs.
    sqs = local_stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=local_stack.env["FACE_CHECK_QUEUE_NAME"])["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f'{{"type": "face.requested", "application_id": "{app_id}"}}')
    local_stack.fire("redrive_stuck_applications")
    poll(lambda: queue_drained(local_stack, queue_url), bool, timeout=EVENT_S)
    assert history(local_stack, token, app_id) == before, "a replay wrote to the history"
    assert call(local_stack, "GET", f"/applications/{app_id}", token).json()["state"] == "APPROVED"


def test_a_different_persons_selfie_is_flagged_as_a_face_mismatch(local_stack):
    token = local_stack.token("applicant")
    app = decided(local_stack, token, impostor(local_stack))
    assert app["state"] == "FLAGGED"
    assert "FACE_MISMATCH" in reason_codes(app)


def test_a_failed_liveness_check_is_flagged_and_never_approved(local_stack):
    token = local_stack.token("applicant")
    # Her own passport, her own face -- but held still to the camera on every attempt.
    app_id = upload_passport(local_stack, token, "Carter", "Emily Jane", "F10000007", "lacamoire-1.jpg")
    answers = fail_liveness(local_stack, token, app_id, "lacamoire-2.jpg")
    assert len(answers) == 3 and [a["retry_allowed"] for a in answers] == [True, True, False], answers
    exhausted = call(local_stack, "POST", f"/applications/{app_id}/liveness-sessions", token, json={})
    assert exhausted.status_code == 409, exhausted.text
    app = decided(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert "LIVENESS_FAILED" in reason_codes(app)


def test_a_passport_page_without_a_face_is_flagged_and_a_group_selfie_too(local_stack):
    token = local_stack.token("applicant")
    # The burst starts with Obama facing the camera and Leslie behind him, then Obama turns.
    app_id = apply(local_stack, token, "Carter", "Emily Jane", "F10000003", None,
                   [someone_behind("obama-1.jpg"), "obama-4.jpg", "obama-2.jpg"])
    app = decided(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert {"DOCUMENT_PHOTO_NOT_FOUND", "SELFIE_MULTIPLE_FACES"} <= reason_codes(app), reason_codes(app)


#: Lacamoire's face, used only here: facing the camera, turned left, and the same photo mirrored (turned right).
LACAMOIRE_LIVE = ["lacamoire-1.jpg", "lacamoire-3.jpg", mirrored("lacamoire-3.jpg")]


@pytest.fixture(scope="module")
def duplicate(local_stack) -> dict[str, str]:
    """One live face on two applications under two names (the collection has no other of this face, so the
    second's search must name the first)."""
    token = local_stack.token("applicant")
    first = apply(local_stack, token, "Carter", "Emily Jane", "F10000008", "lacamoire-2.jpg", LACAMOIRE_LIVE)
    decided(local_stack, token, first)
    second = apply(local_stack, token, "Eriksson", "Anna Maria", "F10000006", "lacamoire-2.jpg", LACAMOIRE_LIVE)
    return {"first": first, "second": second}


def test_the_same_face_under_another_name_is_a_duplicate_with_both_ids(local_stack, duplicate):
    token = local_stack.token("applicant")
    first, second = duplicate["first"], duplicate["second"]
    app = decided(local_stack, token, second)
    assert app["state"] == "FLAGGED"
    assert "DUPLICATE_FACE" not in reason_codes(app)  # never told to the applicant (tipping off)
    detail = call(local_stack, "GET", f"/review/applications/{second}", local_stack.token("reviewer"))
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert "DUPLICATE_FACE" in reason_codes(body)
    assert body["id"] == second
    assert [d["application_id"] for d in body["face"]["duplicates"]] == [first], body["face"]


def test_withdrawing_deletes_the_selfie_images_and_the_collection_face_at_the_next_purge(local_stack, duplicate):
    token = local_stack.token("applicant")
    duplicate = duplicate["second"]
    decided(local_stack, token, duplicate)
    s3, bucket = local_stack.client("s3"), local_stack.env["BIOMETRICS_BUCKET_NAME"]
    prefix = f"liveness/{duplicate}/"
    held = s3.list_object_versions(Bucket=bucket, Prefix=prefix).get("Versions", [])
    assert held, "the liveness stand-in wrote the reference and audit images under the application's prefix"
    collection = local_stack.env["FACE_COLLECTION_ID"]
    rekognition = face_engine(local_stack)

    def faces_of(application_id: str) -> list[str]:
        pages = rekognition.get_paginator("list_faces").paginate(CollectionId=collection)
        return [f["FaceId"] for page in pages for f in page["Faces"] if f.get("ExternalImageId") == application_id]

    assert faces_of(duplicate), "the live face was indexed in the stage's collection"
    withdrawn = call(local_stack, "POST", f"/applications/{duplicate}/withdraw", token, json={"reason": "a mistake"})
    assert withdrawn.status_code == 200, withdrawn.text
    # The next run: EventBridge's event time has whole seconds, so a run fired within the second of the
    # withdrawal is, rightly, "before" it; the hourly schedule's next run is after.
    next_run = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fired = requests.post(f"{local_stack.control_url}/schedules/purge_biometric_data/fire",
                          json={"as_of": next_run}, timeout=REPLY_S * 4)
    assert fired.status_code == 200, fired.text
    purged = fired.json()["result"]
    assert purged["changed"] >= 1 and purged["faces_deleted"] >= 1, purged
    listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers"), f"every version is gone: {purged}"
    assert faces_of(duplicate) == []
    selfie = call(local_stack, "GET", f"/review/applications/{duplicate}/selfie", local_stack.token("reviewer"))
    assert selfie.status_code in (404, 410), selfie.text  # withdrawn: no reviewer case, and nothing left
    kinds = [kind for _, kind in history(local_stack, token, duplicate)]
    assert kinds[-1] == "biometrics.purged", kinds
