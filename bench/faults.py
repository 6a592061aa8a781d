"""Applications through the whole workflow while 10% of the app's AWS calls fail.

    python -m bench.faults [--applications 200] [--fraction 0.1] [--seed 12] [--baseline N]

In-process like ``bench.aws_calls``: an in-process moto provisioned from
resources.yaml, the unchanged app behind Chalice's test client, every
handler invoked as AWS would invoke it, with AWS's retry rules:

* REST calls: the client retries a 5xx with the same Idempotency-Key;
* the identity-check queue (the documents bucket's notifications, S3 -> SQS),
  the address-check and the sanctions queues: a failed message is received
  again, up to maxReceiveCount (5 here), then the DLQ, then ``redrive`` puts it
  back; what is still missing after that is the sweeper's;
* the outbox stream: retried from the record the handler reports
  (ReportBatchItemFailures) or the whole batch if it raised;
* the notifier (asynchronous): two retries;
* the applicant's liveness check (issue 17): consent, a session streamed (the test stack's Rekognition
  stand-in, tests/support/rekognition.py), its completion, then the face-check queue like the others.

Every application is created by one applicant of the run's own (its daily
limit and request rate raised for the run: the face check would take the same
face under another applicant for a second identity) and uploads a passport
that matches its declaration (read by the local Textract) and takes the
holder's selfie, so every one should end APPROVED.

Faults: throttling and 5xx answers instead of the call (after the SDK's own
retries, which a fault at ``_make_api_call`` does not go through) on a
seeded ``--fraction`` of the app's DynamoDB, S3, SQS and SNS calls, only while
one of its handlers runs: the harness's and the client's own calls never fail.
Then the sweeper runs (as its schedule would, ten minutes on) and the
invariants are checked: every application APPROVED (the documents are
good), each with exactly one decision, an intact hash chain, every history
event published at least once, no duplicate history event. Baseline: the same
applications with no faults, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Optional

from bench._common import ROOT, header

ATTEMPTS_ASYNC = 3  # the event, then Lambda's two retries of an asynchronous invocation (the notifier)
MAX_RECEIVES = 5  # a queue's maxReceiveCount (the identity-check queue's is 10 when deployed)
SERVICES = ("dynamodb", "s3", "sqs", "sns", "rekognition")


@contextlib.contextmanager
def settings_raised(names: Sequence[str], value: int) -> Iterator[None]:
    """These business settings at ``value`` in this process's Parameter Store for the block, then as they were."""
    import os

    import boto3

    from chalicelib.bootstrap import services

    ssm, path = boto3.client("ssm"), os.environ["SETTINGS_PATH"].rstrip("/") + "/"
    before: dict[str, Optional[str]] = {}
    for name in names:
        try:
            before[name] = ssm.get_parameter(Name=path + name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            before[name] = None
        ssm.put_parameter(Name=path + name, Value=str(value), Type="String", Overwrite=True)
    services().settings.clear_cache()
    try:
        yield
    finally:
        for name, old in before.items():
            if old is None:
                ssm.delete_parameter(Name=path + name)
            else:
                ssm.put_parameter(Name=path + name, Value=old, Type="String", Overwrite=True)
        services().settings.clear_cache()


class Crash(RuntimeError):
    """The handler dies here: nothing after this point of its invocation happens."""


class Faults:
    """Fails a seeded fraction of the calls the app makes while a handler runs (this thread only)."""

    def __init__(self, fraction: float, seed: int, crash_at: Optional[int] = None) -> None:
        import random

        self.crash_at = crash_at  # instead of a fraction: the n-th call of the run dies, as a crashed handler would
        self.fraction = fraction
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.local = threading.local()
        self.injected = 0
        self.calls = 0

    def install(self) -> Any:
        import botocore.client
        from botocore.exceptions import ClientError

        original = botocore.client.BaseClient._make_api_call
        faults = self

        def make_api_call(client: Any, operation: str, params: Any) -> Any:
            service = client.meta.service_model.service_name
            if getattr(faults.local, "active", False) and service in SERVICES:
                # The lock guards the counters only: the call itself runs outside it, since a call may make
                # calls of its own (the tests' local Rekognition reads the selfie from S3 inside CompareFaces).
                with faults.lock:
                    faults.calls += 1
                    fail, code = False, ""
                    if faults.crash_at is not None:
                        if faults.calls == faults.crash_at:
                            faults.injected += 1
                            raise Crash(f"crashed before call {faults.calls} ({service}:{operation})")
                    else:
                        fail = faults.random.random() < faults.fraction
                        code = faults.random.choice(["ThrottlingException", "InternalError", "ServiceUnavailable"])
                        if fail:
                            faults.injected += 1
                if fail:
                    status = 400 if code == "ThrottlingException" else 503
                    raise ClientError({"Error": {"Code": code, "Message": "injected"},
                                       "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = make_api_call
        return original

    def around(self, run: Any) -> Any:
        self.local.active = True
        try:
            return run()
        finally:
            self.local.active = False


class StreamReader:
    """The history stream from the run's start, shard iterators kept: each call returns only the new records.

    It starts at the end of the shards there are (``LATEST``): a local AWS the suite shares holds every earlier
    test's records, which this run would otherwise page through (1,000 at a time) only to ignore. A shard that
    appears later is read from its start.
    """

    def __init__(self) -> None:
        import boto3

        self.streams = boto3.client("dynamodbstreams")
        self.arn = os.environ["HISTORY_STREAM_ARN"]
        self.iterators: dict[str, Optional[str]] = {
            shard["ShardId"]: self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]
            for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]}

    def new_records(self) -> list[dict]:
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        found: list[dict] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            iterator = self.iterators[shard_id]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page.get("NextShardIterator")
                self.iterators[shard_id] = iterator
                if not page["Records"]:
                    break
                found += page["Records"]
        for record in found:
            stamp = record["dynamodb"].get("ApproximateCreationDateTime")
            if hasattr(stamp, "timestamp"):
                record["dynamodb"]["ApproximateCreationDateTime"] = int(stamp.timestamp())
            record.setdefault("eventSourceARN", self.arn)
            record.setdefault("awsRegion", "us-east-1")
        return found


class Run:
    """Drives applications through the handlers with AWS's retry rules; see the module docstring."""

    def __init__(self, app: Any, client: Any, faults: Optional[Faults]) -> None:
        import boto3

        self.app = app
        self.client = client
        self.faults = faults
        self.sqs = boto3.client("sqs")
        self.sns = boto3.client("sns")
        self.env = os.environ
        self.address_queue = self.sqs.get_queue_url(QueueName=self.env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
        self.address_dlq = self.sqs.get_queue_url(QueueName=self.env["ADDRESS_CHECK_DLQ_NAME"])["QueueUrl"]
        # The queues the bucket and the topic feed, each with its handler and its DLQ.
        identity = self.env["IDENTITY_CHECK_QUEUE_NAME"]
        self.queues = [
            (self.sqs.get_queue_url(QueueName=identity)["QueueUrl"],
             self.sqs.get_queue_url(QueueName=self.env["DOCUMENT_EVENTS_DLQ_NAME"])["QueueUrl"],
             "verify_identity_document", identity),
            (self.address_queue, self.address_dlq, "check_address", self.env["ADDRESS_CHECK_QUEUE_NAME"]),
        ]
        if "screen_sanctions" in app.handler_map:
            name = self.env["SANCTIONS_SCREENING_QUEUE_NAME"]
            self.queues.append((self.sqs.get_queue_url(QueueName=name)["QueueUrl"],
                                self.sqs.get_queue_url(QueueName=self.env["SANCTIONS_SCREENING_DLQ_NAME"])["QueueUrl"],
                                "screen_sanctions", name))
        if "check_face" in app.handler_map:
            name = self.env["FACE_CHECK_QUEUE_NAME"]
            self.queues.append((self.sqs.get_queue_url(QueueName=name)["QueueUrl"],
                                self.sqs.get_queue_url(QueueName=self.env["FACE_CHECK_DLQ_NAME"])["QueueUrl"],
                                "check_face", name))
        name = f"faults-tap-{uuid.uuid4().hex[:8]}"
        self.tap = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.subscription = self.sns.subscribe(TopicArn=self.env["EVENTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn,
                                               Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
        self.stream = StreamReader()
        self.pending: dict[str, list[dict]] = {}  # application id -> stream records not yet relayed
        self.published: dict[str, int] = {}
        self.delivered: set[str] = set()
        self.receives: dict[str, int] = {}
        self.ours: set[str] = set()  # this run's applications
        self.stats = {"rest_retries": 0, "stream_retries": 0, "queue_dlq": 0,
                      "notify_given_up": 0, "redriven_from_dlq": 0}

    # --- invoking ------------------------------------------------------------------------

    def _call(self, run: Any) -> Any:
        return self.faults.around(run) if self.faults else run()

    def rest(self, method: str, path: str, body: Any, user: Any, key: Optional[str] = None) -> Any:
        headers = {"Content-Type": "application/json", **user.auth, **({"Idempotency-Key": key} if key else {})}
        for attempt in range(20):
            response = self._call(lambda: self.client.http.request(method, path, headers=headers,
                                                                     body=json.dumps(body).encode()))
            if response.status_code < 500:
                return response.status_code, json.loads(response.body) if response.body else None
            self.stats["rest_retries"] += 1
            time.sleep(min(0.2, 0.005 * 2 ** attempt))
        raise RuntimeError(f"{method} {path}: still failing after 20 attempts")

    def invoke(self, handler: str, event: Any) -> Any:
        return self._call(lambda: self.client.lambda_.invoke(handler, event).payload)

    def invoke_async(self, handler: str, event: Any, given_up: str) -> None:
        for _ in range(ATTEMPTS_ASYNC):
            try:
                self.invoke(handler, event)
                return
            except Exception:  # noqa: BLE001 - Lambda retries an asynchronous invocation
                continue
        self.stats[given_up] += 1  # the on-failure destination; the sweeper covers it

    # --- the event sources ------------------------------------------------------------

    def pump(self, app_ids: set[str], rounds: int = 200) -> None:
        """Deliver stream records, topic messages and queue messages until nothing moves."""
        for _ in range(rounds):
            moved = False
            for record in self.stream.new_records():
                app_id = record["dynamodb"]["Keys"]["application_id"]["S"]
                self.pending.setdefault(app_id, []).append(record)
            for app_id in sorted(app_ids):
                records = [r for r in self.pending.pop(app_id, []) if r["dynamodb"]["SequenceNumber"] not in self.delivered]
                while records:
                    moved = True
                    try:
                        answer = self.invoke("publish_history", {"Records": records}) or {}
                        failures = answer.get("batchItemFailures") or []
                    except Exception:  # noqa: BLE001 - the whole batch is retried
                        failures = [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
                    if not failures:
                        self.delivered.update(r["dynamodb"]["SequenceNumber"] for r in records)
                        break
                    self.stats["stream_retries"] += 1
                    first = failures[0]["itemIdentifier"]
                    done = [r for r in records if r["dynamodb"]["SequenceNumber"] < first]
                    self.delivered.update(r["dynamodb"]["SequenceNumber"] for r in done)
                    records = [r for r in records if r["dynamodb"]["SequenceNumber"] >= first]
            for message in self._receive(self.tap):
                moved = True
                body = message["Body"]
                for event in json.loads(body)["events"]:  # one message per application and stream batch
                    self.published[event["event_id"]] = self.published.get(event["event_id"], 0) + 1
                attributes = {n: {"Type": v["DataType"], "Value": v.get("StringValue")}
                              for n, v in message.get("MessageAttributes", {}).items()}
                self.invoke_async("notify_subscribers",
                                  self.client.events.generate_sns_event(message=body, message_attributes=attributes),
                                  "notify_given_up")
            for queue, dlq, handler, queue_name in self.queues:
                for message in self._receive(queue, delete=False):
                    if not self._ours(message["Body"]):  # another test's upload in a shared local AWS
                        self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                        continue
                    moved = True
                    mid = message["MessageId"]
                    event = self.client.events.generate_sqs_event(queue_name=queue_name,
                                                                  message_bodies=[message["Body"]])
                    try:
                        answer = self.invoke(handler, event) or {}
                        ok = not answer.get("batchItemFailures")
                    except Exception:  # noqa: BLE001
                        ok = False
                    self.receives[mid] = self.receives.get(mid, 0) + 1
                    if ok:
                        self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                    elif self.receives[mid] >= MAX_RECEIVES:
                        self.sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])
                        self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                        self.stats["queue_dlq"] += 1
                    else:
                        self.sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"],
                                                           VisibilityTimeout=0)
            if not moved:
                return

    def _ours(self, body: str) -> bool:
        """Whether a queue message is about one of this run's applications."""
        return any(app_id in body for app_id in self.ours)

    def _receive(self, url: str, delete: bool = True) -> list[dict]:
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=30, MessageAttributeNames=["All"]).get("Messages", [])
        if delete:
            for message in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return got

    def redrive_dlq(self) -> None:
        """What an operator does (``./dev redrive``): DLQ messages back to their queue."""
        for queue, dlq, _, _ in self.queues:
            for message in self._receive(dlq):
                self.sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
                self.stats["redriven_from_dlq"] += 1

    # --- the applications --------------------------------------------------------------

    def run(self, count: int, users: list[Any]) -> list[str]:
        from tests.support.documents import make_declared, passport_bytes

        declared = make_declared()
        passport = passport_bytes(declared)  # one page: the local Textract reads it once, then from its cache
        ids: list[str] = []
        # One applicant for every application: the face check takes the same face under another applicant for a
        # second identity (FLAGGED), and every passport shows the same holder. Its daily limit and request
        # rate are raised for the run (Parameter Store, as an operator would) and put back afterwards.
        user = users[0]
        with settings_raised(("max_applications_per_day", "applicant_requests_per_minute"), 1_000_000):
            for _ in range(count):
                self.one(declared, passport, user, ids)
        self.pump(set(ids))
        self.redrive_dlq()
        self.pump(set(ids))
        return self.finish(ids)

    def one(self, declared: dict, passport: bytes, user: Any, ids: list[str]) -> None:
        from bench._common import upload

        status, body = self.rest("POST", "/applications", declared, user, key=f"faults-{uuid.uuid4()}")
        assert status == 201, (status, body)
        ids.append(body["id"])
        self.ours.add(body["id"])
        form = body["uploads"]["image/jpeg"]  # the create's answer (a retried create gives fresh forms)
        # The upload lands in the bucket, whose notification goes to the identity-check queue.
        assert upload(form, passport, "image/jpeg").status_code in (200, 201, 204)
        if "check_face" in self.app.handler_map:
            self.selfie(body["id"], user)
        self.pump({body["id"]}, rounds=3)

    def finish(self, ids: list[str]) -> list[str]:
        from chalicelib.bootstrap import services

        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        services().sweeper.redrive_stuck(now=later)  # the schedule, once the stragglers are ten minutes old
        self.pump(set(ids))
        return ids

    def selfie(self, app_id: str, user: Any) -> None:
        """The applicant's consent and liveness check, retried as a client retries a 5xx."""
        from chalicelib.adapters.memory import HOLDER, face_image
        from tests.support import rekognition

        base = f"/applications/{app_id}"
        status, consent = self.rest("GET", f"{base}/biometric-consent", None, user)
        assert status == 200, (status, consent)
        status, given = self.rest("POST", f"{base}/biometric-consent",
                                  {"text_version": consent["text_version"], "accepted": True}, user)
        assert status in (200, 201), (status, given)
        status, session = self.rest("POST", f"{base}/liveness-sessions", {}, user)
        assert status in (200, 201), (status, session)
        rekognition.local().stream(session["session_id"], face_image(HOLDER))  # the client streams it
        status, done = self.rest("POST", f"{base}/liveness-sessions/{session['session_id']}/complete", {}, user)
        assert status in (202, 409), (status, done)  # 409: a retry after the result was recorded

    def verdict(self, ids: list[str]) -> dict[str, Any]:
        from chalicelib.bootstrap import services
        from chalicelib.domain.checks import REQUIRED_CHECKS

        repo = services().repository
        states: dict[str, int] = {}
        problems: list[str] = []
        for app_id in ids:
            app = repo.get(app_id)
            history = repo.history(app_id)
            states[app.state.value] = states.get(app.state.value, 0) + 1
            # Every passport matches its declaration and every selfie its holder: each application is read and
            # approved, or -- when an injected fault hid the selfie from the face check (the test stack's
            # Rekognition stand-in reads it from S3, a call the faults reach) -- goes to a person (FLAGGED).
            if app.state.value not in ("APPROVED", "FLAGGED"):
                reasons = sorted({r.get("code", "?") for r in app.decision_reasons} | {
                    f"{name}:{r.get('code')}" for name, check in app.checks.items()
                    for r in (check or {}).get("reasons") or ()})
                problems.append(f"{app_id}: {app.state.value} {reasons}")
            if not services().applications.chain_intact(app, history) or [e.seq for e in history] != list(
                range(1, len(history) + 1)
            ):
                problems.append(f"{app_id}: chain broken")
            decisions = [e for e in history if e.type.value in ("application.approved", "application.rejected")]
            if len(decisions) != (1 if app.state.value == "APPROVED" else 0):
                problems.append(f"{app_id}: {len(decisions)} decisions")
            if len([e for e in history if e.type.value == "check.completed"]) != len(REQUIRED_CHECKS):
                problems.append(f"{app_id}: check results recorded {len(history)} times")
            missing = [e.seq for e in history if f"{app_id}#{e.seq}" not in self.published]
            if missing:
                problems.append(f"{app_id}: events {missing} never published")
        duplicates = sum(n - 1 for n in self.published.values() if n > 1)
        return {"states": states, "problems": problems, "duplicate_publishes": duplicates, **self.stats}

    def close(self) -> None:
        self.sns.unsubscribe(SubscriptionArn=self.subscription)
        self.sqs.delete_queue(QueueUrl=self.tap)


def measure(
    app: Any, client: Any, count: int, fraction: float, seed: int, users: list[Any], crash_at: Optional[int] = None
) -> dict[str, Any]:
    """One run with faults (and its numbers); the caller provides the app, the test client and users."""
    faults = Faults(fraction, seed, crash_at) if fraction or crash_at else None
    original = faults.install() if faults else None
    started = time.perf_counter()
    runner = Run(app, client, faults)
    try:
        ids = runner.run(count, users)
        result = runner.verdict(ids)
    finally:
        runner.close()
        if original is not None:
            import botocore.client

            botocore.client.BaseClient._make_api_call = original
    result.update(applications=count, seconds=time.perf_counter() - started,
                  injected=faults.injected if faults else 0, app_calls=faults.calls if faults else 0)
    return result


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py): the
#: program's own steps (a baseline, a faulty run, the figures). Which fault paths a run takes depends on its
#: count; the harness's are proven by tests/test_faults.py (thirty applications at 10 %, and a crash before
#: each AWS call of an application's life), so the smoke runs two faulty applications, not six (~2 s of CPU
#: each).
SMOKE_ARGS = ['--applications', '2', '--baseline', '1']


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--baseline", type=int, default=None,
                        help="applications of the no-fault baseline (default: a tenth of --applications, at least 10)")
    args = parser.parse_args(argv)
    baseline_count = args.baseline if args.baseline is not None else max(10, args.applications // 10)
    header(f"{args.applications} applications with {args.fraction:.0%} of the app's AWS calls failing")

    import logging

    from tests.support.aws import provisioned_environment

    for name in [key for key in os.environ if key.startswith(("AWS_", "MOTO"))]:
        del os.environ[name]
    provisioned_environment()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.path.insert(0, str(ROOT))
    from chalice.test import Client

    import app as app_module  # noqa: E402
    from tests.support.identities import make_user

    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        users = [make_user() for _ in range(args.applications // 4 + 3)]  # the daily limit is per applicant
        baseline = measure(app_module.app, client, baseline_count, 0.0, args.seed, users)
        faulty = measure(app_module.app, client, args.applications, args.fraction, args.seed, users)
    for label, result in (("no faults (baseline)", baseline), (f"{args.fraction:.0%} faults", faulty)):
        per_app = result["seconds"] / result["applications"]
        print(f"\n{label}: {result['applications']} applications in {result['seconds']:.1f} s ({per_app:.2f} s each)")
        print(f"  final states {result['states']}; problems: {len(result['problems'])}")
        for problem in result["problems"][:10]:
            print(f"    {problem}")
        print(f"  app AWS calls {result['app_calls']}, failed by injection {result['injected']}; "
              f"client REST retries {result['rest_retries']}, stream retries {result['stream_retries']}, "
              f"queue messages to a DLQ {result['queue_dlq']} "
              f"(redriven {result['redriven_from_dlq']}), duplicate publishes {result['duplicate_publishes']}")
    ratio = (faulty["seconds"] / faulty["applications"]) / (baseline["seconds"] / baseline["applications"])
    print(f"\ntime per application with faults / without: {ratio:.2f}")
    return 1 if faulty["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
