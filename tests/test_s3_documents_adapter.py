"""The documents bucket's sample (issue 22): one GET of the object version for every document the default
policy accepts, a second ranged GET (the tail, of the version the first read) only beyond WHOLE_READ_BYTES."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from chalicelib.adapters.s3_documents import S3DocumentStore
from chalicelib.domain.document_file import HEAD_BYTES, TAIL_BYTES, WHOLE_READ_BYTES

KEY = "applications/0b6a4f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/identity/" + "ab" * 16


@pytest.fixture
def s3():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()  # every GET expected was made, and (Stubber) no other call


def answer(data: bytes, size: int) -> dict:
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentRange": f"bytes 0-{len(data) - 1}/{size}",
            "ContentType": "image/jpeg", "VersionId": "v1"}


def test_a_document_within_the_whole_read_size_costs_one_get(s3):
    client, stub = s3
    body = b"\xff\xd8\xff" + bytes(range(256)) * 1000
    stub.add_response("get_object", answer(body, len(body)),
                      {"Bucket": "docs", "Key": KEY, "VersionId": "v1", "Range": f"bytes=0-{WHOLE_READ_BYTES - 1}"})
    sample = S3DocumentStore(client, "docs").sample(KEY, "v1")
    assert (sample.size, sample.version, sample.body) == (len(body), "v1", body)
    assert sample.head == body[:HEAD_BYTES] and sample.tail == body[-TAIL_BYTES:]


def test_a_larger_object_costs_a_second_ranged_get_of_the_same_version_and_carries_no_body(s3):
    client, stub = s3
    first = b"\xff\xd8\xff" + b"x" * (WHOLE_READ_BYTES - 3)
    tail = b"t" * (TAIL_BYTES - 2) + b"\xff\xd9"
    stub.add_response("get_object", answer(first, WHOLE_READ_BYTES + 4096),
                      {"Bucket": "docs", "Key": KEY, "Range": f"bytes=0-{WHOLE_READ_BYTES - 1}"})
    stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(tail), len(tail))},
                      {"Bucket": "docs", "Key": KEY, "VersionId": "v1", "Range": f"bytes=-{TAIL_BYTES}"})
    sample = S3DocumentStore(client, "docs").sample(KEY)
    assert (sample.size, sample.version, sample.body) == (WHOLE_READ_BYTES + 4096, "v1", None)
    assert sample.head == first[:HEAD_BYTES] and sample.tail == tail
