"""The stack's queues and their dead-letter queues (SQS), for the operators' view and redrive."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from ..services.ports import Backoff, CheckRequests, QueueAdmin, QueueStatus

BATCH = 10  # SQS's most per receive
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


class SqsQueueAdmin(QueueAdmin):
    def __init__(self, sqs: Any, queues: Mapping[str, str], dead_letter_queues: Optional[Mapping[str, str]] = None):
        """``queues``: the name an operator sees -> a work queue's SQS name; its dead-letter queue is the one its
        RedrivePolicy names (so nothing here can disagree with the stack). ``dead_letter_queues``: name -> a
        dead-letter queue's SQS name; those no work queue redrives to are listed on their own."""
        self.sqs = sqs
        self.queues = dict(queues)
        self.dead_letter_queues = dict(dead_letter_queues or {})
        self._urls: dict[str, str] = {}

    def _url(self, queue_name: str) -> str:
        if queue_name not in self._urls:
            self._urls[queue_name] = self.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        return self._urls[queue_name]

    def _attributes(self, queue_name: str, names: list[str]) -> dict[str, str]:
        reply = self.sqs.get_queue_attributes(QueueUrl=self._url(queue_name), AttributeNames=names)
        return dict(reply.get("Attributes") or {})

    @staticmethod
    def _dead_letter_target(attributes: Mapping[str, str]) -> Optional[str]:
        policy = attributes.get("RedrivePolicy")
        if not policy:
            return None
        arn = json.loads(policy).get("deadLetterTargetArn") or ""
        return arn.rsplit(":", 1)[-1] or None

    def _waiting(self, queue_name: str) -> int:
        attributes = self._attributes(queue_name, COUNTS)
        return sum(int(attributes.get(name, 0)) for name in COUNTS)

    def status(self) -> list[QueueStatus]:
        found, targets = [], set()
        for name, queue in self.queues.items():
            attributes = self._attributes(queue, [*COUNTS, "RedrivePolicy"])
            dlq = self._dead_letter_target(attributes)
            if dlq:
                targets.add(dlq)
            found.append(
                QueueStatus(
                    name,
                    int(attributes[COUNTS[0]]),
                    int(attributes[COUNTS[1]]),
                    self._waiting(dlq) if dlq else 0,
                    queue,
                    dlq,
                )
            )
        for name, dlq in self.dead_letter_queues.items():
            if dlq not in targets:
                found.append(QueueStatus(name, None, None, self._waiting(dlq), None, dlq))
        return found

    def redrive(self, name: str, max_messages: int = 1000) -> int:
        """Receive from the DLQ, send to the queue with the same body and attributes, then delete.

        A crash between send and delete sends a message twice: the handlers are
        idempotent, so that is safe, while losing one is not.
        """
        queue = self.queues[name]
        dlq = self._dead_letter_target(self._attributes(queue, ["RedrivePolicy"]))
        if dlq is None:
            raise KeyError(name)
        source, target = self._url(dlq), self._url(queue)
        moved = 0
        while moved < max_messages:
            received = self.sqs.receive_message(
                QueueUrl=source,
                MaxNumberOfMessages=min(BATCH, max_messages - moved),
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            for message in received:
                extra = {"MessageAttributes": message["MessageAttributes"]} if message.get("MessageAttributes") else {}
                self.sqs.send_message(QueueUrl=target, MessageBody=message["Body"], **extra)
                self.sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved


def queue_url(sqs: Any, queue_arn_or_name: str, account_id: str = "") -> str:
    """A queue's URL from its ARN (``arn:aws:sqs:<region>:<account>:<name>``) with no call: the client's
    endpoint, the account and the name (the form SQS's own URLs take, and the local AWS's)."""
    parts = queue_arn_or_name.split(":")
    account, name = (parts[4], parts[5]) if len(parts) == 6 else (account_id, queue_arn_or_name)
    return f"{sqs.meta.endpoint_url.rstrip('/')}/{account}/{name}"


class SqsBackoff(Backoff):
    """A throttled message is made invisible for longer: ChangeMessageVisibility on its receipt."""

    def __init__(self, sqs: Any):
        self.sqs = sqs

    def retry_later(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=queue_url(self.sqs, queue_arn), ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


class SqsCheckRequests(CheckRequests):
    """Asks for an identity check with the message S3 itself sends (an ObjectCreated notification of the
    documents bucket, ``eventName`` ``ObjectCreated:Redrive``), so one handler and one rate serve both."""

    def __init__(self, sqs: Any, queue_name: str, bucket: str):
        self.sqs = sqs
        self.queue_name = queue_name
        self.bucket = bucket
        self._url: str | None = None

    def request_identity_check(self, key: str, version: str | None = None) -> None:
        from urllib.parse import quote_plus

        if self._url is None:
            self._url = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        s3_object: dict[str, Any] = {"key": quote_plus(key, safe="/")}
        if version:
            s3_object["versionId"] = version
        record = {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Redrive",
            "s3": {"bucket": {"name": self.bucket}, "object": s3_object},
        }
        self.sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps({"Records": [record]}))
