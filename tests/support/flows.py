"""Driving applications through the verification flow in tests."""
from __future__ import annotations

import copy
import json
import os
import threading
import time
from typing import Any, Callable

import boto3
import requests

from tests.support.deadlines import EVENT_S, REPLY_S
from tests.support.documents import HOLDER, make_declared, passport_bytes


def create_application(api: Any, user: Any, **overrides: Any) -> str:
    reply = api.post("/applications", make_declared(**overrides), user=user)
    assert reply.status == 201, reply.body
    return reply.body["id"]


def upload_document(api: Any, user: Any, application_id: str, data: bytes | None = None,
                    content_type: str = "image/jpeg") -> str:
    """Ask for a presigned POST and upload through it with plain HTTP, as a client app would."""
    reply = api.post(f"/applications/{application_id}/documents", {"content_type": content_type}, user=user)
    assert reply.status == 201, reply.body
    upload = reply.body
    response = requests.post(upload["url"], data=upload["fields"],
                             files={"file": ("passport.jpg", data if data is not None else passport_bytes(),
                                             content_type)}, timeout=REPLY_S)
    assert response.status_code in (200, 201, 204), response.text
    return upload["key"]


def s3_notification(key: str, version: str | None = None, bucket: str | None = None) -> str:
    """S3's ObjectCreated notification of ``key``, as S3 sends it to the identity-check queue."""
    from urllib.parse import quote_plus

    s3_object: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": 0, "sequencer": "0A1B2C3D4E5F"}
    if version:
        s3_object["versionId"] = version
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Post",
        "responseElements": {"x-amz-request-id": "TESTREQUEST", "x-amz-id-2": "TEST"},
        "s3": {"bucket": {"name": bucket or os.environ["DOCUMENTS_BUCKET_NAME"]}, "object": s3_object}}]})


def s3_event(client: Any, key: str, version: str | None = None, find_version: bool = True) -> dict[str, Any]:
    """The identity-check queue's Lambda event for an upload of ``key``: S3's notification in an SQS record.

    Like S3's own, it names the object's version (read from the bucket unless given; none when the object
    is not there, or ``find_version`` is off)."""
    if version is None and find_version:
        try:
            version = boto3.client("s3").head_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=key).get(
                "VersionId")
        except Exception:  # noqa: BLE001 - no such object: a notification of nothing (the handler ignores it)
            version = None
    return client.events.generate_sqs_event(queue_name=os.environ["IDENTITY_CHECK_QUEUE_NAME"],
                                            message_bodies=[s3_notification(key, version)])


def address_message(application_id: str) -> str:
    """The SNS message the outbox publishes for a submission (raw delivery to the queue)."""
    return json.dumps({"event_id": f"{application_id}#1", "application_id": application_id, "seq": 1,
                       "type": "application.submitted", "from_state": None, "state": "AWAITING_DOCUMENTS"})


def sqs_event(client: Any, *bodies: str) -> dict[str, Any]:
    return client.events.generate_sqs_event(queue_name=os.environ["ADDRESS_CHECK_QUEUE_NAME"],
                                            message_bodies=list(bodies))


def sanctions_event(client: Any, *bodies: str) -> dict[str, Any]:
    """The same submission messages, as the sanctions-screening queue receives them."""
    return client.events.generate_sqs_event(queue_name=os.environ["SANCTIONS_SCREENING_QUEUE_NAME"],
                                            message_bodies=list(bodies))


def screen_sanctions(client: Any, *application_ids: str) -> Any:
    return client.lambda_.invoke("screen_sanctions", sanctions_event(client, *map(address_message, application_ids)))


def history_types(application_id: str) -> list[str]:
    from chalicelib.bootstrap import services

    return [e.type.value for e in services().repository.history(application_id)]


def state_of(application_id: str) -> str:
    from chalicelib.bootstrap import services

    return services().repository.get(application_id).state.value


def wait_for(predicate: Callable[[], Any], timeout: float = EVENT_S, interval: float = 0.05) -> Any:
    """Poll until the predicate is truthy or the deadline passes (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class _HistoryStream:
    """The history stream, read once per process: each call fetches only the records written since the last.

    The session's local AWS is shared by every test of a worker, so its stream holds every application the
    worker made; reading it from the start for each call cost a page of 1,000 records (about 30 ms to
    serialise in moto, as long again to parse) per call, more with every test. Stream records never change,
    so each is fetched once and kept by application id. A new stream ARN (the table made again) starts over.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arn = ""
        self.after: dict[str, str] = {}  # shard id -> the last sequence number read
        self.by_application: dict[str, list[dict[str, Any]]] = {}

    def records_of(self, application_id: str) -> list[dict[str, Any]]:
        arn = os.environ["HISTORY_STREAM_ARN"]
        with self.lock:
            if arn != self.arn:
                self.arn, self.after, self.by_application = arn, {}, {}
            streams = boto3.client("dynamodbstreams")
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                self._read_shard(streams, arn, shard["ShardId"])
            return copy.deepcopy(self.by_application.get(application_id, []))

    def _read_shard(self, streams: Any, arn: str, shard_id: str) -> None:
        after = self.after.get(shard_id)
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
                    else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **position)["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                stamp = record["dynamodb"].get("ApproximateCreationDateTime")
                if hasattr(stamp, "timestamp"):  # boto3 parses it; Lambda delivers epoch seconds
                    record["dynamodb"]["ApproximateCreationDateTime"] = int(stamp.timestamp())
                record.setdefault("eventSourceARN", arn)
                record.setdefault("awsRegion", "us-east-1")
                key = record["dynamodb"]["Keys"]["application_id"]["S"]
                self.by_application.setdefault(key, []).append(record)
                self.after[shard_id] = record["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator") if page["Records"] else None


_history_stream = _HistoryStream()


def stream_records(application_id: str) -> list[dict[str, Any]]:
    """The real history-stream records of one application, Lambda-shaped (copies: a caller may change them)."""
    return _history_stream.records_of(application_id)


def counted_by_commit(event: Any) -> bool:
    """Whether the history item says its commit added it to the state counters (``counted``)."""
    from chalicelib.adapters.dynamodb_models import HistoryModel

    return bool(HistoryModel.get(event.application_id, event.seq, consistent_read=True).counted)


def relay(*application_ids: str) -> int:
    """What the history stream and publish_history do for these applications, in this process: their
    events published (and counted by the relay if their commit did not: the items' ``counted``), with what the
    stream's items carry (``watched`` too)."""
    from chalicelib.bootstrap import services

    from chalicelib.adapters.dynamodb_models import HistoryModel

    repository = services().repository
    records = []
    for application_id in application_ids:
        app = repository.get(application_id)
        for e in repository.history(application_id):
            item = HistoryModel.get(e.application_id, e.seq, consistent_read=True)
            records.append((f"{application_id}#{e.seq}", e, app.applicant_id, app.created_at, bool(item.counted),
                            item.watched))
    published, failed_at = services().outbox.relay_batch(records)
    assert failed_at is None
    return published


# --- the face check (issue 17) ------------------------------------------------------------------


def give_selfie(api: Any, user: Any, application_id: str, *faces: Any, status: str = "SUCCEEDED",
                confidence: float = 99.0) -> Any:
    """Consent, a liveness session streamed with a selfie of ``faces`` (the document's holder by default)
    through the test stack's Rekognition stand-in, and its completion; returns the completion's reply."""
    from chalicelib.adapters.memory import face_image
    from tests.support import rekognition

    base = f"/applications/{application_id}"
    version = api.get(f"{base}/biometric-consent", user=user).body["text_version"]
    consent = api.post(f"{base}/biometric-consent", {"text_version": version, "accepted": True}, user=user)
    assert consent.status in (200, 201), consent.body
    session = api.post(f"{base}/liveness-sessions", user=user)
    assert session.status in (200, 201), session.body
    session_id = session.body["session_id"]
    rekognition.local().stream(session_id, face_image(*(faces or (HOLDER,))), status, confidence)
    return api.post(f"{base}/liveness-sessions/{session_id}/complete", user=user)


def face_message(application_id: str) -> str:
    """The outbox's face.requested event, as the face-check queue receives it (raw delivery)."""
    return json.dumps({"event_id": f"{application_id}#0", "application_id": application_id, "type": "face.requested",
                       "state": "VERIFYING", "from_state": "VERIFYING"})


def face_event(client: Any, *bodies: str) -> dict[str, Any]:
    return client.events.generate_sqs_event(queue_name=os.environ["FACE_CHECK_QUEUE_NAME"], message_bodies=list(bodies))


def check_face(client: Any, *application_ids: str) -> Any:
    """The face check of each application, as its queue delivers face.requested."""
    return client.lambda_.invoke("check_face", face_event(client, *map(face_message, application_ids)))


def with_face(api: Any, client: Any, user: Any, application_id: str, *faces: Any, **liveness: Any) -> Any:
    """The applicant's selfie, then the face check it asks for (once the document is read)."""
    give_selfie(api, user, application_id, *faces, **liveness)
    return check_face(client, application_id)


def selfie_at(application_id: str, clock: Any = None, *faces: Any, confidence: float = 99.0) -> Any:
    """The applicant's consent and liveness check recorded at ``clock``'s time, without Rekognition: the
    selfie written to the biometrics bucket where a session would write it. Returns the application after."""
    import uuid

    from chalicelib.adapters.memory import face_image
    from chalicelib.adapters.s3_biometrics import liveness_prefix
    from chalicelib.bootstrap import services
    from chalicelib.domain import face_workflow
    from chalicelib.services.applications import ApplicationService

    svc = (ApplicationService(services().repository, clock, chain=services().chain_key)  # a history that verifies
           if clock else services().applications)
    policy = services().settings.policy()
    owner = svc.repo.get(application_id).applicant_id
    session_id = str(uuid.uuid4())
    key = f"{liveness_prefix(application_id)}{session_id}/reference.jpg"
    put = boto3.client("s3").put_object(Bucket=os.environ["BIOMETRICS_BUCKET_NAME"], Key=key,
                                        Body=face_image(*(faces or (HOLDER,))), ContentType="image/jpeg")
    reference = {"key": key, "version": put.get("VersionId")}
    svc.apply_with_retry(application_id, lambda a: face_workflow.give_consent(
        a, owner, policy.face_consent_text_version, policy, svc.clock()))
    svc.apply_with_retry(application_id, lambda a: face_workflow.start_session(a, session_id, 1, policy, svc.clock()))
    change = svc.apply_with_retry(application_id, lambda a: face_workflow.complete_session(
        a, session_id, "SUCCEEDED", confidence, reference, [], policy, svc.clock()))
    return change.after
