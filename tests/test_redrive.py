"""A message that keeps failing reaches the DLQ after maxReceiveCount; the redrive brings it back."""
from __future__ import annotations

import json
import os

import boto3

from scripts.redrive import redrive
from tests.support.flows import wait_for


def test_poison_message_reaches_the_dlq_and_redrive_returns_it():
    sqs = boto3.client("sqs")
    queue = os.environ["ADDRESS_CHECK_QUEUE_NAME"]
    dlq = os.environ["ADDRESS_CHECK_DLQ_NAME"]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    max_receives = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
    sqs.purge_queue(QueueUrl=url)  # other tests' submissions may be waiting there
    sqs.purge_queue(QueueUrl=dlq_url)
    body = json.dumps({"application_id": "poison-test"})
    sqs.send_message(QueueUrl=url, MessageBody=body)

    # Each failed receive returns the message to the queue (visibility 0 here instead of 60 s).
    for _ in range(max_receives):
        messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                         VisibilityTimeout=0).get("Messages"))
        assert [m["Body"] for m in messages] == [body]
    assert not sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages")

    moved = redrive(sqs, queue, dlq, limit=10)
    assert moved == 1
    assert sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    back = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in back] == [body]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=back[0]["ReceiptHandle"])
