"""Fakes of the document store, OCR and the report store."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Optional

from ...domain.document_file import HEAD_BYTES, TAIL_BYTES, WHOLE_READ_BYTES, DocumentSample
from ...domain.identity import PageText
from ...services.ports import (
    DocumentMissing,
    DocumentStore,
    Ocr,
    OcrRefused,
    Readings,
    ReportStore,
    Upload,
)
from ..s3_documents import KEY_PATTERN  # the bucket's key layout, in one place
from .common import _json_copy


@dataclasses.dataclass(frozen=True)
class StoredObject:
    body: bytes
    content_type: Optional[str]


@dataclasses.dataclass(frozen=True)
class UploadGrant:
    """What a presigned POST allowed (real S3 enforces it; the fake's ``upload`` does too)."""

    content_type: str
    min_bytes: int
    max_bytes: int
    ttl_seconds: int


class InMemoryDocumentStore(DocumentStore):
    """The documents bucket as a dict; ``upload`` plays the applicant posting to the presigned URL.

    Versioned like the bucket: every write to a key is a new version (``versions``), ``objects`` is
    each key's latest; ``last_version`` says what a write made (as S3's x-amz-version-id does).
    """

    def __init__(self, bucket: str = "documents") -> None:
        self._lock = threading.Lock()
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
        self.versions: dict[str, dict[str, StoredObject]] = {}  # key -> version id -> object, in order
        self.last_version: Optional[str] = None
        self.grants: dict[str, UploadGrant] = {}
        self.samples: list[str] = []  # the keys sampled, in order (a replay must not read again)
        self.views: list[tuple[str, str, int]] = []  # (key, content type, ttl) of each link handed out

    def key_for_new_upload(self, application_id: str) -> str:
        return f"applications/{application_id}/identity/{uuid.uuid4().hex}"

    def application_id_of(self, key: str) -> Optional[str]:
        match = KEY_PATTERN.match(key)
        return match.group("application_id") if match else None

    def presigned_upload(self, key: str, content_type: str, min_bytes: int, max_bytes: int, ttl_seconds: int) -> Upload:
        with self._lock:
            self.grants[key] = UploadGrant(content_type, min_bytes, max_bytes, ttl_seconds)
        fields = {"key": key, "Content-Type": content_type, "x-amz-server-side-encryption": "aws:kms"}
        return Upload(key=key, url=f"memory://{self.bucket}/", fields=fields)

    def upload(self, key: str, body: bytes, content_type: Optional[str] = None) -> None:
        """POST through a grant: refused (ValueError) outside its key, type or size range, as S3 would."""
        with self._lock:
            grant = self.grants.get(key)
            if grant is None:
                raise ValueError(f"no upload was granted for {key}")
            if (content_type or grant.content_type) != grant.content_type:
                raise ValueError("content type differs from the policy")
            if not grant.min_bytes <= len(body) <= grant.max_bytes:
                raise ValueError("size outside the policy's content-length-range")
            self._write(key, StoredObject(bytes(body), grant.content_type))

    def put(self, key: str, body: bytes, content_type: Optional[str] = None) -> None:
        """Write an object directly (what local S3 accepts without checking a policy)."""
        with self._lock:
            self._write(key, StoredObject(bytes(body), content_type))

    def _write(self, key: str, stored: StoredObject) -> None:
        self.last_version = uuid.uuid4().hex
        self.versions.setdefault(key, {})[self.last_version] = stored
        self.objects[key] = stored

    def _read(self, key: str, version: Optional[str]) -> tuple[Optional[str], Optional[StoredObject]]:
        if version is None:
            kept = self.versions.get(key) or {}
            latest = next(reversed(kept), None)
            return latest, self.objects.get(key)
        return version, (self.versions.get(key) or {}).get(version)

    def sample(self, key: str, version: Optional[str] = None) -> DocumentSample:
        with self._lock:
            version, stored = self._read(key, version)
            if stored is None:
                raise DocumentMissing(key)
            self.samples.append(key)
        return DocumentSample(
            key=key,
            size=len(stored.body),
            head=stored.body[:HEAD_BYTES],
            content_type=stored.content_type,
            tail=stored.body[-TAIL_BYTES:] if len(stored.body) > HEAD_BYTES else b"",
            version=version,
            body=stored.body if 0 < len(stored.body) <= WHOLE_READ_BYTES else None,
        )

    def delete_all_for(self, application_id: str) -> int:
        prefix = f"applications/{application_id}/"
        with self._lock:
            keys = [k for k in self.versions if k.startswith(prefix)]
            deleted = sum(len(self.versions.pop(key)) for key in keys)
            for key in keys:
                self.objects.pop(key, None)
        return deleted

    def keys_of(self, application_id: str) -> list[str]:
        prefix = f"applications/{application_id}/"
        with self._lock:
            return sorted(k for k in self.objects if k.startswith(prefix))

    def presigned_view(self, key: str, content_type: str, ttl_seconds: int, version: Optional[str] = None) -> str:
        with self._lock:
            version, stored = self._read(key, version)
            if stored is None:
                raise KeyError(key)
            self.views.append((key, content_type, ttl_seconds))
        return f"memory://{self.bucket}/{key}?type={content_type}&ttl={ttl_seconds}&version={version}"

    def body_of(self, url: str) -> bytes:
        """What following a ``presigned_view`` link returns (the version it names)."""
        path, _, query = url.removeprefix(f"memory://{self.bucket}/").partition("?")
        version = dict(part.split("=", 1) for part in query.split("&")).get("version")
        with self._lock:
            _, stored = self._read(path, None if version in (None, "None") else version)
        if stored is None:
            raise KeyError(path)
        return stored.body


PAGE_TEXT_MARKER = b"PAGE-TEXT:"  # tests print text on a fake page after this marker (see tests/support/documents.py)
_DOCUMENT_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-", b"II*\x00", b"MM\x00*")


class InMemoryOcr(Ocr):
    """Textract over the in-memory bucket: a page says what a test printed on it.

    A test prints lines on a document by embedding ``PAGE-TEXT:`` and the
    lines (one per line, ended by ``:END``) in the file, e.g. in a JPEG
    comment; anything else of an accepted type reads as a page with no text.
    Like Textract it refuses an object it cannot find or a type it cannot read.
    """

    def __init__(self, documents: InMemoryDocumentStore, confidence: float = 99.0) -> None:
        self.documents = documents
        self.confidence = confidence
        self.reads: list[tuple[str, Optional[str]]] = []  # (key, version) of every call, in order
        self.given: list[tuple[str, Optional[str]]] = []  # the calls given the object's bytes (Textract's Bytes)

    def read(self, key: str, version: Optional[str] = None, content: Optional[bytes] = None) -> PageText:
        self.reads.append((key, version))
        if content is not None:
            self.given.append((key, version))
            stored: Optional[StoredObject] = StoredObject(content, None)
        else:
            _, stored = self.documents._read(key, version)
        if stored is None:
            raise OcrRefused("InvalidS3ObjectException", f"Unable to get object metadata from S3: {key}")
        if not stored.body.startswith(_DOCUMENT_MAGIC):
            raise OcrRefused("UnsupportedDocumentException", "Request has unsupported document format")
        start = stored.body.find(PAGE_TEXT_MARKER)
        if start < 0:
            return PageText()
        end = stored.body.find(b":END", start)
        text = stored.body[start + len(PAGE_TEXT_MARKER) : end if end >= 0 else None].decode("ascii", "replace")
        lines = tuple(line for line in text.splitlines() if line.strip())
        return PageText(lines=lines, confidences=tuple(self.confidence for _ in lines))


class InMemoryReportStore(ReportStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.objects: dict[str, StoredObject] = {}
        self.puts: list[str] = []  # every key written, in order

    def exists(self, key: str) -> bool:
        with self._lock:
            return key in self.objects

    def put(self, key: str, body: str, content_type: str) -> None:
        with self._lock:
            self.objects[key] = StoredObject(body.encode("utf-8"), content_type)
            self.puts.append(key)

    def read(self, key: str) -> str:
        with self._lock:
            return self.objects[key].body.decode("utf-8")


class InMemoryReadings(Readings):
    """Readings by reference (``readings/<application id>/<name>.json``), stored as JSON would carry them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stored: dict[str, dict[str, Any]] = {}

    def keep(self, application_id: str, name: str, reading: Mapping[str, Any]) -> str:
        key = f"readings/{application_id}/{name}.json"
        with self._lock:
            self.stored[key] = _json_copy(dict(reading))
        return key

    def read(self, reference: str) -> Optional[dict[str, Any]]:
        with self._lock:
            found = self.stored.get(reference)
            return _json_copy(found) if found is not None else None

    def delete_all_for(self, application_id: str) -> int:
        with self._lock:
            gone = [key for key in self.stored if key.startswith(f"readings/{application_id}/")]
            for key in gone:
                del self.stored[key]
            return len(gone)
