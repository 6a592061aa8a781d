"""Downloading the published sanctions lists: HTTPS from the publishers, or s3:// for a mirror.

A size cap and a timeout keep a misbehaving server from exhausting the job's
Lambda; what arrives is only trusted after the domain parsed and validated it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ..services.ports import DownloadFailed, ListDownloader

MAX_BYTES = 64 * 1024 * 1024  # the SDN CSV is a few MB; the UN XML about 2 MB
TIMEOUT_SECONDS = 60


class UrlListDownloader(ListDownloader):
    def __init__(self, s3: Any, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS):
        self.s3 = s3
        self.max_bytes = max_bytes
        self.timeout = timeout

    def fetch(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme == "s3":
            return self._s3(parts.netloc, parts.path.lstrip("/"))
        if parts.scheme not in ("https", "http"):
            raise DownloadFailed(f"{url}: only https://, http:// and s3:// URLs are fetched")
        request = urllib.request.Request(url, headers={"User-Agent": "account-opening-sanctions-refresh/1"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                body = response.read(self.max_bytes + 1)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise DownloadFailed(f"{url}: {error}") from error
        return self._capped(url, body)

    def _s3(self, bucket: str, key: str) -> bytes:
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read(self.max_bytes + 1)
        except Exception as error:  # noqa: BLE001 - any S3 failure is a failed download
            raise DownloadFailed(f"s3://{bucket}/{key}: {error}") from error
        return self._capped(f"s3://{bucket}/{key}", body)

    def _capped(self, url: str, body: bytes) -> bytes:
        if len(body) > self.max_bytes:
            raise DownloadFailed(f"{url}: larger than {self.max_bytes} bytes")
        return bytes(body)
