"""OCR readings in the documents bucket, apart from the application item: ``readings/<application id>/<name>.json``.

Same bucket, same key (KMS) and the same Object Lock retention as the document
they were read from; outside ``applications/``, so the bucket's notification to
the identity-check queue never fires for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Optional

from ..services.ports import Readings

PREFIX = "readings/"
REFERENCE = re.compile(r"^readings/[0-9a-f-]{36}/[A-Za-z0-9._-]{1,200}\.json$")
MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}


class S3Readings(Readings):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def keep(self, application_id: str, name: str, reading: Mapping[str, Any]) -> str:
        key = f"{PREFIX}{application_id}/{name}.json"
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=json.dumps(reading).encode(), ContentType="application/json"
        )
        return key

    def read(self, reference: str) -> Optional[dict[str, Any]]:
        if not REFERENCE.match(reference):
            return None
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=reference)["Body"].read()
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise
        found = json.loads(body)
        return found if isinstance(found, dict) else None

    def delete_all_for(self, application_id: str) -> int:
        """Every version of every reading of the application, and the delete markers: the bucket is
        versioned under Object Lock (governance), so a plain delete would only hide the OCR text.
        Bypassing the retention is the purge's right alone, as for the documents."""
        deleted = 0
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{PREFIX}{application_id}/"):
            versions: list[dict[str, Any]] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if versions:
                answer = self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": versions, "Quiet": True}, BypassGovernanceRetention=True
                )
                errors = answer.get("Errors") or []
                if errors:  # not purged: the job counts the application failed and tries again next run
                    raise RuntimeError(f"{len(errors)} reading versions could not be deleted: {errors[0].get('Code')}")
                deleted += len(versions)
        return deleted
