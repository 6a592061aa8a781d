"""The only module that knows how applications and their history live in DynamoDB.

A domain ``Change`` is committed as one TransactWriteItems call: a put of the
application conditioned on the version (and state) it was read at, plus an
attribute_not_exists put of each history event. Either all of it is written
or none of it, so a state without its history event cannot exist, and of two
concurrent changes exactly one wins.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Optional

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..domain.workflow import Application, Change, EventType, HistoryEvent, LegacySeal, State
from ..services.ports import (
    ApplicationRepository,
    ConcurrentChange,
    IdempotencyRecord,
    IdempotentReplay,
    InvalidCursor,
    Page,
)
from .dynamodb_models import ApplicationModel, HistoryModel, IdempotencyModel

REVIEW_QUEUE_KEY = "FLAGGED"


class DynamoApplicationRepository(ApplicationRepository):
    def __init__(self, connection: Connection):
        self.connection = connection  # for transactions; pynamodb's models carry their own

    # --- reads -------------------------------------------------------------

    def get(self, application_id: str) -> Optional[Application]:
        try:
            return to_application(ApplicationModel.get(application_id, consistent_read=True))
        except DoesNotExist:
            return None

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
        """Applications that entered ``state`` before the ISO instant ``before``, oldest first."""
        for model in ApplicationModel.by_state.query(state.value, ApplicationModel.state_since < before):
            yield to_application(model)

    def count_in_state(self, state: State) -> int:
        return ApplicationModel.by_state.count(state.value)

    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        for model in ApplicationModel.by_state.query(state.value, ApplicationModel.state_since.between(start, end)):
            yield to_application(model)

    # --- writes ------------------------------------------------------------

    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        idempotency_ttl: int = 24 * 3600,
    ) -> None:
        """Write the change atomically, or raise ConcurrentChange / IdempotentReplay."""
        model = to_model(change.after)
        if change.before is None:
            app_condition = ApplicationModel.application_id.does_not_exist()
        else:
            app_condition = (ApplicationModel.version == change.before.version) & (
                ApplicationModel.state == change.before.state.value
            )
        try:
            with TransactWrite(connection=self.connection) as tx:
                tx.save(model, condition=app_condition)
                for event in change.events:
                    tx.save(to_event_model(event), condition=HistoryModel.seq.does_not_exist())
                if idempotency_key:
                    claim = IdempotencyModel(
                        idempotency_key,
                        result=change.after.application_id,
                        fingerprint=fingerprint,
                        expires_at=dt.timedelta(seconds=idempotency_ttl),
                    )
                    tx.save(claim, condition=IdempotencyModel.key.does_not_exist())
        except TransactWriteError as error:
            codes = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
            if idempotency_key and codes and codes[-1] == "ConditionalCheckFailed":
                existing = IdempotencyModel.get(idempotency_key, consistent_read=True)
                raise IdempotentReplay(existing.result or "", existing.fingerprint) from error
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
        review_queue=REVIEW_QUEUE_KEY if flagged else None,
        flagged_key=f"{app.state_since}#{app.application_id}" if flagged else None,
        biometrics=dict(app.biometrics),
    )


def to_application(model: ApplicationModel) -> Application:
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
        biometrics=model.biometrics or {},
        legacy_seal=LegacySeal.parse(model.legacy_seal),
        recommendation=model.recommendation,
        claim=model.claim,
    )


def to_event_model(event: HistoryEvent) -> HistoryModel:
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
        salt=event.salt,
        chain=event.chain,
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
        salt=model.salt,
        chain=int(model.chain) if model.chain is not None else None,
    )


def event_from_stream_image(image: dict[str, Any]) -> HistoryEvent:
    """Rebuild a history event from a DynamoDB stream NEW_IMAGE (low-level JSON)."""
    model = HistoryModel.from_raw_data(image)
    return to_event(model)


def events_from_stream(records: Iterable[Any]) -> Iterator[HistoryEvent]:
    """The history events a stream batch inserted; nothing else happens to an append-only table."""
    for record in records:
        if record.event_name == "INSERT" and record.new_image:
            yield event_from_stream_image(record.new_image)


def sequenced_events_from_stream(records: Iterable[Any]) -> Iterator[tuple[str, HistoryEvent]]:
    """(sequence number, event) of each inserted history event: what ReportBatchItemFailures names."""
    for record in records:
        if record.event_name == "INSERT" and record.new_image:
            yield str(record.sequence_number), event_from_stream_image(record.new_image)


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
