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
