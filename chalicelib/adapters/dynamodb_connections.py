"""WebSocket connections and their subscriptions: the only module that knows their items.

One table (``ConnectionModel``), two kinds of item, both expiring by TTL:

* ``pk=CONN#<connection id>  sk=META`` -- who is connected (user id, groups, user pool)
  and the topics the connection subscribed to;
* ``pk=TOPIC#<topic>  sk=CONN#<connection id>`` -- one per subscription, so
  the fan-out for a topic is a single Query on its partition; a *scoped* topic
  ``<partition>/<scope>`` (an applicant's: ``applicant#<sub>/application#<id>``
  or ``applicant#<sub>/*``) is stored as ``pk=TOPIC#<partition>
  sk=CONN#<connection id>|<scope>``, so one Query finds every watcher of an
  applicant's application, whichever way they subscribed;
* ``pk=USER#<user id>  sk=SLOT#<n>`` -- the per-user limit: a user holds at most
  ``max_per_user`` slots, n in 0..max-1. A connection takes a free (absent or expired)
  slot with a conditional put in the same transaction as its META item, so parallel
  connects cannot both take one slot: the limit holds however they race (count-then-insert
  did not). The slot names its holder; ``forget`` deletes it only if it still does.

A subscribe also writes its watch mark (issue 22, ``WatchMark``) in its transaction: ``watched`` on the
application item (only at the version read), or the connection in the ``watchers`` of the applicant's
``watching#<sub>`` item in the idempotency table (``my-applications``), which an unsubscribe from it or
``forget`` takes it out of again (one more call).

A connection expires at the earlier of API Gateway's two-hour limit and its
token's expiry: a connection never outlives the token that opened it.

The connection lists its subscriptions in a string set (``subscribed``): a
subscription item and its entry in the set are written in one transaction,
conditioned on the connection still being there (and under the limit), with
no read first; ``$disconnect`` deletes the set's subscriptions and then the
connection only if the set is unchanged, so a subscribe racing another
subscribe or a disconnect never leaves a subscription that the connection does
not list (and cleanup could not find). Connections registered before the set
existed list theirs in ``topics`` (a JSON list); both are read on cleanup.
Subscriptions share their connection's expiry: API Gateway closes a
connection after two hours at most, and ``$disconnect`` is best-effort, so
the TTL removes whatever a lost ``$disconnect`` left behind. Expired items
that DynamoDB has not deleted yet are ignored on read.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Optional

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from ..domain.users import CUSTOMER_POOL, Identity
from ..services.ports import (
    MAX_SUBSCRIPTIONS,
    WATCHING_ALL_FOR,
    ConcurrentChange,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    TooManyConnections,
    TooManySubscriptions,
    WatchMark,
    utc_now,
)
from .dynamodb_models import ApplicationModel, ConnectionModel, IdempotencyModel, watching_all_key

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


#: Between the connection id and the scope in a scoped subscription's sort key. Not "/": API Gateway's
#: connection ids are base64 ("L0SM9cOF/vHcCIhw="), so a "/" may be part of the id (one id in six).
_SCOPE_SEPARATOR = "|"


def _subscription_key(topic: str, connection_id: str) -> tuple[str, str]:
    """(pk, sk) of a subscription: a scoped topic ``<partition>/<scope>`` lives in its partition's items,
    sk ``CONN#<connection id>|<scope>``."""
    partition, slash, scope = topic.partition("/")
    return _topic_pk(partition), f"{_conn_pk(connection_id)}{_SCOPE_SEPARATOR if slash else ''}{scope}"


def _subscription_of(sk: str) -> tuple[str, str]:
    """(connection id, scope) of a subscription's sort key (the scope "" for an unscoped topic)."""
    connection_id, _, scope = sk[len("CONN#") :].partition(_SCOPE_SEPARATOR)
    return connection_id, scope


def _failed_condition(error: TransactWriteError) -> bool:
    return any(getattr(r, "code", None) == "ConditionalCheckFailed" for r in (error.cancellation_reasons or []))


def _slot_sk(slot: int) -> str:
    return f"SLOT#{slot}"


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.01 * 2**attempt))


def _mark(tx: TransactWrite, mark: Optional[WatchMark], connection_id: str, now: dt.datetime) -> None:
    """The watch mark's item of a subscribe's transaction (``WatchMark``), if any."""
    if mark is None:
        return
    if mark.application_id is not None and mark.version is not None:
        tx.update(
            ApplicationModel(mark.application_id),
            actions=[ApplicationModel.watched.set(True)],
            condition=ApplicationModel.version == mark.version,  # and so it exists: never a stub item
        )
    elif mark.applicant_id is not None:  # a later subscribe only moves it later (the same span from a later now)
        tx.update(
            IdempotencyModel(watching_all_key(mark.applicant_id)),
            actions=[
                IdempotencyModel.watchers.add({connection_id}),
                IdempotencyModel.expires_at.set(now + WATCHING_ALL_FOR),
            ],
        )


def _watching_all_of(topic: str) -> Optional[str]:
    """The applicant whose ``my-applications`` subscription ``topic`` is (``applicant#<sub>/*``), else None."""
    partition, _, scope = topic.partition("/")
    return partition.removeprefix("applicant#") if scope == "*" and partition.startswith("applicant#") else None


def _unwatch(connection_id: str, topics: Iterable[str]) -> None:
    """Take the connection off the ``watchers`` of each applicant whose applications it watched all of: the
    last one gone, their unwatched applications commit unwatched again (a lost ``$disconnect``: the expiry)."""
    for applicant_id in sorted({a for a in map(_watching_all_of, topics) if a}):
        try:
            IdempotencyModel(watching_all_key(applicant_id)).update(
                actions=[IdempotencyModel.watchers.delete({connection_id})],
                condition=IdempotencyModel.key.exists(),  # never an item without an expiry
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise


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
        topics = tuple(dict.fromkeys([*(meta.topics or ()), *sorted(meta.subscribed or ())]))
        return ConnectionInfo(connection_id, identity, topics, meta.expires_at)

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
                _unwatch(connection_id, extra)
                return
            listed = set(meta.subscribed or ())
            self._delete_subscriptions(connection_id, extra | listed | set(meta.topics or ()))
            _unwatch(connection_id, extra | listed)
            try:
                # Only if no subscribe slipped in since the read; else go again.
                unchanged = (
                    ConnectionModel.subscribed == listed if listed else ConnectionModel.subscribed.does_not_exist()
                )
                meta.delete(condition=unchanged)
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

    def subscribe(
        self,
        connection_id: str,
        topic: str,
        connection: Optional[ConnectionInfo] = None,
        mark: Optional[WatchMark] = None,
    ) -> None:
        """Idempotent. Raises ConnectionGone, TooManySubscriptions, or ConcurrentChange (``mark``'s application
        moved on from its version: nothing written).

        One TransactWriteItems, no read, when the caller passes the connection it read (its expiry
        and user go on the subscription item); the condition on the connection's item does the rest.
        ``mark`` is one more item of it (issue 22): ``watched`` set on the application item, only at the
        version the caller read; or the applicant's ``watching#<sub>`` item (idempotency table), expiring
        ``WATCHING_ALL_FOR`` from now.
        """
        if connection is None:
            connection = self.get(connection_id)
            if connection is None:
                raise ConnectionGone(connection_id)
        pk, sk = _subscription_key(topic, connection_id)
        meta = ConnectionModel(_conn_pk(connection_id), _META)
        room = (
            ConnectionModel.subscribed.does_not_exist()
            | (size(ConnectionModel.subscribed) < MAX_SUBSCRIPTIONS)
            | ConnectionModel.subscribed.contains(topic)
        )
        live = ConnectionModel.pk.exists() & (ConnectionModel.expires_at > self._clock())
        subscription = ConnectionModel(pk, sk, user_id=connection.identity.sub, expires_at=connection.expires_at)
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with TransactWrite(connection=self.connection) as tx:
                    tx.update(meta, actions=[ConnectionModel.subscribed.add({topic})], condition=live & room)
                    tx.save(subscription)
                    _mark(
                        tx, mark, connection_id, self._clock()
                    )  # items: 0 the subscription (puts first), 1 the connection, 2 it
                return
            except TransactWriteError as error:
                codes = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
                if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                    raise ConcurrentChange(None) from None
                if _failed_condition(error):
                    if self.get(connection_id) is None:
                        raise ConnectionGone(connection_id) from None
                    raise TooManySubscriptions(connection_id) from None
                if not _conflict(error):
                    raise
            _backoff(attempt)
        raise KeptChanging(connection_id)

    def unsubscribe(self, connection_id: str, topic: str, *more: str) -> None:
        """Idempotent: unsubscribing from a topic not subscribed to is not an error. One call, no read."""
        topics = list(dict.fromkeys((topic, *more)))
        meta = ConnectionModel(_conn_pk(connection_id), _META)
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with TransactWrite(connection=self.connection) as tx:
                    tx.update(
                        meta,
                        actions=[ConnectionModel.subscribed.delete(set(topics))],
                        condition=ConnectionModel.pk.exists() & (ConnectionModel.expires_at > self._clock()),
                    )
                    for name in topics:
                        tx.delete(ConnectionModel(*_subscription_key(name, connection_id)))
                _unwatch(connection_id, topics)
                return
            except TransactWriteError as error:
                if _failed_condition(error):
                    raise ConnectionGone(connection_id) from None
                if not _conflict(error):
                    raise
            _backoff(attempt)
        raise KeptChanging(connection_id)

    def subscriptions(self, topics: Sequence[str]) -> list[tuple[str, str]]:
        """(connection id, topic) of every live subscription to any of ``topics``: one Query per partition.

        Strongly consistent: a subscription acknowledged to the client is seen by the very next fan-out
        (an eventually consistent Query may miss a write made within about a second, and that event's
        frame would never be sent).
        """
        wanted: dict[str, dict[str, str]] = {}  # partition -> scope -> topic
        for name in dict.fromkeys(topics):
            partition, _, scope = name.partition("/")
            wanted.setdefault(partition, {})[scope] = name
        found: list[tuple[str, str]] = []
        for partition, scopes in wanted.items():
            for item in ConnectionModel.query(
                _topic_pk(partition), filter_condition=ConnectionModel.expires_at > self._clock(), consistent_read=True
            ):
                connection_id, scope = _subscription_of(item.sk)
                if scope in scopes:
                    found.append((connection_id, scopes[scope]))
        return found

    def subscribers(self, topic: str) -> Iterator[str]:
        """Connection ids subscribed to ``topic``, skipping expired subscriptions."""
        return iter([connection_id for connection_id, _ in self.subscriptions([topic])])

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
                batch.delete(ConnectionModel(*_subscription_key(topic, connection_id)))
