"""AWS API calls one auto-approved application costs, end to end, counted by operation.

    python -m bench.aws_calls

In-process, no subprocess: an in-process moto server provisioned from
resources.yaml exactly as the test suite does (``tests.support.aws``), the
unchanged app behind Chalice's test client, and every handler invoked the
way AWS would invoke it, with the events AWS would send:

    POST /applications                  create_application       (client.http; it answers with the upload forms)
    history stream records              publish_history          (the real records, read from the stream)
    SNS -> address-check queue          check_address            (the message the topic really delivered)
    SNS -> the topic's Lambda           notify_subscribers       (the messages really published)
    the client's upload                 -- not counted: the client's call, not the app's
    S3 -> identity-check queue          verify_identity_document (S3's notification, in an SQS event)
    GET/POST .../biometric-consent      biometric_consent        (client.http; issue 17)
    POST .../liveness-sessions          start_liveness_session   (CreateFaceLivenessSession)
    the client streams the session      -- not counted: the browser's call to Rekognition (the test
                                           stack's stand-in writes the selfie, tests/support/rekognition.py)
    POST .../{session}/complete         complete_liveness_session (GetFaceLivenessSessionResults)
    SNS -> face-check queue             check_face               (IndexFaces, CompareFaces, SearchFacesByImage)
    ... and the stream records of every later transition, until the application is
    APPROVED and every history event has been relayed.

Counting: a botocore ``before-call`` hook (one per API call, retries not
included) plus ``before-send`` (HTTP attempts, to show retries) registered on
every client -- ``botocore.session.Session.create_client`` is wrapped before
the app is imported, so boto3, Powertools and pynamodb clients all carry it.
Counting is switched on, for the calling thread only, around each handler
invocation; the harness's own calls (reading the stream, receiving from the
queues, the upload) are never counted. Plain-HTTP fetches the app makes
(the Cognito JWKS) are counted separately through PyJWKClient.fetch_data.

Scenarios, each one application:
  cold            the first application in this process (JWKS and Parameter Store caches empty)
  warm            address check first (it starts on submission; the upload comes later): the usual order
  warm, id-first  the identity document lands before the address check runs
  watched         as warm, with the applicant's WebSocket client watching (subscribed once per
                  connection to my-applications, as the console and bench/load.py do): the notifier
                  claims and sends too; what the connection itself costs is printed apart
  at once         as warm, with whatever the queues hold delivered at the same instant, on threads (the
                  address and sanctions checks would race if one message started both; the
                  sanctions queue is fed by the address check's result, so they never meet)
  shared batches  only with ``--shared N``: N applications in step, as at a peak: each stream batch
                  holds every new record of the N (at most 100), so the outbox's PublishBatch (ten
                  messages a call) and its counters transaction are shared; each queue's messages go
                  to their handler in one SQS event (its batch size); the notifier still gets one
                  SNS message per application. Printed per application: what the capacity model
                  assumes of a batch's calls, measured (the other scenarios are one application alone,
                  every batch its own)

Platform and face check: the target of issue 23 (<= 25 calls an application with a watching client)
predates the face check; the face check's own handlers (``FACE_HANDLERS``) make a fixed set of calls an
application whatever else happens, so the bench prints the platform's calls (every handler but those)
against that target and the face check's apart. What the face check costs the platform's handlers (the
outbox relaying its events, the notifier pushing them) counts as the platform's.

Frames are "sent" to a stand-in for API Gateway's management API (a
``before-call`` answer on its client: the call is counted, nothing leaves the
process). Transactions are compared with repository commits: a commit
attempt that loses a race costs a transaction and commits nothing.
"""
from __future__ import annotations

import collections
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Optional

from bench._common import ROOT, header

HANDLERS = ("create_application", "request_document_upload", "verify_identity_document",
            "check_address", "screen_sanctions", "biometric_consent", "start_liveness_session",
            "complete_liveness_session", "check_face", "publish_history", "notify_subscribers",
            "ws_connect", "ws_message", "ws_disconnect")
#: The face check's own handlers (issue 17): the applicant's consent, the liveness session and its result,
#: the check against the document and the collection. Their calls are a fixed set per application, counted
#: apart from the platform's (everything else), whose target is <= 25 with a watching client.
FACE_HANDLERS = ("biometric_consent", "start_liveness_session", "complete_liveness_session", "check_face")
PLATFORM_TARGET = 25
#: The history stream's batch for publish_history (app.py) and each check queue's SQS batch size (app.py).
STREAM_BATCH = 100
SQS_BATCH = {"check_address": 10, "screen_sanctions": 10, "check_face": 5}


class CallCounter:
    """Counts botocore API calls (and HTTP attempts) made while a handler runs on this thread."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.active = 0
        self.calls: collections.Counter = collections.Counter()      # (scenario, handler, "svc:Op")
        self.attempts: collections.Counter = collections.Counter()   # (scenario, "svc:Op")
        self.invocations: collections.Counter = collections.Counter()  # (scenario, handler)
        self.elsewhere: collections.Counter = collections.Counter()  # calls on other threads meanwhile
        self.commits: collections.Counter = collections.Counter()    # (scenario, "ok"|"failed"|"events")
        self.seconds: collections.Counter = collections.Counter()    # (scenario, handler) -> wall time
        self.frames: list[Any] = []                                   # what the notifier pushed
        self.frame_scenarios: list[Optional[str]] = []                # ... in which scenario
        self.cpu: collections.Counter = collections.Counter()        # (scenario, handler) -> thread CPU seconds

    # botocore handlers: must return None (a value would short-circuit the request)
    def on_call(self, model: Any = None, context: Any = None, **_: Any) -> None:
        if (context or {}).get("rekognition_stand_in"):
            return  # the test stack's Rekognition stand-in reading S3: on AWS, Rekognition's own read
        key = f"{model.service_model.service_name}:{model.name}"
        where = getattr(self._local, "where", None)
        with self._lock:
            if where is not None:
                self.calls[(*where, key)] += 1
            elif self.active:
                self.elsewhere[(threading.current_thread().name, key)] += 1

    def on_send(self, event_name: str = "", request: Any = None, **_: Any) -> None:
        if (getattr(request, "context", None) or {}).get("rekognition_stand_in"):
            return
        where = getattr(self._local, "where", None)
        if where is not None:
            _, _, service_operation = event_name.partition(".")  # before-send.<service id>.<Op>
            with self._lock:
                self.attempts[(where[0], service_operation.replace(".", ":"))] += 1

    def on_frame(self, model: Any = None, params: Any = None, **_: Any) -> Any:
        """API Gateway's management API, answered in-process: a PostToConnection is accepted."""
        if model is not None and model.name == "PostToConnection":
            body = (params or {}).get("body") or b""
            where = getattr(self._local, "where", None)
            with self._lock:
                self.frames.append(json.loads(body) if body else None)
                self.frame_scenarios.append(where[0] if where else None)
        from botocore.awsrequest import AWSResponse

        return AWSResponse("https://bench.invalid", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def on_http(self, url: str) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.calls[(*where, f"https:GET {url.split('/')[-1] or url}")] += 1

    def on_commit(self, ok: bool, events: int, biometrics: bool = False) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.commits[(where[0], "ok" if ok else "failed")] += 1
                if ok:
                    self.commits[(where[0], "events")] += events
                    self.commits[(where[0], "biometric record")] += biometrics  # its own item written too

    def invoke(self, scenario: str, handler: str, run: Callable[[], Any]) -> Any:
        self._local.where = (scenario, handler)
        with self._lock:
            self.active += 1
            self.invocations[(scenario, handler)] += 1
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return run()
        finally:
            with self._lock:
                self.active -= 1
                self.seconds[(scenario, handler)] += time.perf_counter() - started
                self.cpu[(scenario, handler)] += time.thread_time() - cpu
            self._local.where = None


def install(counter: CallCounter) -> None:
    """Hook every botocore client created from now on, the JWKS client, and the repository's commit."""

    import botocore.session

    original_create = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create(self, *args, **kwargs)
        client.meta.events.register("before-call", counter.on_call)
        client.meta.events.register("before-send", counter.on_send)
        if client.meta.service_model.service_name == "apigatewaymanagementapi":
            client.meta.events.register("before-call", counter.on_frame)  # after the count: answers it
        return client

    botocore.session.Session.create_client = create_client

    import jwt

    original_fetch = jwt.PyJWKClient.fetch_data

    def fetch_data(self: Any) -> Any:  # the verifier's JWKS fetches (PyJWKClient)
        counter.on_http(self.uri)
        return original_fetch(self)

    jwt.PyJWKClient.fetch_data = fetch_data


def hook_commits(counter: CallCounter) -> None:
    from chalicelib.adapters.dynamodb_applications import DynamoApplicationRepository as ApplicationRepository
    from chalicelib.adapters.dynamodb_applications import biometrics_write

    original = ApplicationRepository.commit

    def commit(self: Any, change: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = original(self, change, *args, **kwargs)
        except Exception:
            counter.on_commit(False, 0)
            raise
        counter.on_commit(True, len(change.events), biometrics_write(change) is not None)
        return result

    ApplicationRepository.commit = commit


def pin_sanctions_index_look(seconds: float = 3600.0) -> None:
    """Like the settings' refresh (SETTINGS_CACHE_SECONDS): a container looks at the sanctions index's published
    version once a minute (one GetObject, per container, not per application); a run that outlasts a minute
    would count that look against one application (the watched one, at a load of 20). The cache is built by
    the app, in a handler's environment, with the interval set here."""
    from chalicelib.services.sanctions import SanctionsIndexCache

    build = SanctionsIndexCache.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        self.check_seconds = seconds

    SanctionsIndexCache.__init__ = init  # type: ignore[method-assign]


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


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS: list[str] = []


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.aws_calls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=int, default=0, metavar="N",
                        help="also run N applications in step, sharing stream batches (a peak's batching)")
    args = parser.parse_args(argv)
    header("AWS API calls per auto-approved application (in-process, Chalice test client + moto)")
    counter, scenarios, results, elapsed = measure(shared=args.shared)
    report(counter, scenarios, results, elapsed)
    save_warm_profile(counter)
    return 0


#: A file of a measured profile (tests/test_benches.py sets it for its smoke run): ``bench.aws_calls`` writes its
#: warm application's profile there (the very scenario bench.cost measures, counted the same way), and bench.cost
#: then prices that file instead of measuring the same application again (~17 s of CPU: its own moto,
#: provisioned, and two applications). Unset -- ``./dev bench cost``, ``python -m bench.cost`` -- it measures.
PROFILE_ENV = "BENCH_WARM_PROFILE"
#: The scenario bench.cost prices.
PRICED_SCENARIO = "warm"


def profile_of(counter: Any) -> dict[str, Any]:
    """The priced scenario's AWS calls by operation, invocations and wall seconds by handler."""
    calls: dict[str, int] = {}
    for (scenario, _handler, op), n in counter.calls.items():
        if scenario == PRICED_SCENARIO:
            calls[op] = calls.get(op, 0) + n
    invocations = {h: n for (s, h), n in counter.invocations.items() if s == PRICED_SCENARIO}
    seconds = {h: t for (s, h), t in counter.seconds.items() if s == PRICED_SCENARIO}
    return {"calls": calls, "invocations": invocations, "seconds": seconds}


def save_warm_profile(counter: CallCounter) -> None:
    """When ``BENCH_WARM_PROFILE`` names a file (tests/test_benches.py), the warm application's profile as
    ``bench.cost`` measures it (the same cold-then-warm start, counted by the same counter), for ``bench.cost``
    to price instead of measuring it again."""
    import os
    from pathlib import Path

    path = os.environ.get(PROFILE_ENV)
    if path:
        Path(path).write_text(json.dumps(profile_of(counter)), encoding="utf-8")


def measure(warm_only: bool = False, shared: int = 0) -> tuple[CallCounter, list[str], dict[str, Any], float]:
    """Run the scenarios; the counter holds calls, invocations and wall time per handler. ``warm_only``: the
    cold and the warm one only (what ``bench.cost`` prices: a third of the run). ``shared``: also ``shared``
    applications in step (``SHARED``; its results are a list, and it is not one of the scenarios returned)."""
    counter = CallCounter()
    install(counter)  # before anything creates a client the app will use

    import logging
    import os

    from tests.support.aws import provisioned_environment

    for name in [key for key in os.environ if key.startswith(("AWS_", "MOTO"))]:
        del os.environ[name]  # our own local AWS only, whatever the shell points at

    provisioned_environment()  # must run before app is imported: app.py reads resource names
    if shared:  # one applicant's shared run is more than its daily limit and request rate allow
        import boto3

        for setting in ("max_applications_per_day", "applicant_requests_per_minute"):
            boto3.client("ssm").put_parameter(Name=os.environ["SETTINGS_PATH"].rstrip("/") + "/" + setting,
                                              Value="1000000", Type="String", Overwrite=True)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the app's INFO lines would bury the table
    os.environ.setdefault("WEBSOCKET_DOMAIN", "bench.execute-api.us-east-1.amazonaws.com")  # answered in-process
    # A container refreshes its settings once a minute: at 1,000 applications a second that is nothing per
    # application, but a run on a busy machine can outlast a minute and count a refresh against one of them.
    os.environ["SETTINGS_CACHE_SECONDS"] = "3600"
    os.environ.setdefault("WEBSOCKET_STAGE", "api")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.path.insert(0, str(ROOT))
    from chalice.test import Client

    import app as app_module  # noqa: E402

    logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "account-opening-svc")).setLevel(logging.WARNING)
    from tests.support.identities import make_user

    hook_commits(counter)
    pin_sanctions_index_look()
    started = time.perf_counter()
    scenarios = [("cold", True), ("warm", True)] + ([] if warm_only else [("warm, id-first", False)])
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        harness = Harness(counter, app_module.app, client, Api(client))
        warm_ocr()
        user = make_user()
        results = {name: harness.run(name, user, address_first) for name, address_first in scenarios}
        if warm_only:
            return counter, [name for name, _ in scenarios], results, time.perf_counter() - started
        connection = harness.connect(CONNECTION, user)
        # Once unreported, so the watched figures are a warm container's: the notifier's first send builds
        # the management API's client (~0.1 s of CPU a container, not an application).
        harness.run(WARM_UP, user)
        results[WATCHED] = harness.run(WATCHED, user)
        harness.ws(CONNECTION, "ws_disconnect", connection, "$disconnect")
        results[AT_ONCE] = harness.run(AT_ONCE, user, at_once=True)
        if shared:
            results[SHARED] = harness.run_many(SHARED, user, shared)
    elapsed = time.perf_counter() - started
    return counter, [name for name, _ in scenarios] + [WATCHED, AT_ONCE], results, elapsed


def warm_ocr() -> None:
    """Read the scenarios' passport once before counting (the harness's call, not the app's): the local
    Textract reads identical bytes once, so the cold scenario's read does not outlast the app's read timeout
    on a busy machine and count a retry that has nothing to do with the design."""
    import boto3

    from tests.support.documents import make_declared, passport_bytes

    boto3.client("textract").detect_document_text(Document={"Bytes": passport_bytes(make_declared())})


WATCHED = "watched"
WARM_UP = "watched, warming up"  # counted apart and never reported
AT_ONCE = "at once"
CONNECTION = "the connection"  # the watching client's own calls, once per connection
SHARED = "shared batches"  # --shared N: N applications in step (totals of the N; printed per application)


def report(counter: CallCounter, scenarios: list[str], results: dict[str, Any], elapsed: float) -> None:
    operations = sorted({key for (_, _, key) in counter.calls})
    width = max([len(op) for op in operations] + [24])
    head = "".join(f"{name:>16}" for name in scenarios)
    print(f"\n{'service:operation':<{width}}{head}")
    for op in operations:
        row = "".join(f"{sum(v for (s, _, k), v in counter.calls.items() if s == name and k == op):>16}"
                      for name in scenarios)
        print(f"{op:<{width}}{row}")
    totals = {name: sum(v for (s, _, _), v in counter.calls.items() if s == name) for name in scenarios}
    face = {name: sum(v for (s, h, _), v in counter.calls.items() if s == name and h in FACE_HANDLERS)
            for name in scenarios}
    platform = {name: totals[name] - face[name] for name in scenarios}
    print(f"{'TOTAL calls':<{width}}" + "".join(f"{totals[name]:>16}" for name in scenarios))
    print(f"{'  platform (all but face)':<{width}}" + "".join(f"{platform[name]:>16}" for name in scenarios)
          + f"   (target <= {PLATFORM_TARGET} watched)")
    print(f"{'  face check (its handlers)':<{width}}" + "".join(f"{face[name]:>16}" for name in scenarios))
    attempts = {name: sum(v for (s, _), v in counter.attempts.items() if s == name) for name in scenarios}
    http_calls = {name: sum(v for (s, _, k), v in counter.calls.items() if s == name and k.startswith("https:"))
                  for name in scenarios}
    print(f"{'  HTTP attempts (botocore)':<{width}}" + "".join(f"{attempts[name]:>16}" for name in scenarios)
          + "   (more attempts than botocore calls = retries)")
    print(f"{'  botocore calls':<{width}}"
          + "".join(f"{totals[name] - http_calls[name]:>16}" for name in scenarios))

    print(f"\n{'per handler (invocations)':<{width}}{head}")
    for handler in HANDLERS:
        cells = []
        for name in scenarios:
            calls = sum(v for (s, h, _), v in counter.calls.items() if s == name and h == handler)
            cells.append(f"{calls} ({counter.invocations[(name, handler)]})")
        print(f"{handler:<{width}}" + "".join(f"{c:>16}" for c in cells))

    detail = scenarios[1] if len(scenarios) > 1 else scenarios[0]
    print(f"\nper handler, by operation ({detail}):")
    for handler in HANDLERS:
        ops = sorted((k, v) for (s, h, k), v in counter.calls.items() if s == detail and h == handler)
        invocations = counter.invocations[(detail, handler)]
        print(f"  {handler:<26} {invocations} invocation(s): "
              + (", ".join(f"{k} x{v}" for k, v in ops) or "no AWS calls"))

    connection = [(k, v) for (s, h, k), v in sorted(counter.calls.items()) if s == CONNECTION]
    if connection:
        per_handler = {h: sum(v for (s, hh, _), v in counter.calls.items() if s == CONNECTION and hh == h)
                       for h in ("ws_connect", "ws_message", "ws_disconnect")}
        print(f"\nthe watching client's connection, once per connection (not per application): "
              f"{sum(v for _, v in connection)} calls: $connect {per_handler['ws_connect']}, "
              f"subscribe my-applications {per_handler['ws_message']}, $disconnect {per_handler['ws_disconnect']}")
    if WATCHED in scenarios:
        frames = [f for f, s in zip(counter.frames, counter.frame_scenarios, strict=True)
                  if s == WATCHED and isinstance(f, dict) and f.get("type") == "events"]
        print(f"frames pushed to the watching client: {len(frames)} ({sum(len(f['events']) for f in frames)} events)")

    print(f"\n{'transactions vs commits':<{width}}{head}")
    tx = {name: sum(v for (s, _, k), v in counter.calls.items() if s == name and k == "dynamodb:TransactWriteItems")
          for name in scenarios}
    attempts = {n: counter.commits[(n, "ok")] + counter.commits[(n, "failed")] for n in scenarios}
    rows = [("dynamodb:TransactWriteItems (all)", tx),
            ("repository commit attempts", attempts),
            ("repository commits ok", {n: counter.commits[(n, "ok")] for n in scenarios}),
            ("repository commits lost a race", {n: counter.commits[(n, "failed")] for n in scenarios}),
            ("history events committed", {n: counter.commits[(n, "events")] for n in scenarios}),
            ("  commits writing the biometric record", {n: counter.commits[(n, "biometric record")] for n in scenarios}),
            ("history events (final)", {n: len(results[n]["history"]) for n in scenarios})]
    for label, values in rows:
        print(f"{label:<{width}}" + "".join(f"{values[n]:>16}" for n in scenarios))
    for name in scenarios:
        ok = counter.commits[(name, "ok")]
        verdict = "no more attempts than commits" if attempts[name] == ok else "MORE attempts than commits"
        print(f"{name}: {attempts[name]} commit attempts for {ok} commits: {verdict} "
              f"({tx[name]} TransactWriteItems in all, claims and subscriptions included); "
              f"history {results[name]['history']}")
    if counter.elsewhere:
        print("\ncalls on other threads while a handler ran (not attributed):",
              dict(counter.elsewhere))
    print(f"\n(ran {len(scenarios)} applications in {elapsed:.1f} s; the client's upload and the "
          "harness's stream/queue reads are not counted)")
    face_ops = collections.Counter()
    for (s, h, k), v in counter.calls.items():
        if s == "warm" and h in FACE_HANDLERS:
            face_ops[k] += v
    print("\nthe face check's own calls (warm), by operation: "
          + ", ".join(f"{k} x{v}" for k, v in sorted(face_ops.items())))
    shared = results.get(SHARED)
    if shared:
        report_shared(counter, len(shared), platform.get("warm"))
    print(f"\nSUMMARY platform: warm {platform.get('warm')} calls per auto-approved application "
          f"(cold {platform.get('cold')}); watched by a WebSocket client {platform.get(WATCHED)} "
          f"(target <= {PLATFORM_TARGET}); delivered at once {platform.get(AT_ONCE)}")
    print(f"SUMMARY face check: warm {face.get('warm')} calls (cold {face.get('cold')}); "
          f"watched {face.get(WATCHED)}; delivered at once {face.get(AT_ONCE)}")
    print(f"SUMMARY all: warm {totals.get('warm')} (cold {totals.get('cold')}); watched {totals.get(WATCHED)}; "
          f"delivered at once {totals.get(AT_ONCE)}")


def report_shared(counter: CallCounter, count: int, alone: Optional[int]) -> None:
    """The ``--shared`` run, per application: by handler (calls, invocations), the outbox's batches."""
    def calls(handler: Optional[str] = None, face: Optional[bool] = None) -> int:
        return sum(v for (s, h, _), v in counter.calls.items() if s == SHARED and (handler is None or h == handler)
                   and (face is None or (h in FACE_HANDLERS) == face))

    platform, face = calls(face=False), calls(face=True)
    print(f"\n{count} applications in step ({SHARED}: the stream's batches and the queues' SQS events shared), "
          f"per application:")
    for handler in HANDLERS:
        if counter.invocations[(SHARED, handler)]:
            print(f"  {handler:<26} {calls(handler) / count:>6.2f} calls, "
                  f"{counter.invocations[(SHARED, handler)] / count:.2f} invocations")
    tx = sum(v for (s, _, k), v in counter.calls.items() if s == SHARED and k == "dynamodb:TransactWriteItems")
    attempts = counter.commits[(SHARED, "ok")] + counter.commits[(SHARED, "failed")]
    print(f"  commit attempts {attempts} for {counter.commits[(SHARED, 'ok')]} commits "
          f"({tx} TransactWriteItems in all)")
    print(f"SUMMARY shared batches: {count} applications in step: platform {platform / count:.1f} calls per "
          f"application (one alone: {alone}); face check {face / count:.1f}")


if __name__ == "__main__":
    sys.exit(main())
