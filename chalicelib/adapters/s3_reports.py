"""The reports bucket: where the daily report's JSON and CSV go."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..services.ports import ReportStore


class S3ReportStore(ReportStore):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def put(self, key: str, body: str, content_type: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType=content_type,
            ServerSideEncryption="aws:kms",  # the bucket's key; its policy refuses any other
        )
