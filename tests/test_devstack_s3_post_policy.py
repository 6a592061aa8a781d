"""The local S3 enforces presigned POST policies as S3 does (moto alone stores anything).

Each refusal must name what failed in S3's XML error and leave the bucket
empty; an upload within the policy is stored.
"""
from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest
import requests

from devstack.testing import running_moto
from tests.support.deadlines import REPLY_S

BUCKET = "post-policy-test"
KEY = "documents/app-1/passport"


@pytest.fixture(scope="module")
def s3():
    with running_moto() as aws:
        client = aws.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture(autouse=True)
def empty_bucket(s3):
    yield
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def presigned(s3, expires: int = 600, key: str = KEY):
    """The same shape of policy the app issues: one key, one type, a size range, SSE."""
    return s3.generate_presigned_post(
        Bucket=BUCKET, Key=key,
        Fields={"Content-Type": "image/jpeg", "x-amz-server-side-encryption": "AES256"},
        Conditions=[{"Content-Type": "image/jpeg"}, {"x-amz-server-side-encryption": "AES256"},
                    ["content-length-range", 1024, 4096]],
        ExpiresIn=expires)


def post(form, data: bytes = b"x" * 2048, fields: dict | None = None) -> requests.Response:
    return requests.post(form["url"], data={**form["fields"], **(fields or {})},
                         files={"file": ("passport.jpg", data, "image/jpeg")}, timeout=REPLY_S)


def error_of(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(response.content)}


def stored_keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_an_upload_within_the_policy_is_stored(s3):
    response = post(presigned(s3))
    assert response.status_code == 204, response.text
    assert stored_keys(s3) == [KEY]
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ContentType"] == "image/jpeg"


@pytest.mark.parametrize("size, code, limit", [(4097, "EntityTooLarge", ("MaxSizeAllowed", "4096")),
                                               (1023, "EntityTooSmall", ("MinSizeAllowed", "1024"))])
def test_a_file_outside_content_length_range_is_refused(s3, size, code, limit):
    response = post(presigned(s3), data=b"x" * size)
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == code
    assert error["ProposedSize"] == str(size) and error[limit[0]] == limit[1]
    assert stored_keys(s3) == []


@pytest.mark.parametrize("field, value, condition", [
    ("Content-Type", "text/html", '["eq", "$Content-Type", "image/jpeg"]'),
    ("key", "documents/app-2/passport", f'["eq", "$key", "{KEY}"]'),
    ("x-amz-server-side-encryption", "aws:kms", '["eq", "$x-amz-server-side-encryption", "AES256"]'),
])
def test_a_field_that_breaks_a_condition_is_refused_naming_it(s3, field, value, condition):
    response = post(presigned(s3), fields={field: value})
    assert response.status_code == 403
    error = error_of(response)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == f"Invalid according to Policy: Policy Condition failed: {condition}"
    assert stored_keys(s3) == []


def test_an_expired_policy_is_refused(s3):
    response = post(presigned(s3, expires=-1))
    assert response.status_code == 403
    assert error_of(response)["Message"] == "Invalid according to Policy: Policy expired."
    assert stored_keys(s3) == []


def test_a_field_no_condition_covers_is_refused(s3):
    response = post(presigned(s3), fields={"x-amz-meta-owner": "someone-else"})
    assert response.status_code == 403
    assert error_of(response)["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-owner"
    assert stored_keys(s3) == []


def test_a_policy_rewritten_by_the_client_does_not_match_its_signature(s3):
    form = presigned(s3)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(form, data=b"x" * 10_000, fields={"policy": forged})
    assert response.status_code == 403
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"
    assert stored_keys(s3) == []


def test_a_form_upload_without_a_policy_is_refused(s3):
    response = requests.post(presigned(s3)["url"], data={"key": KEY},
                             files={"file": ("passport.jpg", b"x" * 2048, "image/jpeg")}, timeout=REPLY_S)
    assert response.status_code == 403
    assert error_of(response)["Code"] == "AccessDenied"
    assert stored_keys(s3) == []
