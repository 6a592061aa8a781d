"""Operations: queues and dead letters, the jobs' last runs, metrics."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QueueStatus:
    name: str
    depth: int  # messages waiting
    in_flight: int  # received, not yet deleted
    dlq_depth: int  # messages that failed too often


class QueueAdmin(abc.ABC):
    """The work queues and their dead-letter queues, as an operator sees them."""

    @abc.abstractmethod
    def status(self) -> list[QueueStatus]: ...

    @abc.abstractmethod
    def redrive(self, name: str, max_messages: int = 1000) -> int:
        """Move dead letters back to the queue; returns how many. KeyError for an unknown queue."""


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
