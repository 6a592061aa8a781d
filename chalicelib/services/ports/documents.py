"""Documents and reports: the document store, OCR, the report store."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ...domain.document_file import DocumentSample
from ...domain.identity import PageText


@dataclass(frozen=True)
class Upload:
    key: str
    url: str
    fields: dict[str, str]


class DocumentStore(abc.ABC):
    """Identity documents: uploaded straight by the applicant, read only as much as needed."""

    @abc.abstractmethod
    def key_for_new_upload(self, application_id: str) -> str: ...

    @abc.abstractmethod
    def application_id_of(self, key: str) -> Optional[str]:
        """The application a key belongs to, or None for a key the app never handed out."""

    @abc.abstractmethod
    def presigned_upload(
        self, key: str, content_type: str, min_bytes: int, max_bytes: int, ttl_seconds: int
    ) -> Upload: ...

    @abc.abstractmethod
    def sample(self, key: str, version: Optional[str] = None) -> DocumentSample:
        """Size, declared content type, version, the first and last bytes: never the whole file.

        ``version``: that object version (the latest when None); the sample names the version it read."""

    @abc.abstractmethod
    def keys_of(self, application_id: str) -> list[str]:
        """Every object key stored for the application (what an upload left, whether or not it was seen)."""

    @abc.abstractmethod
    def delete_all_for(self, application_id: str) -> int:
        """Delete every version of every object of the application (re-uploads included); returns how many."""

    def presigned_view(self, key: str, content_type: str, ttl_seconds: int, version: Optional[str] = None) -> str:
        """A short-lived GET of one object (``version``: that version), answered with ``content_type``, inline."""
        raise NotImplementedError(f"{type(self).__name__} cannot show documents")


class DocumentMissing(Exception):
    """The object is not in the store (never written, deleted, or that version is gone)."""


class OcrRefused(Exception):
    """The OCR service would not read the document (unsupported, bad, too large, no such object)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class OcrThrottled(Exception):
    """The OCR service refused for its rate quota, after the client's own retries: try much later."""


class CheckRequests(abc.ABC):
    """The identity-check queue: the uploads' notifications land there, and a lost check is asked for there,
    so every identity check runs at the rate the queue's consumer is allowed (the OCR service's quota)."""

    @abc.abstractmethod
    def request_identity_check(self, key: str, version: Optional[str] = None) -> None: ...


class Backoff(abc.ABC):
    """Puts a queue message back for later (a throttled check): it reappears after ``seconds``."""

    @abc.abstractmethod
    def retry_later(self, queue_arn: str, receipt_handle: str, seconds: int) -> None: ...


class Ocr(abc.ABC):
    """The text of a stored document (Textract ``DetectDocumentText``): of the bytes the caller already read of
    that object version when it gives them (``content``: no second read of the object), else read where it lies."""

    @abc.abstractmethod
    def read(self, key: str, version: Optional[str] = None, content: Optional[bytes] = None) -> PageText:
        """The page's lines, top to bottom. Raises OcrRefused; transient failures are retried, then raised.

        ``content``: the object's whole bytes (of ``version``), as sampled: OCR reads exactly those."""


class Readings(abc.ABC):
    """What OCR read from a document (every line of the page, with confidences), kept apart from the
    application item: a few KB that every later write of the item (and of its indexes) would otherwise carry
    again. Personal data: deleted with the documents when retention ends."""

    @abc.abstractmethod
    def keep(self, application_id: str, name: str, reading: Mapping[str, Any]) -> str:
        """Store ``reading`` (idempotent for one name); returns its reference."""

    @abc.abstractmethod
    def read(self, reference: str) -> Optional[dict[str, Any]]:
        """The reading, or None when it is gone (purged) or the reference is not ours."""

    @abc.abstractmethod
    def delete_all_for(self, application_id: str) -> int:
        """Delete every reading of the application; returns how many."""


class ReportStore(abc.ABC):
    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def put(self, key: str, body: str, content_type: str) -> None: ...
