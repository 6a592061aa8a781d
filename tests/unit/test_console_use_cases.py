"""The console's use cases on the fakes: the reviewer's document link and the operators' view."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain.workflow import consolidation, intake
from chalicelib.domain.workflow.states import EventType
from chalicelib.domain.checks import CheckResult, Outcome, Reason
from chalicelib.domain.workflow.errors import NoDocument
from chalicelib.domain.workflow.states import TRANSITIONS, State
from chalicelib.services.errors import DocumentNotDisplayable, NotFound, UnknownQueue
from chalicelib.services.review import DOCUMENT_LINK_SECONDS
from tests.support.fakes import event_types, submit, upload


def flagged(svc, applicant, body=None, content_type="image/jpeg"):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id, body, content_type)
    svc.applications.apply_with_retry(
        app.application_id, lambda a: intake.receive_document(a, key, 4096, svc.clock())
    )
    doubt = CheckResult("identity", (Reason("MRZ_UNREADABLE", Outcome.REVIEW, "look"),))
    for result in (CheckResult("address"), CheckResult("sanctions"), CheckResult("face"), doubt):
        svc.applications.apply_with_retry(
            app.application_id, lambda a, r=result: consolidation.record_check(a, r, svc.clock())
        )
    assert svc.repository.get(app.application_id).state is State.FLAGGED
    return app.application_id, key


def test_a_view_is_recorded_before_the_link_and_the_link_is_short_and_typed_by_the_bytes(svc, applicant, reviewer):
    app_id, key = flagged(svc, applicant, content_type="application/pdf")  # a JPEG claiming to be a PDF
    link = svc.review.view_document(reviewer, app_id)
    assert link.content_type == "image/jpeg"
    assert svc.documents.views == [(key, "image/jpeg", DOCUMENT_LINK_SECONDS)] and DOCUMENT_LINK_SECONDS <= 300
    assert dt.datetime.fromisoformat(link.expires_at.replace("Z", "+00:00")) == svc.clock() + dt.timedelta(
        seconds=DOCUMENT_LINK_SECONDS
    )
    last = svc.repository.history(app_id)[-1]
    assert last.type is EventType.DOCUMENT_VIEWED and last.actor == f"reviewer:{reviewer.sub}"
    assert svc.repository.get(app_id).state is State.FLAGGED
    assert svc.applications.chain_intact(svc.repository.get(app_id), svc.repository.history(app_id))


def test_no_link_without_a_document_for_unknown_ids_or_for_what_is_not_a_picture_or_pdf(svc, applicant, reviewer):
    waiting = submit(svc, applicant).application_id
    with pytest.raises(NotFound):  # not in review: as an unknown id, not "no document"
        svc.review.view_document(reviewer, waiting)
    with pytest.raises(NotFound):
        svc.review.view_document(reviewer, "00000000-0000-4000-8000-000000000000")
    odd, _ = flagged(svc, applicant, body=b"MZ" + bytes(4096))
    with pytest.raises(DocumentNotDisplayable):
        svc.review.view_document(reviewer, odd)
    assert event_types(svc, waiting)[-1] == "application.submitted"
    assert "document.viewed" not in event_types(svc, odd)


def test_a_purged_document_is_gone_for_reviewers_too(svc, applicant, reviewer, clock):
    app_id, _ = flagged(svc, applicant)
    svc.review.decide(reviewer, app_id, False, "not the person")  # REJECTED: kept 90 days
    clock.advance(days=91)
    svc.maintenance.purge_past_retention()
    with pytest.raises(NoDocument) as purged:
        svc.review.view_document(reviewer, app_id)
    assert purged.value.purged


def test_the_workflow_view_is_the_table_with_counts_and_the_oldest_per_state(svc, applicant, clock):
    from tests.support.fakes import relay

    first = submit(svc, applicant)
    clock.advance(minutes=5)
    second = submit(svc, applicant)
    relay(svc, first.application_id, second.application_id)  # the counters are the outbox relay's
    relay(svc, first.application_id)  # a batch relayed twice counts once
    view = svc.operations.workflow()
    by_state = {s.state: s for s in view.states}
    assert [s.state for s in view.states] == list(State)
    assert by_state[State.AWAITING_DOCUMENTS].count == 2
    assert by_state[State.AWAITING_DOCUMENTS].oldest_since == first.state_since
    assert by_state[State.APPROVED].count == 0 and by_state[State.APPROVED].oldest_since is None
    assert {(m.event, m.source, m.target) for m in view.transitions} == {
        (e.value, f, t) for e, moves in TRANSITIONS.items() for f, t in moves.items()
    }


def test_redrive_moves_the_dead_letters_back_and_names_only_our_queues(svc):
    svc.queue_admin.dead["address-check"] += ["a", "b"]
    assert [(q.name, q.dlq_depth) for q in svc.operations.queues()] == [("identity-check", 0), ("address-check", 2)]
    assert svc.operations.redrive("address-check") == 2
    assert svc.queue_admin.queued["address-check"] == ["a", "b"]
    with pytest.raises(UnknownQueue):
        svc.operations.redrive("elsewhere")


def test_a_job_run_is_kept_with_its_summary_and_times(svc, clock):
    record = svc.operations.recorder("expire_abandoned_applications")
    clock.advance(seconds=3)
    record({"job": "expire_abandoned", "changed": 2, "failed": 0}, True)
    jobs = svc.operations.jobs([("expire_abandoned_applications", "rate(1 hour)", "Expire"), ("other", "x", "")])
    run = jobs[0].last_run
    assert run is not None and run.ok and run.summary["changed"] == 2
    assert run.finished_at > run.started_at
    assert jobs[1].last_run is None


def test_a_recorded_document_no_longer_in_the_store_is_no_document_not_an_error(svc, applicant, reviewer):
    app_id, key = flagged(svc, applicant)  # its identity check recorded no type: the store is sampled
    svc.documents.objects.pop(key)
    with pytest.raises(NoDocument):
        svc.review.view_document(reviewer, app_id)
    assert "document.viewed" not in event_types(svc, app_id)  # nothing shown, nothing recorded


def test_an_uploaded_object_gone_before_its_event_is_ignored(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    svc.documents.objects.pop(key)
    assert svc.identity_check.document_uploaded(key) == {"ignored": "object gone"}
    assert svc.repository.get(app.application_id).state is State.AWAITING_DOCUMENTS
