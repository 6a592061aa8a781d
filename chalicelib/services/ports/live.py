"""Events and live updates: the publisher, the WebSocket connection store and sender."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

from ...domain.users import Identity

#: A message attribute: a string, or a list of strings (SNS ``String.Array``: a filter matches any element).
Attribute = Union[str, Sequence[str]]


class EventPublisher(abc.ABC):
    """The application-events topic."""

    @abc.abstractmethod
    def publish(self, message: Mapping[str, Any], attributes: Mapping[str, Attribute]) -> None: ...

    def publish_batch(self, entries: Sequence[tuple[Mapping[str, Any], Mapping[str, Attribute]]]) -> list[int]:
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
    def subscribe(self, connection_id: str, topic: str, connection: Optional[ConnectionInfo] = None) -> None:
        """Idempotent. Raises ConnectionGone or TooManySubscriptions.

        ``connection``: the connection as the caller just read it (``get``), so no second read is needed.
        A topic ``<partition>/<scope>`` is stored with its partition's subscriptions (see ``subscriptions``)."""

    @abc.abstractmethod
    def unsubscribe(self, connection_id: str, topic: str, *more: str) -> None:
        """Idempotent, for every topic named. Raises ConnectionGone."""

    @abc.abstractmethod
    def subscribers(self, topic: str) -> Iterator[str]: ...

    def subscriptions(self, topics: Sequence[str]) -> list[tuple[str, str]]:
        """(connection id, topic) of every live subscription to any of ``topics``.

        Topics that share a partition (the part before ``/``) are looked up together (one query)."""
        return [(connection_id, topic) for topic in dict.fromkeys(topics) for connection_id in self.subscribers(topic)]


class WebSocketSender(abc.ABC):
    """Pushes frames to connected clients (API Gateway's management API)."""

    @abc.abstractmethod
    def send(self, connection_id: str, text: str) -> None:
        """Raises ConnectionGone when the client is no longer connected."""
