"""In-memory fakes of every port, for use-case tests that need no AWS and no server.

Each fake keeps the semantics its real adapter has (the contract suite in
``tests/contracts`` runs the same tests against both), so a use case that
works on the fakes works on DynamoDB, S3, SNS and API Gateway too:

* the repository commits a ``Change`` all or nothing, on the same conditions
  as the DynamoDB transaction (version + state of the application read, no
  history event overwritten, the idempotency key not used yet); its cursors
  are opaque and pinned to the partition they page through;
* values go in and come out through JSON, as they do through DynamoDB, so a
  caller can neither change what is stored by mutating what it read nor store
  something DynamoDB could not;
* expiring items (claims, idempotency records, connections) stay until a
  sweep, as DynamoDB's TTL deletes them late; connections past their expiry
  are ignored on read, as the real store does.

Everything is guarded by one lock per fake, like the conditional writes of
the real ones, so concurrent use cases race here the way they race there.
Plain Python: nothing here imports boto3, botocore or pynamodb.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import itertools
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Optional

from ..domain.identity import HEAD_BYTES, TAIL_BYTES, DocumentSample, PageText
from ..domain.policy import Policy
from ..domain.users import CUSTOMER_POOL, STAFF_GROUPS, STAFF_POOL, Identity
from ..domain.workflow import Application, Change, HistoryEvent, State
from ..services.ports import (
    MAX_SUBSCRIPTIONS,
    ApplicationRepository,
    Claims,
    Clock,
    ConcurrentChange,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    DocumentMissing,
    DocumentStore,
    DownloadFailed,
    EventPublisher,
    GroupDirectory,
    IdempotencyRecord,
    IdempotentReplay,
    InvalidCursor,
    InvalidToken,
    JobRun,
    JobRunLog,
    ListDownloader,
    Metrics,
    Ocr,
    OcrRefused,
    Page,
    QueueAdmin,
    QueueStatus,
    Quotas,
    ReportStore,
    SanctionsIndexStore,
    SettingsSource,
    TokenVerifier,
    TooManyConnections,
    TooManySubscriptions,
    Upload,
    WebSocketSender,
    utc_now,
)
from .s3_documents import KEY_PATTERN  # the bucket's key layout, in one place

__all__ = [
    "InMemoryApplicationRepository",
    "InMemoryClaims",
    "InMemoryConnectionStore",
    "InMemoryDocumentStore",
    "InMemoryGroupDirectory",
    "InMemoryQuotas",
    "InMemoryReportStore",
    "RecordingEventPublisher",
    "RecordingMetrics",
    "RecordingWebSocketSender",
    "StaticSettings",
    "FakeTokenVerifier",
    "InMemorySanctionsIndexStore",
    "StaticListDownloader",
]


def _json_copy(value: Any) -> Any:
    """What a round trip through DynamoDB (JSON attributes) or SNS gives back: a fresh, plain copy."""
    return json.loads(json.dumps(value))


# --- applications and their history -------------------------------------------------


def _stored(app: Application) -> Application:
    return dataclasses.replace(
        app,
        declared=_json_copy(app.declared),
        checks=_json_copy(app.checks),
        decision_reasons=tuple(_json_copy(list(app.decision_reasons))),
    )


def _stored_event(event: HistoryEvent) -> HistoryEvent:
    return dataclasses.replace(event, details=_json_copy(event.details))


def _encode_cursor(partition: str, position: str) -> str:
    raw = json.dumps({"p": partition, "after": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: Optional[str], partition: str) -> Optional[str]:
    """The position a cursor continues after; InvalidCursor for one not handed out for this partition."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as error:
        raise InvalidCursor("cursor is not valid") from error
    if (
        not isinstance(data, dict)
        or set(data) != {"p", "after"}
        or data["p"] != partition
        or not isinstance(data["after"], str)
    ):
        raise InvalidCursor("cursor is not valid")
    return str(data["after"])


class InMemoryApplicationRepository(ApplicationRepository):
    """Applications, their history and idempotency records, committed atomically under one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._apps: dict[str, Application] = {}
        self._history: dict[str, dict[int, HistoryEvent]] = {}
        self._idempotency: dict[str, IdempotencyRecord] = {}
        self.commits = 0  # successful commits, for tests that count writes

    # --- reads -------------------------------------------------------------

    def get(self, application_id: str) -> Optional[Application]:
        with self._lock:
            app = self._apps.get(application_id)
            return _stored(app) if app is not None else None

    def history(self, application_id: str) -> list[HistoryEvent]:
        with self._lock:
            events = self._history.get(application_id, {})
            return [_stored_event(events[seq]) for seq in sorted(events)]

    def list_for_applicant(self, applicant_id: str, limit: int, cursor: Optional[str]) -> Page:
        """Newest first, by ``created_at#id`` (the by_applicant index's sort key)."""
        partition = f"applicant#{applicant_id}"
        after = _decode_cursor(cursor, partition)
        with self._lock:
            keyed = sorted(
                (
                    (f"{a.created_at}#{a.application_id}", a)
                    for a in self._apps.values()
                    if a.applicant_id == applicant_id
                ),
                key=lambda pair: pair[0],
                reverse=True,
            )
        if after is not None:
            keyed = [pair for pair in keyed if pair[0] < after]
        return self._page(keyed, limit, partition)

    def review_queue(self, limit: int, cursor: Optional[str]) -> Page:
        """FLAGGED only, oldest flag first, by ``state_since#id`` (the review_queue index's sort key)."""
        partition = "review-queue"
        after = _decode_cursor(cursor, partition)
        with self._lock:
            keyed = sorted(
                (f"{a.state_since}#{a.application_id}", a) for a in self._apps.values() if a.state == State.FLAGGED
            )
        if after is not None:
            keyed = [pair for pair in keyed if pair[0] > after]
        return self._page(keyed, limit, partition)

    def in_state_since_before(self, state: State, before: str) -> Iterator[Application]:
        return iter(self._in_state(state, lambda since: since < before))

    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        return iter(self._in_state(state, lambda since: start <= since <= end))

    def count_in_state(self, state: State) -> int:
        with self._lock:
            return sum(1 for a in self._apps.values() if a.state == state)

    def find_idempotency_record(self, key: str) -> Optional[IdempotencyRecord]:
        with self._lock:
            return self._idempotency.get(key)

    # --- writes ------------------------------------------------------------

    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        idempotency_ttl: int = 24 * 3600,
    ) -> None:
        """All of the change or none of it, on the conditions of the DynamoDB transaction."""
        app_id = change.after.application_id
        with self._lock:
            if idempotency_key and idempotency_key in self._idempotency:
                used = self._idempotency[idempotency_key]
                raise IdempotentReplay(used.result, used.fingerprint)
            current = self._apps.get(app_id)
            if change.before is None:
                applies = current is None
            else:
                applies = (
                    current is not None
                    and current.version == change.before.version
                    and current.state == change.before.state
                )
            events = self._history.get(app_id, {})
            if not applies or any(e.seq in events for e in change.events):
                raise ConcurrentChange(_stored(current) if current is not None else None)
            self._apps[app_id] = _stored(change.after)
            events = self._history.setdefault(app_id, {})
            for event in change.events:
                events[event.seq] = _stored_event(event)
            if idempotency_key:
                self._idempotency[idempotency_key] = IdempotencyRecord(app_id, fingerprint)
            self.commits += 1

    # --- internals ---------------------------------------------------------

    def _in_state(self, state: State, since_ok: Callable[[str], bool]) -> list[Application]:
        """A snapshot, oldest state_since first (the by_state index's sort key)."""
        with self._lock:
            found = [_stored(a) for a in self._apps.values() if a.state == state and since_ok(a.state_since)]
        return sorted(found, key=lambda a: a.state_since)

    @staticmethod
    def _page(keyed: list[tuple[str, Application]], limit: int, partition: str) -> Page:
        page = keyed[:limit]
        more = len(keyed) > limit
        cursor = _encode_cursor(partition, page[-1][0]) if more and page else None
        return [_stored(app) for _, app in page], cursor


class InMemoryClaims(Claims):
    """One-shot claims; like the real table, an expired claim holds until the TTL sweep (``sweep``)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._claims: dict[str, dt.datetime] = {}

    def claim(self, key: str, ttl_seconds: int = 7 * 24 * 3600) -> bool:
        with self._lock:
            if key in self._claims:
                return False
            self._claims[key] = self._clock() + dt.timedelta(seconds=ttl_seconds)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._claims.pop(key, None)

    def is_claimed(self, key: str) -> bool:
        with self._lock:
            return key in self._claims

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._claims)

    def sweep(self) -> int:
        """What DynamoDB's TTL does eventually: drop the expired claims; returns how many."""
        with self._lock:
            now = self._clock()
            expired = [k for k, expires_at in self._claims.items() if expires_at <= now]
            for key in expired:
                del self._claims[key]
            return len(expired)


# --- documents and reports ---------------------------------------------------------------


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
    """The documents bucket as a dict; ``upload`` plays the applicant posting to the presigned URL."""

    def __init__(self, bucket: str = "documents") -> None:
        self._lock = threading.Lock()
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
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
            self.objects[key] = StoredObject(bytes(body), grant.content_type)

    def put(self, key: str, body: bytes, content_type: Optional[str] = None) -> None:
        """Write an object directly (what local S3 accepts without checking a policy)."""
        with self._lock:
            self.objects[key] = StoredObject(bytes(body), content_type)

    def sample(self, key: str, version: Optional[str] = None) -> DocumentSample:
        with self._lock:
            stored = self.objects.get(key)
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
        )

    def delete_all_for(self, application_id: str) -> int:
        prefix = f"applications/{application_id}/"
        with self._lock:
            keys = [k for k in self.objects if k.startswith(prefix)]
            for key in keys:
                del self.objects[key]
        return len(keys)

    def keys_of(self, application_id: str) -> list[str]:
        prefix = f"applications/{application_id}/"
        with self._lock:
            return sorted(k for k in self.objects if k.startswith(prefix))

    def presigned_view(self, key: str, content_type: str, ttl_seconds: int) -> str:
        with self._lock:
            if key not in self.objects:
                raise KeyError(key)
            self.views.append((key, content_type, ttl_seconds))
        return f"memory://{self.bucket}/{key}?type={content_type}&ttl={ttl_seconds}"


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

    def read(self, key: str, version: Optional[str] = None) -> PageText:
        self.reads.append((key, version))
        stored = self.documents.objects.get(key)
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


# --- events and live updates ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PublishedMessage:
    message: dict[str, Any]
    attributes: dict[str, str]


class RecordingEventPublisher(EventPublisher):
    """Keeps every message published, as JSON would carry it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[PublishedMessage] = []

    def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None:
        if not all(isinstance(v, str) for v in attributes.values()):
            raise TypeError("message attributes must be strings")  # SNS refuses a non-string String attribute
        record = PublishedMessage(_json_copy(dict(message)), dict(attributes))
        with self._lock:
            self.published.append(record)

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.message for p in self.published]


#: API Gateway's maximum WebSocket connection duration (as the DynamoDB store).
CONNECTION_TTL = dt.timedelta(hours=2)


@dataclasses.dataclass
class _Connection:
    identity: Identity
    topics: list[str]
    expires_at: dt.datetime


class InMemoryConnectionStore(ConnectionStore):
    """Connections and subscriptions; past its expiry a connection is gone, as with DynamoDB's TTL."""

    def __init__(self, clock: Clock = utc_now, ttl: dt.timedelta = CONNECTION_TTL) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._ttl = ttl
        self._connections: dict[str, _Connection] = {}
        self._subscriptions: dict[str, dict[str, dt.datetime]] = {}  # topic -> connection id -> expiry

    def register(self, connection_id: str, identity: Identity, max_per_user: Optional[int] = None) -> ConnectionInfo:
        expires_at = self._clock() + self._ttl
        if identity.expires_at is not None:
            expires_at = min(expires_at, dt.datetime.fromtimestamp(identity.expires_at, dt.UTC))
        with self._lock:
            if max_per_user is not None and self.count_for_user(identity.sub) >= max_per_user:
                raise TooManyConnections(identity.sub)
            self._connections[connection_id] = _Connection(identity, [], expires_at)
        return ConnectionInfo(connection_id, identity, (), expires_at)

    def count_for_user(self, user_id: str) -> int:
        with self._lock:
            return sum(1 for cid, conn in self._connections.items() if conn.identity.sub == user_id and self._live(cid))

    def get(self, connection_id: str) -> Optional[ConnectionInfo]:
        with self._lock:
            conn = self._live(connection_id)
            if conn is None:
                return None
            return ConnectionInfo(connection_id, conn.identity, tuple(conn.topics), conn.expires_at)

    def forget(self, connection_id: str, also_topics: Iterable[str] = ()) -> None:
        with self._lock:
            conn = self._connections.pop(connection_id, None)
            topics = set(also_topics) | set(conn.topics if conn else ())
            for topic in topics:
                subscribed = self._subscriptions.get(topic, {})
                subscribed.pop(connection_id, None)
                if not subscribed:
                    self._subscriptions.pop(topic, None)

    def subscribe(self, connection_id: str, topic: str) -> None:
        with self._lock:
            conn = self._live(connection_id)
            if conn is None:
                raise ConnectionGone(connection_id)
            if topic in conn.topics:
                return
            if len(conn.topics) >= MAX_SUBSCRIPTIONS:
                raise TooManySubscriptions(connection_id)
            conn.topics.append(topic)
            self._subscriptions.setdefault(topic, {})[connection_id] = conn.expires_at

    def unsubscribe(self, connection_id: str, topic: str) -> None:
        with self._lock:
            conn = self._live(connection_id)
            if conn is None:
                raise ConnectionGone(connection_id)
            if topic not in conn.topics:
                return
            conn.topics.remove(topic)
            subscribed = self._subscriptions.get(topic, {})
            subscribed.pop(connection_id, None)
            if not subscribed:
                self._subscriptions.pop(topic, None)

    def subscribers(self, topic: str) -> Iterator[str]:
        now = self._clock()
        with self._lock:
            live = sorted(cid for cid, expires_at in self._subscriptions.get(topic, {}).items() if expires_at > now)
        return iter(live)

    def _live(self, connection_id: str) -> Optional[_Connection]:
        conn = self._connections.get(connection_id)
        if conn is None or conn.expires_at <= self._clock():
            return None
        return conn


class InMemoryQuotas(Quotas):
    """Counters per key; the window's end (``ttl_seconds``) is the caller's business, as with the table's TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.uses: Counter[str] = Counter()

    def take(self, key: str, limit: int, ttl_seconds: int) -> bool:
        with self._lock:
            if self.uses[key] >= limit:
                return False
            self.uses[key] += 1
            return True

    def give_back(self, key: str) -> None:
        with self._lock:
            if self.uses[key] > 0:
                self.uses[key] -= 1


class InMemoryGroupDirectory(GroupDirectory):
    """A user pool in which every user is in the staff groups their token names, until ``remove``d."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.removed: dict[str, set[str]] = {}

    def groups_of(self, username: str) -> frozenset[str]:
        with self._lock:
            return frozenset(STAFF_GROUPS - self.removed.get(username, set()))

    def remove(self, username: str, group: str) -> None:
        with self._lock:
            self.removed.setdefault(username, set()).add(group)


class RecordingWebSocketSender(WebSocketSender):
    """Records every frame sent; a connection marked gone raises ConnectionGone, a failing one its error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[tuple[str, str]] = []
        self.gone: set[str] = set()
        self.failures: dict[Optional[str], Exception] = {}  # connection id (None: all) -> error to raise

    def send(self, connection_id: str, text: str) -> None:
        with self._lock:
            if connection_id in self.gone:
                raise ConnectionGone(connection_id)
            error = self.failures.get(connection_id, self.failures.get(None))
            if error is not None:
                raise error
            self.sent.append((connection_id, text))

    def mark_gone(self, *connection_ids: str) -> None:
        with self._lock:
            self.gone.update(connection_ids)

    def fail(self, error: Exception, connection_id: Optional[str] = None) -> None:
        """Make sends (to one connection, or to every one) raise ``error``, as an unreachable API would."""
        with self._lock:
            self.failures[connection_id] = error

    def heal(self) -> None:
        with self._lock:
            self.failures.clear()

    def frames(self, connection_id: Optional[str] = None) -> list[dict[str, Any]]:
        """The frames sent (to one connection), decoded."""
        with self._lock:
            return [json.loads(text) for cid, text in self.sent if connection_id in (None, cid)]


# --- settings, identity and metrics ---------------------------------------------------------


class StaticSettings(SettingsSource):
    """A Policy held in memory; ``update`` plays an operator changing Parameter Store."""

    def __init__(self, policy: Optional[Policy] = None) -> None:
        self._policy = policy or Policy()
        self.reads = 0

    def policy(self) -> Policy:
        self.reads += 1
        return self._policy

    def update(self, **changes: Any) -> Policy:
        self._policy = dataclasses.replace(self._policy, **changes)
        return self._policy


class FakeTokenVerifier(TokenVerifier):
    """Accepts the tokens it issued (until revoked) and nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Identity] = {}
        self._serial = itertools.count(1)

    def issue(self, identity: Identity) -> str:
        token = f"fake-token-{next(self._serial)}-{uuid.uuid4().hex}"
        with self._lock:
            self._tokens[token] = identity
        return token

    def issue_for(
        self, sub: Optional[str] = None, groups: Iterable[str] = (), email: Optional[str] = None, pool: str = ""
    ) -> str:
        """A token of ``pool``: by default the staff pool's for anyone in a group, else the customer pool's."""
        groups = frozenset(groups)
        pool = pool or (STAFF_POOL if groups else CUSTOMER_POOL)
        return self.issue(Identity(sub=sub or str(uuid.uuid4()), groups=groups, email=email, pool=pool))

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def verify(self, token: str) -> Identity:
        with self._lock:
            identity = self._tokens.get(token)
        if identity is None:
            raise InvalidToken("token not issued by the fake verifier")
        return identity


class RecordingMetrics(Metrics):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.counts[name] += value


# --- sanctions lists -------------------------------------------------------------------------


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


# --- operations ------------------------------------------------------------------------


class InMemoryQueueAdmin(QueueAdmin):
    """Queues as lists of message bodies; ``dead`` plays messages that failed too often."""

    def __init__(self, names: Iterable[str] = ("address-check",)) -> None:
        self._lock = threading.Lock()
        self.queued: dict[str, list[str]] = {name: [] for name in names}
        self.dead: dict[str, list[str]] = {name: [] for name in names}

    def status(self) -> list[QueueStatus]:
        with self._lock:
            return [QueueStatus(name, len(self.queued[name]), 0, len(self.dead[name])) for name in self.queued]

    def redrive(self, name: str, max_messages: int = 1000) -> int:
        with self._lock:
            moving = self.dead[name][:max_messages]  # KeyError for an unknown queue, like the real one
            del self.dead[name][: len(moving)]
            self.queued[name].extend(moving)
            return len(moving)


class InMemoryJobRunLog(JobRunLog):
    def __init__(self) -> None:
        self.runs: dict[str, JobRun] = {}

    def record(self, run: JobRun) -> None:
        self.runs[run.job] = run

    def last_runs(self) -> dict[str, JobRun]:
        return dict(self.runs)
