"""The pumps deliver events to a Chalice app's unchanged handlers, with Lambda semantics.

Each test defines a throwaway Chalice app against resources it creates in an
in-process moto server, builds the pumps from the app's own registrations
(exactly what the local stack does) and waits for the handler by polling
against a deadline -- never a fixed sleep.
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chalice import Chalice

from devstack.pump_wiring import PumpFactory, WiringError, start_pumps, stop_pumps
from devstack.pumps import Pump, failed_items
from devstack.testing import running_moto
from tests.support.deadlines import EVENT_S

DEADLINE = EVENT_S  # a pump's delivery; generous for a loaded machine


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.02)
    return result


class Recorder:
    """What the handlers saw, from the pump threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Any] = []

    def add(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self.items)


@pytest.fixture(scope="module")
def aws():
    with running_moto() as local_aws:
        yield local_aws


@pytest.fixture
def name() -> str:
    return f"pump-{uuid.uuid4().hex[:10]}"


@contextlib.contextmanager
def pumping(app: Chalice, aws: Any) -> Iterator[list]:
    pumps = PumpFactory(app, aws.session, aws.endpoint_url, "test").build()
    start_pumps(pumps)
    try:
        yield pumps
    finally:
        stop_pumps(pumps)


def create_queue(aws: Any, name: str, **attributes: str) -> str:
    return aws.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def create_streamed_table(dynamodb: Any, name: str) -> dict:
    """A table keyed by ``pk`` with a NEW_IMAGE stream: its description (``LatestStreamArn``)."""
    return dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]


def queue_counts(aws: Any, url: str) -> tuple[int, int]:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


# --- SQS ------------------------------------------------------------------------------------

def test_sqs_message_reaches_its_handler_as_a_lambda_record_and_is_deleted(aws, name):
    url = create_queue(aws, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_sqs_message(queue=name)
    def handle(event):
        seen.add(event.to_dict())

    aws.client("sqs").send_message(QueueUrl=url, MessageBody='{"n": 1}', MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "test"}})
    with pumping(app, aws):
        wait_until(lambda: len(seen) == 1)
        wait_until(lambda: queue_counts(aws, url) == (0, 0))
    (record,) = seen.items[0]["Records"]
    assert record["body"] == '{"n": 1}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["md5OfBody"] and record["messageId"] and record["receiptHandle"]


def test_batch_item_failures_leave_only_those_messages_on_the_queue(aws, name):
    url = create_queue(aws, name, VisibilityTimeout="1")
    app, batches = Chalice(app_name="pumptest"), Recorder()

    @app.on_sqs_message(queue=name, batch_size=10)
    def handle(event):
        records = list(event)
        batches.add(sorted(record.body for record in records))
        return {"batchItemFailures": [{"itemIdentifier": record.to_dict()["messageId"]}
                                      for record in records if record.body == "bad"]}

    for body in ("good-1", "bad", "good-2"):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)
    with pumping(app, aws):
        wait_until(lambda: len(batches) >= 2)  # the first batch, then "bad" comes back
    assert batches.items[0] == ["bad", "good-1", "good-2"]
    assert all(batch == ["bad"] for batch in batches.items[1:])


def test_a_failing_handler_deletes_nothing_and_the_dlq_gets_the_message(aws, name):
    dlq_url = create_queue(aws, f"{name}-dlq")
    url = create_queue(aws, name, VisibilityTimeout="1", RedrivePolicy=json.dumps({
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:123456789012:{name}-dlq",
        "maxReceiveCount": "2"}))
    app, attempts = Chalice(app_name="pumptest"), Recorder()

    @app.on_sqs_message(queue=name)
    def handle(event):
        attempts.add([record.to_dict()["attributes"]["ApproximateReceiveCount"]
                      for record in event])
        raise RuntimeError("boom")

    aws.client("sqs").send_message(QueueUrl=url, MessageBody="poison")
    with pumping(app, aws):
        wait_until(lambda: queue_counts(aws, dlq_url)[0] == 1)
    assert attempts.items == [["1"], ["2"]]


def test_failed_items_follow_lambda_rules():
    assert failed_items(None, {"a", "b"}) == set()
    assert failed_items({"batchItemFailures": []}, {"a"}) == set()
    assert failed_items({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a", "b"}) == {"a"}
    # An id that is not in the batch fails the whole batch, as in Lambda.
    assert failed_items({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a", "b"}) == {"a", "b"}


# --- S3 ---------------------------------------------------------------------------------------

def test_s3_upload_reaches_the_handler_honouring_prefix_and_suffix(aws, name):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    app, keys = Chalice(app_name="pumptest"), Recorder()

    @app.on_s3_event(bucket=name, prefix="in/", suffix=".jpg")
    def handle(event):
        keys.add((event.key, event.to_dict()["Records"][0]["eventName"]))

    with pumping(app, aws):
        for key in ("out/skip.jpg", "in/skip.txt", "in/my photo.jpg"):
            s3.put_object(Bucket=name, Key=key, Body=b"x")
        wait_until(lambda: len(keys) == 1)
        s3.put_object(Bucket=name, Key="in/second.jpg", Body=b"x")
        wait_until(lambda: len(keys) == 2)
    assert keys.items == [("in/my photo.jpg", "ObjectCreated:Put"),
                          ("in/second.jpg", "ObjectCreated:Put")]


def test_a_failing_s3_handler_is_tried_three_times_then_dropped(aws, name):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    app, attempts = Chalice(app_name="pumptest"), Recorder()

    @app.on_s3_event(bucket=name)
    def handle(event):
        attempts.add(event.key)
        raise RuntimeError("boom")

    with pumping(app, aws) as pumps:
        s3.put_object(Bucket=name, Key="doc.pdf", Body=b"x")
        wait_until(lambda: len(attempts) == 3)
        (pump,) = pumps
        wait_until(lambda: queue_counts(aws, pump.queue_url) == (0, 0))  # dropped
    assert attempts.items == ["doc.pdf"] * 3


def dead_letters(aws: Any, pump: Any) -> list[dict]:
    """Everything in the stage's dead-letter queue (received once, then deleted)."""
    sqs = aws.client("sqs")
    found: list[dict] = []
    while batch := sqs.receive_message(QueueUrl=pump.dead_letter_url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", []):
        found += batch
        sqs.delete_message_batch(QueueUrl=pump.dead_letter_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return found


@contextlib.contextmanager
def built_not_started(app: Chalice, aws: Any) -> Iterator[list]:
    """Pumps wired (notifications and subscriptions in place) but not yet polling."""
    pumps = PumpFactory(app, aws.session, aws.endpoint_url, "test").build()
    try:
        yield pumps
    finally:
        stop_pumps(pumps)


def test_an_undecodable_s3_message_is_set_aside_and_its_batch_still_delivered(aws, name, caplog):
    s3, sqs = aws.client("s3"), aws.client("sqs")
    s3.create_bucket(Bucket=name)
    app, keys = Chalice(app_name="pumptest"), Recorder()

    @app.on_s3_event(bucket=name)
    def handle(event):
        keys.add(event.key)

    with built_not_started(app, aws) as pumps:
        (pump,) = pumps
        sqs.send_message(QueueUrl=pump.queue_url, MessageBody="this is not a notification")
        s3.put_object(Bucket=name, Key="after-the-bad-one.jpg", Body=b"x")
        sqs.send_message(QueueUrl=pump.queue_url, MessageBody='{"Records": [{"no": "s3 key"}]}')
        assert queue_counts(aws, pump.queue_url)[0] >= 3  # one batch holds them all
        start_pumps(pumps)
        wait_until(lambda: keys.items == ["after-the-bad-one.jpg"])
        wait_until(lambda: queue_counts(aws, pump.queue_url) == (0, 0))
        assert pump.is_alive()
    letters = dead_letters(aws, pump)
    assert sorted(m["Body"] for m in letters) == ["this is not a notification",
                                                  '{"Records": [{"no": "s3 key"}]}']
    assert {m["MessageAttributes"]["source"]["StringValue"] for m in letters} == {f"s3:{name}"}
    assert "moved to the dead-letter queue" in caplog.text


def test_an_undecodable_sns_message_is_set_aside_and_the_pump_goes_on(aws, name, caplog):
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_sns_message(topic=name)
    def handle(event):
        seen.add(event.message)

    with built_not_started(app, aws) as pumps:
        (pump,) = pumps
        sqs.send_message(QueueUrl=pump.queue_url, MessageBody="{not json")
        sns.publish(TopicArn=topic_arn, Message="good")
        start_pumps(pumps)
        wait_until(lambda: seen.items == ["good"])
        wait_until(lambda: queue_counts(aws, pump.queue_url) == (0, 0))
        sns.publish(TopicArn=topic_arn, Message="still delivering")
        wait_until(lambda: seen.items == ["good", "still delivering"])
    (letter,) = dead_letters(aws, pump)
    assert letter["Body"] == "{not json"
    assert letter["MessageAttributes"]["error"]["StringValue"].startswith("JSONDecodeError")


# --- SNS ---------------------------------------------------------------------------------------

def test_sns_publish_reaches_the_handler_as_a_lambda_sns_event(aws, name):
    topic_arn = aws.client("sns").create_topic(Name=name)["TopicArn"]
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_sns_message(topic=name)
    def handle(event):
        seen.add(event)

    with pumping(app, aws):
        aws.client("sns").publish(TopicArn=topic_arn, Message='{"state": "APPROVED"}',
                                  Subject="changed", MessageAttributes={
                                      "event_type": {"DataType": "String",
                                                     "StringValue": "application.approved"}})
        wait_until(lambda: len(seen) == 1)
    event = seen.items[0]
    assert event.message == '{"state": "APPROVED"}'
    assert event.subject == "changed"
    (record,) = event.to_dict()["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == topic_arn
    assert record["Sns"]["Type"] == "Notification"
    assert record["Sns"]["MessageAttributes"]["event_type"] == {
        "Type": "String", "Value": "application.approved"}


# --- DynamoDB streams --------------------------------------------------------------------------

def test_stream_records_reach_the_handler_in_order(aws, name):
    dynamodb = aws.client("dynamodb")
    table = create_streamed_table(dynamodb, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], batch_size=10)
    def handle(event):
        for record in event:
            seen.add(record)

    with pumping(app, aws):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "b"}, "n": {"N": "2"}})
        wait_until(lambda: len(seen) == 2)
    first, second = seen.items
    assert first.event_name == "INSERT"
    assert first.new_image == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert first.keys == {"pk": {"S": "a"}}
    assert first.event_source_arn == table["LatestStreamArn"]
    assert first.table_name == name
    assert second.new_image["pk"] == {"S": "b"}
    assert isinstance(first.to_dict()["dynamodb"]["ApproximateCreationDateTime"], int)


def test_a_failing_stream_batch_is_retried_and_blocks_the_shard(aws, name, monkeypatch):
    monkeypatch.setattr("devstack.pumps.STREAM_BACKOFF", (0.05,))
    dynamodb = aws.client("dynamodb")
    table = create_streamed_table(dynamodb, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], batch_size=1)
    def handle(event):
        (record,) = list(event)
        seen.add(record.keys["pk"]["S"])
        if len(seen) < 3:
            raise RuntimeError("transient")

    dynamodb.put_item(TableName=name, Item={"pk": {"S": "first"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "second"}})
    with pumping(app, aws):
        wait_until(lambda: len(seen) == 4)
    assert seen.items == ["first", "first", "first", "second"]


def test_a_stream_batch_reporting_a_failed_item_is_retried_from_that_item(aws, name, monkeypatch):
    """ReportBatchItemFailures (the outbox names the first event SNS did not take): the records from
    the one named on are delivered again, in order; the ones before it are not."""
    monkeypatch.setattr("devstack.pumps.STREAM_BACKOFF", (0.05,))
    dynamodb = aws.client("dynamodb")
    table = create_streamed_table(dynamodb, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], batch_size=10)
    def handle(event):
        records = list(event)
        seen.add([record.keys["pk"]["S"] for record in records])
        if len(seen) == 1:
            return {"batchItemFailures": [{"itemIdentifier": records[1].sequence_number}]}
        return {"batchItemFailures": []}

    for key in ("a", "b", "c"):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": key}})
    with pumping(app, aws):
        wait_until(lambda: len(seen) == 2)
    assert seen.items == [["a", "b", "c"], ["b", "c"]]


def test_a_partial_batch_response_naming_no_record_of_the_batch_retries_it_whole():
    from devstack.pumps import stream_retry_from

    records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (10, 11, 12)]
    assert stream_retry_from(None, records) is None
    assert stream_retry_from({"batchItemFailures": []}, records) is None
    assert stream_retry_from({"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]},
                             records) == 1
    assert stream_retry_from({"batchItemFailures": [{"itemIdentifier": "99"}]}, records) == 0
    assert stream_retry_from({"batchItemFailures": [{"itemIdentifier": None}]}, records) == 0


# --- wiring ------------------------------------------------------------------------------------

def test_a_handler_on_a_missing_queue_is_a_loud_wiring_error(aws, name):
    app = Chalice(app_name="pumptest")

    @app.on_sqs_message(queue=name)
    def handle(event):
        pass

    with pytest.raises(WiringError, match=name):
        PumpFactory(app, aws.session, aws.endpoint_url, "test").build()


# --- concurrency --------------------------------------------------------------------------------

@contextlib.contextmanager
def pumping_concurrently(app: Chalice, aws: Any, concurrency: int) -> Iterator[list]:
    pumps = PumpFactory(app, aws.session, aws.endpoint_url, "test", concurrency=concurrency).build()
    start_pumps(pumps)
    try:
        yield pumps
    finally:
        stop_pumps(pumps)


def test_sqs_messages_are_handled_concurrently_with_concurrency(aws, name):
    """Two handlers meet at a barrier: that only happens if they run at the same time."""
    url = create_queue(aws, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()
    barrier = threading.Barrier(2, timeout=DEADLINE)

    @app.on_sqs_message(queue=name, batch_size=1)
    def handle(event):
        barrier.wait()
        seen.add([record.body for record in event])

    for body in ("one", "two"):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)
    with pumping_concurrently(app, aws, 2):
        wait_until(lambda: len(seen) == 2)
        wait_until(lambda: queue_counts(aws, url) == (0, 0))
    assert sorted(body for batch in seen.items for body in batch) == ["one", "two"]


class _CountingReceives:
    """An SQS client that counts the receives in flight at once (the rest passes through)."""

    def __init__(self, sqs: Any) -> None:
        self._sqs, self._lock = sqs, threading.Lock()
        self.in_flight = self.most_at_once = self.calls = 0

    def receive_message(self, **kwargs: Any) -> dict:
        with self._lock:
            self.in_flight += 1
            self.calls += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            return self._sqs.receive_message(**kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._sqs, attribute)


def test_an_idle_pumps_workers_take_turns_to_listen_and_a_burst_still_gets_them_all(aws, name):
    """Eight workers each long-polling cost an idle stack about half a core (72 receives a second):
    one listens at a time, and hands the turn on when it receives, so a burst still runs concurrently."""
    url = create_queue(aws, name)
    app, seen = Chalice(app_name="pumptest"), Recorder()
    barrier = threading.Barrier(3, timeout=DEADLINE)

    @app.on_sqs_message(queue=name, batch_size=1)
    def handle(event):
        barrier.wait()  # three handlers meet here: all at once, or never
        seen.add([record.body for record in event])

    pumps = PumpFactory(app, aws.session, aws.endpoint_url, "test", concurrency=8).build()
    counting = pumps[0].sqs = _CountingReceives(pumps[0].sqs)
    start_pumps(pumps)
    try:
        wait_until(lambda: counting.calls >= 3)  # three long polls in turn: about three seconds idle
        assert counting.most_at_once == 1
        for body in ("one", "two", "three"):
            aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)
        wait_until(lambda: len(seen) == 3)
    finally:
        stop_pumps(pumps)
    assert sorted(body for batch in seen.items for body in batch) == ["one", "three", "two"]


def test_an_idle_s3_pump_listens_with_one_worker_at_a_time(aws, name):
    aws.client("s3").create_bucket(Bucket=name)
    app, keys = Chalice(app_name="pumptest"), Recorder()

    @app.on_s3_event(bucket=name)
    def handle(event):
        keys.add(event.key)

    pumps = PumpFactory(app, aws.session, aws.endpoint_url, "test", concurrency=8).build()
    counting = pumps[0].sqs = _CountingReceives(pumps[0].sqs)
    start_pumps(pumps)
    try:
        wait_until(lambda: counting.calls >= 3)
        aws.client("s3").put_object(Bucket=name, Key="after-the-quiet.jpg", Body=b"x")
        wait_until(lambda: len(keys) == 1)
    finally:
        stop_pumps(pumps)
    assert counting.most_at_once == 1 and keys.items == ["after-the-quiet.jpg"]


def test_a_parallel_stream_keeps_each_keys_order_and_delivers_keys_concurrently(aws, name):
    dynamodb = aws.client("dynamodb")
    table = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "n", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    keys = [f"key-{index}" for index in range(8)]
    app, seen, sub_batches = Chalice(app_name="pumptest"), Recorder(), Recorder()
    overlap = threading.Event()
    running = [0]
    lock = threading.Lock()

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], batch_size=100)
    def handle(event):
        with lock:
            running[0] += 1
            if running[0] > 1:
                overlap.set()
        overlap.wait(DEADLINE)  # hold each sub-batch until another runs beside it
        records = list(event)
        sub_batches.add({record.keys["pk"]["S"] for record in records})
        for record in records:
            seen.add((record.keys["pk"]["S"], int(record.keys["n"]["N"])))
        with lock:
            running[0] -= 1

    for n in range(1, 4):
        for key in keys:
            dynamodb.put_item(TableName=name, Item={"pk": {"S": key}, "n": {"N": str(n)}})
    with pumping_concurrently(app, aws, 4):
        wait_until(lambda: len(seen) == 3 * len(keys))
    assert overlap.is_set()
    for key in keys:
        assert [n for k, n in seen.items if k == key] == [1, 2, 3]
    batches = sub_batches.items
    assert all(not (a & b) for i, a in enumerate(batches) for b in batches[i + 1:]), \
        "a key was split across concurrent sub-batches"


class _Delivering(Pump):
    """A pump whose one delivery runs until the test lets it finish."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__(SimpleNamespace(name="slow-handler"), "a queue")
        self.release, self.started, self.delivered = release, threading.Event(), False

    def poll(self) -> None:
        if self.delivered:
            self._stopping.wait(0.05)
            return
        self.started.set()
        self.release.wait(DEADLINE)
        self.delivered = True


def test_stopping_lets_a_delivery_under_way_finish_however_long_it_takes():
    # A handler reading a passport runs for many seconds on a loaded machine: the stop waits for
    # it (bounded only by the deadline scale), it is not cut off after a fixed few seconds.
    release = threading.Event()
    pump = _Delivering(release)
    pump.start()
    assert pump.started.wait(DEADLINE)
    stopper = threading.Thread(target=stop_pumps, args=([pump],))
    stopper.start()
    wait_until(lambda: pump.stopping)
    assert stopper.is_alive() and not pump.delivered  # still waiting for the delivery
    release.set()  # the delivery ends; the stop returns at once
    stopper.join(DEADLINE)
    assert not stopper.is_alive() and pump.delivered and not pump.is_alive()


def test_a_pump_still_delivering_at_the_deadline_is_named_in_the_log(caplog):
    release = threading.Event()
    pump = _Delivering(release)
    pump.start()
    assert pump.started.wait(DEADLINE)
    try:
        with caplog.at_level("ERROR", logger="devstack"):
            stop_pumps([pump], timeout=0.2)
        assert pump.is_alive()
        assert "devstack-pump-slow-handler (a queue) was still delivering" in caplog.text
    finally:
        release.set()
        pump.join(DEADLINE)
