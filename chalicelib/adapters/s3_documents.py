"""The documents bucket: presigned uploads straight to S3, and reading a document once to check it."""

from __future__ import annotations

import re
import uuid
from typing import Any, Optional

from ..domain.document_file import HEAD_BYTES, TAIL_BYTES, WHOLE_READ_BYTES, DocumentSample
from ..services.ports import DocumentMissing, DocumentStore, Upload

MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}

KEY_PATTERN = re.compile(
    r"^applications/(?P<application_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/identity/(?P<upload_id>[0-9a-f]{32})$"
)


class S3DocumentStore(DocumentStore):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def key_for_new_upload(self, application_id: str) -> str:
        return f"applications/{application_id}/identity/{uuid.uuid4().hex}"

    def application_id_of(self, key: str) -> Optional[str]:
        match = KEY_PATTERN.match(key)
        return match.group("application_id") if match else None

    def presigned_upload(self, key: str, content_type: str, min_bytes: int, max_bytes: int, ttl_seconds: int) -> Upload:
        """A POST policy bound to one key, one content type and a size range.

        S3 enforces these conditions; the identity check still re-reads the
        real size and type from the object, which is what it judges.
        """
        post = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            # The bucket's policy refuses any encryption but its KMS key (the bucket default).
            Fields={"Content-Type": content_type, "x-amz-server-side-encryption": "aws:kms"},
            Conditions=[
                {"Content-Type": content_type},
                {"x-amz-server-side-encryption": "aws:kms"},
                ["content-length-range", min_bytes, max_bytes],
            ],
            ExpiresIn=ttl_seconds,
        )
        return Upload(key=key, url=post["url"], fields=dict(post["fields"]))

    def sample(self, key: str, version: Optional[str] = None) -> DocumentSample:
        """That very version, in ONE ranged GET of its first ``WHOLE_READ_BYTES``: a document up to that size
        (every one the default policy accepts) comes whole, its head, tail and bytes for OCR from one call.

        The GET's ``Content-Range`` (``bytes 0-N/size``) gives the size, its headers the version and type,
        so no HEAD is needed; an empty object (no range to satisfy) is HEAD'ed. A larger object costs a
        second ranged GET for its tail (of the version the first one read) and no ``body``: OCR reads it
        in S3. Never more than ``WHOLE_READ_BYTES`` of an object is read, whatever its size.
        """
        where: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            where["VersionId"] = version
        try:
            obj = self.s3.get_object(**where, Range=f"bytes=0-{WHOLE_READ_BYTES - 1}")
        except self.s3.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in MISSING:
                raise DocumentMissing(key) from error
            if code != "InvalidRange":
                raise
            obj = None
        if obj is None:
            head = self.s3.head_object(**where)
            size, data, meta = int(head["ContentLength"]), b"", head
        else:
            data = obj["Body"].read(WHOLE_READ_BYTES)
            size, meta = _total_size(obj.get("ContentRange"), len(data)), obj
        found = meta.get("VersionId")
        pinned = found if found and found != "null" else None  # "null": an unversioned object
        if pinned:
            where["VersionId"] = pinned
        whole = len(data) == size
        last = b""
        if size > HEAD_BYTES:
            last = (
                data[-TAIL_BYTES:]
                if whole
                else self.s3.get_object(**where, Range=f"bytes=-{TAIL_BYTES}")["Body"].read(TAIL_BYTES)
            )
        return DocumentSample(
            key=key,
            size=size,
            head=data[:HEAD_BYTES],
            content_type=meta.get("ContentType"),
            tail=last,
            version=pinned,
            body=data if whole and size else None,
        )

    def keys_of(self, application_id: str) -> list[str]:
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"applications/{application_id}/"):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(keys)

    def delete_all_for(self, application_id: str) -> int:
        """Delete every version of every object of the application (and the delete markers): the
        document checked, any later version re-posted to its key, any other upload. Returns how many
        versions went. The bucket's Object Lock (governance mode, the retention period) is bypassed:
        the purge is the retention rule itself, and only its role may (s3:BypassGovernanceRetention)."""
        deleted = 0
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"applications/{application_id}/"):
            versions: list[dict[str, Any]] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if versions:
                answer = self.s3.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": versions, "Quiet": True},
                    BypassGovernanceRetention=True,
                )
                errors = answer.get("Errors") or []
                if errors:  # not purged: the job counts the application failed and tries again next run
                    raise RuntimeError(f"{len(errors)} object versions could not be deleted: {errors[0].get('Code')}")
                deleted += len(versions)
        return deleted

    def presigned_view(self, key: str, content_type: str, ttl_seconds: int, version: Optional[str] = None) -> str:
        """S3 answers with the type we name (the sniffed one, not the uploader's claim), inline; with
        ``version``, that very version (the one checked), whatever was uploaded to the key since."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": "inline",
            "ResponseCacheControl": "private, no-store",
        }
        if version:
            params["VersionId"] = version
        return str(self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_seconds))


def _total_size(content_range: Optional[str], received: int) -> int:
    """The object's size from ``bytes 0-N/size``; without a range answer the body was the whole object."""
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return received
