"""No personal data in the logs: every line written while the happy path and the main error
paths run (REST, S3, SQS, stream, SNS, schedules; refused tokens, invalid bodies, conflicts,
unknown ids, a mismatching and an unreadable document) is captured and searched for the
applicant's names, birth date, document number, e-mail, phone, address lines and any token;
and for biometric data (issue 17): the selfie's location and content, its faces' collection ids
and the liveness and similarity scores."""
from __future__ import annotations

import io
import json
import logging
import re
import time

import pytest

from tests.support.deadlines import OUTCOME_S
from tests.support.documents import jpeg_bytes, make_declared, passport_bytes
from tests.support.flows import (
    address_message,
    check_face,
    give_selfie,
    s3_event,
    screen_sanctions,
    sqs_event,
    state_of,
    stream_records,
    upload_document,
)
from tests.support.identities import forge, random_rsa_key

GIVEN, SURNAME = "Zephyrine Odalys", "Quillfeather"
OTHER_SURNAME = "Brackenridge"  # what the mismatching document says
BIRTH = "1987-03-14"
NUMBER = "X7Q4P9K2L"
EMAIL = "zq.hygiene@example.org"
PHONE = "+447700900777"
STREET = "17 Larkspur Mews"
FLAT = "Flat 4b Harrowgate House"
LIVENESS_CONFIDENCE = 93.71  # a score no other line carries

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.?")


def declared(**overrides):
    fields = {"full_name": {"given_names": GIVEN, "surname": SURNAME}, "date_of_birth": BIRTH, "email": EMAIL,
              "phone": PHONE, **overrides}
    body = make_declared(doc_overrides={"number": NUMBER}, **fields)
    body["address"]["street_address"] = [STREET, FLAT]
    return body


def biometric(*application_ids: str) -> list[str]:
    """The biometric data of these applications, as it could reach a log line: where the selfie and the audit
    images are, what they show, the faces' ids in the collection, the scores."""
    from chalicelib.bootstrap import services
    from chalicelib.domain import face_evidence

    found = ["FACES:", str(LIVENESS_CONFIDENCE)]
    for application_id in application_ids:
        app = services().repository.get(application_id)
        liveness = face_evidence.liveness(app.biometrics)
        found += [image["key"].rsplit("/", 2)[-2] + "/reference.jpg" for image in [liveness["reference"]]]
        found += [str(image["version"]) for image in [liveness["reference"], *liveness["audit"]] if image["version"]]
        found += face_evidence.face_ids(app.biometrics)
        assert face_evidence.face_ids(app.biometrics), application_id  # the checks really ran
    return found


def forbidden(tokens: list[str]) -> list[str]:
    """Everything that must never be logged, in the forms it may take (MRZ, compact dates)."""
    values = [GIVEN, SURNAME, OTHER_SURNAME, *GIVEN.split(), BIRTH, BIRTH.replace("-", ""), BIRTH[2:].replace("-", ""),
              NUMBER, EMAIL, EMAIL.split("@")[0], PHONE, PHONE[1:], STREET, FLAT, "Larkspur", "Harrowgate"]
    return values + tokens


@pytest.fixture
def captured():
    """Every line of the app's Powertools logger, and every record of any other logger (INFO and up)."""
    from chalicelib.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    others = io.StringIO()
    handler = logging.StreamHandler(others)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: (buffer.getvalue(), others.getvalue())
    finally:
        root.removeHandler(handler)
        logger.registered_handler.setStream(previous)


def invoke_stream(client, app_id):
    client.lambda_.invoke("publish_history", {"Records": stream_records(app_id)})


def notify(client, app_id):
    from chalicelib.bootstrap import services

    for event in services().repository.history(app_id)[-2:]:
        message = json.dumps({"event_id": f"{app_id}#{event.seq}", "application_id": app_id, "seq": event.seq,
                              "type": event.type.value, "from_state": None, "state": "FLAGGED"})
        client.lambda_.invoke("notify_subscribers", client.events.generate_sns_event(message=message, subject=None))


def fire(client, handler):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[f"arn:aws:events:us-east-1:123456789012:rule/{handler}"],
                                            region="us-east-1")
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    client.lambda_.invoke(handler, event)


def websocket(chalice_app, route, token=None):
    """A WebSocket event through the app's real handler (the shared WebsocketAPI's endpoint put back)."""
    import uuid

    import app as app_module

    api = chalice_app.websocket_api
    saved = (api.session, api._endpoint, api._client)
    event = {"requestContext": {"routeKey": route, "eventType": route.strip("$").upper(), "stage": "ws",
                                "connectionId": uuid.uuid4().hex[:14] + "=", "requestId": str(uuid.uuid4()),
                                "domainName": "hygiene.local", "apiId": "hygiene"},
             "queryStringParameters": {"token": token} if token else None, "isBase64Encoded": False}
    handler = {"$connect": app_module.ws_connect, "$disconnect": app_module.ws_disconnect}[route]
    try:
        return handler(event, None)
    finally:
        api.session, api._endpoint, api._client = saved


def wait_state(app_id, states, timeout=OUTCOME_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state_of(app_id) in states:
            return state_of(app_id)
        time.sleep(0.05)
    return state_of(app_id)


def test_no_personal_data_or_token_is_logged_on_the_happy_and_error_paths(api, client, chalice_app, applicant,
                                                                          reviewer, other_applicant, captured):
    # the happy path: submit, upload the matching passport, every check, the outbox, live updates
    reply = api.post("/applications", declared(), user=applicant, headers={"Idempotency-Key": "hygiene-1"})
    assert reply.status == 201, reply.body
    good = reply.body["id"]
    assert api.post("/applications", declared(), user=applicant, headers={"Idempotency-Key": "hygiene-1"}).status == 200
    key = upload_document(api, applicant, good, passport_bytes(declared()))
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))  # redelivered
    client.lambda_.invoke("check_address", sqs_event(client, address_message(good)))
    screen_sanctions(client, good)
    assert give_selfie(api, applicant, good, confidence=LIVENESS_CONFIDENCE).status == 202  # biometric data
    check_face(client, good)
    check_face(client, good)  # redelivered
    invoke_stream(client, good)
    assert api.get(f"/applications/{good}", user=applicant).status == 200
    assert api.get(f"/applications/{good}/history", user=applicant).status == 200
    assert api.get("/applications", user=applicant).status == 200

    # an unreadable document: FLAGGED, then the reviewer's whole path
    flagged = api.post("/applications", declared(), user=applicant).body["id"]
    key = upload_document(api, applicant, flagged, jpeg_bytes())
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))
    client.lambda_.invoke("check_address", sqs_event(client, address_message(flagged)))
    screen_sanctions(client, flagged)
    give_selfie(api, applicant, flagged, "someone-else", confidence=LIVENESS_CONFIDENCE)
    check_face(client, flagged)
    assert wait_state(flagged, {"FLAGGED"}) == "FLAGGED"
    notify(client, flagged)
    assert api.get("/review/queue", user=reviewer).status == 200
    assert api.get(f"/review/applications/{flagged}", user=reviewer).status == 200
    assert api.get(f"/review/applications/{flagged}/document", user=reviewer).status == 200
    assert api.get(f"/review/applications/{flagged}/selfie", user=reviewer).status == 200
    decided = api.post(f"/review/applications/{flagged}/decision", {"decision": "approve", "reason": "seen"},
                       user=reviewer)
    assert decided.status == 200, decided.body

    # a document that says someone else: the check fails naming the field
    mismatch = api.post("/applications", declared(), user=applicant).body["id"]
    other = declared(full_name={"given_names": GIVEN, "surname": OTHER_SURNAME})
    key = upload_document(api, applicant, mismatch, passport_bytes(other))
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))

    # error paths
    invalid = declared(date_of_birth="1987-02-30")
    invalid["full_name"]["surname"] = SURNAME + "\u202e"
    assert api.post("/applications", invalid, user=applicant).status == 422
    assert api.post("/applications", raw=json.dumps(declared())[:-9].encode(), user=applicant).status == 400
    for token in (forge(key=random_rsa_key()), forge({"exp": int(time.time()) - 3600}), forge(algorithm="none"),
                  applicant.token[:-4] + "AAAA", "not-a-jwt"):
        assert api.get("/applications", headers={"Authorization": f"Bearer {token}"}).status == 401
    assert api.get(f"/applications/{good}", user=other_applicant).status == 404
    assert api.get("/applications/does-not-exist", user=applicant).status == 404
    assert api.post(f"/applications/{good}/withdraw", {"reason": f"moving, call {PHONE}"}, user=applicant).status in (
        200, 409)
    assert api.post(f"/applications/{good}/withdraw", {}, user=applicant).status == 409
    assert api.get("/review/queue", user=applicant).status == 403
    client.lambda_.invoke("check_address", sqs_event(client, "not json", address_message(good)))
    client.lambda_.invoke("verify_identity_document", s3_event(client, "applications/unknown-id/identity/x"))
    client.lambda_.invoke("verify_identity_document", s3_event(client, "elsewhere/file"))

    # WebSocket: the token travels in the query string
    assert websocket(chalice_app, "$connect", applicant.token)["statusCode"] == 200
    for token in (forge(key=random_rsa_key()), applicant.token[:-4] + "AAAA", None):
        assert websocket(chalice_app, "$connect", token)["statusCode"] == 401
    websocket(chalice_app, "$disconnect")

    # the schedules
    for job in ("escalate_overdue_reviews", "expire_abandoned_applications", "purge_documents_past_retention",
                "purge_biometric_data", "write_daily_report"):
        fire(client, job)

    app_lines, other_lines = captured()
    records = [json.loads(line) for line in app_lines.splitlines() if line.startswith("{")]
    handlers = {record.get("handler") for record in records}
    assert {"verify_identity_document", "check_address", "screen_sanctions", "publish_history",
            "GET /applications", "escalate_overdue_reviews", "ws_connect", "ws_disconnect"} <= handlers, handlers  # the lines were captured
    tokens = [applicant.token, applicant.access_token, reviewer.token, other_applicant.token]
    text = app_lines + other_lines
    assert "check_face" in handlers, handlers
    leaks = {value for value in forbidden(tokens) + biometric(good, flagged) if value.lower() in text.lower()}
    assert not leaks, [line for line in text.splitlines() if any(v.lower() in line.lower() for v in leaks)][:5]
    assert not JWT.search(text), JWT.search(text)
