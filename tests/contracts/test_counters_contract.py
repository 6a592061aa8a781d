"""StateCounters: counted once per event however often offered, summed across shards; fake and real alike."""

from __future__ import annotations

import concurrent.futures
import uuid
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.reporting import Tally
from tests.contracts.conftest import real_services


@pytest.fixture
def counters(kind: str) -> Any:
    return memory.InMemoryStateCounters() if kind == "fake" else real_services().counters


def test_each_event_is_counted_once_however_often_it_is_offered(counters):
    day = f"2{uuid.uuid4().int % 900 + 100:03d}-01-01"  # a day of its own (the real table is shared)
    state = f"CONTRACT_{uuid.uuid4().hex[:8]}"
    key = f"contract-{uuid.uuid4()}"
    moved = Tally({state: 1}, day, {"decided.APPROVED.automatic": 1, "ttd.le60": 1})
    assert counters.count([(f"{key}#1", moved), (f"{key}#2", moved)]) == 2
    assert counters.count([(f"{key}#2", moved), (f"{key}#3", moved)]) == 1  # a retried, re-cut batch
    assert counters.count([(f"{key}#1", moved)]) == 0
    assert counters.states()[state] == 3
    assert counters.day(day) == {"decided.APPROVED.automatic": 3, "ttd.le60": 3}
    left = Tally({state: -1, f"{state}_NEXT": 1}, day, {})
    assert counters.count([(f"{key}#4", left)]) == 1
    assert (counters.states()[state], counters.states()[f"{state}_NEXT"]) == (2, 1)
    assert counters.day(f"{day[:4]}-12-31") == {}


def test_racing_relays_count_every_event_exactly_once(counters):
    day = f"2{uuid.uuid4().int % 900 + 100:03d}-02-02"
    state = f"CONTRACT_{uuid.uuid4().hex[:8]}"
    events = [(f"contract-{uuid.uuid4()}#1", Tally({state: 1}, day, {"escalated": 1})) for _ in range(12)]
    batches = [events[i : i + 6] for i in range(0, 12, 3)]  # overlapping batches, as retries re-cut them
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        counted = sum(pool.map(counters.count, batches))
    assert counted == 12
    assert counters.states()[state] == 12 and counters.day(day) == {"escalated": 12}
