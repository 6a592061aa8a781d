"""The documents bucket: presigned uploads straight to S3, and reading just enough to check one."""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from .aws import client
from .domain.identity import HEAD_BYTES, DocumentSample

KEY_PATTERN = re.compile(
    r"^applications/(?P<application_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/identity/(?P<upload_id>[0-9a-f]{32})$")


@dataclass(frozen=True)
class Upload:
    key: str
    url: str
    fields: dict[str, str]


def bucket() -> str:
    return os.environ["DOCUMENTS_BUCKET_NAME"]


def new_key(application_id: str) -> str:
    return f"applications/{application_id}/identity/{uuid.uuid4().hex}"


def application_id_of(key: str) -> Optional[str]:
    """The application a key belongs to, or None for a key the app never handed out."""
    match = KEY_PATTERN.match(key)
    return match.group("application_id") if match else None


def presigned_upload(application_id: str, content_type: str, min_bytes: int, max_bytes: int,
                     ttl_seconds: int) -> Upload:
    """A POST policy bound to one key, one content type and a size range.

    S3 enforces these conditions in AWS; the local S3 does not, which is why
    the identity check re-reads the real size and type from the object.
    """
    key = new_key(application_id)
    post = client("s3").generate_presigned_post(
        Bucket=bucket(), Key=key,
        Fields={"Content-Type": content_type, "x-amz-server-side-encryption": "AES256"},
        Conditions=[
            {"Content-Type": content_type},
            {"x-amz-server-side-encryption": "AES256"},
            ["content-length-range", min_bytes, max_bytes],
        ],
        ExpiresIn=ttl_seconds,
    )
    return Upload(key=key, url=post["url"], fields=dict(post["fields"]))


def sample(key: str, bucket_name: Optional[str] = None) -> DocumentSample:
    """Size and content type from HEAD, then only the first bytes: never the whole file."""
    s3 = client("s3")
    name = bucket_name or bucket()
    head = s3.head_object(Bucket=name, Key=key)
    size = int(head["ContentLength"])
    first = b""
    if size:
        obj = s3.get_object(Bucket=name, Key=key, Range=f"bytes=0-{min(size, HEAD_BYTES) - 1}")
        first = obj["Body"].read(HEAD_BYTES)
    return DocumentSample(key=key, size=size, head=first, content_type=head.get("ContentType"))


def delete_all_for(application_id: str) -> int:
    """Every object under the application's prefix (re-uploads included)."""
    s3 = client("s3")
    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket(), Prefix=f"applications/{application_id}/"):
        keys: list[dict[str, Any]] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket(), Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted
