"""Pumps: deliver S3, SQS, SNS and DynamoDB stream events to the app's handlers.

``chalice local`` serves REST only. The pumps fill the gap by reading the
app's own registrations (``app.event_sources``) and calling the registered
handler with the event Lambda would send, with Lambda's delivery semantics:

* SQS (event source mapping): batches up to ``batch_size``; success deletes
  the batch; ``{"batchItemFailures": [...]}`` deletes all but those items
  (the deployment enables ReportBatchItemFailures); an exception deletes
  nothing, so messages return after the visibility timeout and moto moves
  them to the DLQ after ``maxReceiveCount``.
* S3 and SNS (asynchronous invocation): delivered through an internal devstack
  SQS queue (moto delivers bucket notifications and topic messages to SQS);
  a failing handler is retried twice more, then the event is logged and dropped.
  A message that is not a notification at all is logged and moved to the
  stage's ``devstack-<stage>-dead-letters`` queue; the rest of its batch goes on.
* DynamoDB streams (event source mapping): batches in shard order; a failing
  batch is retried with backoff and blocks its shard until it succeeds; a
  ``{"batchItemFailures": [...]}`` response retries from the first record it
  names (ReportBatchItemFailures, as the deployment configures). With
  concurrency > 1 a batch is split by partition key and its parts delivered
  concurrently (Lambda's ParallelizationFactor): per-key order is kept.

Which pump each of the app's event sources gets, and starting and stopping them:
devstack/pump_wiring.py.

Every pump is a daemon thread that polls with short waits (events reach their
handler within a few hundred milliseconds); nothing a handler does can kill it.
A pump's several workers take turns to listen: one worker at a time waits in
SQS's long poll, and hands the listening on as soon as it receives messages,
so a busy queue still gets every worker at once while an idle stack makes one
request per pump per long poll, not one per worker (8 times fewer: an idle
stack cost moto and the pumps about half a core).
"""
from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import json
import logging
import threading
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from .runtime import Invoker, invoke_async

log = logging.getLogger("devstack")

LONG_POLL_SECONDS = 1  # bounds how long a pump takes to notice stop()
STREAM_POLL_SECONDS = 0.1  # between polls of a stream that just delivered records
STREAM_IDLE_POLL_SECONDS = 0.4  # the longest wait, reached by doubling while the stream stays quiet
STREAM_BACKOFF = (0.5, 1.0, 2.0, 5.0)



# --- the pump thread -----------------------------------------------------------------

class Pump(threading.Thread):
    """A daemon thread that calls ``poll()`` until stopped and survives any error.

    With ``workers`` > 1 that many threads poll side by side, as Lambda runs
    several pollers (and so several concurrent invocations) for a queue;
    ``poll()`` must then be safe to run concurrently.
    """

    def __init__(self, invoker: Invoker, source: str, workers: int = 1) -> None:
        super().__init__(name=f"devstack-pump-{invoker.name}", daemon=True)
        self.invoker = invoker
        self.source = source
        self.workers = max(1, workers)
        self._stopping = threading.Event()
        # One worker at a time long-polls (see the module's docstring).
        self._listening = threading.Semaphore(1)
        # `./dev pause <handler>`: what disabling an event source mapping does in AWS (the
        # messages wait in their queue); only SqsPump honours it.
        self.enabled = threading.Event()
        self.enabled.set()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        helpers = [threading.Thread(target=self._poll_until_stopped, daemon=True,
                                    name=f"{self.name}-{index}")
                   for index in range(1, self.workers)]
        for helper in helpers:
            helper.start()
        self._poll_until_stopped()
        for helper in helpers:
            helper.join()

    def _poll_until_stopped(self) -> None:
        while not self.stopping:
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a pump must outlive any failure
                if self.stopping:
                    return
                log.exception("devstack: pump %s for %s failed; retrying in 1 s",
                              self.name, self.source)
                self._stopping.wait(1.0)

    def poll(self) -> None:
        raise NotImplementedError

    def _listen(self, sqs: Any, queue_url: str, max_messages: int) -> list[dict]:
        """A long poll of the queue by this worker once no other worker of the pump is in one; nothing
        when the pump stops meanwhile. The turn is handed on as soon as the receive returns."""
        while not self._listening.acquire(timeout=LONG_POLL_SECONDS):
            if self.stopping:
                return []
        try:
            if self.stopping:
                return []
            return _receive(sqs, queue_url, max_messages, LONG_POLL_SECONDS)
        finally:
            self._listening.release()

    def describe(self) -> str:
        return f"{self.source} -> {self.invoker.name}"


def _receive(sqs: Any, queue_url: str, max_messages: int, wait_seconds: int) -> list[dict]:
    response = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
    return response.get("Messages", [])


def _delete(sqs: Any, queue_url: str, messages: Iterable[dict]) -> None:
    entries = [{"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
               for index, message in enumerate(messages)]
    for start in range(0, len(entries), 10):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries[start:start + 10])


# --- SQS ------------------------------------------------------------------------------

def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """boto3's message attribute -> the camelCase shape Lambda puts in SQS records."""
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [],
                                 "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as a record of the Lambda SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _message_attribute(value) for name, value
                              in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_items(result: Any, message_ids: set[str]) -> set[str]:
    """Message ids to keep, from a handler's partial batch response.

    Like Lambda, a response naming an id that is not in the batch (or an empty
    one) fails the whole batch.
    """
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    failed = {item.get("itemIdentifier") for item in result["batchItemFailures"]}
    if not failed <= message_ids:
        log.error("devstack: batchItemFailures names unknown ids %s; failing the whole batch",
                  sorted(str(item) for item in failed - message_ids))
        return set(message_ids)
    return failed


class SqsPump(Pump):
    """An SQS event source mapping with ReportBatchItemFailures."""

    def __init__(self, invoker: Invoker, sqs: Any, queue_url: str, queue_arn: str,
                 region: str, batch_size: int, workers: int = 1) -> None:
        super().__init__(invoker, f"sqs:{queue_arn.rsplit(':', 1)[-1]}", workers)
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.batch_size = max(1, batch_size)

    def _receive_batch(self) -> list[dict]:
        messages = self._listen(self.sqs, self.queue_url, min(10, self.batch_size))
        while messages and len(messages) < self.batch_size:
            more = _receive(self.sqs, self.queue_url,
                            min(10, self.batch_size - len(messages)), 0)
            if not more:
                break
            messages += more
        return messages

    def poll(self) -> None:
        if not self.enabled.is_set():  # paused: receive nothing, as a disabled mapping
            self._stopping.wait(0.1)
            return
        messages = self._receive_batch()
        if not messages or self.stopping:
            return
        if not self.enabled.is_set():  # paused during the long poll: put them back at once
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(messages)])
            return
        event = {"Records": [sqs_record(message, self.queue_arn, self.region)
                             for message in messages]}
        try:
            result = self.invoker(event)
        except Exception as error:  # noqa: BLE001
            self.invoker.log_failure(
                f"{len(messages)} message(s) from {self.source}; left on the queue for "
                "redelivery after the visibility timeout (then the DLQ)", error)
            return
        keep = failed_items(result, {message["MessageId"] for message in messages})
        if keep:
            log.warning("devstack: %s reported %d failed item(s); left on the queue",
                        self.invoker.name, len(keep))
        _delete(self.sqs, self.queue_url,
                (message for message in messages if message["MessageId"] not in keep))


# --- asynchronous invocations through an internal queue (S3, SNS) ----------------------

class AsyncQueuePump(Pump):
    """Reads an internal devstack queue and invokes asynchronously: 3 attempts, then drop.

    A message that cannot be turned into an event (not JSON, not the shape
    moto sends) is moved to ``dead_letter_url`` and logged: it must neither
    stop the rest of its batch nor come back forever.
    """

    def __init__(self, invoker: Invoker, source: str, sqs: Any, queue_url: str,
                 dead_letter_url: str | None = None, workers: int = 1) -> None:
        super().__init__(invoker, source, workers)
        self.sqs = sqs
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url
        # Several pollers take a few messages each, so none sits behind a slow one.
        self._per_receive = 10 if self.workers == 1 else 2

    def to_event(self, body: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def poll(self) -> None:
        for message in self._listen(self.sqs, self.queue_url, self._per_receive):
            if self.stopping:
                return
            try:
                event = self.to_event(message["Body"])
            except Exception as error:  # noqa: BLE001 - one bad message must not stop the pump
                self._set_aside(message, error)
                continue
            if event is not None:
                invoke_async(self.invoker, event, self.source, self._stopping)
            _delete(self.sqs, self.queue_url, [message])

    def _set_aside(self, message: dict[str, Any], error: Exception) -> None:
        """Move an undecodable message to the dead-letter queue, loudly."""
        log.error("devstack: %s: message %s cannot be turned into a Lambda event (%s: %s); "
                  "moved to the dead-letter queue %s: %s", self.source, message["MessageId"],
                  type(error).__name__, error, self.dead_letter_url or "(none: dropped)",
                  message["Body"][:2000])
        if self.dead_letter_url:
            self.sqs.send_message(
                QueueUrl=self.dead_letter_url, MessageBody=message["Body"] or "(empty)",
                MessageAttributes={
                    "source": {"DataType": "String", "StringValue": self.source},
                    "handler": {"DataType": "String", "StringValue": self.invoker.name},
                    "error": {"DataType": "String",
                              "StringValue": f"{type(error).__name__}: {error}"[:1000]}})
        _delete(self.sqs, self.queue_url, [message])


def s3_record(record: dict[str, Any]) -> dict[str, Any]:
    """moto's S3 notification record, completed to what Lambda receives.

    moto percent-encodes ``/`` in keys; S3 does not (it encodes like a form:
    space as ``+``), so keys are re-encoded the S3 way.
    """
    record = json.loads(json.dumps(record))
    s3_object = record["s3"]["object"]
    s3_object["key"] = quote_plus(unquote_plus(s3_object["key"]), safe="/")
    s3_object.setdefault("sequencer", f"{int(dt.datetime.now().timestamp() * 1e6):X}")
    record.setdefault("userIdentity", {"principalId": "AWS:DEVSTACK"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault("responseElements", {"x-amz-request-id": "DEVSTACK",
                                           "x-amz-id-2": "DEVSTACK"})
    return record


class S3Pump(AsyncQueuePump):
    def to_event(self, body: str) -> dict[str, Any] | None:
        notification = json.loads(body)
        if notification.get("Event") == "s3:TestEvent":
            return None  # S3 sends this when a notification configuration is saved
        return {"Records": [s3_record(record) for record in notification["Records"]]}


def sns_record(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The SNS-to-SQS JSON envelope as a record of the Lambda SNS event."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope.get("Type", "Notification"),
            "MessageId": envelope["MessageId"],
            "TopicArn": envelope["TopicArn"],
            "Subject": envelope.get("Subject"),
            "Message": envelope["Message"],
            "Timestamp": envelope["Timestamp"],
            "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Signature": envelope.get("Signature", ""),
            "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "MessageAttributes": envelope.get("MessageAttributes", {}),
        },
    }


class SnsPump(AsyncQueuePump):
    def __init__(self, invoker: Invoker, source: str, sqs: Any, queue_url: str,
                 subscription_arn: str, dead_letter_url: str | None = None,
                 workers: int = 1) -> None:
        super().__init__(invoker, source, sqs, queue_url, dead_letter_url, workers)
        self.subscription_arn = subscription_arn

    def to_event(self, body: str) -> dict[str, Any] | None:
        return {"Records": [sns_record(json.loads(body), self.subscription_arn)]}


# --- DynamoDB streams ----------------------------------------------------------------

def _lambda_json(value: Any) -> Any:
    """boto3 types back to the JSON Lambda sends: epoch seconds, base64 binaries."""
    if isinstance(value, dict):
        return {key: _lambda_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lambda_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, set):
        return [_lambda_json(item) for item in value]
    return value


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    shaped = _lambda_json(record)
    shaped.update(eventVersion="1.1", eventSource="aws:dynamodb", awsRegion=region,
                  eventSourceARN=stream_arn)
    return shaped


class DynamoDBStreamPump(Pump):
    """Reads every shard from TRIM_HORIZON; a failed batch blocks its shard (Lambda).

    With ``parallelization`` > 1 a batch is split by partition key into that
    many sub-batches delivered concurrently, as Lambda's ParallelizationFactor
    does: records of one key stay in order in one sub-batch, and the shard
    moves on only when every sub-batch has succeeded. (moto gives a table one
    shard, where DynamoDB would give a busy table several.)
    """

    def __init__(self, invoker: Invoker, streams: Any, stream_arn: str, region: str,
                 batch_size: int, parallelization: int = 1) -> None:
        table = stream_arn.split(":table/")[-1].split("/")[0]
        super().__init__(invoker, f"dynamodb-stream:{table}")
        self.streams = streams
        self.stream_arn = stream_arn
        self.region = region
        self.batch_size = min(max(1, batch_size), 1000)
        self.parallelization = max(1, parallelization)
        self._iterators: dict[str, str | None] = {}
        self._partition_key: str | None = None
        self._idle_wait = STREAM_POLL_SECONDS
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def _refresh_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)
        for key in description["StreamDescription"].get("KeySchema", []):
            if key["KeyType"] == "HASH":
                self._partition_key = key["AttributeName"]
        for shard in description["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def poll(self) -> None:
        if not self._iterators or None in self._iterators.values():
            self._iterators = {key: value for key, value in self._iterators.items()
                               if value is not None}
            self._refresh_shards()
        delivered = False
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = response.get("Records", [])
            if records and not self._deliver(records):
                return  # stopping while the shard was blocked
            delivered = delivered or bool(records)
            self._iterators[shard_id] = response.get("NextShardIterator")
        if delivered:
            self._idle_wait = STREAM_POLL_SECONDS
        else:
            self._stopping.wait(self._idle_wait)
            self._idle_wait = min(self._idle_wait * 2, STREAM_IDLE_POLL_SECONDS)

    def _deliver(self, records: list[dict]) -> bool:
        """Deliver one batch (split by partition key when parallel); False if stopping."""
        groups = self._split(records)
        if len(groups) == 1:
            return self._deliver_in_order(groups[0])
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.parallelization, thread_name_prefix=f"{self.name}-batch")
        return all(list(self._pool.map(self._deliver_in_order, groups)))

    def _split(self, records: list[dict]) -> list[list[dict]]:
        if self.parallelization == 1 or self._partition_key is None:
            return [records]
        groups: dict[int, list[dict]] = {}
        for record in records:
            key = json.dumps(record["dynamodb"]["Keys"].get(self._partition_key), sort_keys=True,
                             default=str)
            groups.setdefault(zlib.crc32(key.encode()) % self.parallelization, []).append(record)
        return list(groups.values())

    def stop(self) -> None:
        super().stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver_in_order(self, records: list[dict]) -> bool:
        """Deliver until the handler has taken every record; a failure retries (blocking the
        shard) the whole batch, a partial batch response only from the first record it names."""
        attempt = 0
        while not self.stopping:
            event = {"Records": [stream_record(record, self.stream_arn, self.region)
                                 for record in records]}
            try:
                result = self.invoker(event)
            except Exception as error:  # noqa: BLE001
                delay = STREAM_BACKOFF[min(attempt, len(STREAM_BACKOFF) - 1)]
                attempt += 1
                self.invoker.log_failure(
                    f"{len(records)} record(s) from {self.source} (attempt {attempt}; the "
                    f"shard is blocked until it succeeds; retrying in {delay} s)", error)
                self._stopping.wait(delay)
                continue
            retry_from = stream_retry_from(result, records)
            if retry_from is None:
                return True
            delay = STREAM_BACKOFF[min(attempt, len(STREAM_BACKOFF) - 1)]
            attempt += 1
            log.warning("devstack: %s reported a failed item in %d record(s) from %s (attempt %d); "
                        "retrying from record %d in %s s, the shard blocked until then",
                        self.invoker.name, len(records), self.source, attempt, retry_from, delay)
            records = records[retry_from:]
            self._stopping.wait(delay)
        return False


def stream_retry_from(result: Any, records: list[dict]) -> int | None:
    """Where a stream batch is retried from, by the handler's partial batch response, or None.

    The deployment enables ReportBatchItemFailures on the stream mappings: Lambda
    then retries from the lowest sequence number named, and treats a response
    naming a record not in the batch (or an empty identifier) as a failure of
    the whole batch. Without honouring it, the records a handler reported as
    failed (the outbox's events SNS did not take) were lost locally.
    """
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return None
    positions = {str(record["dynamodb"].get("SequenceNumber")): index
                 for index, record in enumerate(records)}
    named = [item.get("itemIdentifier") if isinstance(item, dict) else None
             for item in result["batchItemFailures"]]
    if any(str(name) not in positions for name in named if name is not None) or None in named:
        log.error("devstack: batchItemFailures names %s, not all records of the batch; "
                  "retrying the whole batch", named)
        return 0
    return min(positions[str(name)] for name in named)
