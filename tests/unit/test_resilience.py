"""Nothing is lost when a step fails part-way: the outbox, the sweeper, retries (on the fakes)."""

from __future__ import annotations

import json

import pytest

from tests.support import fakes
from tests.support.fakes import address_message, event_types, face_check, identity, screen, selfie, submit, upload


class FailingPublisher:
    """Wraps the recording publisher; the messages of the listed applications fail (once each)."""

    def __init__(self, inner, failing: set[str]):
        self.inner = inner
        self.failing = set(failing)
        self.batches: list[int] = []

    def publish(self, message, attributes):
        if message["application_id"] in self.failing:
            self.failing.discard(message["application_id"])
            raise ConnectionError("SNS hiccup")
        self.inner.publish(message, attributes)

    def publish_batch(self, entries):
        from chalicelib.services.ports import EventPublisher

        self.batches.append(len(entries))
        return EventPublisher.publish_batch(self, entries)


def stream_batch(svc, *application_ids, interleaved=False):
    histories = [svc.repository.history(app_id) for app_id in application_ids]
    if interleaved:  # as a stream shard mixes applications: A1 B1 A2 B2 ...
        events = [h[i] for i in range(max(map(len, histories))) for h in histories if i < len(h)]
    else:
        events = [e for history in histories for e in history]
    return [(f"seq-{i:04d}", e) for i, e in enumerate(events)]


def published_event_ids(svc):
    return [event["event_id"] for message in svc.publisher.messages for event in message["events"]]


def test_the_outbox_reports_the_first_record_of_a_failed_message_and_publishes_the_others(svc, applicant):
    from chalicelib.services.outbox import OutboxRelay

    first, second = submit(svc, applicant), submit(svc, applicant)
    for app in (first, second):
        upload(svc, applicant, app.application_id)
        svc.identity_check.document_uploaded(svc.documents.keys_of(app.application_id)[0])
    records = stream_batch(svc, first.application_id, second.application_id, interleaved=True)
    assert [e.application_id for _, e in records[:2]] == [first.application_id, second.application_id]
    publisher = FailingPublisher(svc.publisher, {second.application_id})
    relay = OutboxRelay(publisher, svc.claims)

    published, failed_at = relay.relay_batch(records)
    assert failed_at == "seq-0001"  # the second application's first record
    assert published == len(svc.repository.history(first.application_id))
    assert len(svc.publisher.messages) == 1  # the first application's events: one message
    # Lambda retries from the reported record: everything arrives, some of it twice (subscribers dedupe).
    published, failed_at = relay.relay_batch(records[1:])
    assert failed_at is None
    assert set(published_event_ids(svc)) == {f"{e.application_id}#{e.seq}" for _, e in records}


def test_the_outbox_publishes_one_message_per_application_and_batch(svc, applicant):
    from chalicelib.services.outbox import OutboxRelay

    apps = [submit(svc, identity()) for _ in range(12)]
    for app in apps[:2]:
        svc.applications.withdraw(identity(app.applicant_id), app.application_id, "no")
    publisher = FailingPublisher(svc.publisher, set())
    records = stream_batch(svc, *[a.application_id for a in apps], interleaved=True)
    published, failed_at = OutboxRelay(publisher, svc.claims).relay_batch(records)
    assert (published, failed_at) == (14, None)
    assert publisher.batches == [12]  # the port gets the whole batch; the SNS adapter sends it ten at a time
    first = svc.publisher.published[0]
    assert [e["type"] for e in first.message["events"]] == ["application.submitted", "application.withdrawn"]
    assert first.attributes["event_type"] == ["application.submitted", "application.withdrawn"]
    assert svc.claims.keys() == []  # no marker per event: subscribers dedupe by event_id


def test_a_document_whose_s3_event_was_lost_is_found_by_the_sweeper(svc, applicant, clock):
    app = submit(svc, applicant)
    svc.address_check.address_requested(address_message(app.application_id))
    selfie(svc, applicant, app.application_id)  # the liveness check before the document (issue 17)
    upload(svc, applicant, app.application_id)  # in the bucket, but the S3 event never reached us
    assert svc.repository.get(app.application_id).state.value == "AWAITING_DOCUMENTS"
    assert svc.sweeper.redrive_stuck()["requested"] == 0  # not stuck yet: too recent
    clock.advance(minutes=11)
    summary = svc.sweeper.redrive_stuck()
    assert summary["requested"] == 1 and summary["failed"] == 0
    # asked for on the identity-check queue (the uploads' own path, at the OCR quota's rate), not run here
    assert svc.repository.get(app.application_id).state.value == "AWAITING_DOCUMENTS"
    assert svc.check_requests.deliver(svc.identity_check) == 1
    assert event_types(svc, app.application_id)[-1] == "face.requested"  # the document read asks for it
    face_check(svc, app.application_id)  # delivered by the face-check queue
    assert svc.repository.get(app.application_id).state.value == "APPROVED"
    assert svc.sweeper.redrive_stuck()["requested"] == 0  # nothing stuck any more
    before = event_types(svc, app.application_id)
    clock.advance(minutes=15)
    svc.sweeper.redrive_stuck()
    assert event_types(svc, app.application_id) == before  # a second sweep changes nothing


def test_an_application_left_in_verifying_is_completed_by_the_sweeper(svc, applicant, clock):
    from chalicelib.domain.workflow import intake

    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    # The document was received, then the handler died before the identity check was recorded;
    # and the address message went to the DLQ.
    svc.applications.apply_with_retry(app.application_id, lambda a: intake.receive_document(a, key, 4096, clock()))
    assert svc.repository.get(app.application_id).state.value == "VERIFYING"
    selfie(svc, applicant, app.application_id)
    clock.advance(minutes=11)
    assert svc.sweeper.redrive_stuck()["requested"] == 1
    assert svc.sweeper.redrive_stuck()["requested"] == 0  # asked once an hour at most, not every sweep
    svc.check_requests.deliver(svc.identity_check)
    face_check(svc, app.application_id)  # the face.requested of the identity check's transaction, delivered
    final = svc.repository.get(app.application_id)
    assert final.state.value == "APPROVED"
    assert event_types(svc, app.application_id).count("application.approved") == 1


def test_a_sweep_whose_query_outlasts_its_budget_still_handles_the_first_application(svc, applicant, clock,
                                                                                     monkeypatch):
    from chalicelib.domain.workflow import intake
    from chalicelib.services.sweeper import Sweeper

    stuck = []
    for _ in range(2):
        app = submit(svc, applicant)
        key = upload(svc, applicant, app.application_id)
        svc.applications.apply_with_retry(app.application_id, lambda a: intake.receive_document(a, key, 4096, clock()))
        stuck.append(app.application_id)
        clock.advance(seconds=1)
    clock.advance(minutes=11)
    ticks = fakes.Ticks()
    query = svc.repository.in_state_since_before

    def slow_query(*args, **kwargs):
        ticks.now += 30.0  # the candidate query alone takes longer than the whole budget
        return query(*args, **kwargs)

    monkeypatch.setattr(svc.repository, "in_state_since_before", slow_query)
    sweeper = Sweeper(svc.applications, svc.documents, svc.check_requests, svc.address_check,
                      svc.sanctions_check, svc.claims, svc.face_check, monotonic=ticks)
    summary = sweeper.redrive_stuck(budget_seconds=5)
    # the first (oldest) application handled, then the spent budget respected: the second waits for the next run
    assert summary["examined"] == 1 and summary["requested"] == 1 and summary["stopped"] == "time budget"
    assert svc.check_requests.deliver(svc.identity_check) == 1
    assert svc.repository.get(stuck[0]).checks.get("identity") is not None
    assert svc.repository.get(stuck[1]).checks.get("identity") is None
    summary = sweeper.redrive_stuck()  # a run with time to spare examines both, as before
    assert summary["examined"] == 2 and "stopped" not in summary


def test_an_abandoned_application_is_left_to_the_expiry_job(svc, applicant, clock):
    app = submit(svc, applicant)
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    clock.advance(days=3)
    assert svc.sweeper.redrive_stuck()["examined"] == 0
    assert svc.documents.keys_of(app.application_id) == []


def test_system_retries_back_off_with_jitter(monkeypatch):
    from chalicelib.services import applications

    waits = []
    monkeypatch.setattr(applications.time, "sleep", waits.append)
    for attempt in range(6):
        applications.backoff(attempt)
    assert all(0 <= w <= min(1.0, 0.01 * 2**i) for i, w in enumerate(waits))
    assert len(set(waits)) == len(waits)  # random, not a fixed schedule


# --- per-user limits and staff rights, on the fakes -------------------------------------------------


def test_the_daily_application_limit_counts_per_applicant_and_gives_back_failed_attempts(svc, applicant):
    from chalicelib.services.errors import QuotaExceeded

    limit = svc.settings.policy().max_applications_per_day
    for _ in range(limit):
        submit(svc, applicant)
    with pytest.raises(QuotaExceeded) as refused:
        submit(svc, applicant)
    assert 0 < refused.value.retry_after_seconds <= 24 * 3600 + 1
    submit(svc, identity())  # another applicant is not affected
    assert sum(svc.quotas.uses.values()) == limit + 1


def test_a_reviewer_removed_from_the_group_loses_the_review_queue(svc, reviewer):
    from chalicelib.domain.workflow.errors import NotAllowed

    assert svc.staff.require(reviewer, "reviewers") is reviewer
    svc.directory.remove(reviewer.sub, "reviewers")
    assert svc.staff.require(reviewer, "reviewers") is reviewer  # the answer is kept for the bound...
    svc.clock.advance(seconds=svc.staff.ttl_seconds)
    with pytest.raises(NotAllowed):  # ...and no longer
        svc.staff.require(reviewer, "reviewers")


def test_connections_per_user_are_bounded(svc, applicant):
    from chalicelib.domain.limits import MAX_CONNECTIONS_PER_USER
    from chalicelib.services.ports import TooManyConnections

    for i in range(MAX_CONNECTIONS_PER_USER):
        svc.connections.register(f"c{i}", applicant, MAX_CONNECTIONS_PER_USER)
    with pytest.raises(TooManyConnections):
        svc.connections.register("one-more", applicant, MAX_CONNECTIONS_PER_USER)
    svc.connections.forget("c0")
    svc.connections.register("one-more", applicant, MAX_CONNECTIONS_PER_USER)


def test_published_messages_carry_no_personal_data_and_applicants_get_them_without_the_reviewer(
    svc, applicant, reviewer
):
    import dataclasses

    from chalicelib.domain.workflow.review import for_applicant
    from chalicelib.domain.workflow.states import EventType
    from chalicelib.services.outbox import message_for

    app = submit(svc, applicant)
    submitted = svc.repository.history(app.application_id)[0]
    rejected = dataclasses.replace(
        submitted,
        type=EventType.REJECTED,
        actor=f"reviewer:{reviewer.sub}",
        reason="internal: CASE-4411",
        details={"decision": "reject", "reviewer_email": "r@bank.example", "address": "1 Secret Street"},
    )
    message = message_for(rejected)  # the internal topic's view: staff may see who and why
    assert set(message) <= {"event_id", "application_id", "seq", "shown_seq", "type", "from_state", "state", "at",
                            "actor", "reason", "details"}
    assert message["details"] == {"decision": "reject", "reviewer_email": "r@bank.example"}  # nothing else
    assert "Secret" not in json.dumps(message)
    shown = for_applicant(message)  # what an applicant's connection is sent
    assert shown["actor"] == "reviewer" and reviewer.sub not in json.dumps(shown)
    assert shown["reason"] == "decided by a reviewer" and "CASE-4411" not in json.dumps(shown)
    assert "r@bank.example" not in json.dumps(shown)
