"""A scheduled job's time budget: stop between items before the invocation runs out of time.

The budget counts from when it is made (a job makes it before its candidate queries, which the budget
then includes) and is looked at before each item but the first: a run whose queries alone spent it still
handles one item, else such a run would handle nothing, and so would every run after it. The caller's
budget is already net of the safety margin (``api.schedules`` takes it off the Lambda's remaining time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Optional, TypeVar

T = TypeVar("T")


class TimeBudget:
    """``seconds`` None: no budget. ``clock``: a monotonic clock (a fake in tests)."""

    def __init__(self, seconds: Optional[float], clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._deadline = None if seconds is None else clock() + seconds
        #: items given out so far (over every ``each`` of this budget)
        self.handled = 0
        #: the budget ran out with items left: at least the one it held back
        self.stopped = False

    def spent(self) -> bool:
        return self._deadline is not None and self._clock() >= self._deadline

    def each(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` one by one while the budget lasts (the first one always); stops early, and says so in
        ``stopped``, when it is spent; a stopped budget gives out nothing more."""
        if self.stopped:
            return
        for item in items:
            if self.handled and self.spent():
                self.stopped = True
                return
            self.handled += 1
            yield item
