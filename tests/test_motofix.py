"""The emulator fixes the local stack relies on: a cancelled transaction rolls back in place, a Query reads its
partition."""
from __future__ import annotations

import os
import uuid

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


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


# --- a Query reads its partition (devstack.motofix.queries_read_their_partition) ---------------------------

ITEMS = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 30),
                           st.one_of(st.none(), st.sampled_from(["x", "y"])), st.integers(0, 5)),
                 max_size=40, unique_by=lambda item: item[:2])
QUERIES = st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", "x", "y", "z"]),
                    st.sampled_from([None, "<", ">=", "between"]), st.integers(0, 30), st.booleans(),
                    st.integers(1, 7))


def make_query_table(dynamodb, name):
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "gpk", "AttributeType": "S"},
                              {"AttributeName": "gsk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                                               {"AttributeName": "gsk", "KeyType": "RANGE"}]}])


def every_page(dynamodb, name, on_index, key, comparison, bound, forward, limit):
    """Every page of one query, followed to its end through LastEvaluatedKey."""
    hash_name, range_name = ("gpk", "gsk") if on_index else ("pk", "sk")
    condition = "#h = :h" + {None: "", "<": " AND #r < :r", ">=": " AND #r >= :r",
                             "between": " AND #r BETWEEN :r AND :s"}[comparison]
    names = {"#h": hash_name, **({"#r": range_name} if comparison else {})}
    values = {":h": {"S": key}, **({":r": {"N": str(bound)}} if comparison else {}),
              **({":s": {"N": str(bound + 9)}} if comparison == "between" else {})}
    request = {"TableName": name, "KeyConditionExpression": condition, "ExpressionAttributeNames": names,
               "ExpressionAttributeValues": values, "ScanIndexForward": forward, "Limit": limit,
               **({"IndexName": "by_g"} if on_index else {})}
    pages = []
    while True:
        page = dynamodb.query(**request)
        pages.append((page["Items"], page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page:
            return pages
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=ITEMS, queries=st.lists(QUERIES, min_size=1, max_size=4))
def test_a_query_answers_as_moto_does_page_by_page(items, queries):
    """Table and index queries, any range condition, either direction, paged: the same pages as moto's own
    Query gives, which lists the whole table (the patch is undone for the comparison)."""
    from moto.dynamodb.models.table import Table

    from devstack.motofix import patch_moto

    patch_moto()
    dynamodb = boto3.client("dynamodb")
    name = f"motofix-query-{uuid.uuid4().hex[:8]}"
    make_query_table(dynamodb, name)
    try:
        for pk, sk, gpk, gsk in items:
            item = {"pk": {"S": pk}, "sk": {"N": str(sk)}, **({"gpk": {"S": gpk}, "gsk": {"N": str(gsk)}}
                                                             if gpk else {})}
            dynamodb.put_item(TableName=name, Item=item)
        patched = [every_page(dynamodb, name, *query) for query in queries]
        with pytest.MonkeyPatch.context() as undo:
            undo.setattr(Table, "query", Table.query.__wrapped__)
            undo.setattr(Table, "all_items", Table.all_items.__wrapped__)
            as_moto = [every_page(dynamodb, name, *query) for query in queries]
        assert patched == as_moto
    finally:
        dynamodb.delete_table(TableName=name)


def test_a_table_query_reads_only_its_partition(monkeypatch):
    """The cost that mattered: the other partitions are never listed (here, reading one would raise)."""
    from moto.dynamodb.models import dynamodb_backends

    from devstack.motofix import patch_moto

    patch_moto()
    dynamodb = boto3.client("dynamodb")
    name = f"motofix-partition-{uuid.uuid4().hex[:8]}"
    make_query_table(dynamodb, name)
    try:
        for pk in ("mine", "other"):
            for sk in range(3):
                dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"N": str(sk)}})
        table = dynamodb_backends["123456789012"]["us-east-1"].get_table(name)

        class Untouchable(dict):
            def values(self):
                raise AssertionError("a query of one partition listed another")

        [other_key] = [key for key in table.items if key.value == "other"]
        monkeypatch.setitem(table.items, other_key, Untouchable(table.items[other_key]))
        found = dynamodb.query(TableName=name, KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": "mine"}}, ScanIndexForward=False)["Items"]
        assert [item["sk"]["N"] for item in found] == ["2", "1", "0"]
    finally:
        dynamodb.delete_table(TableName=name)
