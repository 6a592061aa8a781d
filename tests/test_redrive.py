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


def test_every_queue_with_a_dlq_is_found_from_its_redrive_policy():
    """`./dev redrive` needs no list of queues: each <X>_QUEUE_NAME whose queue has a RedrivePolicy."""
    from scripts.redrive import queues_with_dlq

    found = {label: (queue, dlq) for label, queue, dlq in queues_with_dlq(boto3.client("sqs"), dict(os.environ))}
    assert found["ADDRESS_CHECK"] == (os.environ["ADDRESS_CHECK_QUEUE_NAME"], os.environ["ADDRESS_CHECK_DLQ_NAME"])
    assert found["SANCTIONS_SCREENING"] == (os.environ["SANCTIONS_SCREENING_QUEUE_NAME"],
                                            os.environ["SANCTIONS_SCREENING_DLQ_NAME"])


def test_redrive_moves_the_dead_letters_of_every_queue(capsys):
    from scripts.redrive import main

    sqs = boto3.client("sqs")
    bodies = {}
    for prefix in ("ADDRESS_CHECK", "SANCTIONS_SCREENING"):
        dlq_url = sqs.get_queue_url(QueueName=os.environ[f"{prefix}_DLQ_NAME"])["QueueUrl"]
        drain(sqs, dlq_url)  # not PurgeQueue: once a minute per queue, and another test purges too
        drain(sqs, sqs.get_queue_url(QueueName=os.environ[f"{prefix}_QUEUE_NAME"])["QueueUrl"])
        bodies[prefix] = json.dumps({"application_id": f"dead-{prefix.lower()}"})
        sqs.send_message(QueueUrl=dlq_url, MessageBody=bodies[prefix])

    assert main(["--state-file", "/nonexistent/state.json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(line["queue"], line["moved"]) for line in printed} >= {("address-check", 1), ("sanctions-screening", 1)}
    for prefix, body in bodies.items():
        url = sqs.get_queue_url(QueueName=os.environ[f"{prefix}_QUEUE_NAME"])["QueueUrl"]
        back = wait_for(lambda url=url: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"))
        assert [message["Body"] for message in back] == [body]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=back[0]["ReceiptHandle"])


def drain(sqs, url: str) -> None:
    """Delete whatever other tests left in a queue (nothing consumes the tests' queues)."""
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          VisibilityTimeout=30).get("Messages"):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)])
