"""Operations: queues and dead letters, the jobs' last runs, metrics."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class QueueStatus:
    name: str
    depth: Optional[int]  # messages waiting; None: no work queue (a function's on-failure dead-letter queue)
    in_flight: Optional[int]  # received, not yet deleted
    dlq_depth: int  # messages that failed too often
    queue: Optional[str] = None  # the work queue's SQS name
    dead_letter_queue: Optional[str] = None  # its dead-letter queue's SQS name

    @property
    def redrivable(self) -> bool:
        """Dead letters can be moved back to a work queue (not so for a function's on-failure queue)."""
        return self.queue is not None and self.dead_letter_queue is not None


class QueueAdmin(abc.ABC):
    """Every queue of the stack, as an operator sees it: each work queue with its dead-letter queue, then each
    dead-letter queue no work queue redrives to (the on-failure destinations of functions), on its own."""

    @abc.abstractmethod
    def status(self) -> list[QueueStatus]: ...

    @abc.abstractmethod
    def redrive(self, name: str, max_messages: int = 1000) -> int:
        """Move dead letters back to the queue; returns how many. KeyError for an unknown queue or one with no
        work queue to move them back to."""


@dataclass(frozen=True)
class JobRun:
    job: str
    started_at: str
    finished_at: str
    ok: bool
    summary: Mapping[str, Any]


class JobRunLog(abc.ABC):
    """The last run of each scheduled job, for the operators' view."""

    @abc.abstractmethod
    def record(self, run: JobRun) -> None: ...

    @abc.abstractmethod
    def last_runs(self) -> dict[str, JobRun]: ...


class Metrics(abc.ABC):
    @abc.abstractmethod
    def count(self, name: str, value: int = 1) -> None: ...
