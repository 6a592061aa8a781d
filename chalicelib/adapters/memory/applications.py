"""Fakes of the repository (applications, history, idempotency records), claims and quotas."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Optional, Union

from ...domain.reporting import Tally, tally
from ...domain.workflow.application import Application, Change
from ...domain.workflow.history import HistoryEvent
from ...domain.workflow.states import FINAL_STATES, State
from ...services.ports import (
    WATCHING_ALL_FOR,
    ApplicationRepository,
    ChainKey,
    Claims,
    Clock,
    ConcurrentChange,
    IdempotencyRecord,
    IdempotentReplay,
    InvalidCursor,
    Page,
    QuotaFull,
    Quotas,
    QuotaUse,
    StateCounters,
    WatchMark,
    utc_now,
)
from .common import _json_copy


def _stored(app: Application) -> Application:
    return dataclasses.replace(
        app,
        declared=_json_copy(app.declared),
        checks=_json_copy(app.checks),
        decision_reasons=tuple(_json_copy(list(app.decision_reasons))),
        biometrics=_json_copy(app.biometrics),
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
    except (ValueError, binascii.Error, RecursionError) as error:  # RecursionError: nested a thousand deep
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

    def __init__(
        self,
        quotas: Optional[InMemoryQuotas] = None,
        counters: Optional[InMemoryStateCounters] = None,
        clock: Clock = utc_now,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock  # for the applicant's watch mark's expiry, as the table's condition reads it
        #: The watch mark each event's commit wrote (the history item's ``watched``), by event id.
        self.watched_of: dict[str, Optional[bool]] = {}
        #: applicant -> (the connections watching all their applications, until when): ``watching#<sub>``
        self._watching_all: dict[str, tuple[set[str], dt.datetime]] = {}
        self.quotas = quotas or InMemoryQuotas()  # the counters a commit's QuotaUse takes (the table's)
        #: The state counters each commit adds its events to, as the table's transaction does (None: not kept).
        self.counters = counters
        self.counted: set[str] = set()  # ids of the events a commit counted (the history item's ``counted``)
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

    def review_queue(self, limit: int, cursor: Optional[str], newest_first: bool = False) -> Page:
        """FLAGGED only, oldest flag first, by ``state_since#id`` (the review_queue index's sort key)."""
        partition = "review-queue"
        after = _decode_cursor(cursor, partition)
        with self._lock:
            keyed = sorted(
                ((f"{a.state_since}#{a.application_id}", a) for a in self._apps.values() if a.state == State.FLAGGED),
                key=lambda pair: pair[0],
                reverse=newest_first,
            )
        if after is not None:
            keyed = [pair for pair in keyed if (pair[0] < after if newest_first else pair[0] > after)]
        return self._page(keyed, limit, partition)

    def in_state_since_before(self, state: State, before: str) -> Iterator[Application]:
        return iter(self._in_state(state, lambda since: since < before))

    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        return iter(self._in_state(state, lambda since: start <= since <= end))

    def oldest_in_state(self, state: State) -> Optional[str]:
        found = self._in_state(state, lambda since: True)
        return found[0].state_since if found else None

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
        quota: Union[QuotaUse, Sequence[QuotaUse], None] = None,
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
                    and (change.before.watched is True or current.watched is change.before.watched)
                )
            events = self._history.get(app_id, {})
            # The biometric record, as the real table keeps it in an item of its own: written only by a change
            # of it, and only from the record the change was made from (a page's application carries none).
            before_record = dict(change.before.biometrics) if change.before is not None else {}
            stored_record = dict(current.biometrics) if current is not None else {}
            keeps_record = dict(change.after.biometrics) == before_record
            if not keeps_record and before_record != stored_record:
                applies = False
            if not applies or any(e.seq in events for e in change.events):
                raise ConcurrentChange(_stored(current) if current is not None else None)
            uses = (quota,) if isinstance(quota, QuotaUse) else tuple(quota or ())
            taken: list[QuotaUse] = []
            for use in uses:
                if not self.quotas.take(use.key, use.limit, use.ttl_seconds):
                    for back in taken:  # all or nothing, as the transaction
                        self.quotas.give_back(back.key)
                    raise QuotaFull(use.key)
                taken.append(use)
            after = dataclasses.replace(change.after, biometrics=stored_record) if keeps_record else change.after
            watchers, until = self._watching_all.get(after.applicant_id, (set(), self._clock()))
            if after.watched is False and watchers and until > self._clock():
                after = dataclasses.replace(after, watched=True)  # they watch all their applications since
            self._apps[app_id] = _stored(after)
            events = self._history.setdefault(app_id, {})
            for event in change.events:
                events[event.seq] = _stored_event(event)
                self.watched_of[f"{app_id}#{event.seq}"] = after.watched
            if idempotency_key:
                self._idempotency[idempotency_key] = IdempotencyRecord(app_id, fingerprint)
            if self.counters is not None:
                created = change.after.created_at
                self.counters.add([t for e in change.events if (t := tally(e, created)) is not None])
                self.counted.update(f"{app_id}#{e.seq}" for e in change.events)
            self.commits += 1

    def watch(self, mark: WatchMark, connection_id: str, now: dt.datetime) -> None:
        """What a subscribe's transaction writes of its ``WatchMark`` (the connection store's fake calls it):
        the application's mark, only at the version read (else ConcurrentChange), or the connection among the
        applicant's watchers, for ``WATCHING_ALL_FOR`` from ``now``."""
        with self._lock:
            if mark.application_id is not None:
                current = self._apps.get(mark.application_id)
                if current is None or current.version != mark.version:
                    raise ConcurrentChange(None)
                self._apps[mark.application_id] = dataclasses.replace(current, watched=True)
            elif mark.applicant_id is not None:
                watchers, _ = self._watching_all.get(mark.applicant_id, (set(), now))
                self._watching_all[mark.applicant_id] = (watchers | {connection_id}, now + WATCHING_ALL_FOR)

    def unwatch(self, applicant_id: str, connection_id: str) -> None:
        """The connection no longer watches all the applicant's applications (unsubscribed, or gone)."""
        with self._lock:
            if applicant_id in self._watching_all:
                watchers, until = self._watching_all[applicant_id]
                self._watching_all[applicant_id] = (watchers - {connection_id}, until)

    def history_after(self, application_id: str, after_seq: int, limit: int) -> list[HistoryEvent]:
        """As the table's Query does: at most ``limit`` events from the key after ``after_seq``."""
        with self._lock:
            events = self._history.get(application_id, {})
            seqs = sorted(s for s in events if s > after_seq)[:limit]
            return [_stored_event(events[seq]) for seq in seqs]

    def redact_history(self, application_id: str, events: Sequence[HistoryEvent]) -> int:
        rewritten = 0
        with self._lock:
            stored = self._history.get(application_id, {})
            for event in events:
                current = stored.get(event.seq)
                if current is not None and current.hash == event.hash and current != event:
                    stored[event.seq] = _stored_event(event)
                    rewritten += 1
        return rewritten

    # --- internals ---------------------------------------------------------

    def _in_state(self, state: State, since_ok: Callable[[str], bool]) -> list[Application]:
        """A snapshot, oldest state_since first (the by_state index's sort key)."""
        with self._lock:
            found = [
                _stored(a)
                for a in self._apps.values()
                if a.state == state
                and since_ok(a.state_since)
                and not (a.state in FINAL_STATES and a.purged_at is not None)  # as the index: no job's business
            ]
        return sorted(found, key=lambda a: a.state_since)

    @staticmethod
    def _page(keyed: list[tuple[str, Application]], limit: int, partition: str) -> Page:
        page = keyed[:limit]
        more = len(keyed) > limit
        cursor = _encode_cursor(partition, page[-1][0]) if more and page else None
        return [dataclasses.replace(_stored(app), biometrics={}) for _, app in page], cursor  # as the indexes: none


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


class InMemoryStateCounters(StateCounters):
    """Counters and the markers of what was counted, as the table keeps them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: Counter[str] = Counter()
        self._days: dict[str, Counter[str]] = {}
        self.counted: set[str] = set()

    def count(self, tallies: Sequence[tuple[str, Tally]]) -> int:
        new = 0
        with self._lock:
            for key, tally in tallies:
                if key in self.counted:
                    continue
                self.counted.add(key)
                new += 1
                self._states.update(tally.states)
                self._days.setdefault(tally.day, Counter()).update(tally.day_counts)
        return new

    def add(self, tallies: Sequence[Tally]) -> None:
        """What a commit adds in its own transaction (no marker: it commits once)."""
        with self._lock:
            for tally in tallies:
                self._states.update(tally.states)
                self._days.setdefault(tally.day, Counter()).update(tally.day_counts)

    def states(self) -> dict[str, int]:
        with self._lock:
            return {name: n for name, n in self._states.items()}

    def day(self, day: str) -> dict[str, int]:
        with self._lock:
            return dict(self._days.get(day, Counter()))


class StaticChainKey(ChainKey):
    """A fixed chain key (KMS is not needed to test use cases)."""

    def __init__(self, secret: bytes = b"in-memory history chain key, 256 bits at least") -> None:
        self._secret = secret
        self.fetches = 0

    def secret(self) -> bytes:
        self.fetches += 1
        return self._secret
