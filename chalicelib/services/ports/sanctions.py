"""Sanctions lists: downloading them and the versioned index."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, Optional


class DownloadFailed(Exception):
    """A list could not be downloaded (network, status, size); the last good copy stays."""


class ListDownloader(abc.ABC):
    """Fetches a published list from the URL configured in Parameter Store."""

    @abc.abstractmethod
    def fetch(self, url: str) -> bytes:
        """The document's bytes; raises DownloadFailed."""


class SanctionsIndexStore(abc.ABC):
    """The screening index: immutable versions and a pointer to the one in use."""

    @abc.abstractmethod
    def current(self) -> Optional[dict[str, Any]]:
        """The pointer (``version``, ``lists``, ``built_at``...), or None before the first index."""

    @abc.abstractmethod
    def load(self, version: str) -> bytes: ...

    @abc.abstractmethod
    def publish(self, version: str, blob: Optional[bytes], manifest: Mapping[str, Any]) -> None:
        """Store the version (unless ``blob`` is None: already stored), then point at it."""
