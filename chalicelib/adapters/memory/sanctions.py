"""Fakes of the sanctions index store and list downloader."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Optional

from ...services.ports import (
    DownloadFailed,
    ListDownloader,
    SanctionsIndexStore,
)
from .common import _json_copy


class InMemorySanctionsIndexStore(SanctionsIndexStore):
    """Index versions by version id and one pointer, as the S3 adapter keeps them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.blobs: dict[str, bytes] = {}
        self.pointer: Optional[dict[str, Any]] = None
        self.pointer_reads = 0

    def current(self) -> Optional[dict[str, Any]]:
        with self._lock:
            self.pointer_reads += 1
            return _json_copy(self.pointer) if self.pointer else None

    def load(self, version: str) -> bytes:
        with self._lock:
            return self.blobs[version]

    def publish(self, version: str, blob: Optional[bytes], manifest: Mapping[str, Any]) -> None:
        with self._lock:
            if blob is not None:
                self.blobs[version] = bytes(blob)
            self.pointer = _json_copy({**manifest, "version": version})


class StaticListDownloader(ListDownloader):
    """Serves documents by URL from memory; an unknown URL fails like a 404."""

    def __init__(self, documents: Optional[Mapping[str, bytes]] = None) -> None:
        self.documents: dict[str, bytes] = dict(documents or {})
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.documents:
            raise DownloadFailed(f"{url}: not found")
        return self.documents[url]
