"""The outbox relay, human review and health, on the fakes."""

from __future__ import annotations

import threading

import pytest

from chalicelib.domain.workflow import intake, lifecycle
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason
from chalicelib.domain.workflow.errors import IllegalTransition, NotAllowed
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import NotFound
from chalicelib.services.ports import ConcurrentChange, InvalidCursor
from tests.support.deadlines import REPLY_S
from tests.support.fakes import event_types, identity, submit

REVIEWER = identity("queue-reviewer", "reviewers")

# --- the outbox -------------------------------------------------------------------------


def test_each_committed_event_is_published_once_with_filterable_attributes(svc, applicant):
    app = submit(svc, applicant)
    svc.applications.withdraw(applicant, app.application_id, "bye")
    events = svc.repository.history(app.application_id)
    assert svc.outbox.relay(events) == 2
    [published] = svc.publisher.published  # one message per application and batch
    first, second = published.message["events"]
    assert published.message["application_id"] == app.application_id
    assert first == {
        "event_id": f"{app.application_id}#1",
        "application_id": app.application_id,
        "seq": 1,
        "type": "application.submitted",
        "from_state": None,
        "state": "AWAITING_DOCUMENTS",
        "at": events[0].at,
        "actor": f"applicant:{applicant.sub}",
        "reason": "application submitted",
        "shown_seq": 1,  # its place among the events the applicant is shown (their frames' seq)
    }
    assert published.attributes == {
        "event_type": ["application.submitted", "application.withdrawn"],  # String.Array: filters match any
        "checks": [],
        "state": "WITHDRAWN",
        "pushed": "true",
    }
    assert second["from_state"] == "AWAITING_DOCUMENTS" and second["reason"] == "bye"


def test_a_message_of_check_results_alone_names_its_checks_and_is_not_pushed(svc, applicant):
    from tests.support.fakes import address_message, screen

    app = submit(svc, applicant)
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    events = svc.repository.history(app.application_id)[1:]
    svc.outbox.relay(events)
    [published] = svc.publisher.published
    assert published.attributes["checks"] == ["address", "sanctions"]
    assert published.attributes["event_type"] == ["check.completed"] and published.attributes["pushed"] == "false"


def test_no_personal_data_leaves_through_the_topic(svc, applicant):
    app = submit(svc, applicant)
    svc.outbox.relay(svc.repository.history(app.application_id))
    text = repr(svc.publisher.messages)
    for personal in ("emily.carter@example.com", "Carter", "SW1A", "+447700900123", "533401372"):
        assert personal not in text


def test_a_failed_publish_is_reported_so_the_retry_publishes(svc, applicant):
    app = submit(svc, applicant)
    [event] = svc.repository.history(app.application_id)
    real_publish = svc.publisher.publish

    def unreachable(message, attributes):
        raise ConnectionError("SNS unreachable")

    svc.publisher.publish = unreachable
    assert svc.outbox.relay_batch([("seq-1", event)]) == (0, "seq-1")  # ReportBatchItemFailures names it
    svc.publisher.publish = real_publish
    assert svc.outbox.relay_batch([("seq-1", event)]) == (1, None)
    assert len(svc.publisher.published) == 1


# --- review -------------------------------------------------------------------------------


def flagged(svc, applicant, clock):
    app = submit(svc, applicant)
    svc.applications.apply_with_retry(app.application_id, lambda a: intake.receive_document(a, "k", 2048, clock()))
    svc.check_recorder.record(app.application_id, CheckResult(ADDRESS))
    svc.check_recorder.record(app.application_id, CheckResult(SANCTIONS))
    svc.check_recorder.record(app.application_id, CheckResult(FACE))  # issue 17
    doubt = CheckResult(IDENTITY, (Reason("MRZ_NAME_MISMATCH", Outcome.REVIEW, "a look"),))
    svc.check_recorder.record(app.application_id, doubt)
    app = svc.repository.get(app.application_id)
    assert app.state == State.FLAGGED
    return app


def test_the_queue_is_flagged_only_oldest_first_across_pages(svc, applicant, clock):
    flagged_ids = []
    for i in range(5):
        flagged_ids.append(flagged(svc, applicant, clock).application_id)
        submit(svc, applicant)  # not flagged: never queued
        clock.advance(minutes=10 - i)
    seen, cursor = [], None
    while True:
        page, cursor = svc.review.queue(REVIEWER, 2, cursor)
        seen += [a.application_id for a in page]
        if cursor is None:
            break
    assert seen == flagged_ids
    with pytest.raises(InvalidCursor):
        svc.review.queue(REVIEWER, 2, "forged")


def test_a_decided_application_leaves_the_queue(svc, applicant, reviewer, clock):
    app = flagged(svc, applicant, clock)
    svc.review.decide(reviewer, app.application_id, True, "checked")
    assert svc.review.queue(REVIEWER, 10, None) == ([], None)


def test_detail_has_the_application_and_its_intact_history(svc, applicant, clock):
    app = flagged(svc, applicant, clock)
    reviewer = identity(None, "reviewers")
    detail = svc.review.detail(reviewer, app.application_id)
    assert detail.application.state == app.state and detail.chain_intact
    assert [e.seq for e in detail.history] == list(range(1, 9))  # 8: this read, the audit trace
    assert detail.history[-1].type.value == "review.viewed"
    with pytest.raises(NotFound):
        svc.review.detail(reviewer, "7d7c4b8e-2f55-4a43-9d53-2cc1f5ab0b6e")


@pytest.mark.parametrize("approve, state", [(True, State.APPROVED), (False, State.REJECTED)])
def test_a_decision_moves_the_application_and_records_reviewer_and_reason(
    svc, applicant, reviewer, clock, approve, state
):
    app = flagged(svc, applicant, clock)
    decided = svc.review.decide(reviewer, app.application_id, approve, "looked at it")
    assert decided.state == state == svc.repository.get(app.application_id).state
    last = svc.repository.history(app.application_id)[-1]
    assert last.actor == f"reviewer:{reviewer.sub}" and last.reason == "looked at it"
    assert svc.metrics.counts["ReviewApproved" if approve else "ReviewRejected"] == 1


def test_a_reviewer_cannot_decide_their_own_application(svc, reviewer, clock):
    app = flagged(svc, reviewer, clock)
    with pytest.raises(NotAllowed):
        svc.review.decide(reviewer, app.application_id, True, "mine")
    assert svc.repository.get(app.application_id).state == State.FLAGGED


def test_deciding_what_is_not_in_review_is_not_found_and_deciding_twice_is_illegal(svc, applicant, reviewer, clock):
    app = submit(svc, applicant)
    with pytest.raises(NotFound):  # outside review: as an unknown id
        svc.review.decide(reviewer, app.application_id, True, "too early")
    decided = flagged(svc, applicant, clock)
    svc.review.decide(reviewer, decided.application_id, True, "fine")
    with pytest.raises(IllegalTransition) as refused:  # the decider may see what they decided
        svc.review.decide(reviewer, decided.application_id, False, "changed my mind")
    assert refused.value.state == State.APPROVED
    with pytest.raises(NotFound):
        svc.review.decide(reviewer, "not-an-id", True, "x")


def test_a_decision_survives_a_concurrent_escalation(svc, applicant, reviewer, clock):
    app = flagged(svc, applicant, clock)
    repo = svc.repository
    real_commit = repo.commit
    clock.advance(hours=49)

    def escalation_first(change, **kw):
        repo.commit = real_commit
        current = repo.get(app.application_id)
        real_commit(lifecycle.escalate(current, svc.settings.policy(), clock()))
        return real_commit(change, **kw)

    repo.commit = escalation_first
    decided = svc.review.decide(reviewer, app.application_id, True, "fine")
    assert decided.state == State.APPROVED and decided.escalated_at is not None
    assert event_types(svc, app.application_id)[-2:] == ["review.escalated", "application.approved"]


def test_of_two_reviewers_deciding_at_once_exactly_one_wins(svc, applicant, reviewer, clock):
    from tests.support.fakes import identity

    app = flagged(svc, applicant, clock)
    repo = svc.repository
    real_get = repo.get
    barrier = threading.Barrier(2)
    local = threading.local()

    def read_then_meet(application_id):
        found = real_get(application_id)
        if not getattr(local, "met", False):
            local.met = True
            barrier.wait(timeout=REPLY_S)
        return found

    repo.get = read_then_meet
    outcomes = []

    def decide(who, approve):
        try:
            outcomes.append(svc.review.decide(who, app.application_id, approve, "race").state)
        except (ConcurrentChange, IllegalTransition) as error:
            outcomes.append(type(error).__name__)

    threads = [
        threading.Thread(target=decide, args=(reviewer, True)),
        threading.Thread(target=decide, args=(identity(None, "reviewers"), False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    repo.get = real_get
    assert sorted(map(str, outcomes)).count("ConcurrentChange") == 1
    assert len(svc.repository.history(app.application_id)) == 8  # seven to FLAGGED (four checks), one decision
    assert svc.metrics.counts["ReviewDecisionConflict"] == 1


# --- health ---------------------------------------------------------------------------------


def test_health_is_ok_when_every_probe_answers(svc):
    healthy, report = svc.health.report()
    assert healthy and report["status"] == "ok"
    assert set(report["checks"]) == {"dynamodb", "parameters"}


def test_health_names_the_probe_that_failed(svc):
    def broken():
        raise TimeoutError("parameter store")

    svc.settings.policy = broken
    healthy, report = svc.health.report()
    assert not healthy and report["status"] == "degraded"
    assert report["checks"]["parameters"] == {
        "status": "error",
        "error": "TimeoutError",
        "ms": pytest.approx(0, abs=50),
    }
    assert report["checks"]["dynamodb"]["status"] == "ok"


def test_a_reviewer_cannot_decide_the_application_they_made_as_a_customer(svc, applicant, clock):
    """Staff sign in to their own pool, so as an applicant the same person has another sub: the
    application is still theirs when its own account's e-mail (or the declared one) is the staff
    member's verified e-mail, whatever its case or blanks. The token's e-mail claim counts for nothing."""
    import dataclasses

    from chalicelib.services.ports import DirectoryUser
    from tests.support.fakes import identity

    app = flagged(svc, applicant, clock)
    svc.customer_directory.add(DirectoryUser("u1", applicant.sub, "me.myself@bank.example", True))
    same_person = identity(None, "reviewers")
    svc.directory.add(DirectoryUser(same_person.sub, same_person.sub, "  ME.MYSELF@BANK.EXAMPLE ", True, True,
                                    frozenset({"reviewers"})))
    with pytest.raises(NotAllowed):
        svc.review.decide(dataclasses.replace(same_person, email="someone-else@x.example"), app.application_id,
                          True, "mine, from my staff account")
    assert svc.repository.get(app.application_id).state == State.FLAGGED
    colleague = dataclasses.replace(identity(None, "reviewers"), email="me.myself@bank.example")  # a claim only
    assert svc.review.decide(colleague, app.application_id, True, "looked at it").state == State.APPROVED
