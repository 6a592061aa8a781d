"""The ports: what the use cases need from the outside world, and nothing about how.

Each port is an abstract class. The real adapters (``chalicelib/adapters``)
implement them over DynamoDB, S3, SNS, API Gateway's management API,
Parameter Store and Cognito; the in-memory fakes in
``chalicelib/adapters/memory.py`` implement them for use-case tests, and one
contract suite (``tests/contracts``) runs against both so they cannot drift.
"""

from __future__ import annotations

import abc
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ..domain.checks import CheckResult
from ..domain.identity import DocumentSample, PageText
from ..domain.policy import Policy
from ..domain.users import Identity
from ..domain.workflow import Application, Change, HistoryEvent, State

Clock = Callable[[], dt.datetime]
IdGenerator = Callable[[], str]


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


def new_uuid() -> str:
    """The real id generator: random, canonical, lower-case."""
    return str(uuid.uuid4())


# --- errors every implementation raises the same way ---------------------------


class ConcurrentChange(Exception):
    """Someone else changed the application first; ``current`` is what won."""

    def __init__(self, current: Optional[Application]):
        self.current = current
        super().__init__("application changed concurrently")


class IdempotentReplay(Exception):
    """The idempotency key was already used; ``application_id`` is its result."""

    def __init__(self, application_id: str, fingerprint: Optional[str]):
        self.application_id = application_id
        self.fingerprint = fingerprint
        super().__init__("idempotency key already used")


class InvalidCursor(ValueError):
    """A page cursor that was not handed out by us (or reaches outside the caller's data)."""


class InvalidToken(Exception):
    """Any reason a token is not accepted; the message says which, for logs only."""


class ConnectionGone(Exception):
    """The WebSocket connection is not (or no longer) there."""


class TooManySubscriptions(Exception):
    pass


class TooManyConnections(Exception):
    """The user already holds as many WebSocket connections as allowed."""


# --- applications and their history --------------------------------------------


@dataclass(frozen=True)
class IdempotencyRecord:
    result: str
    fingerprint: Optional[str]


Page = tuple[list[Application], Optional[str]]


class ApplicationRepository(abc.ABC):
    """Applications and their append-only history, changed only by committing a Change."""

    @abc.abstractmethod
    def get(self, application_id: str) -> Optional[Application]: ...

    @abc.abstractmethod
    def history(self, application_id: str) -> list[HistoryEvent]: ...

    @abc.abstractmethod
    def list_for_applicant(self, applicant_id: str, limit: int, cursor: Optional[str]) -> Page:
        """Newest first; the cursor is opaque and pinned to the applicant."""

    @abc.abstractmethod
    def review_queue(self, limit: int, cursor: Optional[str]) -> Page:
        """FLAGGED applications, oldest flag first."""

    @abc.abstractmethod
    def in_state_since_before(self, state: State, before: str) -> Iterator[Application]:
        """Applications that entered ``state`` before the ISO instant ``before``, oldest first."""

    @abc.abstractmethod
    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        """Applications that entered ``state`` within [start, end] (ISO instants, inclusive)."""

    @abc.abstractmethod
    def count_in_state(self, state: State) -> int: ...

    @abc.abstractmethod
    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        idempotency_ttl: int = 24 * 3600,
    ) -> None:
        """Write the change atomically, or raise ConcurrentChange / IdempotentReplay."""

    @abc.abstractmethod
    def find_idempotency_record(self, key: str) -> Optional[IdempotencyRecord]: ...


class Claims(abc.ABC):
    """One-shot claims on event ids, for at-least-once deliveries (expire after ``ttl``)."""

    @abc.abstractmethod
    def claim(self, key: str, ttl_seconds: int = 7 * 24 * 3600) -> bool:
        """True for exactly one caller per key."""

    @abc.abstractmethod
    def release(self, key: str) -> None:
        """Give a claim back, so the next delivery is handled again."""

    @abc.abstractmethod
    def is_claimed(self, key: str) -> bool: ...


class Quotas(abc.ABC):
    """Counters that refuse past a limit, expiring with their window."""

    @abc.abstractmethod
    def take(self, key: str, limit: int, ttl_seconds: int) -> bool:
        """Count one use of ``key``; False (and nothing counted) when ``limit`` uses are already counted."""

    @abc.abstractmethod
    def give_back(self, key: str) -> None:
        """Uncount one use (the work it paid for did not happen)."""


# --- documents and reports ---------------------------------------------------------


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
        """Delete every object of the application (re-uploads included); returns how many."""

    def presigned_view(self, key: str, content_type: str, ttl_seconds: int) -> str:
        """A short-lived GET of one object, answered with ``content_type`` and shown inline."""
        raise NotImplementedError(f"{type(self).__name__} cannot show documents")


class DocumentMissing(Exception):
    """The object is not in the store (never written, deleted, or that version is gone)."""


class OcrRefused(Exception):
    """The OCR service would not read the document (unsupported, bad, too large, no such object)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class Ocr(abc.ABC):
    """The text of a stored document, read where it lies (Textract ``DetectDocumentText`` on the object)."""

    @abc.abstractmethod
    def read(self, key: str, version: Optional[str] = None) -> PageText:
        """The page's lines, top to bottom. Raises OcrRefused; transient failures are retried, then raised."""


class ReportStore(abc.ABC):
    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def put(self, key: str, body: str, content_type: str) -> None: ...


# --- events and live updates -------------------------------------------------------


class EventPublisher(abc.ABC):
    """The application-events topic."""

    @abc.abstractmethod
    def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None: ...

    def publish_batch(self, entries: Sequence[tuple[Mapping[str, Any], Mapping[str, str]]]) -> list[int]:
        """Publish several messages (in fewer calls where the service allows); the indexes that failed."""
        failed = []
        for index, (message, attributes) in enumerate(entries):
            try:
                self.publish(message, attributes)
            except Exception:  # noqa: BLE001 - reported per entry, like SNS PublishBatch
                failed.append(index)
        return failed


#: Subscriptions one connection may hold: an applicant watches a few
#: applications, a reviewer the queue and the cases open on screen.
MAX_SUBSCRIPTIONS = 25


@dataclass(frozen=True)
class ConnectionInfo:
    connection_id: str
    identity: Identity
    topics: tuple[str, ...]
    expires_at: dt.datetime


class ConnectionStore(abc.ABC):
    """WebSocket connections and what each subscribed to."""

    @abc.abstractmethod
    def register(self, connection_id: str, identity: Identity, max_per_user: Optional[int] = None) -> ConnectionInfo:
        """Record who is connected, until the earlier of the connection's and the token's end.

        Raises TooManyConnections when the user already holds ``max_per_user`` live connections.
        """

    @abc.abstractmethod
    def get(self, connection_id: str) -> Optional[ConnectionInfo]: ...

    @abc.abstractmethod
    def forget(self, connection_id: str, also_topics: Iterable[str] = ()) -> None:
        """Delete the connection and its subscriptions; a no-op when already gone."""

    @abc.abstractmethod
    def subscribe(self, connection_id: str, topic: str) -> None:
        """Idempotent. Raises ConnectionGone or TooManySubscriptions."""

    @abc.abstractmethod
    def unsubscribe(self, connection_id: str, topic: str) -> None:
        """Idempotent. Raises ConnectionGone."""

    @abc.abstractmethod
    def subscribers(self, topic: str) -> Iterator[str]: ...


class WebSocketSender(abc.ABC):
    """Pushes frames to connected clients (API Gateway's management API)."""

    @abc.abstractmethod
    def send(self, connection_id: str, text: str) -> None:
        """Raises ConnectionGone when the client is no longer connected."""


# --- settings and identity ------------------------------------------------------------


class SettingsSource(abc.ABC):
    """Business thresholds and lists (Parameter Store), cached briefly."""

    @abc.abstractmethod
    def policy(self) -> Policy: ...


class TokenVerifier(abc.ABC):
    @abc.abstractmethod
    def verify(self, token: str) -> Identity:
        """Raises InvalidToken."""

    def verify_bearer(self, header_value: Optional[str]) -> Identity:
        if not header_value:
            raise InvalidToken("missing token")
        scheme, _, token = header_value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected 'Authorization: Bearer <token>'")
        return self.verify(token.strip())


class GroupDirectory(abc.ABC):
    """The user pool as it is now: a token's groups are only as of when it was issued."""

    @abc.abstractmethod
    def groups_of(self, username: str) -> frozenset[str]:
        """The user's current groups; none for an unknown user."""


# --- operations ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStatus:
    name: str
    depth: int  # messages waiting
    in_flight: int  # received, not yet deleted
    dlq_depth: int  # messages that failed too often


class QueueAdmin(abc.ABC):
    """The work queues and their dead-letter queues, as an operator sees them."""

    @abc.abstractmethod
    def status(self) -> list[QueueStatus]: ...

    @abc.abstractmethod
    def redrive(self, name: str, max_messages: int = 1000) -> int:
        """Move dead letters back to the queue; returns how many. KeyError for an unknown queue."""


@dataclass(frozen=True)
class JobRun:
    job: str
    started_at: str
    finished_at: str
    ok: bool
    summary: Mapping[str, Any]


class JobRunLog(abc.ABC):
    """The last run of each scheduled job, for the operators' view."""

    @abc.abstractmethod
    def record(self, run: JobRun) -> None: ...

    @abc.abstractmethod
    def last_runs(self) -> dict[str, JobRun]: ...


class Metrics(abc.ABC):
    @abc.abstractmethod
    def count(self, name: str, value: int = 1) -> None: ...


# --- sanctions lists ---------------------------------------------------------------------


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


__all__ = [
    "ApplicationRepository",
    "CheckResult",
    "Claims",
    "Clock",
    "ConcurrentChange",
    "ConnectionGone",
    "ConnectionInfo",
    "ConnectionStore",
    "DocumentStore",
    "DownloadFailed",
    "EventPublisher",
    "GroupDirectory",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotentReplay",
    "InvalidCursor",
    "InvalidToken",
    "ListDownloader",
    "JobRun",
    "JobRunLog",
    "Metrics",
    "Ocr",
    "OcrRefused",
    "Page",
    "Quotas",
    "QueueAdmin",
    "QueueStatus",
    "ReportStore",
    "SanctionsIndexStore",
    "SettingsSource",
    "TokenVerifier",
    "TooManyConnections",
    "TooManySubscriptions",
    "Upload",
    "WebSocketSender",
    "new_uuid",
    "utc_now",
]
