"""What operators see: where every application stands, the dead letters, the scheduled jobs.

The state diagram is generated from the domain's transition table, so it
cannot disagree with the code. Counts and oldest ages come from the
``by_state`` index (a Query per state, never a Scan). Job runs are recorded
by the schedule handlers as they finish, success or failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ..domain.workflow import FINAL_STATES, TRANSITIONS, State, iso
from .errors import UnknownQueue
from .ports import ApplicationRepository, Clock, JobRun, JobRunLog, QueueAdmin, QueueStatus

FAR_FUTURE = "9999-12-31T23:59:59.999Z"


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
    def __init__(self, repository: ApplicationRepository, queues: QueueAdmin, job_runs: JobRunLog, clock: Clock):
        self.repository = repository
        self.queue_admin = queues
        self.job_runs = job_runs
        self.clock = clock

    def workflow(self) -> Workflow:
        states = []
        for state in State:
            oldest = next(iter(self.repository.in_state_since_before(state, FAR_FUTURE)), None)
            states.append(
                StateCount(
                    state,
                    state in FINAL_STATES,
                    self.repository.count_in_state(state),
                    oldest.state_since if oldest else None,
                )
            )
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
