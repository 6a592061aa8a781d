"""Fakes of the queue administration and the jobs' last runs."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Optional

from ...services.ports import (
    Backoff,
    CheckRequests,
    JobRun,
    JobRunLog,
    QueueAdmin,
    QueueStatus,
)


class InMemoryQueueAdmin(QueueAdmin):
    """Queues as lists of message bodies; ``dead`` plays messages that failed too often. ``dead_letter_only``:
    dead-letter queues with no work queue (a function's on-failure destination), in ``dead`` too."""

    def __init__(
        self, names: Iterable[str] = ("identity-check", "address-check"), dead_letter_only: Iterable[str] = ()
    ) -> None:
        self._lock = threading.Lock()
        self.queued: dict[str, list[str]] = {name: [] for name in names}
        self.dead: dict[str, list[str]] = {name: [] for name in [*self.queued, *dead_letter_only]}

    def status(self) -> list[QueueStatus]:
        with self._lock:
            return [
                QueueStatus(name, len(self.queued[name]), 0, len(self.dead[name]), f"{name}-queue", f"{name}-dlq")
                if name in self.queued
                else QueueStatus(name, None, None, len(self.dead[name]), None, f"{name}-dlq")
                for name in self.dead
            ]

    def redrive(self, name: str, max_messages: int = 1000) -> int:
        with self._lock:
            if name not in self.queued:  # an unknown queue, or one with no work queue: like the real one
                raise KeyError(name)
            moving = self.dead[name][:max_messages]
            del self.dead[name][: len(moving)]
            self.queued[name].extend(moving)
            return len(moving)


class InMemoryJobRunLog(JobRunLog):
    def __init__(self) -> None:
        self.runs: dict[str, JobRun] = {}

    def record(self, run: JobRun) -> None:
        self.runs[run.job] = run

    def last_runs(self) -> dict[str, JobRun]:
        return dict(self.runs)


class InMemoryCheckRequests(CheckRequests):
    """The identity-check queue: requests wait until ``deliver`` hands them to the check (as the queue's
    consumer would), in the order asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiting: list[tuple[str, Optional[str]]] = []

    def request_identity_check(self, key: str, version: Optional[str] = None) -> None:
        with self._lock:
            self.waiting.append((key, version))

    def deliver(self, identity_check: Any) -> int:
        """Run every waiting request through ``identity_check.document_uploaded``; returns how many."""
        with self._lock:
            taken, self.waiting = self.waiting, []
        for key, version in taken:
            identity_check.document_uploaded(key, version)
        return len(taken)


class RecordingBackoff(Backoff):
    """Remembers each message put back, and for how long."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delayed: list[tuple[str, str, int]] = []

    def retry_later(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        if not 0 <= seconds <= 12 * 3600:
            raise ValueError("SQS takes a visibility timeout of 0 to 43200 seconds")
        with self._lock:
            self.delayed.append((queue_arn, receipt_handle, seconds))
