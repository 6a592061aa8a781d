"""ApplicationRepository: the same behaviour from the fake and from DynamoDB."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from chalicelib.domain.workflow import consolidation, intake, lifecycle, review
from chalicelib.domain.workflow.application import iso
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason
from chalicelib.domain.policy import Policy
from chalicelib.domain.workflow.chain import verify_chain
from chalicelib.domain.workflow.states import State
from chalicelib.services.ports import (
    ConcurrentChange,
    IdempotencyRecord,
    IdempotentReplay,
    InvalidCursor,
    QuotaFull,
    QuotaUse,
)

DECLARED = {"email": "a@example.com", "address": {"country": "GB"}, "full_name": {"surname": "Carter"}}


def submitted(moment, applicant_id=None):
    return intake.submit(str(uuid.uuid4()), applicant_id or str(uuid.uuid4()), DECLARED, moment())


def committed(repository, change):
    repository.commit(change)
    return change.after


def flagged(repository, moment, applicant_id=None):
    """An application driven to FLAGGED at the moment's time."""
    app = committed(repository, submitted(moment, applicant_id))
    app = committed(repository, intake.receive_document(app, "k", 2048, moment()))
    app = committed(repository, consolidation.record_check(app, CheckResult(ADDRESS), moment()))
    app = committed(repository, consolidation.record_check(app, CheckResult(SANCTIONS), moment()))
    app = committed(repository, consolidation.record_check(app, CheckResult(FACE), moment()))  # issue 17
    doubt = CheckResult(IDENTITY, (Reason("MRZ_NAME_MISMATCH", Outcome.REVIEW, "a look"),))
    app = committed(repository, consolidation.record_check(app, doubt, moment()))
    assert app.state == State.FLAGGED
    return app


def withdraw_all(repository, apps, moment):
    """Take the contract's applications out of the shared review queue again."""
    for app in apps:
        current = repository.get(app.application_id)
        if current is not None and not current.state.is_final:
            repository.commit(intake.withdraw(current, current.applicant_id, "contract test done", moment()))


def test_a_committed_change_reads_back_equal(repository, moment):
    change = submitted(moment)
    repository.commit(change)
    assert repository.get(change.after.application_id) == change.after
    assert repository.history(change.after.application_id) == list(change.events)
    assert repository.get(str(uuid.uuid4())) is None and repository.history(str(uuid.uuid4())) == []


def test_values_read_back_are_copies(repository, moment):
    change = submitted(moment)
    repository.commit(change)
    read = repository.get(change.after.application_id)
    read.declared["email"] = "changed@example.com"
    assert repository.get(change.after.application_id).declared["email"] == "a@example.com"


def test_a_chain_of_changes_keeps_history_and_state_together(repository, moment):
    app = flagged(repository, moment)
    events = repository.history(app.application_id)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7] and verify_chain(events) is None
    assert events[-1].to_state == State.FLAGGED and app.last_hash == events[-1].hash
    assert repository.get(app.application_id) == app
    withdraw_all(repository, [app], moment)


def test_creating_an_existing_application_is_a_concurrent_change(repository, moment):
    change = submitted(moment)
    repository.commit(change)
    with pytest.raises(ConcurrentChange) as lost:
        repository.commit(change)
    assert lost.value.current == change.after


def test_a_stale_change_loses_and_writes_nothing(repository, moment):
    app = committed(repository, submitted(moment))
    winner = intake.receive_document(app, "k", 2048, moment())
    stale = intake.withdraw(app, app.applicant_id, "stale", moment())
    repository.commit(winner)
    with pytest.raises(ConcurrentChange) as lost:
        repository.commit(stale)
    assert lost.value.current == winner.after
    assert repository.get(app.application_id) == winner.after
    assert [e.type.value for e in repository.history(app.application_id)] == [
        "application.submitted",
        "document.received",
    ]


def test_the_condition_is_on_version_and_state(repository, moment):
    app = committed(repository, submitted(moment))
    change = intake.withdraw(app, app.applicant_id, "", moment())
    wrong_state = dataclasses.replace(change, before=dataclasses.replace(app, state=State.VERIFYING))
    with pytest.raises(ConcurrentChange):
        repository.commit(wrong_state)
    wrong_version = dataclasses.replace(change, before=dataclasses.replace(app, version=app.version + 1))
    with pytest.raises(ConcurrentChange):
        repository.commit(wrong_version)
    assert repository.get(app.application_id) == app


def test_a_history_event_is_never_overwritten(repository, moment):
    app = committed(repository, submitted(moment))
    change = intake.withdraw(app, app.applicant_id, "", moment())
    overwriting = dataclasses.replace(change, events=(dataclasses.replace(change.events[0], seq=1),))
    with pytest.raises(ConcurrentChange):
        repository.commit(overwriting)
    assert repository.get(app.application_id) == app
    assert [e.type.value for e in repository.history(app.application_id)] == ["application.submitted"]


def test_an_idempotency_key_is_recorded_with_the_change_and_replays(repository, moment):
    key = f"create#contract#{uuid.uuid4()}"
    first = submitted(moment)
    assert repository.find_idempotency_record(key) is None
    repository.commit(first, idempotency_key=key, fingerprint="fp-1")
    assert repository.find_idempotency_record(key) == IdempotencyRecord(first.after.application_id, "fp-1")
    second = submitted(moment)
    with pytest.raises(IdempotentReplay) as replay:
        repository.commit(second, idempotency_key=key, fingerprint="fp-2")
    assert (replay.value.application_id, replay.value.fingerprint) == (first.after.application_id, "fp-1")
    assert repository.get(second.after.application_id) is None


def test_a_lost_race_with_a_fresh_key_records_no_key(repository, moment):
    change = submitted(moment)
    repository.commit(change)
    key = f"create#contract#{uuid.uuid4()}"
    with pytest.raises(ConcurrentChange):
        repository.commit(change, idempotency_key=key, fingerprint="fp")
    assert repository.find_idempotency_record(key) is None


def walk(fetch, limit):
    items, cursor = [], None
    for _ in range(1000):
        page, cursor = fetch(limit, cursor)
        assert len(page) <= limit
        items += page
        if cursor is None:
            return items
    raise AssertionError("the cursor never ran out")


def test_an_applicants_list_is_newest_first_across_pages_and_own_only(repository, moment):
    applicant, other = str(uuid.uuid4()), str(uuid.uuid4())
    mine = []
    for _ in range(5):
        mine.append(committed(repository, submitted(moment, applicant)).application_id)
        committed(repository, submitted(moment, other))
        moment.advance(seconds=1)
    listed = walk(lambda limit, cursor: repository.list_for_applicant(applicant, limit, cursor), 2)
    assert [a.application_id for a in listed] == list(reversed(mine))
    assert walk(lambda limit, cursor: repository.list_for_applicant(str(uuid.uuid4()), limit, cursor), 3) == []


def test_cursors_are_pinned_to_what_they_page_through(repository, moment):
    applicant = str(uuid.uuid4())
    for _ in range(3):
        committed(repository, submitted(moment, applicant))
        moment.advance(seconds=1)
    _, cursor = repository.list_for_applicant(applicant, 1, None)
    assert isinstance(cursor, str)
    with pytest.raises(InvalidCursor):
        repository.list_for_applicant(str(uuid.uuid4()), 1, cursor)
    with pytest.raises(InvalidCursor):
        repository.review_queue(1, cursor)
    for forged in ("garbage!", "e30", "eyJhIjoxfQ", cursor[:-4]):
        with pytest.raises(InvalidCursor):
            repository.list_for_applicant(applicant, 1, forged)


def test_the_review_queue_holds_flagged_applications_oldest_flag_first(repository, moment):
    apps = []
    for _ in range(3):
        apps.append(flagged(repository, moment))
        moment.advance(minutes=5)
    decided = apps[1]
    repository.commit(review.decide(decided, True, "a-reviewer", "fine", moment()))
    mine = {a.application_id for a in apps}
    queued = [a.application_id for a in walk(repository.review_queue, 2) if a.application_id in mine]
    assert queued == [apps[0].application_id, apps[2].application_id]
    _, cursor = repository.review_queue(1, None)
    if cursor is not None:
        with pytest.raises(InvalidCursor):
            repository.list_for_applicant(str(uuid.uuid4()), 1, cursor)
    withdraw_all(repository, apps, moment)


def test_queries_by_state_and_time(repository, moment):
    start = moment()
    apps = []
    for _ in range(3):
        apps.append(committed(repository, submitted(moment)))
        moment.advance(hours=1)
    ids = [a.application_id for a in apps]
    oldest = repository.oldest_in_state(State.AWAITING_DOCUMENTS)
    assert oldest is not None and oldest <= apps[0].state_since

    def mine(found):
        return [a.application_id for a in found if a.application_id in ids]

    assert mine(repository.in_state_since_before(State.AWAITING_DOCUMENTS, apps[2].state_since)) == ids[:2]
    assert (
        mine(repository.in_state_between(State.AWAITING_DOCUMENTS, apps[1].state_since, apps[2].state_since))
        == (ids[1:])
    )
    assert mine(repository.in_state_between(State.VERIFYING, iso(start), iso(moment()))) == []
    withdrawn = committed(repository, intake.withdraw(apps[0], apps[0].applicant_id, "", moment()))
    assert mine(repository.in_state_since_before(State.AWAITING_DOCUMENTS, iso(moment()))) == ids[1:]
    assert mine(repository.in_state_since_before(State.WITHDRAWN, iso(moment.advance(seconds=1)))) == ids[:1]
    # Once its documents are purged, a closed application is no job's business: it leaves the index.
    purged = committed(repository, lifecycle.purge(withdrawn, Policy(document_retention_days=1), moment.advance(days=2)))
    assert purged.purged_at is not None
    assert mine(repository.in_state_since_before(State.WITHDRAWN, iso(moment.advance(seconds=1)))) == []


@pytest.mark.stack
def test_the_real_state_index_is_spread_over_sixteen_partitions_of_keys(moment):
    """No state is one hot partition: open (and unpurged closed) applications carry ``<STATE>#<NN>``
    (DynamoDB's index only: the fake answers the same queries without one)."""
    from chalicelib.adapters.dynamodb_applications import STATE_SHARDS, shard_of
    from chalicelib.adapters.dynamodb_models import ApplicationModel
    from tests.contracts.conftest import real_services

    repository = real_services().repository
    apps = [committed(repository, submitted(moment)) for _ in range(40)]
    keys = {ApplicationModel.get(a.application_id, consistent_read=True).state_shard for a in apps}
    assert keys == {f"AWAITING_DOCUMENTS#{shard_of(a.application_id):02d}" for a in apps}
    assert len(keys) >= 10 and all(0 <= int(k.rsplit("#", 1)[1]) < STATE_SHARDS for k in keys)
    withdraw_all(repository, apps, moment)


def consented(repository, moment, applicant_id=None):
    """A submitted application with the applicant's biometric consent recorded (a biometric record)."""
    from chalicelib.domain import face_workflow

    app = committed(repository, submitted(moment, applicant_id))
    return committed(repository, face_workflow.give_consent(app, app.applicant_id, "v1", Policy(), moment()))


def test_the_biometric_record_reads_back_with_the_application_and_not_in_pages(repository, moment):
    """issue 23: the record is kept apart from the item the indexes copy; ``get`` has it, pages do not."""
    app = consented(repository, moment)
    assert app.biometrics["consent"]["text_version"] == "v1"
    assert repository.get(app.application_id) == app
    page, _ = repository.list_for_applicant(app.applicant_id, 10, None)
    assert [(a.application_id, dict(a.biometrics)) for a in page] == [(app.application_id, {})]
    assert page[0] == dataclasses.replace(app, biometrics={})


def test_a_change_from_a_page_keeps_the_biometric_record_and_cannot_overwrite_it(repository, moment):
    from chalicelib.domain import face_workflow

    app = consented(repository, moment)
    (listed,), _ = repository.list_for_applicant(app.applicant_id, 10, None)
    received = committed(repository, intake.receive_document(listed, "k", 2048, moment()))
    assert repository.get(app.application_id) == dataclasses.replace(received, biometrics=app.biometrics)
    # a change of the record made from what a page showed (no record) is a lost race, and writes nothing
    current = repository.get(app.application_id)
    stale = dataclasses.replace(current, biometrics={})
    with pytest.raises(ConcurrentChange):
        repository.commit(face_workflow.give_consent(stale, app.applicant_id, "v1", Policy(), moment()))
    assert repository.get(app.application_id) == current
    withdraw_all(repository, [app], moment)


@pytest.mark.stack
def test_the_real_biometric_record_is_an_item_of_its_own_and_older_items_move_it_there(moment):
    """The application item carries no biometric record (its own table: BIOMETRICS_TABLE_NAME); an item
    written before that still reads with its record, and its next commit moves the record out."""
    from chalicelib.adapters.dynamodb_models import ApplicationModel, BiometricsModel
    from tests.contracts.conftest import real_services

    repository = real_services().repository
    app = consented(repository, moment)
    assert ApplicationModel.get(app.application_id, consistent_read=True).biometrics is None
    assert BiometricsModel.get(app.application_id, consistent_read=True).record == json.loads(
        json.dumps(dict(app.biometrics)))
    older = committed(repository, submitted(moment))  # as written before: the record inside the item
    item = ApplicationModel.get(older.application_id, consistent_read=True)
    item.biometrics = dict(app.biometrics)
    item.save()
    read = repository.get(older.application_id)
    assert read == dataclasses.replace(older, biometrics=app.biometrics)
    moved = committed(repository, intake.receive_document(read, "k", 2048, moment()))
    assert ApplicationModel.get(older.application_id, consistent_read=True).biometrics is None
    assert BiometricsModel.get(older.application_id, consistent_read=True).record == dict(app.biometrics)
    assert repository.get(older.application_id) == moved
    withdraw_all(repository, [app, older], moment)


def test_a_quota_is_taken_in_the_commit_and_only_by_a_commit_that_writes(repository, moment):
    """The daily limit costs the create no call of its own: one transaction, nothing written past the limit."""
    quota = QuotaUse(f"contract-quota#{uuid.uuid4()}", 2, 3600)
    first, second, third = (submitted(moment) for _ in range(3))
    repository.commit(first, quota=quota)
    with pytest.raises(ConcurrentChange):
        repository.commit(first, quota=quota)  # lost: no quota spent
    repository.commit(second, quota=quota)
    with pytest.raises(QuotaFull):
        repository.commit(third, quota=quota)
    assert repository.get(third.after.application_id) is None
    assert repository.history(third.after.application_id) == []
    other = QuotaUse(f"{quota.key}-other", 2, 3600)
    repository.commit(third, quota=other)  # per key
    assert repository.get(third.after.application_id) == third.after


def test_an_idempotent_replay_costs_no_quota(repository, moment):
    quota = QuotaUse(f"contract-quota#{uuid.uuid4()}", 1, 3600)
    key = f"contract-key#{uuid.uuid4()}"
    change = submitted(moment)
    repository.commit(change, idempotency_key=key, fingerprint="f", quota=quota)
    with pytest.raises(IdempotentReplay) as replay:
        repository.commit(submitted(moment), idempotency_key=key, fingerprint="f", quota=quota)
    assert replay.value.application_id == change.after.application_id


def test_the_chain_key_is_a_stable_secret_of_at_least_256_bits(chain_key):
    first = chain_key.secret()
    assert isinstance(first, bytes) and len(first) >= 32
    assert chain_key.secret() == first


def test_redacting_rewrites_only_the_events_with_that_hash_and_keeps_the_chain(repository, moment):
    """The one rewrite of the history: personal data replaced by its commitment, same hash, once."""
    app = committed(repository, submitted(moment))
    result = CheckResult("address", (), {"normalised": {"city": "LONDON"}, "size": 1})
    repository.commit(consolidation.record_check(app, result, moment()))
    events = repository.history(app.application_id)
    assert events[-1].salt and events[-1].details["details"]["normalised"] == {"city": "LONDON"}
    redacted = lifecycle.redact_history(events)
    assert [e.seq for e in redacted] == [events[-1].seq]
    assert repository.redact_history(app.application_id, redacted) == 1
    assert repository.redact_history(app.application_id, redacted) == 0  # a rerun changes nothing
    forged = dataclasses.replace(redacted[0], hash="f" * 64)
    assert repository.redact_history(app.application_id, [forged]) == 0  # not that event
    after = repository.history(app.application_id)
    assert after[-1].salt is None and "LONDON" not in json.dumps(after[-1].details)
    assert after[-1].details["details"]["size"] == 1  # not personal: kept
    assert verify_chain(after, b"", head=(len(after), after[-1].hash)) is None


def test_the_applicants_numbering_is_kept_with_the_application_and_its_events(repository, moment):
    """What the applicant is shown of the head (``disclosure.numbered``, kept at commit) and each event's place
    among the events shown to them read back, listed too; an application recorded before they were kept has none
    (its views fall back to the recorded version), and a hidden event changes none of them."""
    from chalicelib.domain import disclosure

    old = flagged(repository, moment)  # committed without the numbering: as before it was kept
    assert repository.get(old.application_id).shown_seq is None
    decided = review.decide(old, True, "reviewer-1", "fine", moment(), "r@bank.example", second_review_for={"IDENTITY"})
    change = disclosure.numbered(decided)  # four eyes: a recommendation, hidden
    assert [e.shown_seq for e in change.events] == [None]
    after = committed(repository, change)
    assert (after.shown_seq, after.shown_version, after.shown_at) == (None, old.version, old.updated_at)
    assert repository.get(old.application_id) == after
    assert repository.history(old.application_id)[-1] == change.events[-1]
    new = disclosure.numbered(submitted(moment))
    app = committed(repository, new)
    assert repository.history(app.application_id) == list(new.events) and new.events[0].shown_seq == 1
    (listed,), _ = repository.list_for_applicant(app.applicant_id, 5, None)
    assert (listed.shown_seq, listed.shown_version, listed.shown_at) == (1, 1, app.updated_at)
    withdraw_all(repository, [after], moment)


@pytest.mark.parametrize("limit", [1, 2, 7], ids=["limit-1", "limit-2", "limit-7"])
def test_history_after_reads_a_page_from_a_recorded_seq(repository, moment, limit):
    """A page of the recorded history (the applicant's history pages read with it): at most ``limit`` events with a
    greater seq, in order, as committed; nothing past the head, nothing of an unknown application."""
    app = flagged(repository, moment)
    recorded = repository.history(app.application_id)
    assert len(recorded) == 7  # submitted, the document, four checks, flagged
    for after in range(0, len(recorded) + 1):
        assert repository.history_after(app.application_id, after, limit) == recorded[after : after + limit]
    assert repository.history_after(str(uuid.uuid4()), 0, limit) == []
    withdraw_all(repository, [app], moment)
