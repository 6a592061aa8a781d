"""Customers re-screened when the lists change: the customers' screening profiles, the cases, a work queue."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ...domain.sanctions.rescreening import CustomerProfile, ScreeningCase

#: A page of a scan: the profiles, and where the next page starts (None: the segment is done).
ProfilePage = tuple[list[CustomerProfile], Optional[dict[str, Any]]]


class CustomerProfiles(abc.ABC):
    """One small item per approved customer within retention (the projection re-screening scans)."""

    @abc.abstractmethod
    def put(self, profile: CustomerProfile, expires_at: int) -> None:
        """Insert or replace (idempotent); ``expires_at`` (epoch seconds) is when retention ends."""

    @abc.abstractmethod
    def delete(self, application_id: str) -> None:
        """Idempotent: a no-op when there is none."""

    @abc.abstractmethod
    def get(self, application_id: str) -> Optional[CustomerProfile]: ...

    @abc.abstractmethod
    def scan(
        self, segment: int, segments: int, start: Optional[Mapping[str, Any]], limit: int, now_epoch: int
    ) -> ProfilePage:
        """One page of one segment of a parallel scan (every profile is in exactly one segment), past
        ``start``; profiles whose retention ended before ``now_epoch`` are left out (their deletion may lag).
        Raises ValueError for a ``start`` it never handed out."""


class ScreeningCases(abc.ABC):
    """The re-screening cases and the queue of open ones, oldest first."""

    @abc.abstractmethod
    def open(self, case: ScreeningCase) -> bool:
        """Store a new case; False (and nothing written) when a case with its id exists."""

    @abc.abstractmethod
    def get(self, case_id: str) -> Optional[ScreeningCase]: ...

    @abc.abstractmethod
    def open_cases(self, limit: int, cursor: Optional[str]) -> tuple[list[ScreeningCase], Optional[str]]:
        """Open cases, oldest first; the cursor is opaque (InvalidCursor for one not handed out)."""

    @abc.abstractmethod
    def resolve(self, case_id: str, status: str, resolution: Mapping[str, Any]) -> bool:
        """Close an OPEN case (it leaves the queue); False when it is not open (or not there)."""

    @abc.abstractmethod
    def recommend(self, case_id: str, recommendation: Mapping[str, Any]) -> bool:
        """Four eyes: set (or replace) the first reviewer's word on an OPEN case, which stays in the queue;
        False when it is not open (or not there)."""


class WorkQueue(abc.ABC):
    """A queue of JSON messages for the workers of one job."""

    @abc.abstractmethod
    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Send every message (in batches where the service allows); raises if any could not be sent."""
