"""The outbox's SNS adapter: only an entry SNS acknowledged counts as published."""
from __future__ import annotations

import boto3
from botocore.stub import Stubber

from chalicelib.adapters.sns_events import SnsEventPublisher

TOPIC = "arn:aws:sns:us-east-1:123456789012:application-events"


def entries(count):
    return [({"event_id": f"app#{n}"}, {"event_type": "application.created"}) for n in range(count)]


def test_an_entry_named_neither_successful_nor_failed_is_reported_failed():
    sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sns) as stub:
        stub.add_response("publish_batch", {
            "Successful": [{"Id": "0", "MessageId": "m0"}, {"Id": "2", "MessageId": "m2"}],
            "Failed": [{"Id": "3", "Code": "InternalError", "SenderFault": False}],
        })
        assert SnsEventPublisher(sns, TOPIC).publish_batch(entries(4)) == [1, 3]


def test_a_second_chunk_counts_its_entries_from_where_it_starts():
    sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sns) as stub:
        stub.add_response("publish_batch", {"Successful": [{"Id": str(n), "MessageId": f"m{n}"} for n in range(10)],
                                            "Failed": []})
        stub.add_response("publish_batch", {"Successful": [{"Id": "10", "MessageId": "m10"}], "Failed": []})
        assert SnsEventPublisher(sns, TOPIC).publish_batch(entries(12)) == [11]
