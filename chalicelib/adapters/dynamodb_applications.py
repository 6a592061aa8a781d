"""The only module that knows how applications and their history live in DynamoDB.

A domain ``Change`` is committed as one TransactWriteItems call: a put of the
application conditioned on the version (and state) it was read at, plus an
attribute_not_exists put of each history event. Either all of it is written
or none of it, so a state without its history event cannot exist, and of two
concurrent changes exactly one wins.

An application's biometric record (``Application.biometrics``, issue 17) lives in
an item of its own (``BiometricsModel``, its own table), so the application item
that every commit rewrites, and its copies in the ``by_applicant`` and
``review_queue`` indexes, stay small (issue 23): a commit writes the record only
when it changes it, in the same transaction, conditioned on the record it was
made from; ``get`` reads both items in one TransactGetItems (one call, one
consistent snapshot); the jobs' pages read both tables a page at a time. Pages
of the two index queries (an applicant's list, the review queue) come without
it: ``biometrics`` is empty there (the port says so).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import heapq
import itertools
import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Optional, Union

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactGetError, TransactWriteError, UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactGet, TransactWrite

from ..domain.reporting import Tally, tally
from ..domain.workflow.application import Application, Change
from ..domain.workflow.history import HistoryEvent, LegacySeal
from ..domain.workflow.states import FINAL_STATES, EventType, State
from ..services.ports import (
    ApplicationRepository,
    Clock,
    ConcurrentChange,
    IdempotencyRecord,
    IdempotentReplay,
    InvalidCursor,
    Page,
    QuotaFull,
    QuotaUse,
    utc_now,
)
from .dynamodb_counters import additions
from .dynamodb_models import ApplicationModel, BiometricsModel, HistoryModel, IdempotencyModel, watching_all_key

REVIEW_QUEUE_KEY = "FLAGGED"
#: Partitions per state of the open_by_state index (the number is part of the key: changing it needs a
#: re-key of every indexed item, as the backfill script does).
STATE_SHARDS = 16
#: Items read per BatchGetItem while a job walks the index (at most 100).
READ_PAGE = 50
#: TransactGetItems is cancelled while a transaction writes one of its items: read again this many times.
GET_ATTEMPTS = 4
#: A commit cancelled only by a busy counter shard is tried again (on another shard) this many times in all.
COUNTER_ATTEMPTS = 4


def shard_of(application_id: str) -> int:
    """An application's shard: stable, and spread evenly whatever the ids look like."""
    return int(hashlib.sha256(application_id.encode()).hexdigest()[:8], 16) % STATE_SHARDS


def shard_key(state: State, shard: int) -> str:
    return f"{state.value}#{shard:02d}"


def state_shard(app: Application) -> Optional[str]:
    """The index key while a job may still visit the application (open, or closed with documents); else none."""
    if app.state in FINAL_STATES and app.purged_at is not None:
        return None
    return shard_key(app.state, shard_of(app.application_id))


class DynamoApplicationRepository(ApplicationRepository):
    def __init__(self, connection: Connection, counts: bool = True, clock: Clock = utc_now):
        self.connection = connection  # for transactions; pynamodb's models carry their own
        self._clock = clock  # for the applicant's watch mark's expiry, the connection store's clock
        #: Whether each commit adds what its events change to the state counters (``dynamodb_counters``: in
        #: the idempotency table), in its own transaction: exactly once by construction, no marker, no call.
        self.counts = counts

    # --- reads -------------------------------------------------------------

    def get(self, application_id: str) -> Optional[Application]:
        """The application with its biometric record: both items in one TransactGetItems (a snapshot)."""
        for attempt in range(1, GET_ATTEMPTS + 1):
            try:
                with TransactGet(connection=self.connection) as tx:
                    app = tx.get(ApplicationModel, application_id)
                    biometrics = tx.get(BiometricsModel, application_id)
            except TransactGetError as error:
                if error.cause_response_code == "TransactionCanceledException" and attempt < GET_ATTEMPTS:
                    continue  # a commit was writing one of them: its result is there at once
                raise
            try:
                model = app.get()
            except DoesNotExist:
                return None
            try:
                record: Optional[BiometricsModel] = biometrics.get()
            except DoesNotExist:
                record = None
            return to_application(model, record)
        return None  # not reached: the last attempt returns or raises

    def history(self, application_id: str) -> list[HistoryEvent]:
        return [to_event(m) for m in HistoryModel.query(application_id, consistent_read=True)]

    def history_after(self, application_id: str, after_seq: int, limit: int) -> list[HistoryEvent]:
        query = HistoryModel.query(
            application_id, HistoryModel.seq > after_seq, consistent_read=True, limit=limit, page_size=limit
        )
        return [to_event(m) for m in query]

    def redact_history(self, application_id: str, events: Sequence[HistoryEvent]) -> int:
        """One conditional UpdateItem per event: only ``details`` and ``salt`` change, only where the
        stored hash is the event's (the one rewrite of the history any role may make: the purge's)."""
        rewritten = 0
        for event in events:
            if event.application_id != application_id:
                raise ValueError("an event of another application")
            model = HistoryModel(application_id, event.seq)
            try:
                model.update(
                    actions=[HistoryModel.details.set(dict(event.details)), HistoryModel.salt.remove()],
                    condition=(HistoryModel.hash == event.hash) & HistoryModel.salt.exists(),
                )
            except UpdateError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue  # redacted before (a rerun), or not that event
            rewritten += 1
        return rewritten

    def list_for_applicant(
        self, applicant_id: str, limit: int, cursor: Optional[str]
    ) -> tuple[list[Application], Optional[str]]:
        start = decode_cursor(
            cursor, {"application_id", "applicant_id", "created_key"}, pinned={"applicant_id": applicant_id}
        )
        page = ApplicationModel.by_applicant.query(
            applicant_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
        )
        return _page(page)

    def review_queue(self, limit: int, cursor: Optional[str], newest_first: bool = False) -> Page:
        start = decode_cursor(
            cursor, {"application_id", "review_queue", "flagged_key"}, pinned={"review_queue": REVIEW_QUEUE_KEY}
        )
        page = ApplicationModel.review_queue_index.query(
            REVIEW_QUEUE_KEY, scan_index_forward=not newest_first, limit=limit, last_evaluated_key=start
        )
        return _page(page)

    def in_state_since_before(self, state: State, before: str) -> Iterator[Application]:
        """Applications that entered ``state`` before the ISO instant ``before``, oldest first.

        One Query per shard of the keys-only index (merged by ``state_since``), then the items
        themselves, read consistently a page at a time; one that moved on meanwhile is left out."""
        return self._read(state, self._keys(state, ApplicationModel.state_since < before))

    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        return self._read(state, self._keys(state, ApplicationModel.state_since.between(start, end)))

    def oldest_in_state(self, state: State) -> Optional[str]:
        """When the longest-waiting application entered ``state``: the first key of each shard (16 small Queries)."""
        firsts = [
            next(iter(ApplicationModel.open_by_state.query(shard_key(state, n), limit=1)), None)
            for n in range(STATE_SHARDS)
        ]
        found = [model.state_since for model in firsts if model is not None]
        return min(found) if found else None

    def _keys(self, state: State, condition: Any) -> Iterator[tuple[str, str]]:
        """(state_since, application id) in ``state`` within ``condition``, oldest first across the shards."""

        def shard(n: int) -> Iterator[tuple[str, str]]:
            for model in ApplicationModel.open_by_state.query(shard_key(state, n), condition):
                yield model.state_since, model.application_id

        return heapq.merge(*(shard(n) for n in range(STATE_SHARDS)))

    def _read(self, state: State, keys: Iterator[tuple[str, str]]) -> Iterator[Application]:
        while True:
            page = list(itertools.islice(keys, READ_PAGE))
            if not page:
                return
            ids = [app_id for _, app_id in page]
            found = {model.application_id: model for model in ApplicationModel.batch_get(ids, consistent_read=True)}
            records = {
                record.application_id: record
                for record in BiometricsModel.batch_get([i for i in ids if i in found], consistent_read=True)
            }
            for app_id in ids:
                model = found.get(app_id)
                if model is not None and model.state == state.value:  # the index lags the table a little
                    yield to_application(model, records.get(app_id))

    # --- writes ------------------------------------------------------------

    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        idempotency_ttl: int = 24 * 3600,
        quota: Union[QuotaUse, Sequence[QuotaUse], None] = None,
    ) -> None:
        """Write the change atomically, or raise ConcurrentChange / IdempotentReplay / QuotaFull.

        Each quota is one more item of the same transaction (a conditional ADD on its counter in the
        idempotency table), so a create costs one call and a failed create costs no quota; so are the
        state counters' additions of the change's events (``tally``), on a shard picked at random: a
        commit that lost only a race on a counter shard is tried again on another.
        """
        uses = quota_uses(quota)
        tallies = [t for e in change.events if (t := tally(e, change.after.created_at)) is not None]
        attempt = 1
        while True:
            try:
                self._commit(change, idempotency_key, fingerprint, idempotency_ttl, uses, tallies)
                return
            except _WatchedByApplicant:  # they subscribed to all their applications since the read: push it
                change = dataclasses.replace(change, after=dataclasses.replace(change.after, watched=True))
            except _CounterConflict as conflict:
                if attempt == COUNTER_ATTEMPTS:
                    raise ConcurrentChange(self.get(change.after.application_id)) from conflict.__cause__
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
                attempt += 1

    def _commit(
        self,
        change: Change,
        idempotency_key: Optional[str],
        fingerprint: Optional[str],
        idempotency_ttl: int,
        uses: Sequence[QuotaUse],
        tallies: Sequence[Tally],
    ) -> None:
        model = to_model(change.after)
        record = biometrics_write(change)
        if change.before is None:
            app_condition = ApplicationModel.application_id.does_not_exist()
        else:
            app_condition = (ApplicationModel.version == change.before.version) & (
                ApplicationModel.state == change.before.state.value
            )
            if change.before.watched is False:  # the watch mark as read: a subscribe since sends it round again
                app_condition &= ApplicationModel.watched == False  # noqa: E712 - a pynamodb condition
            elif change.before.watched is None:  # an item from before the mark: keep one a subscribe set since
                app_condition &= ApplicationModel.watched.does_not_exist()
        # Unwatched: also nobody watching all the applicant's applications (a condition check, the first item).
        watch_at = 0 if change.after.watched is False else None
        claim_at: Optional[int] = None
        quota_at: dict[int, QuotaUse] = {}
        counters_at: set[int] = set()
        try:
            with TransactWrite(connection=self.connection) as tx:
                if watch_at is not None:
                    tx.condition_check(
                        IdempotencyModel,
                        watching_all_key(change.after.applicant_id),
                        condition=IdempotencyModel.watchers.does_not_exist()
                        | (IdempotencyModel.expires_at < self._clock()),
                    )
                app_at = 0 if watch_at is None else 1  # condition checks come first in the transaction's items
                tx.save(model, condition=app_condition)
                if record is not None:
                    tx.save(record[0], condition=record[1])
                for event in change.events:
                    tx.save(
                        to_event_model(event, change.after, counted=self.counts),
                        condition=HistoryModel.seq.does_not_exist(),
                    )
                position = app_at + 1 + (record is not None) + len(change.events)
                if idempotency_key:
                    claim = IdempotencyModel(
                        idempotency_key,
                        result=change.after.application_id,
                        fingerprint=fingerprint,
                        expires_at=dt.timedelta(seconds=idempotency_ttl),
                    )
                    tx.save(claim, condition=IdempotencyModel.key.does_not_exist())
                    claim_at, position = position, position + 1
                for use in uses:  # updates come after the puts in the transaction's items
                    tx.update(
                        IdempotencyModel(use.key),
                        actions=[
                            IdempotencyModel.uses.add(1),
                            IdempotencyModel.expires_at.set(
                                dt.datetime.now(dt.UTC) + dt.timedelta(seconds=use.ttl_seconds)
                            ),
                        ],
                        condition=IdempotencyModel.uses.does_not_exist() | (IdempotencyModel.uses < use.limit),
                    )
                    quota_at[position], position = use, position + 1
                if self.counts:
                    for key, deltas in additions(tallies):
                        tx.update(IdempotencyModel(key), actions=[Path([n]).add(d) for n, d in sorted(deltas.items())])
                        counters_at.add(position)
                        position += 1
        except TransactWriteError as error:
            codes = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]

            def failed(index: Optional[int]) -> bool:
                return index is not None and index < len(codes) and codes[index] == "ConditionalCheckFailed"

            if failed(claim_at) and idempotency_key:  # a replay first: it is free
                existing = IdempotencyModel.get(idempotency_key, consistent_read=True)
                raise IdempotentReplay(existing.result or "", existing.fingerprint) from error
            for index, use in quota_at.items():
                if failed(index):
                    raise QuotaFull(use.key) from error
            if failed(watch_at) and not failed(app_at):
                raise _WatchedByApplicant() from error
            conflicts = {i for i, code in enumerate(codes) if code == "TransactionConflict"}
            if conflicts and conflicts <= counters_at and "ConditionalCheckFailed" not in codes:
                raise _CounterConflict() from error  # only a counter shard was busy: the same change again
            if codes and any(c in ("ConditionalCheckFailed", "TransactionConflict") for c in codes):
                raise ConcurrentChange(self.get(change.after.application_id)) from error
            if error.cause_response_code == "TransactionConflictException":
                raise ConcurrentChange(self.get(change.after.application_id)) from error
            raise

    def find_idempotency_record(self, key: str) -> Optional[IdempotencyRecord]:
        try:
            record = IdempotencyModel.get(key, consistent_read=True)
        except DoesNotExist:
            return None
        return IdempotencyRecord(record.result or "", record.fingerprint)


# --- mapping ---------------------------------------------------------------


class _CounterConflict(Exception):
    """A commit cancelled only because another transaction was writing its counter shard."""


class _WatchedByApplicant(Exception):
    """A commit of an unwatched application cancelled because its applicant now watches all of theirs."""


def quota_uses(quota: Union[QuotaUse, Sequence[QuotaUse], None]) -> tuple[QuotaUse, ...]:
    if quota is None:
        return ()
    return (quota,) if isinstance(quota, QuotaUse) else tuple(quota)


def to_model(app: Application) -> ApplicationModel:
    flagged = app.state == State.FLAGGED
    return ApplicationModel(
        app.application_id,
        applicant_id=app.applicant_id,
        created_key=f"{app.created_at}#{app.application_id}",
        state=app.state.value,
        state_since=app.state_since,
        version=app.version,
        created_at=app.created_at,
        updated_at=app.updated_at,
        declared=dict(app.declared),
        checks=dict(app.checks),
        last_seq=app.last_seq,
        last_hash=app.last_hash,
        document_key=app.document_key,
        document_version=app.document_version,
        decision_reasons=list(app.decision_reasons),
        escalated_at=app.escalated_at,
        purged_at=app.purged_at,
        legacy_seal=app.legacy_seal.encode() if app.legacy_seal else None,
        recommendation=dict(app.recommendation) if app.recommendation is not None else None,
        claim=dict(app.claim) if app.claim is not None else None,
        shown_seq=app.shown_seq,
        shown_version=app.shown_version,
        shown_at=app.shown_at,
        review_queue=REVIEW_QUEUE_KEY if flagged else None,
        flagged_key=f"{app.state_since}#{app.application_id}" if flagged else None,
        state_shard=state_shard(app),
        watched=app.watched,
    )


class StoredInItem(dict):  # type: ignore[type-arg]
    """A biometric record read from the application item itself (written before it had an item of its
    own): a commit that leaves it unchanged still writes it to its own item, as the item loses it."""


def record_digest(record: Any) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def biometrics_write(change: Change) -> Optional[tuple[BiometricsModel, Any]]:
    """The biometric record's item and its condition, when the change writes it: when it changes the record
    (or moves a record out of an older application item). The condition is the record the change was made
    from, so a change made from a page without it (``biometrics`` empty) cannot overwrite one."""
    after = change.after.biometrics
    before = change.before.biometrics if change.before is not None else {}
    moving = isinstance(after, StoredInItem)
    if not moving and dict(after) == dict(before):
        return None
    record = json.loads(json.dumps(dict(after)))
    item = BiometricsModel(
        change.after.application_id, record=record, digest=record_digest(record), version=change.after.version
    )
    if not before or isinstance(before, StoredInItem):
        return item, BiometricsModel.application_id.does_not_exist()
    return item, BiometricsModel.digest == record_digest(json.loads(json.dumps(dict(before))))


def to_application(model: ApplicationModel, record: Optional[BiometricsModel] = None) -> Application:
    return Application(
        application_id=model.application_id,
        applicant_id=model.applicant_id,
        state=State(model.state),
        version=int(model.version),
        created_at=model.created_at,
        updated_at=model.updated_at,
        state_since=model.state_since,
        declared=model.declared or {},
        checks=model.checks or {},
        last_seq=int(model.last_seq),
        last_hash=model.last_hash,
        document_key=model.document_key,
        document_version=model.document_version,
        decision_reasons=tuple(model.decision_reasons or ()),
        escalated_at=model.escalated_at,
        purged_at=model.purged_at,
        biometrics=record.record if record is not None else StoredInItem(model.biometrics) if model.biometrics else {},
        legacy_seal=LegacySeal.parse(model.legacy_seal),
        recommendation=model.recommendation,
        claim=model.claim,
        shown_seq=_number(model.shown_seq),
        shown_version=_number(model.shown_version),
        shown_at=model.shown_at,
        watched=model.watched,
    )


def to_event_model(
    event: HistoryEvent, application: Optional[Application] = None, counted: bool = False
) -> HistoryModel:
    """The history item. ``application`` (what the change made) adds two attributes outside the hashed
    event: the applicant (so the outbox routes the event to the applicant's watchers without a read),
    when the application was created (so the counters can tell the time to a decision) and ``counted``
    (its commit added it to the state counters: the outbox relay counts only events without it) and ``watched``
    (the application's watch mark as committed: False, the notifier looks no watcher up for it)."""
    return HistoryModel(
        event.application_id,
        event.seq,
        type=event.type.value,
        actor=event.actor,
        at=event.at,
        from_state=event.from_state.value if event.from_state else None,
        to_state=event.to_state.value,
        reason=event.reason,
        details=dict(event.details),
        prev_hash=event.prev_hash,
        hash=event.hash,
        shown_seq=event.shown_seq,
        applicant_id=application.applicant_id if application is not None else None,
        created_at=application.created_at if application is not None else None,
        salt=event.salt,
        chain=event.chain,
        counted=True if counted else None,
        watched=application.watched if application is not None else None,
    )


def to_event(model: HistoryModel) -> HistoryEvent:
    return HistoryEvent(
        application_id=model.application_id,
        seq=int(model.seq),
        type=EventType(model.type),
        actor=model.actor,
        at=model.at,
        from_state=State(model.from_state) if model.from_state else None,
        to_state=State(model.to_state),
        reason=model.reason,
        details=model.details or {},
        prev_hash=model.prev_hash,
        hash=model.hash,
        shown_seq=_number(model.shown_seq),
        salt=model.salt,
        chain=int(model.chain) if model.chain is not None else None,
    )


def _number(stored: Optional[float]) -> Optional[int]:
    return int(stored) if stored is not None else None


def event_from_stream_image(image: dict[str, Any]) -> HistoryEvent:
    """Rebuild a history event from a DynamoDB stream NEW_IMAGE (low-level JSON)."""
    model = HistoryModel.from_raw_data(image)
    return to_event(model)


def events_from_stream(records: Iterable[Any]) -> Iterator[HistoryEvent]:
    """The history events a stream batch inserted; nothing else happens to an append-only table."""
    for record in records:
        if record.event_name == "INSERT" and record.new_image:
            yield event_from_stream_image(record.new_image)


def sequenced_events_from_stream(
    records: Iterable[Any],
) -> Iterator[tuple[str, HistoryEvent, Optional[str], Optional[str], bool, Optional[bool]]]:
    """(sequence number, event, applicant id, the application's created_at, counted) of each inserted history
    event: the sequence number is what ReportBatchItemFailures names; the rest is outside the hashed event
    (None / False on older items): the applicant routes it, the creation time gives its time to a decision,
    ``counted`` says its commit added it to the state counters (so the relay does not), ``watched`` the
    application's watch mark as its commit wrote it (None: from before the mark, maybe watched)."""
    for record in records:
        if record.event_name == "INSERT" and record.new_image:
            image = record.new_image
            applicant = (image.get("applicant_id") or {}).get("S")
            created = (image.get("created_at") or {}).get("S")
            counted = bool((image.get("counted") or {}).get("BOOL"))
            watched = (image.get("watched") or {}).get("BOOL")
            yield (
                str(record.sequence_number),
                event_from_stream_image(image),
                applicant,
                created,
                counted,
                watched if isinstance(watched, bool) else None,
            )


# --- cursors ---------------------------------------------------------------


def _page(results: Any) -> Page:
    items = [to_application(m) for m in results]
    return items, encode_cursor(results.last_evaluated_key)


def encode_cursor(key: Optional[dict[str, Any]]) -> Optional[str]:
    if not key:
        return None
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Optional[str], keys: set[str], pinned: dict[str, str]) -> Optional[dict[str, Any]]:
    """Decode an opaque cursor, refusing one that was forged to reach outside the caller's partition."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, RecursionError) as error:  # RecursionError: nested a thousand deep
        raise InvalidCursor("cursor is not valid") from error
    if not isinstance(data, dict) or set(data) != keys:
        raise InvalidCursor("cursor is not valid")
    for value in data.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)):
            raise InvalidCursor("cursor is not valid")
    for name, expected in pinned.items():
        if data[name]["S"] != expected:
            raise InvalidCursor("cursor is not valid")
    return data
