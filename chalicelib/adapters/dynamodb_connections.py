"""WebSocket connections and their subscriptions: the only module that knows their items.

One table (``ConnectionModel``), two kinds of item, both expiring by TTL:

* ``pk=CONN#<connection id>  sk=META`` -- who is connected (user id, groups, user pool)
  and the topics the connection subscribed to;
* ``pk=TOPIC#<topic>  sk=CONN#<connection id>`` -- one per subscription, so
  the fan-out for a topic is a single Query on its partition;
* ``pk=USER#<user id>  sk=SLOT#<n>`` -- the per-user limit: a user holds at most
  ``max_per_user`` slots, n in 0..max-1. A connection takes a free (absent or expired)
  slot with a conditional put in the same transaction as its META item, so parallel
  connects cannot both take one slot: the limit holds however they race (count-then-insert
  did not). The slot names its holder; ``forget`` deletes it only if it still does.

A connection expires at the earlier of API Gateway's two-hour limit and its
token's expiry: a connection never outlives the token that opened it.

Topics are ``application#<application id>`` and ``review-queue``.

A subscription item and its entry in the connection's ``topics`` are written
in one transaction, conditioned on the ``topics`` the connection had when it
was read, so a subscribe racing another subscribe or a disconnect never leaves
a subscription that the connection does not list (and cleanup could not
find). Subscriptions share their connection's expiry: API Gateway closes a
connection after two hours at most, and ``$disconnect`` is best-effort, so
the TTL removes whatever a lost ``$disconnect`` left behind. Expired items
that DynamoDB has not deleted yet are ignored on read.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Optional

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.users import CUSTOMER_POOL, Identity
from ..services.ports import (
    MAX_SUBSCRIPTIONS,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    TooManyConnections,
    TooManySubscriptions,
    utc_now,
)
from .dynamodb_models import ConnectionModel

#: API Gateway's maximum WebSocket connection duration.
CONNECTION_TTL = dt.timedelta(hours=2)
_META = "META"
_WRITE_ATTEMPTS = 8


class KeptChanging(RuntimeError):
    """Concurrent writes to one connection won every attempt (a client flooding frames)."""


def _conn_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def _topic_pk(topic: str) -> str:
    return f"TOPIC#{topic}"


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _slot_sk(slot: int) -> str:
    return f"SLOT#{slot}"


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.01 * 2**attempt))


def _conflict(error: TransactWriteError) -> bool:
    codes = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
    return (
        any(c in ("ConditionalCheckFailed", "TransactionConflict") for c in codes)
        or error.cause_response_code == "TransactionConflictException"
    )


class DynamoConnectionStore(ConnectionStore):
    def __init__(
        self, connection: Connection, clock: Callable[[], dt.datetime] = utc_now, ttl: dt.timedelta = CONNECTION_TTL
    ):
        self.connection = connection  # for transactions
        self._clock = clock
        self._ttl = ttl

    # --- connections --------------------------------------------------------

    def register(self, connection_id: str, identity: Identity, max_per_user: Optional[int] = None) -> ConnectionInfo:
        now = self._clock()
        expires_at = now + self._ttl
        if identity.expires_at is not None:
            expires_at = min(expires_at, dt.datetime.fromtimestamp(identity.expires_at, dt.UTC))
        meta = ConnectionModel(
            _conn_pk(connection_id),
            _META,
            user_id=identity.sub,
            username=identity.username,
            groups=",".join(sorted(identity.groups)),
            pool=identity.pool,
            topics=[],
            expires_at=expires_at,
        )
        if max_per_user is None:
            meta.save()
            return ConnectionInfo(connection_id, identity, (), expires_at)
        for _round in range(_WRITE_ATTEMPTS):
            free = self._free_slots(identity.sub, max_per_user, now)
            if not free:
                raise TooManyConnections(identity.sub)
            for slot in free:  # each a conditional put: of parallel connects, one takes a slot
                meta.slot = slot
                taken = ConnectionModel(
                    _user_pk(identity.sub), _slot_sk(slot), holder=connection_id, expires_at=expires_at
                )
                try:
                    with TransactWrite(connection=self.connection) as tx:
                        tx.save(meta)
                        tx.save(
                            taken, condition=ConnectionModel.pk.does_not_exist() | (ConnectionModel.expires_at <= now)
                        )
                    return ConnectionInfo(connection_id, identity, (), expires_at)
                except TransactWriteError as error:
                    if not _conflict(error):
                        raise
            _backoff(_round)  # every slot seen free was taken meanwhile: look again
        raise TooManyConnections(identity.sub)

    def _free_slots(self, user_id: str, max_per_user: int, now: dt.datetime) -> list[int]:
        """Slots 0..max-1 not held by a live connection (a hint: the conditional put decides)."""
        held = {
            item.sk
            for item in ConnectionModel.query(
                _user_pk(user_id),
                ConnectionModel.sk.startswith("SLOT#"),
                filter_condition=ConnectionModel.expires_at > now,
                consistent_read=True,
            )
        }
        free = [n for n in range(max_per_user) if _slot_sk(n) not in held]
        random.shuffle(free)  # parallel connects try different slots first
        return free

    def count_for_user(self, user_id: str) -> int:
        """Live connections of the user: the slots they hold (expired ones, not yet deleted by TTL, do not count)."""
        return ConnectionModel.count(
            _user_pk(user_id),
            ConnectionModel.sk.startswith("SLOT#"),
            filter_condition=ConnectionModel.expires_at > self._clock(),
            consistent_read=True,
        )

    def get(self, connection_id: str) -> Optional[ConnectionInfo]:
        meta = self._meta(connection_id)
        if meta is None:
            return None
        groups = frozenset(g for g in (meta.groups or "").split(",") if g)
        identity = Identity(
            sub=meta.user_id or "", groups=groups, username=meta.username, pool=meta.pool or CUSTOMER_POOL
        )
        return ConnectionInfo(connection_id, identity, tuple(meta.topics or ()), meta.expires_at)

    def forget(self, connection_id: str, also_topics: Iterable[str] = ()) -> None:
        """Delete the connection and every subscription it has; a no-op when already gone.

        ``also_topics`` names subscriptions known from elsewhere (the fan-out
        found them), deleted even when the connection's META item is gone.
        """
        extra = set(also_topics)
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                meta = ConnectionModel.get(_conn_pk(connection_id), _META, consistent_read=True)
            except DoesNotExist:
                self._delete_subscriptions(connection_id, extra)
                return
            self._delete_subscriptions(connection_id, extra | set(meta.topics or ()))
            try:
                # Only if no subscribe slipped in since the read; else go again.
                meta.delete(condition=ConnectionModel.topics == (meta.topics or []))
                if meta.user_id and meta.slot is not None:
                    self._free_slot(meta.user_id, int(meta.slot), connection_id)
                return
            except DeleteError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
            _backoff(attempt)
        raise KeptChanging(connection_id)

    @staticmethod
    def _free_slot(user_id: str, slot: int, connection_id: str) -> None:
        """Give the slot back, if this connection still holds it (an expired slot may be someone else's now)."""
        try:
            ConnectionModel(_user_pk(user_id), _slot_sk(slot)).delete(condition=ConnectionModel.holder == connection_id)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    # --- subscriptions ------------------------------------------------------

    def subscribe(self, connection_id: str, topic: str) -> None:
        """Idempotent. Raises ConnectionGone or TooManySubscriptions."""
        for attempt in range(_WRITE_ATTEMPTS):
            meta = self._meta(connection_id)
            if meta is None:
                raise ConnectionGone(connection_id)
            topics = list(meta.topics or [])
            if topic in topics:
                return
            if len(topics) >= MAX_SUBSCRIPTIONS:
                raise TooManySubscriptions(connection_id)
            subscription = ConnectionModel(
                _topic_pk(topic), _conn_pk(connection_id), user_id=meta.user_id, expires_at=meta.expires_at
            )
            try:
                with TransactWrite(connection=self.connection) as tx:
                    tx.update(
                        meta,
                        actions=[ConnectionModel.topics.set(topics + [topic])],
                        condition=ConnectionModel.topics == topics,
                    )
                    tx.save(subscription)
                return
            except TransactWriteError as error:
                if not _conflict(error):
                    raise
            _backoff(attempt)
        raise KeptChanging(connection_id)

    def unsubscribe(self, connection_id: str, topic: str) -> None:
        """Idempotent: unsubscribing from a topic not subscribed to is not an error."""
        for attempt in range(_WRITE_ATTEMPTS):
            meta = self._meta(connection_id)
            if meta is None:
                raise ConnectionGone(connection_id)
            topics = list(meta.topics or [])
            if topic not in topics:
                return
            try:
                with TransactWrite(connection=self.connection) as tx:
                    tx.update(
                        meta,
                        actions=[ConnectionModel.topics.set([t for t in topics if t != topic])],
                        condition=ConnectionModel.topics == topics,
                    )
                    tx.delete(ConnectionModel(_topic_pk(topic), _conn_pk(connection_id)))
                return
            except TransactWriteError as error:
                if not _conflict(error):
                    raise
            _backoff(attempt)
        raise KeptChanging(connection_id)

    def subscribers(self, topic: str) -> Iterator[str]:
        """Connection ids subscribed to ``topic``, skipping expired subscriptions.

        Strongly consistent: a subscription acknowledged to the client is seen by the
        very next fan-out (an eventually consistent Query may miss a write made within
        about a second, and that event's frame would never be sent).
        """
        prefix = len("CONN#")
        for item in ConnectionModel.query(
            _topic_pk(topic), filter_condition=ConnectionModel.expires_at > self._clock(), consistent_read=True
        ):
            yield item.sk[prefix:]

    # --- internals ----------------------------------------------------------

    def _meta(self, connection_id: str) -> Optional[ConnectionModel]:
        try:
            meta = ConnectionModel.get(_conn_pk(connection_id), _META, consistent_read=True)
        except DoesNotExist:
            return None
        if meta.expires_at <= self._clock():
            return None  # past its TTL, not yet deleted by DynamoDB
        return meta

    def _delete_subscriptions(self, connection_id: str, topics: Iterable[str]) -> None:
        topics = sorted(set(topics))
        if not topics:
            return
        with ConnectionModel.batch_write() as batch:
            for topic in topics:
                batch.delete(ConnectionModel(_topic_pk(topic), _conn_pk(connection_id)))
