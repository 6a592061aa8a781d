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
    """Queues as lists of message bodies; ``dead`` plays messages that failed too often."""

    def __init__(self, names: Iterable[str] = ("address-check",)) -> None:
        self._lock = threading.Lock()
        self.queued: dict[str, list[str]] = {name: [] for name in names}
        self.dead: dict[str, list[str]] = {name: [] for name in names}

    def status(self) -> list[QueueStatus]:
        with self._lock:
            return [QueueStatus(name, len(self.queued[name]), 0, len(self.dead[name])) for name in self.queued]

    def redrive(self, name: str, max_messages: int = 1000) -> int:
        with self._lock:
            moving = self.dead[name][:max_messages]  # KeyError for an unknown queue, like the real one
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
