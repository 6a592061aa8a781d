"""Against DynamoDB (moto): no sequence of commands, stale ones included, leaves a state
without its history event, a broken chain, or a half-written change."""
from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chalicelib.domain.workflow import consolidation, intake, lifecycle, review
from chalicelib.domain.checks import ADDRESS, IDENTITY, CheckResult, Outcome, Reason
from chalicelib.domain.policy import Policy
from chalicelib.domain.workflow.chain import verify_chain
from chalicelib.domain.workflow.errors import DomainError
from chalicelib.domain.workflow.states import TRANSITIONS
from chalicelib.bootstrap import services
from chalicelib.services.ports import ConcurrentChange

POLICY = Policy()


def result(check, outcome):
    reasons = () if outcome is Outcome.PASS else (Reason("X", outcome, "why"),)
    return CheckResult(check, reasons)


class StoredApplication(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.repo = services().repository
        self.now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        change = intake.submit(str(uuid.uuid4()), "applicant", {"email": "a@b.c", "address": {}}, self.now)
        self.repo.commit(change)
        self.id = change.after.application_id
        self.stale = None  # an old read, as a concurrent writer would hold it

    def fresh(self):
        return self.repo.get(self.id)

    def commit(self, command, base=None):
        app = base or self.fresh()
        try:
            change = command(app)
        except DomainError:
            return
        before = self.fresh()
        try:
            self.repo.commit(change)
        except ConcurrentChange as conflict:
            assert base is not None, "a fresh read must not conflict"
            assert conflict.current == before and self.fresh() == before, "a lost race wrote something"

    @rule(hours=st.integers(0, 24 * 120))
    def time_passes(self, hours):
        self.now += dt.timedelta(hours=hours)

    @rule()
    def remember_a_stale_read(self):
        self.stale = self.fresh()

    @rule()
    def document(self):
        self.commit(lambda a: intake.receive_document(a, "k", 100, self.now))

    @rule(check=st.sampled_from([IDENTITY, ADDRESS]), outcome=st.sampled_from(list(Outcome)),
          stale=st.booleans())
    def check(self, check, outcome, stale):
        self.commit(lambda a: consolidation.record_check(a, result(check, outcome), self.now),
                    base=self.stale if stale else None)

    @rule(approve=st.booleans(), stale=st.booleans())
    def decide(self, approve, stale):
        self.commit(lambda a: review.decide(a, approve, "reviewer", "r", self.now), base=self.stale if stale else None)

    @rule(stale=st.booleans())
    def withdraw(self, stale):
        self.commit(lambda a: intake.withdraw(a, "applicant", "", self.now), base=self.stale if stale else None)

    @rule()
    def jobs(self):
        for command in (lifecycle.expire, lifecycle.escalate, lifecycle.purge):
            self.commit(lambda a, c=command: c(a, POLICY, self.now))

    @invariant()
    def stored_state_is_explained_by_stored_history(self):
        app = self.fresh()
        events = self.repo.history(self.id)
        assert app.last_seq == len(events)
        assert events[-1].to_state == app.state and events[-1].hash == app.last_hash
        assert verify_chain(events) is None
        for event in events:
            assert TRANSITIONS[event.type][event.from_state] == event.to_state


TestStoredApplication = StoredApplication.TestCase
TestStoredApplication.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
