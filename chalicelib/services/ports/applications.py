"""Applications and their history: the repository, claims on a name, per-user quotas."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Optional, Union

from ...domain.reporting import Tally
from ...domain.workflow.application import Application, Change
from ...domain.workflow.history import HistoryEvent
from ...domain.workflow.states import State


@dataclass(frozen=True)
class IdempotencyRecord:
    result: str
    fingerprint: Optional[str]


Page = tuple[list[Application], Optional[str]]


@dataclass(frozen=True)
class QuotaUse:
    """One use of a per-key counter, taken in the same transaction as a commit (``QuotaFull`` past ``limit``).

    The counter lives until ``ttl_seconds`` from the commit (the window's end plus a margin)."""

    key: str
    limit: int
    ttl_seconds: int


class ApplicationRepository(abc.ABC):
    """Applications and their append-only history, changed only by committing a Change."""

    @abc.abstractmethod
    def get(self, application_id: str) -> Optional[Application]: ...

    @abc.abstractmethod
    def history(self, application_id: str) -> list[HistoryEvent]: ...

    @abc.abstractmethod
    def history_after(self, application_id: str, after_seq: int, limit: int) -> list[HistoryEvent]:
        """At most ``limit`` events with seq > ``after_seq``, in order (one Query of ``limit`` items: the applicant's
        history pages read on from their cursor's event with it, ``ApplicationService.history``)."""

    @abc.abstractmethod
    def list_for_applicant(self, applicant_id: str, limit: int, cursor: Optional[str]) -> Page:
        """Newest first; the cursor is opaque and pinned to the applicant. Like ``review_queue``'s, the page's
        applications come without their biometric record (``biometrics`` empty): ``get`` one for it. A change
        made from one commits (the record stays as it is) unless it changes the record: ConcurrentChange."""

    @abc.abstractmethod
    def review_queue(self, limit: int, cursor: Optional[str], newest_first: bool = False) -> Page:
        """FLAGGED applications, oldest flag first (``newest_first``: the reverse); without biometric records."""

    @abc.abstractmethod
    def in_state_since_before(self, state: State, before: str) -> Iterator[Application]:
        """Applications that entered ``state`` before the ISO instant ``before``, oldest first.

        What the jobs still have to visit: open applications, and closed ones whose documents are not
        purged yet (a purged application is never a job's business again)."""

    @abc.abstractmethod
    def in_state_between(self, state: State, start: str, end: str) -> Iterator[Application]:
        """Applications that entered ``state`` within [start, end] (ISO instants, inclusive); as above."""

    @abc.abstractmethod
    def oldest_in_state(self, state: State) -> Optional[str]:
        """When the longest-waiting application (as above) entered ``state``; None when none is there."""

    @abc.abstractmethod
    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        idempotency_ttl: int = 24 * 3600,
        quota: Union[QuotaUse, Sequence[QuotaUse], None] = None,
    ) -> None:
        """Write the change atomically, or raise ConcurrentChange / IdempotentReplay / QuotaFull.

        ``quota``: one use of each counter given, in the same transaction (nothing is written past any
        limit: ``QuotaFull`` names the first one full; an idempotent replay is reported as such and costs
        none of them). The commit also adds its events to the state counters (``StateCounters``), in the
        same transaction: exactly once, since the commit happens once.

        The watch mark (issue 22, ``Application.watched``, ``WatchMark``) is committed as it was read: a change
        of an application read unwatched (False) or from before the mark (None) whose application a subscribe
        has marked since raises ConcurrentChange (``current`` carries the mark: commit again from it); one
        whose applicant has subscribed to all their applications since (``my-applications``) is committed as
        watched (``after.watched`` True, on the item and its events). Each event's history item keeps the value written
        (the stream carries it to the outbox): False only when the commit was made from an unwatched application
        and no mark had been set by the time it was written."""

    @abc.abstractmethod
    def redact_history(self, application_id: str, events: Sequence[HistoryEvent]) -> int:
        """Replace stored events by their redacted form (``HistoryEvent.redacted``: same seq, same hash,
        the personal data as its commitment, no salt). The only rewrite of the history there is: each
        write applies only to the event with that hash. Idempotent; returns how many were rewritten."""

    @abc.abstractmethod
    def find_idempotency_record(self, key: str) -> Optional[IdempotencyRecord]: ...


class StateCounters(abc.ABC):
    """How many applications are in each state, and what each UTC day saw (decisions, closures, escalations,
    the time-to-decision histogram): counted once per history event as the outbox relays it, so that no
    report or view has to count applications."""

    @abc.abstractmethod
    def count(self, tallies: Sequence[tuple[str, Tally]]) -> int:
        """Add each ``(event id, tally)`` exactly once, however often it is offered; returns how many were new."""

    @abc.abstractmethod
    def states(self) -> dict[str, int]:
        """Applications in each state (states never counted are absent)."""

    @abc.abstractmethod
    def day(self, day: str) -> dict[str, int]:
        """What the UTC day ``YYYY-MM-DD`` saw, by the keys ``reporting.tally`` gives."""


class Claims(abc.ABC):
    """One-shot claims on event ids, for at-least-once deliveries (expire after ``ttl``)."""

    @abc.abstractmethod
    def claim(self, key: str, ttl_seconds: int = 7 * 24 * 3600) -> bool:
        """True for exactly one caller per key."""

    def claim_all(self, keys: Sequence[str], ttl_seconds: int = 7 * 24 * 3600) -> set[str]:
        """Claim several keys at once (one call where the store allows); returns the keys this caller won.

        Each key is won by exactly one caller, as with ``claim``."""
        return {key for key in keys if self.claim(key, ttl_seconds)}

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


class ChainKey(abc.ABC):
    """The key the audit history's chain is MACed with (HMAC-SHA-256), derived from KMS."""

    @abc.abstractmethod
    def secret(self) -> bytes:
        """The key (the same every call; fetched once per container)."""
