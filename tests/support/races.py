"""Races that really happen: racers held at their first commit until every one of them has read and got there.

A race test that starts N threads at a barrier and hopes their reads overlap proves little per trial: on a busy
machine (or under the GIL) one thread often reads, writes and returns before the next one reads, and the trial
is then a sequential run that the simplest code passes too. That is why such tests needed hundreds of trials.

:func:`held_commits` wraps the DynamoDB repository's ``commit`` for the duration of a test. While a
:class:`Rendezvous` is armed (``with held.rendezvous(4): ...``), each thread's FIRST commit waits until all
``parties`` threads have reached theirs -- so every racer has read the same version and built its change from it
before any of them writes. Exactly one first commit can then succeed and every other one must be refused by the
conditional write (``ConcurrentChange``): a lost update, a second decision or a dropped check result would follow
in every trial if that condition broke. Later attempts (the losers' retries after re-reading) run freely.

``held.conflicts`` counts the refused commits seen while the wrapper is installed, armed or not, so a test can
assert the race it is about was run, not just started.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from tests.support.deadlines import REPLY_S


class Rendezvous:
    """One trial's meeting point: each thread waits once, at its first commit."""

    def __init__(self, parties: int):
        self.barrier = threading.Barrier(parties, timeout=REPLY_S)
        self.arrived = threading.local()

    def first_commit(self) -> None:
        if not getattr(self.arrived, "done", False):
            self.arrived.done = True
            self.barrier.wait()  # BrokenBarrierError (a failure) if a racer never commits


class HeldCommits:
    def __init__(self) -> None:
        self.conflicts = 0
        self.commits = 0
        self.armed: Optional[Rendezvous] = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def rendezvous(self, parties: int) -> Iterator[Rendezvous]:
        self.armed = Rendezvous(parties)
        try:
            yield self.armed
        finally:
            self.armed = None

    def count(self, committed: bool) -> None:
        with self._lock:
            if committed:
                self.commits += 1
            else:
                self.conflicts += 1


@contextlib.contextmanager
def held_commits(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldCommits]:
    from chalicelib.adapters.dynamodb_applications import DynamoApplicationRepository
    from chalicelib.services.ports import ConcurrentChange

    held = HeldCommits()
    original = DynamoApplicationRepository.commit

    def commit(self: Any, *args: Any, **kwargs: Any) -> Any:
        armed = held.armed
        if armed is not None:
            armed.first_commit()
        try:
            result = original(self, *args, **kwargs)
        except ConcurrentChange:
            held.count(committed=False)
            raise
        held.count(committed=True)
        return result

    monkeypatch.setattr(DynamoApplicationRepository, "commit", commit)
    try:
        yield held
    finally:
        monkeypatch.setattr(DynamoApplicationRepository, "commit", original)
