"""AWS API calls one auto-approved application costs, end to end, counted by operation.

    python -m bench.aws_calls

In-process, no subprocess: an in-process moto server provisioned from
resources.yaml exactly as the test suite does (``tests.support.aws``), the
unchanged app behind Chalice's test client, and every handler invoked the
way AWS would invoke it, with the events AWS would send:

    POST /applications                  create_application       (client.http)
    history stream records              publish_history          (the real records, read from the stream)
    SNS -> address-check queue          check_address            (the message the topic really delivered)
    SNS -> the topic's Lambda           notify_subscribers       (the messages really published)
    POST /applications/{id}/documents   request_document_upload  (client.http)
    the client's upload                 -- not counted: the client's call, not the app's
    S3 ObjectCreated                    verify_identity_document (client.events.generate_s3_event)
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

No WebSocket client is subscribed, so notify_subscribers only looks up
subscribers (bench/websocket_latency.py measures the sending side).
"""
from __future__ import annotations

import collections
import json
import sys
import threading
import time
from typing import Any, Callable, Optional

from bench._common import ROOT, header

HANDLERS = ("create_application", "request_document_upload", "verify_identity_document",
            "check_address", "screen_sanctions", "biometric_consent", "start_liveness_session",
            "complete_liveness_session", "check_face", "publish_history", "notify_subscribers")


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

    def on_http(self, url: str) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.calls[(*where, f"https:GET {url.split('/')[-1] or url}")] += 1

    def on_commit(self, ok: bool, events: int) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.commits[(where[0], "ok" if ok else "failed")] += 1
                if ok:
                    self.commits[(where[0], "events")] += events

    def invoke(self, scenario: str, handler: str, run: Callable[[], Any]) -> Any:
        self._local.where = (scenario, handler)
        with self._lock:
            self.active += 1
            self.invocations[(scenario, handler)] += 1
        started = time.perf_counter()
        try:
            return run()
        finally:
            with self._lock:
                self.active -= 1
                self.seconds[(scenario, handler)] += time.perf_counter() - started
            self._local.where = None


def install(counter: CallCounter) -> None:
    """Hook every botocore client created from now on, the JWKS client, and the repository's commit."""

    import botocore.session

    original_create = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create(self, *args, **kwargs)
        client.meta.events.register("before-call", counter.on_call)
        client.meta.events.register("before-send", counter.on_send)
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

    original = ApplicationRepository.commit

    def commit(self: Any, change: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = original(self, change, *args, **kwargs)
        except Exception:
            counter.on_commit(False, 0)
            raise
        counter.on_commit(True, len(change.events))
        return result

    ApplicationRepository.commit = commit


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

    def http(self, scenario: str, handler: str, method: str, path: str, body: Any, user: Any) -> Any:
        return self.counter.invoke(scenario, handler, lambda: self.api.call(method, path, body, user=user))

    def drain(self, scenario: str, app_id: str, address: bool = True) -> None:
        """Deliver what AWS would deliver next, until nothing is pending:
        new stream records -> publish_history; topic messages -> notify_subscribers;
        address-queue messages -> check_address (unless held back)."""
        from tests.support.flows import stream_records

        for _ in range(50):
            progressed = False
            records = [r for r in stream_records(app_id) if r["dynamodb"]["SequenceNumber"] not in self.delivered]
            if records:
                self.invoke(scenario, "publish_history", {"Records": records})
                self.delivered.update(r["dynamodb"]["SequenceNumber"] for r in records)
                progressed = True
            for message in self._receive(self.tap):
                body = message["Body"]
                self.published.add(json.loads(body).get("event_id"))
                if json.loads(body).get("application_id") != app_id:
                    continue
                if self.has_notify:
                    attributes = {name: {"Type": value["DataType"], "Value": value.get("StringValue")}
                                  for name, value in message.get("MessageAttributes", {}).items()}
                    event = self.client.events.generate_sns_event(message=body, message_attributes=attributes)
                    self.invoke(scenario, "notify_subscribers", event)
                progressed = True
            if address:
                for url, handler, queue_name in self.check_queues:
                    for message in self._receive(url):
                        event = self.client.events.generate_sqs_event(
                            queue_name=queue_name, message_bodies=[message["Body"]])
                        result = self.invoke(scenario, handler, event)
                        if result and result.get("batchItemFailures"):
                            raise RuntimeError(f"{handler} failed a message: {result}")
                        progressed = True
            if not progressed:
                return
        raise RuntimeError("events kept coming after 50 rounds")

    def run(self, scenario: str, user: Any, address_first: bool = True) -> dict[str, Any]:
        from tests.support.documents import make_declared, passport_bytes
        from bench._common import upload  # the client's own upload (plain requests, not botocore)

        declared = make_declared()
        created = self.http(scenario, "create_application", "POST", "/applications", declared, user)
        if created.status != 201:
            raise RuntimeError(f"create -> {created.status}: {created.body}")
        app_id = created.body["id"]
        self.drain(scenario, app_id, address=address_first)
        presigned = self.http(scenario, "request_document_upload", "POST", f"/applications/{app_id}/documents",
                              {"content_type": "image/jpeg"}, user)
        if presigned.status != 201:
            raise RuntimeError(f"presign -> {presigned.status}: {presigned.body}")
        uploaded = upload(presigned.body, passport_bytes(declared), "image/jpeg")  # read by the local Textract
        if uploaded.status_code not in (200, 201, 204):
            raise RuntimeError(f"upload -> {uploaded.status_code}")
        event = self.client.events.generate_s3_event(bucket=self.env["DOCUMENTS_BUCKET_NAME"],
                                                     key=presigned.body["key"])
        self.invoke(scenario, "verify_identity_document", event)
        self.drain(scenario, app_id)
        if "check_face" in self.client_handlers:
            self.selfie(scenario, app_id, user)
            self.drain(scenario, app_id)
        return self.check(app_id)

    def selfie(self, scenario: str, app_id: str, user: Any) -> None:
        """The applicant's consent and liveness check, through the routes (issue 17)."""
        from chalicelib.adapters.memory import HOLDER, face_image
        from tests.support import rekognition

        base = f"/applications/{app_id}"
        consent = self.http(scenario, "biometric_consent", "GET", f"{base}/biometric-consent", None, user)
        given = self.http(scenario, "biometric_consent", "POST", f"{base}/biometric-consent",
                          {"text_version": consent.body["text_version"], "accepted": True}, user)
        session = self.http(scenario, "start_liveness_session", "POST", f"{base}/liveness-sessions", {}, user)
        if given.status != 201 or session.status != 201:
            raise RuntimeError(f"consent -> {given.status}, session -> {session.status}: {session.body}")
        rekognition.local().stream(session.body["session_id"], face_image(HOLDER))  # the browser streams it
        done = self.http(scenario, "complete_liveness_session", "POST",
                         f"{base}/liveness-sessions/{session.body['session_id']}/complete", {}, user)
        if done.status != 202:
            raise RuntimeError(f"complete -> {done.status}: {done.body}")

    def check(self, app_id: str) -> dict[str, Any]:
        from chalicelib.bootstrap import services

        app = services().repository.get(app_id)
        history = services().repository.history(app_id)
        relayed = [e.seq for e in history if f"{app_id}#{e.seq}" in self.published]
        if app.state.value != "APPROVED" or len(relayed) != len(history):
            raise RuntimeError(f"{app_id}: state {app.state.value}, relayed {relayed} of "
                               f"{[e.seq for e in history]}")
        return {"id": app_id, "history": [e.type.value for e in history]}


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    argparse.ArgumentParser(prog="python -m bench.aws_calls", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    header("AWS API calls per auto-approved application (in-process, Chalice test client + moto)")
    counter, scenarios, results, elapsed = measure()
    report(counter, scenarios, results, elapsed)
    return 0


def measure() -> tuple[CallCounter, list[str], dict[str, Any], float]:
    """Run the three scenarios; the counter holds calls, invocations and wall time per handler."""
    counter = CallCounter()
    install(counter)  # before anything creates a client the app will use

    import logging
    import os

    from tests.support.aws import provisioned_environment

    for name in [key for key in os.environ if key.startswith(("AWS_", "MOTO"))]:
        del os.environ[name]  # our own local AWS only, whatever the shell points at

    provisioned_environment()  # must run before app is imported: app.py reads resource names
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the app's INFO lines would bury the table
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.path.insert(0, str(ROOT))
    import app as app_module  # noqa: E402
    from chalice.test import Client

    from tests.support.identities import make_user

    hook_commits(counter)
    started = time.perf_counter()
    scenarios = [("cold", True), ("warm", True), ("warm, id-first", False)]
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        harness = Harness(counter, app_module.app, client, Api(client))
        user = make_user()
        results = {name: harness.run(name, user, address_first) for name, address_first in scenarios}
    elapsed = time.perf_counter() - started
    return counter, [name for name, _ in scenarios], results, elapsed


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
    print(f"{'TOTAL calls':<{width}}" + "".join(f"{totals[name]:>16}" for name in scenarios))
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

    print(f"\n{'transactions vs commits':<{width}}{head}")
    tx = {name: sum(v for (s, _, k), v in counter.calls.items() if s == name and k == "dynamodb:TransactWriteItems")
          for name in scenarios}
    rows = [("dynamodb:TransactWriteItems", tx),
            ("repository commits ok", {n: counter.commits[(n, "ok")] for n in scenarios}),
            ("repository commits failed", {n: counter.commits[(n, "failed")] for n in scenarios}),
            ("history events committed", {n: counter.commits[(n, "events")] for n in scenarios}),
            ("history events (final)", {n: len(results[n]["history"]) for n in scenarios})]
    for label, values in rows:
        print(f"{label:<{width}}" + "".join(f"{values[n]:>16}" for n in scenarios))
    for name in scenarios:
        commits = counter.commits[(name, "ok")] + counter.commits[(name, "failed")]
        verdict = "equal" if tx[name] == commits else "NOT equal"
        print(f"{name}: {tx[name]} TransactWriteItems vs {commits} state-changing commits "
              f"({counter.commits[(name, 'ok')]} ok, {counter.commits[(name, 'failed')]} lost a race): {verdict}; "
              f"history {results[name]['history']}")
    if counter.elsewhere:
        print("\ncalls on other threads while a handler ran (not attributed):",
              dict(counter.elsewhere))
    print(f"\n(ran {len(scenarios)} applications in {elapsed:.1f} s; the client's upload and the "
          "harness's stream/queue reads are not counted)")


if __name__ == "__main__":
    sys.exit(main())
