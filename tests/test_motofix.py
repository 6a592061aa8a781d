"""The emulator fix the local stack relies on: a cancelled transaction rolls back in place."""
from __future__ import annotations

import os

import boto3
import pytest


def test_a_stream_reader_keeps_seeing_records_after_a_cancelled_transaction():
    dynamodb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams")
    table = os.environ["HISTORY_TABLE_NAME"]
    arn = os.environ["HISTORY_STREAM_ARN"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def put(seq):
        return {"Put": {"TableName": table, "Item": {"application_id": {"S": "motofix"}, "seq": {"N": str(seq)}},
                        "ConditionExpression": "attribute_not_exists(seq)"}}

    dynamodb.transact_write_items(TransactItems=[put(1)])
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[put(2), put(1)])  # second item fails: all rolled back
    dynamodb.transact_write_items(TransactItems=[put(3)])

    page = streams.get_records(ShardIterator=iterator)
    seqs = [r["dynamodb"]["Keys"]["seq"]["N"] for r in page["Records"]
            if r["dynamodb"]["Keys"]["application_id"]["S"] == "motofix"]
    assert seqs == ["1", "3"]
    stored = dynamodb.query(TableName=table, KeyConditionExpression="application_id = :a",
                            ExpressionAttributeValues={":a": {"S": "motofix"}})["Items"]
    assert sorted(i["seq"]["N"] for i in stored) == ["1", "3"]


def test_moto_lists_its_modules_once_not_on_every_request(monkeypatch):
    import moto.backends

    from devstack.motofix import patch_moto

    patch_moto()
    before = list(moto.backends.list_of_moto_modules())
    assert {"dynamodb", "s3", "sqs", "sns", "cognitoidp"} <= set(before)
    sqs = boto3.client("sqs")
    sqs.list_queues()  # the client has loaded what it reads from disk

    def no_listing(path):
        raise AssertionError(f"moto listed {path} again")

    monkeypatch.setattr("os.listdir", no_listing)
    assert list(moto.backends.list_of_moto_modules()) == before
    assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200  # the server's dispatch


def test_a_cancelled_transaction_puts_back_exactly_the_items_it_named():
    """An Update mutates in place, a Put may open a new partition: both undone; nothing else moves."""
    dynamodb = boto3.client("dynamodb")
    history, applications = os.environ["HISTORY_TABLE_NAME"], os.environ["APPLICATIONS_TABLE_NAME"]
    dynamodb.put_item(TableName=applications, Item={"application_id": {"S": "motofix-app"}, "version": {"N": "1"},
                                                    "note": {"S": "before"}})
    dynamodb.put_item(TableName=history, Item={"application_id": {"S": "motofix-other"}, "seq": {"N": "1"}})

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": applications, "Key": {"application_id": {"S": "motofix-app"}},
                        "UpdateExpression": "SET note = :n, version = :v",
                        "ExpressionAttributeValues": {":n": {"S": "after"}, ":v": {"N": "2"}}}},
            {"Put": {"TableName": history, "Item": {"application_id": {"S": "motofix-new"}, "seq": {"N": "1"}}}},
            {"Put": {"TableName": history, "Item": {"application_id": {"S": "motofix-other"}, "seq": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(seq)"}},  # fails: all undone
        ])

    app = dynamodb.get_item(TableName=applications, Key={"application_id": {"S": "motofix-app"}})["Item"]
    assert app["note"] == {"S": "before"} and app["version"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=history, Key={"application_id": {"S": "motofix-new"},
                                                                     "seq": {"N": "1"}})
    assert dynamodb.query(TableName=history, KeyConditionExpression="application_id = :a",
                          ExpressionAttributeValues={":a": {"S": "motofix-new"}})["Count"] == 0
    assert "Item" in dynamodb.get_item(TableName=history, Key={"application_id": {"S": "motofix-other"},
                                                                "seq": {"N": "1"}})


class _ListThatLetsASendIn(list):
    """A queue's message list that, the first time an iteration over it ends, lets another thread send."""

    def __init__(self, items, send):
        super().__init__(items)
        self._send = send

    def __iter__(self):
        yield from super().__iter__()
        send, self._send = self._send, None
        if send is not None:
            send()


def test_a_message_sent_while_another_is_deleted_is_never_lost():
    """moto rebuilt the message list and rebound it with no lock: a send landing between the end of
    the rebuild and the rebinding vanished (the local stack lost SNS events bound for the notifier).
    The interleaving is forced: when the delete has walked the list, another thread tries to send."""
    import threading
    import uuid

    from moto.sqs.models import sqs_backends

    from devstack.motofix import patch_moto

    patch_moto()
    backend = sqs_backends["123456789012"]["us-east-1"]
    name = f"motofix-{uuid.uuid4().hex[:8]}"
    queue = backend.create_queue(name)
    backend.send_message(name, "first")
    backend.send_message(name, "second")
    (received,) = backend.receive_message(name, 1, 0, 30)
    waited = []  # the send found the delete holding the queue: it goes in once the delete is done

    def send_from_another_thread():
        def send():
            if not queue._messages_lock.acquire(blocking=False):
                waited.append(True)
                return
            try:
                backend.send_message(name, "third")
            finally:
                queue._messages_lock.release()

        sender = threading.Thread(target=send)
        sender.start()
        sender.join()

    queue._messages = _ListThatLetsASendIn(queue._messages, send_from_another_thread)
    backend.delete_message(name, received.receipt_handle)
    if waited:
        backend.send_message(name, "third")

    left = sorted(message.body for message in queue._messages)
    assert left == sorted({"first", "second", "third"} - {received.body})
