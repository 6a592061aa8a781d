"""Fakes of the customers' screening profiles, the re-screening cases and a work queue."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ...domain.sanctions.rescreening import OPEN, CustomerProfile, ScreeningCase
from ...services.ports import CustomerProfiles, InvalidCursor, ProfilePage, ScreeningCases, WorkQueue
from .common import _json_copy


def segment_of(application_id: str, segments: int) -> int:
    """Which segment of a parallel scan holds a key (DynamoDB spreads keys by hash, so does this)."""
    return int(hashlib.sha256(application_id.encode()).hexdigest()[:8], 16) % segments


class InMemoryCustomerProfiles(CustomerProfiles):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[str, tuple[dict[str, Any], int]] = {}
        self.pages_read = 0

    def put(self, profile: CustomerProfile, expires_at: int) -> None:
        with self._lock:
            self.items[profile.application_id] = (_json_copy(profile.to_dict()), int(expires_at))

    def delete(self, application_id: str) -> None:
        with self._lock:
            self.items.pop(application_id, None)

    def get(self, application_id: str) -> Optional[CustomerProfile]:
        with self._lock:
            found = self.items.get(application_id)
            return CustomerProfile.from_dict(found[0]) if found else None

    def scan(
        self, segment: int, segments: int, start: Optional[Mapping[str, Any]], limit: int, now_epoch: int
    ) -> ProfilePage:
        if start is not None and not isinstance(start.get("application_id"), str):
            raise ValueError("not a scan position")
        after = start["application_id"] if start else None
        with self._lock:
            self.pages_read += 1
            keys = sorted(k for k in self.items if segment_of(k, segments) == segment and (after is None or k > after))
            page = keys[:limit]
            profiles = [CustomerProfile.from_dict(self.items[k][0]) for k in page if self.items[k][1] >= now_epoch]
        more = len(keys) > limit
        return profiles, ({"application_id": page[-1]} if more and page else None)


class InMemoryScreeningCases(ScreeningCases):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cases: dict[str, dict[str, Any]] = {}

    def open(self, case: ScreeningCase) -> bool:
        with self._lock:
            if case.case_id in self.cases:
                return False
            self.cases[case.case_id] = _json_copy(case.to_dict())
            return True

    def get(self, case_id: str) -> Optional[ScreeningCase]:
        with self._lock:
            found = self.cases.get(case_id)
            return ScreeningCase.from_dict(found) if found else None

    def open_cases(self, limit: int, cursor: Optional[str]) -> tuple[list[ScreeningCase], Optional[str]]:
        after = _decode(cursor)
        with self._lock:
            keys = sorted((c["opened_at"], c["case_id"]) for c in self.cases.values() if c["status"] == OPEN)
            keys = [k for k in keys if after is None or k > after]
            page = keys[:limit]
            cases = [ScreeningCase.from_dict(self.cases[k[1]]) for k in page]
        return cases, (_encode(page[-1]) if len(keys) > limit and page else None)

    def resolve(self, case_id: str, status: str, resolution: Mapping[str, Any]) -> bool:
        with self._lock:
            case = self.cases.get(case_id)
            if case is None or case["status"] != OPEN:
                return False
            case["status"] = status
            case["resolution"] = _json_copy(dict(resolution))
            return True

    def recommend(self, case_id: str, recommendation: Mapping[str, Any]) -> bool:
        with self._lock:
            case = self.cases.get(case_id)
            if case is None or case["status"] != OPEN:
                return False
            case["recommendation"] = _json_copy(dict(recommendation))
            return True


def _encode(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def _decode(cursor: Optional[str]) -> Optional[tuple[str, str]]:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        opened_at, case_id = value
        return str(opened_at), str(case_id)
    except (ValueError, TypeError) as error:
        raise InvalidCursor("cursor is not valid") from error


class RecordingWorkQueue(WorkQueue):
    """Keeps what was sent, in order; ``fail`` makes the next send raise (a queue that is down)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = False

    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        if self.fail:
            raise RuntimeError("queue unavailable")
        self.sent.extend(_json_copy(dict(m)) for m in messages)

    def take(self) -> list[dict[str, Any]]:
        """Receive everything sent so far (and forget it), as a worker would."""
        taken, self.sent = self.sent, []
        return taken
