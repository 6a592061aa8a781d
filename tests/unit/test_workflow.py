"""The state machine and its audit chain, as plain Python (no AWS)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chalicelib.domain.workflow import chain, consolidation, intake, lifecycle, review
from chalicelib.domain.workflow.application import Application, ChangeBuilder
from chalicelib.domain.workflow.errors import NotAllowed
from chalicelib.domain.workflow.history import Actor
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason, worst
from chalicelib.domain.policy import Policy
from chalicelib.domain.workflow.chain import verify_chain
from chalicelib.domain.workflow.errors import DomainError, IllegalTransition, NothingToDo
from chalicelib.domain.workflow.states import TRANSITIONS, EventType, State

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
POLICY = Policy()


def result(check: str, outcome: Outcome) -> CheckResult:
    reasons = () if outcome is Outcome.PASS else (Reason(f"{check.upper()}_X", outcome, "why"),)
    return CheckResult(check, reasons)


def submitted() -> Application:
    return intake.submit("app-1", "user-1", {"email": "a@b.c", "address": {}, "full_name": {}}, T0).after


def test_the_table_never_leaves_a_final_state_except_to_record_a_purge_or_a_read():
    for event_type, moves in TRANSITIONS.items():
        for source, target in moves.items():
            if source is not None and source.is_final:
                # Recording a purge, a further document that changes nothing (issue 9), a reviewer's read, or
                # a sanctions candidate a reviewer cleared as a false positive, an approved customer's re-screening
                # hit and its resolution (issue 20).
                assert event_type in (
                    EventType.DOCUMENTS_PURGED,
                    EventType.DOCUMENT_UNEXPECTED,
                    EventType.DOCUMENT_REPLACED,
                    EventType.VIEWED,
                    EventType.DOCUMENT_VIEWED,
                    EventType.SCREENING_FALSE_POSITIVE,
                    EventType.CUSTOMER_SCREENING_HIT,
                    EventType.CUSTOMER_SCREENING_RECOMMENDED,  # four eyes on a re-screening case
                    EventType.CUSTOMER_SCREENING_RESOLVED,
                    EventType.SELFIE_VIEWED,  # issue 17: a reviewer's audited look at the selfie
                    EventType.BIOMETRICS_PURGED,  # and the deletion of biometric data
                )
                assert target == source


def test_happy_path_consolidates_exactly_once_when_the_last_check_lands():
    app = intake.receive_document(submitted(), "k", 10, T0).after
    app = consolidation.record_check(app, result(SANCTIONS, Outcome.PASS), T0).after
    app = consolidation.record_check(app, result(ADDRESS, Outcome.PASS), T0).after
    first = consolidation.record_check(app, result(FACE, Outcome.PASS), T0)
    assert first.after.state == State.VERIFYING and len(first.events) == 1
    second = consolidation.record_check(first.after, result(IDENTITY, Outcome.PASS), T0)
    assert [e.type for e in second.events] == [EventType.CHECK_COMPLETED, EventType.APPROVED]
    assert second.after.state == State.APPROVED and second.after.version == first.after.version + 1


@pytest.mark.parametrize(
    "identity,address,sanctions,expected",
    [
        (Outcome.PASS, Outcome.PASS, Outcome.PASS, State.APPROVED),
        (Outcome.REVIEW, Outcome.PASS, Outcome.PASS, State.FLAGGED),
        (Outcome.PASS, Outcome.REVIEW, Outcome.PASS, State.FLAGGED),
        (Outcome.PASS, Outcome.PASS, Outcome.REVIEW, State.FLAGGED),
        (Outcome.FAIL, Outcome.REVIEW, Outcome.PASS, State.REJECTED),
        (Outcome.REVIEW, Outcome.FAIL, Outcome.PASS, State.REJECTED),
        (Outcome.PASS, Outcome.REVIEW, Outcome.FAIL, State.REJECTED),
    ],
)
def test_consolidation_rule(identity, address, sanctions, expected):
    app = intake.receive_document(submitted(), "k", 10, T0).after
    app = consolidation.record_check(app, result(IDENTITY, identity), T0).after
    app = consolidation.record_check(app, result(SANCTIONS, sanctions), T0).after
    app = consolidation.record_check(app, result(ADDRESS, address), T0).after
    if app.state == State.VERIFYING:  # nothing failed: the decision waits for the face check
        app = consolidation.record_check(app, result(FACE, Outcome.PASS), T0).after
    assert app.state == expected
    if expected != State.APPROVED:
        assert app.decision_reasons


def test_address_result_before_the_document_waits_for_identity():
    app = consolidation.record_check(submitted(), result(ADDRESS, Outcome.PASS), T0).after
    assert app.state == State.AWAITING_DOCUMENTS and ADDRESS in app.checks
    app = intake.receive_document(app, "k", 10, T0).after
    assert app.state == State.VERIFYING
    app = consolidation.record_check(app, result(IDENTITY, Outcome.PASS), T0).after
    assert app.state == State.VERIFYING  # sanctions screening is still out
    app = consolidation.record_check(app, result(SANCTIONS, Outcome.PASS), T0).after
    assert app.state == State.VERIFYING  # and the face check (issue 17)
    assert consolidation.record_check(app, result(FACE, Outcome.PASS), T0).after.state == State.APPROVED


def test_a_replayed_check_is_nothing_to_do():
    app = consolidation.record_check(submitted(), result(ADDRESS, Outcome.PASS), T0).after
    with pytest.raises(NothingToDo):
        consolidation.record_check(app, result(ADDRESS, Outcome.FAIL), T0)


def test_reviewer_cannot_decide_own_application():
    app = dataclasses.replace(submitted(), state=State.FLAGGED)
    with pytest.raises(NotAllowed):
        review.decide(app, True, "user-1", "mine", T0)


def test_tampering_with_any_event_is_detected():
    app = submitted()
    changes = [intake.receive_document(app, "k", 1, T0)]
    events = [
        *intake.submit("app-1", "user-1", {"email": "a@b.c", "address": {}, "full_name": {}}, T0).events,
        *changes[0].events,
    ]
    assert verify_chain(events) is None
    forged = dataclasses.replace(events[0], reason="edited later")
    assert verify_chain([forged, events[1]]) == 1
    assert verify_chain([events[1]]) == 2  # a deleted first event


def test_policy_reads_parameter_store_names():
    policy = Policy.from_parameters(
        {"/p/minimum_age": "21", "/p/served_countries": "gb, ie", "/p/unknown_future_setting": "x"}
    )
    assert policy.minimum_age == 21 and policy.served_countries == frozenset({"GB", "IE"})
    with pytest.raises(ValueError):
        Policy.from_parameters({"minimum_age": "eighteen"})


# --- property: no sequence of commands breaks the machine ------------------------

outcomes = st.sampled_from(list(Outcome))
hours = st.integers(min_value=0, max_value=24 * 200)


class ApplicationMachine(RuleBasedStateMachine):
    """Random commands at random times; every committed change is checked against the table."""

    def __init__(self):
        super().__init__()
        self.now = T0
        change = intake.submit("app-1", "applicant", {"email": "a@b.c", "address": {}, "full_name": {}}, self.now)
        self.app = change.after
        self.events = list(change.events)
        self.consolidations = 0

    def attempt(self, command):
        try:
            change = command(self.app)
        except DomainError:
            return
        assert change.before == self.app
        assert change.after.version == self.app.version + 1
        assert change.events, "a change without a history event"
        for event in change.events:
            assert TRANSITIONS[event.type][event.from_state] == event.to_state
        assert change.events[-1].to_state == change.after.state
        self.consolidations += sum(e.actor == "system:consolidation" for e in change.events)
        self.app = change.after
        self.events.extend(change.events)

    @rule(delta=hours)
    def time_passes(self, delta):
        self.now += dt.timedelta(hours=delta)

    @rule()
    def document(self):
        self.attempt(lambda a: intake.receive_document(a, "key", 100, self.now))

    @rule(check=st.sampled_from([IDENTITY, ADDRESS, SANCTIONS, FACE]), outcome=outcomes)
    def check(self, check, outcome):
        self.attempt(lambda a: consolidation.record_check(a, result(check, outcome), self.now))

    @rule(approve=st.booleans(), reviewer=st.sampled_from(["reviewer", "applicant"]))
    def decide(self, approve, reviewer):
        self.attempt(lambda a: review.decide(a, approve, reviewer, "because", self.now))

    @rule()
    def withdraw(self):
        self.attempt(lambda a: intake.withdraw(a, "applicant", "", self.now))

    @rule()
    def expire(self):
        self.attempt(lambda a: lifecycle.expire(a, POLICY, self.now))

    @rule()
    def escalate(self):
        self.attempt(lambda a: lifecycle.escalate(a, POLICY, self.now))

    @rule()
    def purge(self):
        self.attempt(lambda a: lifecycle.purge(a, POLICY, self.now))

    @invariant()
    def history_explains_the_state(self):
        assert self.app.state in State
        assert self.app.last_seq == len(self.events)
        assert self.events[-1].to_state == self.app.state
        assert self.app.last_hash == self.events[-1].hash
        assert verify_chain(self.events) is None

    @invariant()
    def consolidated_at_most_once(self):
        assert self.consolidations <= 1

    @invariant()
    def the_decision_matches_the_checks(self):
        """Every check in, or (before any document) a failure, which no document could mend."""
        automatic = [e for e in self.events if e.actor == "system:consolidation"]
        if automatic:
            [decision] = automatic
            checks = self.app.check_results()
            outcome = worst(r.outcome for r in checks.values())
            expected = {Outcome.FAIL: State.REJECTED, Outcome.REVIEW: State.FLAGGED, Outcome.PASS: State.APPROVED}
            assert decision.to_state == expected[outcome]
            if decision.from_state == State.AWAITING_DOCUMENTS:
                assert outcome == Outcome.FAIL and self.app.document_key is None
            else:
                assert decision.from_state == State.VERIFYING
                if set(checks) != {IDENTITY, ADDRESS, SANCTIONS, FACE}:  # a failure does not wait for a selfie
                    assert outcome == Outcome.FAIL and {IDENTITY, ADDRESS, SANCTIONS} <= set(checks)
            if decision.to_state == State.APPROVED:  # issue 17: never approved without the face check's PASS
                assert checks[FACE].outcome == Outcome.PASS

    @invariant()
    def a_decided_application_stays_decided(self):
        """After the decision only same-state records follow (purge, a document viewed or unexpected)."""
        decided = [i for i, e in enumerate(self.events) if e.to_state.is_final and e.from_state != e.to_state]
        if decided:
            assert all(e.from_state == e.to_state for e in self.events[decided[0] + 1 :])


TestApplicationMachine = ApplicationMachine.TestCase
TestApplicationMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


@given(st.lists(st.sampled_from(list(EventType)), max_size=12))
def test_illegal_events_raise_instead_of_writing(sequence):
    app = submitted()
    for event_type in sequence:
        builder = ChangeBuilder(app, app, T0)
        if app.state in TRANSITIONS[event_type]:
            app = builder.apply(event_type, Actor("system", "t"), "r").build().after
        else:
            with pytest.raises(IllegalTransition):
                builder.apply(event_type, Actor("system", "t"), "r")


def test_a_sealed_chain_verifies_only_under_its_key_and_only_up_to_its_head():
    key = b"k" * 32
    first = chain.seal(intake.submit("app-1", "user-1", {"email": "a@b.c"}, T0), key)
    second = chain.seal(intake.withdraw(first.after, "user-1", "bye", T0), key)
    events = [*first.events, *second.events]
    head = (second.after.last_seq, second.after.last_hash)
    assert chain.verify_chain(events, key, head) is None
    assert chain.verify_chain(events, b"another key", head) == 1
    assert chain.verify_chain(events[:1], key, head) == 2  # the last event deleted: the head says 2
    assert chain.verify_chain(events, key, (3, "0" * 64)) == 3  # a head past the chain
    assert chain.verify_chain(events[:1], key) is None  # without the head, truncation cannot be seen
