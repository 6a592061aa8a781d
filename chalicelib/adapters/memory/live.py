"""Fakes of the publisher, the WebSocket connection store and sender."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Optional, Protocol

from ...domain.users import Identity
from ...services.ports import (
    MAX_SUBSCRIPTIONS,
    Clock,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    EventPublisher,
    TooManyConnections,
    TooManySubscriptions,
    WatchMark,
    WebSocketSender,
    utc_now,
)
from ...services.ports.live import Attribute
from .common import _json_copy


@dataclasses.dataclass(frozen=True)
class PublishedMessage:
    message: dict[str, Any]
    attributes: dict[str, Attribute]


class RecordingEventPublisher(EventPublisher):
    """Keeps every message published, as JSON would carry it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[PublishedMessage] = []

    def publish(self, message: Mapping[str, Any], attributes: Mapping[str, Attribute]) -> None:
        for value in attributes.values():  # SNS refuses anything but a string or an array of strings
            if not isinstance(value, str) and not (
                isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
            ):
                raise TypeError("message attributes must be strings or lists of strings")
        record = PublishedMessage(
            _json_copy(dict(message)), {k: v if isinstance(v, str) else list(v) for k, v in attributes.items()}
        )
        with self._lock:
            self.published.append(record)

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.message for p in self.published]


class WatchMarks(Protocol):
    """Where the fake store writes a subscribe's watch mark: the repository fake (``watch``, ``unwatch``)."""

    def watch(self, mark: WatchMark, connection_id: str, now: dt.datetime) -> None: ...

    def unwatch(self, applicant_id: str, connection_id: str) -> None: ...


#: API Gateway's maximum WebSocket connection duration (as the DynamoDB store).
CONNECTION_TTL = dt.timedelta(hours=2)


@dataclasses.dataclass
class _Connection:
    identity: Identity
    topics: list[str]
    expires_at: dt.datetime


class InMemoryConnectionStore(ConnectionStore):
    """Connections and subscriptions; past its expiry a connection is gone, as with DynamoDB's TTL."""

    def __init__(
        self,
        clock: Clock = utc_now,
        ttl: dt.timedelta = CONNECTION_TTL,
        marks: Optional[WatchMarks] = None,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        #: Where a subscribe's ``WatchMark`` is written, as the table's transaction does (the repository fake);
        #: None: marks are not kept (a store tested alone).
        self._marks = marks
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
            self._unwatch(connection_id, topics)
            for topic in topics:
                subscribed = self._subscriptions.get(topic, {})
                subscribed.pop(connection_id, None)
                if not subscribed:
                    self._subscriptions.pop(topic, None)

    def subscribe(
        self,
        connection_id: str,
        topic: str,
        connection: Optional[ConnectionInfo] = None,
        mark: Optional[WatchMark] = None,
    ) -> None:
        with self._lock:
            conn = self._live(connection_id)
            if conn is None:
                raise ConnectionGone(connection_id)
            if topic not in conn.topics and len(conn.topics) >= MAX_SUBSCRIPTIONS:
                raise TooManySubscriptions(connection_id)
            if mark is not None and self._marks is not None:
                self._marks.watch(mark, connection_id, self._clock())  # all or nothing: ConcurrentChange
            if topic in conn.topics:
                return
            conn.topics.append(topic)
            self._subscriptions.setdefault(topic, {})[connection_id] = conn.expires_at

    def unsubscribe(self, connection_id: str, topic: str, *more: str) -> None:
        with self._lock:
            conn = self._live(connection_id)
            if conn is None:
                raise ConnectionGone(connection_id)
            self._unwatch(connection_id, (topic, *more))
            for name in dict.fromkeys((topic, *more)):
                if name not in conn.topics:
                    continue
                conn.topics.remove(name)
                subscribed = self._subscriptions.get(name, {})
                subscribed.pop(connection_id, None)
                if not subscribed:
                    self._subscriptions.pop(name, None)

    def _unwatch(self, connection_id: str, topics: Iterable[str]) -> None:
        """As the table's store: a ``my-applications`` topic (``applicant#<sub>/*``) left takes the connection
        off the applicant's watchers."""
        for name in topics:
            partition, _, scope = name.partition("/")
            if self._marks is not None and scope == "*" and partition.startswith("applicant#"):
                self._marks.unwatch(partition.removeprefix("applicant#"), connection_id)

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
