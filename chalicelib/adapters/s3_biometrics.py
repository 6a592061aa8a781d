"""The biometrics bucket: the reference and audit images Rekognition Face Liveness writes for each session.

A bucket of its own (resources.yaml ``BiometricsBucket``): KMS-encrypted with the stage's key, versioned
(every read names the version that was checked), and without the documents bucket's Object Lock, so
biometric data can be deleted on its own, shorter retention. Rekognition writes under
``liveness/<application id>/<session id>/``; the app reads only by presigned GETs handed to reviewers and
deletes every version of an application's objects when its retention ends.
"""

from __future__ import annotations

from typing import Any

from ..services.ports import BiometricImages, StoredImage

PREFIX = "liveness/"


def liveness_prefix(application_id: str) -> str:
    """Where a session of this application writes its images (the session's ``S3KeyPrefix``)."""
    return f"{PREFIX}{application_id}/"


class S3BiometricImages(BiometricImages):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def belongs_to(self, image: StoredImage, application_id: str) -> bool:
        return image.key.startswith(liveness_prefix(application_id)) and ".." not in image.key

    def presigned_view(self, image: StoredImage, ttl_seconds: int) -> str:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": image.key,
            "ResponseContentType": "image/jpeg",  # Rekognition writes its images as JPEG
            "ResponseContentDisposition": "inline",
            "ResponseCacheControl": "private, no-store",
        }
        if image.version:
            params["VersionId"] = image.version
        return str(self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_seconds))

    def delete_all_for(self, application_id: str) -> int:
        """Every version and delete marker under the application's prefix, a thousand to a call."""
        deleted = 0
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=liveness_prefix(application_id)):
            found = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            for start in range(0, len(found), 1000):
                chunk = found[start : start + 1000]
                answer = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
                errors = answer.get("Errors") or []
                if errors:
                    raise RuntimeError(f"{len(errors)} biometric objects could not be deleted: {errors[0].get('Code')}")
                deleted += len(chunk)
        return deleted
