"""A commit adds its events to the state counters in its own transaction: exactly once, because the commit
happens once (issue 22: no counters transaction per stream batch); fake and real alike. What the counters
answer (``states()``, ``day()``) is what the outbox relay's batches added before (``domain.reporting.tally``)."""

from __future__ import annotations

import concurrent.futures
import uuid
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult
from chalicelib.domain.workflow import consolidation, intake
from chalicelib.domain.workflow.states import State
from chalicelib.services.ports import ConcurrentChange, QuotaFull, QuotaUse
from tests.contracts.conftest import real_services

DECLARED = {"email": "a@example.com", "address": {"country": "GB"}, "full_name": {"surname": "Carter"}}


@pytest.fixture
def store(kind: str) -> tuple[Any, Any]:
    """(repository, the counters its commits add to)."""
    if kind == "fake":
        counters = memory.InMemoryStateCounters()
        return memory.InMemoryApplicationRepository(counters=counters), counters
    return real_services().repository, real_services().counters


def submitted(moment):
    return intake.submit(str(uuid.uuid4()), str(uuid.uuid4()), DECLARED, moment())


def approved(repository, moment):
    """An application committed step by step to APPROVED (automatic), at the moment's time."""
    change = submitted(moment)
    repository.commit(change)
    app = change.after
    steps = [lambda a: intake.receive_document(a, "k", 2048, moment())]
    steps += [lambda a, c=c: consolidation.record_check(a, CheckResult(c), moment())
              for c in (ADDRESS, SANCTIONS, FACE, IDENTITY)]
    for step in steps:
        app = repository.get(app.application_id)
        repository.commit(step(app))
    app = repository.get(app.application_id)
    assert app.state == State.APPROVED
    return app


def test_each_commit_counts_its_events_once_and_a_refused_commit_counts_nothing(store, moment):
    repository, counters = store
    day = moment().date().isoformat()  # a day of its own (the real table is shared)
    first = submitted(moment)
    repository.commit(first)
    with pytest.raises(ConcurrentChange):
        repository.commit(first)  # lost: nothing written, nothing counted
    quota = QuotaUse(f"contract-quota#{uuid.uuid4()}", 1, 3600)
    repository.commit(submitted(moment), quota=quota)
    with pytest.raises(QuotaFull):
        repository.commit(submitted(moment), quota=quota)  # refused: nothing written, nothing counted
    withdrawn = intake.withdraw(first.after, first.after.applicant_id, "no", moment())
    repository.commit(withdrawn)
    with pytest.raises(ConcurrentChange):
        repository.commit(withdrawn)  # a replayed step
    assert counters.day(day) == {"closed.WITHDRAWN": 1}
    app = approved(repository, moment)
    seen = counters.day(day)
    assert seen["closed.WITHDRAWN"] == 1 and seen["decided.APPROVED.automatic"] == 1
    assert sum(n for name, n in seen.items() if name.startswith("ttd.")) == 1  # its time to a decision
    assert app.state == State.APPROVED


def test_the_state_counts_move_with_each_commit(store, moment):
    repository, counters = store
    before = counters.states()
    app = submitted(moment)
    repository.commit(app)
    repository.commit(intake.receive_document(app.after, "k", 2048, moment()))
    after = counters.states()
    # the real table is shared: other tests may move other applications meanwhile; this one moved one in,
    # then out of AWAITING_DOCUMENTS into VERIFYING (when nothing else ran, exactly that)
    if isinstance(counters, memory.InMemoryStateCounters):
        assert after.get("VERIFYING", 0) - before.get("VERIFYING", 0) == 1
        assert after.get("AWAITING_DOCUMENTS", 0) == before.get("AWAITING_DOCUMENTS", 0)
    assert after.get("VERIFYING", 0) >= 1


def test_racing_commits_count_every_decision_exactly_once(store, moment):
    """Commits on one day at once (one counter shard each, picked at random): none is lost or doubled."""
    repository, counters = store
    day = moment().date().isoformat()
    apps = []
    for _ in range(8):
        app = submitted(moment)
        repository.commit(app)
        apps.append(app.after)

    def withdraw(app):
        repository.commit(intake.withdraw(app, app.applicant_id, "no", moment()))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(withdraw, apps))
    assert counters.day(day) == {"closed.WITHDRAWN": 8}
