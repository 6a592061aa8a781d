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


#: How long an applicant's ``my-applications`` mark holds from its subscribe: API Gateway's two-hour limit on a
#: connection (so it outlives every connection subscribed before it), plus a margin for the clocks of two Lambdas.
WATCHING_ALL_FOR = dt.timedelta(hours=2, minutes=5)


@dataclass(frozen=True)
class WatchMark:
    """What a subscription marks watched, written in the subscribe's own transaction (issue 22).

    Either one application (``application_id``), only if it is still at ``version`` -- the version the subscribe
    read and acknowledges, so no commit slips between the ack's state and the mark (it raises ConcurrentChange:
    read again) -- or all of an applicant's applications (``applicant_id``, ``my-applications``) for
    ``WATCHING_ALL_FOR`` from the subscribe (by the store's clock).
    A commit of an application read unwatched is conditioned on both marks being absent (``ApplicationRepository``),
    so the notifier looks watchers up for every event committed after the mark, and the ack (or a GET after it)
    covers every event before it. Unsubscribing leaves the marks: a mark too many costs the notifier a Query.
    """

    application_id: Optional[str] = None
    version: Optional[int] = None
    applicant_id: Optional[str] = None


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
    def subscribe(
        self,
        connection_id: str,
        topic: str,
        connection: Optional[ConnectionInfo] = None,
        mark: Optional[WatchMark] = None,
    ) -> None:
        """Idempotent. Raises ConnectionGone or TooManySubscriptions; ConcurrentChange when ``mark`` names an
        application no longer at the version it names (nothing is written: read it again).

        ``connection``: the connection as the caller just read it (``get``), so no second read is needed.
        ``mark``: what to mark watched in the same transaction (``WatchMark``).
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
