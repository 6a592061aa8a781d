"""Applications use case on the fakes: create (idempotency), read own only, list, withdraw, system steps."""

from __future__ import annotations

import threading

import pytest

from chalicelib.domain.workflow import consolidation, intake
from chalicelib.domain.workflow.application import iso
from chalicelib.domain.declaration import ApplicationRequest
from chalicelib.domain.workflow.chain import verify_chain
from chalicelib.domain.workflow.errors import IllegalTransition
from chalicelib.domain.workflow.history import GENESIS_HASH
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import IdempotencyKeyReused, NotFound
from chalicelib.services.ports import ConcurrentChange, InvalidCursor
from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared
from tests.support.fakes import event_types, submit


def request(**overrides):
    return ApplicationRequest.model_validate(make_declared(**overrides))


def test_create_commits_the_application_awaiting_documents_with_its_submission_event(svc, applicant, clock):
    app, created = svc.applications.create(applicant, request(), None)
    assert created and app.state == State.AWAITING_DOCUMENTS and app.version == 1
    assert app.applicant_id == applicant.sub and app.created_at == iso(clock())
    assert svc.repository.get(app.application_id) == app
    [event] = svc.repository.history(app.application_id)
    assert event.type.value == "application.submitted" and event.prev_hash == GENESIS_HASH
    assert event.actor == f"applicant:{applicant.sub}" and verify_chain([event], svc.chain_key.secret()) is None
    assert verify_chain([event]) == 1  # MACed under the chain key: without it, nothing verifies


def test_an_idempotency_key_returns_the_same_application_without_a_second_write(svc, applicant):
    first, created = svc.applications.create(applicant, request(), "key-1")
    commits = svc.repository.commits
    again, created_again = svc.applications.create(applicant, request(), "key-1")
    assert created and not created_again and again == first
    assert svc.repository.commits == commits


def test_an_idempotency_key_with_a_different_body_is_refused(svc, applicant):
    svc.applications.create(applicant, request(), "key-1")
    with pytest.raises(IdempotencyKeyReused):
        svc.applications.create(applicant, request(email="other@example.com"), "key-1")


def test_the_same_key_from_two_applicants_makes_two_applications(svc, applicant, other_applicant):
    mine, _ = svc.applications.create(applicant, request(), "shared")
    theirs, created = svc.applications.create(other_applicant, request(), "shared")
    assert created and mine.application_id != theirs.application_id


def test_two_retries_racing_past_the_lookup_create_one_application(svc, applicant):
    """Both read 'no record' before either commits: the commit's condition settles it (IdempotentReplay)."""
    repo = svc.repository
    barrier = threading.Barrier(2)
    real_find = repo.find_idempotency_record

    def find_then_wait(key):
        found = real_find(key)
        barrier.wait(timeout=REPLY_S)
        return found

    repo.find_idempotency_record = find_then_wait
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(svc.applications.create(applicant, request(), "k")))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in results) == [False, True]
    assert len({app.application_id for app, _ in results}) == 1
    assert repo.commits == 1


def test_someone_elses_application_is_not_found(svc, applicant, other_applicant):
    app = submit(svc, applicant)
    with pytest.raises(NotFound):
        svc.applications.get_own(other_applicant, app.application_id)
    with pytest.raises(NotFound):
        svc.applications.history(other_applicant, app.application_id)
    assert svc.applications.get_own(applicant, app.application_id) == app


@pytest.mark.parametrize("bad_id", ["nope", "", "00000000-0000-0000-0000-00000000000G", "A" * 36])
def test_malformed_ids_are_not_found_without_a_lookup(svc, applicant, bad_id):
    svc.repository.get = lambda _id: pytest.fail("a malformed id reached the repository")
    with pytest.raises(NotFound):
        svc.applications.get_own(applicant, bad_id)


def test_list_is_own_only_newest_first_across_pages(svc, applicant, other_applicant, clock):
    mine = []
    for _ in range(5):
        mine.append(submit(svc, applicant).application_id)
        submit(svc, other_applicant)
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        page, cursor = svc.applications.list_own(applicant, 2, cursor)
        assert len(page) <= 2
        seen += [a.application_id for a in page]
        if cursor is None:
            break
    assert seen == list(reversed(mine))


def test_a_cursor_cannot_page_through_someone_elses_applications(svc, applicant, other_applicant):
    for _ in range(3):
        submit(svc, applicant)
    _, cursor = svc.applications.list_own(applicant, 1, None)
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        svc.applications.list_own(other_applicant, 1, cursor)
    for forged in ("not-base64!", "e30", cursor[:-3]):
        with pytest.raises(InvalidCursor):
            svc.applications.list_own(applicant, 1, forged)


def test_withdraw_records_the_reason_and_a_second_withdrawal_is_illegal(svc, applicant):
    app = submit(svc, applicant)
    withdrawn = svc.applications.withdraw(applicant, app.application_id, "changed my mind")
    assert withdrawn.state == State.WITHDRAWN
    assert svc.repository.history(app.application_id)[-1].reason == "changed my mind"
    with pytest.raises(IllegalTransition):
        svc.applications.withdraw(applicant, app.application_id, "again")


def test_only_the_owner_withdraws(svc, applicant, other_applicant):
    app = submit(svc, applicant)
    with pytest.raises(NotFound):
        svc.applications.withdraw(other_applicant, app.application_id, "")
    assert svc.repository.get(app.application_id).state == State.AWAITING_DOCUMENTS


def test_of_two_concurrent_withdrawals_one_commits_and_the_other_sees_the_winner(svc, applicant, clock):
    app = submit(svc, applicant)
    first = intake.withdraw(app, applicant.sub, "first", clock())
    second = intake.withdraw(app, applicant.sub, "second", clock())
    svc.repository.commit(first)
    with pytest.raises(ConcurrentChange) as lost:
        svc.repository.commit(second)
    assert lost.value.current == first.after
    assert event_types(svc, app.application_id) == ["application.submitted", "application.withdrawn"]


def rival_commits_first(svc, application_id, rival):
    """Before the next commit reaches the repository, ``rival(current application)`` commits (sealed as the
    service seals it, so the chain can be checked): a step landing between a read and its write."""
    repo = svc.repository
    real_commit = repo.commit
    raced = []

    def commit_after_a_rival(change, **kw):
        repo.commit = real_commit
        raced.append(True)
        svc.applications.commit(rival(repo.get(application_id)))
        return real_commit(change, **kw)

    repo.commit = commit_after_a_rival
    return raced


def test_a_withdrawal_racing_a_check_result_rereads_and_withdraws(svc, applicant, clock):
    """The applicant names no version: a system step committing between the read and the write is not a 409."""
    app = submit(svc, applicant)
    raced = rival_commits_first(svc, app.application_id, lambda a: intake.receive_document(a, "k", 2048, clock()))
    withdrawn = svc.applications.withdraw(applicant, app.application_id, "changed my mind")
    assert raced and withdrawn.state == State.WITHDRAWN and withdrawn.version == 3
    assert event_types(svc, app.application_id) == [
        "application.submitted",
        "document.received",
        "application.withdrawn",
    ]
    assert verify_chain(svc.repository.history(app.application_id), svc.chain_key.secret()) is None


def test_a_withdrawal_that_loses_to_another_withdrawal_is_refused_as_illegal(svc, applicant, clock):
    app = submit(svc, applicant)
    rival_commits_first(svc, app.application_id, lambda a: intake.withdraw(a, applicant.sub, "first", clock()))
    with pytest.raises(IllegalTransition):
        svc.applications.withdraw(applicant, app.application_id, "second")
    assert event_types(svc, app.application_id).count("application.withdrawn") == 1


def test_a_system_step_rereads_and_retries_after_losing_a_race(svc, applicant, clock):
    app = submit(svc, applicant)
    rival_commits_first(svc, app.application_id, lambda a: intake.receive_document(a, "k", 2048, clock()))
    from chalicelib.domain.checks import ADDRESS, CheckResult

    change = svc.applications.apply_with_retry(
        app.application_id, lambda a: consolidation.record_check(a, CheckResult(ADDRESS), clock())
    )
    assert change is not None and change.before.version == 2
    assert event_types(svc, app.application_id) == ["application.submitted", "document.received", "check.completed"]


def test_a_system_step_with_nothing_to_do_is_a_success(svc, applicant, clock):
    app = submit(svc, applicant)
    receive = lambda a: intake.receive_document(a, "k", 2048, clock())  # noqa: E731
    assert svc.applications.apply_with_retry(app.application_id, receive) is not None
    assert svc.applications.apply_with_retry(app.application_id, receive) is None
    with pytest.raises(NotFound):
        svc.applications.apply_with_retry("7d7c4b8e-2f55-4a43-9d53-2cc1f5ab0b6e", receive)
