"""The screening index in S3: immutable versions and a small pointer to the one in use.

``index/<version>.json.gz`` is written first, ``index/current.json`` second, so a
reader never follows the pointer to a missing object; a refused download never
writes either, so the last good index stays in use. Old versions stay for audit
(what a past decision was screened against).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from ..services.ports import SanctionsIndexStore

POINTER = "index/current.json"


def version_key(version: str) -> str:
    return f"index/{version}.json.gz"


class S3SanctionsIndexStore(SanctionsIndexStore):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def current(self) -> Optional[dict[str, Any]]:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=POINTER)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        pointer = json.loads(body)
        return pointer if isinstance(pointer, dict) and isinstance(pointer.get("version"), str) else None

    def load(self, version: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=version_key(version))["Body"].read())

    def publish(self, version: str, blob: Optional[bytes], manifest: Mapping[str, Any]) -> None:
        if blob is not None:
            self.s3.put_object(Bucket=self.bucket, Key=version_key(version), Body=blob, ContentType="application/gzip")
        pointer = {**manifest, "version": version, "key": version_key(version)}
        self.s3.put_object(
            Bucket=self.bucket,
            Key=POINTER,
            Body=json.dumps(pointer, sort_keys=True).encode(),
            ContentType="application/json",
            CacheControl="no-cache",
        )
