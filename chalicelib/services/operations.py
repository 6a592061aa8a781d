"""What operators see: where every application stands, the dead letters, the scheduled jobs.

The state diagram is generated from the domain's transition table, so it
cannot disagree with the code. Counts come from the state counters the
outbox relay keeps (one read, however many applications there are); the
oldest age of each open state from the first key of each shard of the
``open_by_state`` index (never a Scan, never a count). Job runs are recorded
by the schedule handlers as they finish, success or failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ..domain.workflow.application import iso
from ..domain.workflow.states import FINAL_STATES, TRANSITIONS, State
from .errors import UnknownQueue
from .ports import ApplicationRepository, Clock, JobRun, JobRunLog, QueueAdmin, QueueStatus, StateCounters


@dataclass(frozen=True)
class StateCount:
    state: State
    final: bool
    count: int
    oldest_since: Optional[str]


@dataclass(frozen=True)
class Move:
    event: str
    source: Optional[State]
    target: State


@dataclass(frozen=True)
class Workflow:
    states: list[StateCount]
    transitions: list[Move]
    as_of: str


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str
    description: str
    last_run: Optional[JobRun]


def transitions() -> list[Move]:
    """Every (event, from, to) of the table, in the table's order."""
    return [
        Move(event.value, source, target) for event, moves in TRANSITIONS.items() for source, target in moves.items()
    ]


class Operations:
    def __init__(
        self,
        repository: ApplicationRepository,
        queues: QueueAdmin,
        job_runs: JobRunLog,
        clock: Clock,
        counters: StateCounters,
    ):
        self.repository = repository
        self.queue_admin = queues
        self.job_runs = job_runs
        self.clock = clock
        self.counters = counters

    def workflow(self) -> Workflow:
        """Every state with its count; open states with when their longest-waiting application entered."""
        counts = self.counters.states()
        states = []
        for state in State:
            final = state in FINAL_STATES
            oldest = None if final else self.repository.oldest_in_state(state)
            states.append(StateCount(state, final, max(0, counts.get(state.value, 0)), oldest))
        return Workflow(states, transitions(), iso(self.clock()))

    def queues(self) -> list[QueueStatus]:
        return self.queue_admin.status()

    def redrive(self, name: str) -> int:
        """Raises UnknownQueue for a queue that is not ours."""
        try:
            return self.queue_admin.redrive(name)
        except KeyError as error:
            raise UnknownQueue(name) from error

    def jobs(self, registered: Sequence[tuple[str, str, str]]) -> list[Job]:
        """``registered``: (name, schedule, description) of each scheduled handler."""
        runs = self.job_runs.last_runs()
        return [Job(name, schedule, description, runs.get(name)) for name, schedule, description in registered]

    def recorder(self, job: str) -> Callable[[dict[str, Any], bool], None]:
        """What a schedule handler calls when its job is done (started now)."""
        started = iso(self.clock())

        def record(summary: dict[str, Any], ok: bool) -> None:
            self.job_runs.record(JobRun(job, started, iso(self.clock()), ok, summary))

        return record
