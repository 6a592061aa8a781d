"""The harness of ``bench.aws_calls``: one application (or N in step) driven through the app's handlers with the
events AWS would send -- the stream's records, the topic's messages, the check queues' SQS events, the client's
REST calls -- counting only the app's calls (the harness's own reads of streams and queues are not counted)."""
from __future__ import annotations

import json
import threading
from typing import Any, Optional

from bench._call_counter import CallCounter

#: The history stream's batch for publish_history (app.py) and each check queue's SQS batch size (app.py).
STREAM_BATCH = 100
SQS_BATCH = {"check_address": 10, "screen_sanctions": 10, "check_face": 5}


class Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


class Api:
    """JSON in and out of the Chalice test client (like tests/conftest.py's, which cannot be
    imported here: importing it provisions a second moto)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any, user: Any) -> Reply:
        response = self.client.http.request(method, path, body=json.dumps(body).encode(),
                                            headers={"Content-Type": "application/json", **user.auth})
        return Reply(response.status_code, json.loads(response.body) if response.body else None)


class Harness:
    """Drives one application through the app's handlers; its own AWS calls are not counted."""

    def __init__(self, counter: CallCounter, app: Any, client: Any, api: Any) -> None:
        import os

        import boto3

        self.has_notify = "notify_subscribers" in app.handler_map
        self.client_handlers = set(app.handler_map)
        self.counter = counter
        self.client = client
        self.api = api
        self.env = os.environ
        self.sqs = boto3.client("sqs")
        self.sns = boto3.client("sns")
        self.address_queue = self.sqs.get_queue_url(QueueName=self.env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
        # The check queues the topic feeds (submissions), each with its handler.
        self.check_queues = [(self.address_queue, "check_address", self.env["ADDRESS_CHECK_QUEUE_NAME"])]
        if "screen_sanctions" in app.handler_map:
            name = self.env["SANCTIONS_SCREENING_QUEUE_NAME"]
            self.check_queues.append((self.sqs.get_queue_url(QueueName=name)["QueueUrl"], "screen_sanctions", name))
        if "check_face" in app.handler_map:  # issue 17: the face check, asked for by face.requested
            name = self.env["FACE_CHECK_QUEUE_NAME"]
            self.check_queues.append((self.sqs.get_queue_url(QueueName=name)["QueueUrl"], "check_face", name))
        # What the topic delivers to its Lambda subscriber (notify_subscribers), tapped via a queue.
        self.tap = self.sqs.create_queue(QueueName="bench-aws-calls-topic-tap")["QueueUrl"]
        tap_arn = self.sqs.get_queue_attributes(QueueUrl=self.tap, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.env["EVENTS_TOPIC_ARN"], Protocol="sqs", Endpoint=tap_arn,
                           Attributes={"RawMessageDelivery": "true"})
        self.delivered: set[str] = set()
        self.published: set[str] = set()  # event ids the topic delivered (the outbox keeps no marker)

    def _receive(self, url: str) -> list[dict]:
        messages = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                             MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages += batch

    def invoke(self, scenario: str, handler: str, event: Any) -> Any:
        return self.counter.invoke(scenario, handler, lambda: self.client.lambda_.invoke(handler, event).payload)

    def ws(self, scenario: str, handler: str, connection_id: str, route: str, body: Any = None,
           query: Optional[dict[str, str]] = None) -> Any:
        """A WebSocket route's event, as API Gateway sends it."""
        import uuid

        event: dict[str, Any] = {"requestContext": {
            "apiId": "bench", "stage": "api", "connectionId": connection_id,
            "domainName": "bench.execute-api.us-east-1.amazonaws.com", "routeKey": route,
            "eventType": route.strip("$").upper(), "requestId": uuid.uuid4().hex}, "isBase64Encoded": False}
        if query is not None:
            event["queryStringParameters"] = query
        if body is not None:
            event["body"] = json.dumps(body)
        return self.invoke(scenario, handler, event)

    def http(self, scenario: str, handler: str, method: str, path: str, body: Any, user: Any) -> Any:
        return self.counter.invoke(scenario, handler, lambda: self.api.call(method, path, body, user=user))

    def drain(self, scenario: str, app_id: str | list[str], address: bool = True, at_once: bool = False) -> None:
        """Deliver what AWS would deliver next, until nothing is pending:
        new stream records -> publish_history (a batch of at most 100 records, of every application given);
        topic messages -> notify_subscribers; check-queue messages -> check_address, screen_sanctions,
        check_face, each queue's in SQS events of its handler's batch size (unless held back; ``at_once``:
        the messages of both queues to their handlers at the same instant, on two threads)."""
        from tests.support.flows import stream_records

        ids = [app_id] if isinstance(app_id, str) else list(app_id)
        for _ in range(50):
            progressed = False
            records = sorted((r for one in ids for r in stream_records(one)
                              if r["dynamodb"]["SequenceNumber"] not in self.delivered),
                             key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
            for start in range(0, len(records), STREAM_BATCH):
                batch = records[start:start + STREAM_BATCH]
                self.invoke(scenario, "publish_history", {"Records": batch})
                self.delivered.update(r["dynamodb"]["SequenceNumber"] for r in batch)
                progressed = True
            for message in self._receive(self.tap):
                body = message["Body"]
                self.published.update(event["event_id"] for event in json.loads(body).get("events", []))
                if json.loads(body).get("application_id") not in ids:
                    continue
                if self.has_notify:
                    attributes = {name: {"Type": value["DataType"], "Value": value.get("StringValue")}
                                  for name, value in message.get("MessageAttributes", {}).items()}
                    event = self.client.events.generate_sns_event(message=body, message_attributes=attributes)
                    self.invoke(scenario, "notify_subscribers", event)
                progressed = True
            if address:
                deliveries = []
                for url, handler, queue_name in self.check_queues:
                    bodies = [message["Body"] for message in self._receive(url)]
                    size = SQS_BATCH[handler]
                    for start in range(0, len(bodies), size):
                        event = self.client.events.generate_sqs_event(
                            queue_name=queue_name, message_bodies=bodies[start:start + size])
                        deliveries.append((handler, event))
                results = []
                if at_once and len(deliveries) > 1:
                    barrier = threading.Barrier(len(deliveries))

                    def deliver(handler: str, event: Any) -> None:
                        barrier.wait()
                        results.append((handler, self.invoke(scenario, handler, event)))

                    threads = [threading.Thread(target=deliver, args=pair) for pair in deliveries]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                else:
                    results = [(handler, self.invoke(scenario, handler, event)) for handler, event in deliveries]
                for handler, result in results:
                    if result and result.get("batchItemFailures"):
                        raise RuntimeError(f"{handler} failed a message: {result}")
                progressed = progressed or bool(deliveries)
            if not progressed:
                return
        raise RuntimeError("events kept coming after 50 rounds")

    def run(self, scenario: str, user: Any, address_first: bool = True, at_once: bool = False) -> dict[str, Any]:
        from bench._common import upload  # the client's own upload (plain requests, not botocore)
        from tests.support.documents import make_declared, passport_bytes

        declared = make_declared()
        created = self.http(scenario, "create_application", "POST", "/applications", declared, user)
        if created.status != 201:
            raise RuntimeError(f"create -> {created.status}: {created.body}")
        app_id = created.body["id"]
        self.drain(scenario, app_id, address=address_first, at_once=at_once)
        form = created.body["uploads"]["image/jpeg"]  # the create's answer: no second call for a form
        uploaded = upload(form, passport_bytes(declared), "image/jpeg")  # read by the local Textract
        if uploaded.status_code not in (200, 201, 204):
            raise RuntimeError(f"upload -> {uploaded.status_code}")
        from tests.support.flows import s3_event

        self.invoke(scenario, "verify_identity_document", s3_event(self.client, form["key"]))  # with its version
        self.drain(scenario, app_id, at_once=at_once)
        if "check_face" in self.client_handlers:
            self.selfie(scenario, app_id, user)
            self.drain(scenario, app_id, at_once=at_once)
        return self.check(app_id)

    def run_many(self, scenario: str, user: Any, count: int) -> list[dict[str, Any]]:
        """``count`` applications of one applicant (one face: another applicant with it would be FLAGGED as a
        second identity) in step: all created, then their records relayed together, all uploaded and checked,
        then all their selfies, each step's stream records and queue messages delivered together."""
        from bench._common import upload
        from tests.support.documents import make_declared, passport_bytes
        from tests.support.flows import s3_event

        forms: dict[str, dict[str, Any]] = {}
        for _ in range(count):
            declared = make_declared()
            created = self.http(scenario, "create_application", "POST", "/applications", declared, user)
            if created.status != 201:
                raise RuntimeError(f"create -> {created.status}: {created.body}")
            form = created.body["uploads"]["image/jpeg"]
            forms[created.body["id"]] = form
            uploaded = upload(form, passport_bytes(declared), "image/jpeg")  # uploaded now, checked below
            if uploaded.status_code not in (200, 201, 204):
                raise RuntimeError(f"upload -> {uploaded.status_code}")
        ids = list(forms)
        self.drain(scenario, ids)
        for form in forms.values():
            self.invoke(scenario, "verify_identity_document", s3_event(self.client, form["key"]))
        self.drain(scenario, ids)
        if "check_face" in self.client_handlers:
            sessions = {app_id: self.start_selfie(scenario, app_id, user) for app_id in ids}
            self.drain(scenario, ids)
            for app_id, session_id in sessions.items():
                self.finish_selfie(scenario, app_id, user, session_id)
            self.drain(scenario, ids)
        return [self.check(app_id) for app_id in ids]

    def selfie(self, scenario: str, app_id: str, user: Any) -> None:
        """The applicant's consent and liveness check, through the routes (issue 17), with the stream relayed
        between the session's start and its completion: the console posts the consent and starts the session
        at one click (``console/liveness.js``), then the applicant takes the selfie, seconds during which the
        stream's poller (four times a second) relays what the two committed, so their batch is not the
        completion's (it was until 2026-12-07: one batch fewer than on AWS)."""
        session_id = self.start_selfie(scenario, app_id, user)
        self.drain(scenario, app_id)
        self.finish_selfie(scenario, app_id, user, session_id)

    def start_selfie(self, scenario: str, app_id: str, user: Any) -> str:
        """The consent (its text read, then given) and the liveness session: the session's id."""
        base = f"/applications/{app_id}"
        consent = self.http(scenario, "biometric_consent", "GET", f"{base}/biometric-consent", None, user)
        given = self.http(scenario, "biometric_consent", "POST", f"{base}/biometric-consent",
                          {"text_version": consent.body["text_version"], "accepted": True}, user)
        session = self.http(scenario, "start_liveness_session", "POST", f"{base}/liveness-sessions", {}, user)
        if given.status != 201 or session.status != 201:
            raise RuntimeError(f"consent -> {given.status}, session -> {session.status}: {session.body}")
        return str(session.body["session_id"])

    def finish_selfie(self, scenario: str, app_id: str, user: Any, session_id: str) -> None:
        """The browser streams the selfie to the (stand-in) Rekognition; then the completion."""
        from chalicelib.adapters.memory import HOLDER, face_image
        from tests.support import rekognition

        rekognition.local().stream(session_id, face_image(HOLDER))
        done = self.http(scenario, "complete_liveness_session", "POST",
                         f"/applications/{app_id}/liveness-sessions/{session_id}/complete", {}, user)
        if done.status != 202:
            raise RuntimeError(f"complete -> {done.status}: {done.body}")

    def connect(self, scenario: str, user: Any) -> str:
        """The watching client's connection: $connect with its token, then my-applications, once."""
        import uuid

        connection_id = f"bench-{uuid.uuid4().hex}"
        if self.ws(scenario, "ws_connect", connection_id, "$connect", query={"token": user.token})["statusCode"] != 200:
            raise RuntimeError("the watching client's $connect was refused")
        self.ws(scenario, "ws_message", connection_id, "$default", {"action": "subscribe", "topic": "my-applications"})
        return connection_id

    def check(self, app_id: str) -> dict[str, Any]:
        from chalicelib.bootstrap import services

        app = services().repository.get(app_id)
        history = services().repository.history(app_id)
        relayed = [e.seq for e in history if f"{app_id}#{e.seq}" in self.published]
        if app.state.value != "APPROVED" or len(relayed) != len(history):
            raise RuntimeError(f"{app_id}: state {app.state.value}, relayed {relayed} of "
                               f"{[e.seq for e in history]}")
        return {"id": app_id, "history": [e.type.value for e in history], "sizes": self.sizes(app_id)}

    def sizes(self, app_id: str) -> dict[str, Any]:
        """Bytes of the stored items (DynamoDB's item size: names and values), for the capacity model."""
        import boto3

        dynamodb = boto3.client("dynamodb")
        item = dynamodb.get_item(TableName=self.env["APPLICATIONS_TABLE_NAME"], ConsistentRead=True,
                                 Key={"application_id": {"S": app_id}})["Item"]
        events = dynamodb.query(TableName=self.env["HISTORY_TABLE_NAME"], KeyConditionExpression="application_id = :a",
                                ExpressionAttributeValues={":a": {"S": app_id}})["Items"]
        record = dynamodb.get_item(TableName=self.env["BIOMETRICS_TABLE_NAME"], ConsistentRead=True,
                                   Key={"application_id": {"S": app_id}}).get("Item")
        return {"application_item": item_bytes(item), "history_items": [item_bytes(e) for e in events],
                "biometric_item": item_bytes(record) if record else 0,
                "index_keys": item_bytes({k: item[k] for k in ("application_id", "state_shard", "state_since")
                                          if k in item})}


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in the low-level form: each name, plus each value's size."""
    def value(v: dict[str, Any]) -> int:
        (kind, data), = v.items()
        if kind in ("S", "B"):
            return len(data.encode() if isinstance(data, str) else data)
        if kind == "N":
            return (len(str(data).lstrip("-").replace(".", "")) + 1) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind in ("SS", "NS", "BS"):
            return sum(value({kind[0]: d}) for d in data)
        if kind == "M":
            return 3 + sum(len(k) + value(x) + 1 for k, x in data.items())
        if kind == "L":
            return 3 + sum(value(x) + 1 for x in data)
        return len(str(data))

    return sum(len(name) + value(v) for name, v in item.items())
