"""Fakes of the queue administration and the jobs' last runs."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ...services.ports import (
    JobRun,
    JobRunLog,
    QueueAdmin,
    QueueStatus,
)


class InMemoryQueueAdmin(QueueAdmin):
    """Queues as lists of message bodies; ``dead`` plays messages that failed too often. ``dead_letter_only``:
    dead-letter queues with no work queue (a function's on-failure destination), in ``dead`` too."""

    def __init__(self, names: Iterable[str] = ("address-check",), dead_letter_only: Iterable[str] = ()) -> None:
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
