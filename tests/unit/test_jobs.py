"""Maintenance jobs and the daily report on the fakes: escalate, expire, purge, report."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from chalicelib.domain.workflow import intake
from chalicelib.domain.workflow.application import iso
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason
from chalicelib.domain.reporting import TTD_BOUNDS, percentile
from tests.support.fakes import relay


def bucket_bound(seconds):
    return next(bound for bound in TTD_BOUNDS if seconds <= bound)
from chalicelib.domain.workflow.states import State
from tests.support.fakes import event_types, submit

UTC = dt.UTC


def drive(svc, who, clock, identity="REVIEW"):
    """Document received and both checks recorded at the clock's time: FLAGGED, REJECTED or APPROVED."""
    app = submit(svc, who)
    svc.applications.apply_with_retry(app.application_id, lambda a: intake.receive_document(a, "k", 2048, clock()))
    svc.check_recorder.record(app.application_id, CheckResult(ADDRESS))
    svc.check_recorder.record(app.application_id, CheckResult(SANCTIONS))
    svc.check_recorder.record(app.application_id, CheckResult(FACE))  # issue 17
    outcome = Outcome(identity)
    reasons = () if outcome is Outcome.PASS else (Reason("MRZ_NAME_MISMATCH", outcome, "x"),)
    svc.check_recorder.record(app.application_id, CheckResult(IDENTITY, reasons))
    return svc.repository.get(app.application_id)


# --- escalate ---------------------------------------------------------------------------


def test_flagged_past_the_sla_is_escalated_once(svc, applicant, clock):
    overdue = drive(svc, applicant, clock)
    clock.advance(hours=2)
    within = drive(svc, applicant, clock)
    clock.advance(hours=47)
    first = svc.maintenance.escalate_overdue()
    assert (first["candidates"], first["changed"], first["failed"]) == (1, 1, 0)
    assert first["review_sla_hours"] == 48
    assert svc.repository.get(overdue.application_id).escalated_at == iso(clock())
    assert svc.repository.get(within.application_id).escalated_at is None
    last = svc.repository.history(overdue.application_id)[-1]
    assert last.actor == "system:escalation-job" and last.from_state == last.to_state == State.FLAGGED
    second = svc.maintenance.escalate_overdue()
    assert (second["changed"], second["already_done"]) == (0, 1)
    assert event_types(svc, overdue.application_id).count("review.escalated") == 1


def test_the_sla_comes_from_the_settings(svc, applicant, clock):
    app = drive(svc, applicant, clock)
    svc.settings.update(review_sla_hours=1)
    clock.advance(hours=1, seconds=1)
    assert svc.maintenance.escalate_overdue()["changed"] == 1
    assert svc.repository.get(app.application_id).escalated_at is not None


def test_a_job_out_of_time_stops_between_applications_and_the_next_run_carries_on(svc, applicant, clock):
    first, second = drive(svc, applicant, clock), drive(svc, applicant, clock)
    clock.advance(days=3)
    stopped = svc.maintenance.escalate_overdue(budget_seconds=0)
    # the budget was spent before the first application: it is still handled (progress), then the job stops
    assert stopped["truncated"] is True and stopped["candidates"] == 1 and stopped["changed"] == 1
    carried_on = svc.maintenance.escalate_overdue(budget_seconds=60)
    assert carried_on["truncated"] is False and carried_on["changed"] == 1
    for app in (first, second):
        assert svc.repository.get(app.application_id).escalated_at is not None


def test_one_failing_application_never_stops_the_others(svc, applicant, clock):
    first, second = drive(svc, applicant, clock), drive(svc, applicant, clock)
    clock.advance(days=3)
    repo = svc.repository
    real_commit = repo.commit

    def commit_failing_for_the_first(change, **kw):
        if change.after.application_id == first.application_id:
            raise RuntimeError("throttled")
        return real_commit(change, **kw)

    repo.commit = commit_failing_for_the_first
    summary = svc.maintenance.escalate_overdue()
    assert (summary["failed"], summary["changed"]) == (1, 1)
    assert repo.get(second.application_id).escalated_at is not None
    repo.commit = real_commit
    assert svc.maintenance.escalate_overdue()["changed"] == 1  # the rerun mends it


# --- expire ---------------------------------------------------------------------------------


def test_applications_awaiting_documents_too_long_expire_at_the_boundary(svc, applicant, clock):
    old = submit(svc, applicant)
    clock.advance(days=1)
    young = submit(svc, applicant)
    clock.advance(days=29, seconds=-1)
    assert svc.maintenance.expire_abandoned()["changed"] == 0  # 30 days less a second
    clock.advance(seconds=2)  # strictly more than 30 days
    summary = svc.maintenance.expire_abandoned()
    assert summary["changed"] == 1 and summary["awaiting_documents_expiry_days"] == 30
    assert svc.repository.get(old.application_id).state == State.EXPIRED
    assert svc.repository.get(young.application_id).state == State.AWAITING_DOCUMENTS
    assert svc.maintenance.expire_abandoned()["candidates"] == 0


def test_a_chosen_now_runs_the_job_in_the_future(svc, applicant, clock):
    app = submit(svc, applicant)
    assert svc.maintenance.expire_abandoned(now=clock() + dt.timedelta(days=31))["changed"] == 1
    assert svc.repository.get(app.application_id).state == State.EXPIRED


# --- purge ------------------------------------------------------------------------------------


def decided_with_documents(svc, who, clock):
    app = submit(svc, who)
    keys = []
    for _ in range(2):  # a re-upload leaves two objects
        grant = svc.uploads.request_upload(who, app.application_id, "image/jpeg")
        svc.documents.put(grant["key"], b"\xff\xd8\xff" + b"0" * 2048, "image/jpeg")
        keys.append(grant["key"])
    svc.applications.withdraw(who, app.application_id, "closed")
    return app, keys


def test_purge_deletes_documents_then_minimises_data_and_a_rerun_does_nothing(svc, applicant, clock):
    app, keys = decided_with_documents(svc, applicant, clock)
    clock.advance(days=90, seconds=1)
    summary = svc.maintenance.purge_past_retention()
    assert (summary["changed"], summary["objects_deleted"]) == (1, 2)
    assert svc.documents.keys_of(app.application_id) == []
    purged = svc.repository.get(app.application_id)
    assert purged.purged_at is not None and purged.document_key is None
    assert not {"email", "phone", "address", "identity_document"} & set(purged.declared)
    assert purged.declared["full_name"]["surname"] == "Carter"
    deletes = svc.documents.delete_all_for
    svc.documents.delete_all_for = lambda _id: pytest.fail("an already purged application touched S3")
    again = svc.maintenance.purge_past_retention()
    assert (again["candidates"], again["changed"], again["objects_deleted"]) == (0, 0, 0)  # purged: off the index
    svc.documents.delete_all_for = deletes


def test_purge_waits_for_the_retention_period(svc, applicant, clock):
    app, keys = decided_with_documents(svc, applicant, clock)
    clock.advance(days=90)
    assert svc.maintenance.purge_past_retention()["candidates"] == 0  # strictly more than 90 days
    assert svc.documents.keys_of(app.application_id) == sorted(keys)


def test_a_crash_between_delete_and_commit_is_mended_by_the_rerun(svc, applicant, clock):
    app, _ = decided_with_documents(svc, applicant, clock)
    clock.advance(days=91)
    repo = svc.repository
    real_commit = repo.commit

    def crash(change, **kw):
        raise RuntimeError("Lambda timed out")

    repo.commit = crash
    assert svc.maintenance.purge_past_retention()["failed"] == 1
    assert svc.documents.keys_of(app.application_id) == [] and repo.get(app.application_id).purged_at is None
    repo.commit = real_commit
    rerun = svc.maintenance.purge_past_retention()
    assert (rerun["changed"], rerun["objects_deleted"]) == (1, 0)


# --- the daily report ---------------------------------------------------------------------------


DAY = dt.date(2026, 1, 10)


def at(day_offset, hour, minute=0):
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC) + dt.timedelta(days=day_offset)


@pytest.fixture
def report_day(svc, clock, applicant, reviewer):
    """One day with two automatic decisions, two reviewer decisions, an escalation and a withdrawal."""
    from tests.support.fakes import identity

    made_ids = []

    def made(created, decided_at=None, identity_outcome="REVIEW"):
        clock.set(created)
        who = identity()
        app = submit(svc, who)
        made_ids.append(app.application_id)
        if decided_at is None:
            return app, who
        clock.set(decided_at)
        return drive_existing(app, identity_outcome), who

    def drive_existing(app, identity_outcome):
        svc.applications.apply_with_retry(
            app.application_id, lambda a: intake.receive_document(a, "k", 2048, clock())
        )
        svc.check_recorder.record(app.application_id, CheckResult(ADDRESS))
        svc.check_recorder.record(app.application_id, CheckResult(SANCTIONS))
        svc.check_recorder.record(app.application_id, CheckResult(FACE))  # issue 17
        outcome = Outcome(identity_outcome)
        reasons = () if outcome is Outcome.PASS else (Reason("MRZ_NAME_MISMATCH", outcome, "x"),)
        svc.check_recorder.record(app.application_id, CheckResult(IDENTITY, reasons))
        return svc.repository.get(app.application_id)

    made(at(0, 8), at(0, 9), "PASS")  # approved automatically after 1 h
    made(at(0, 8), at(0, 10), "FAIL")  # rejected automatically after 2 h
    escalated, _ = made(at(-2, 8), at(-2, 9))
    reviewed, _ = made(at(0, 7), at(0, 7, 30))
    withdrawn, owner = made(at(0, 6))
    made(at(0, 20), at(1, 1), "PASS")  # decided the next day: not in the report
    svc.maintenance.escalate_overdue(now=at(0, 10))
    clock.set(at(0, 12))
    svc.review.decide(reviewer, escalated.application_id, True, "checked by phone")  # 51 h
    clock.set(at(0, 15))
    svc.review.decide(reviewer, reviewed.application_id, False, "document does not match")  # 8 h
    clock.set(at(0, 16))
    svc.applications.withdraw(owner, withdrawn.application_id, "moved abroad")
    clock.set(at(1, 0, 15))
    relay(svc, *made_ids)  # the outbox relay counts each event once: the report reads its counters


def test_the_daily_report_counts_the_previous_day_and_is_written_once(svc, report_day):
    summary = svc.daily_reports.daily_report()
    assert summary["written"] is True and summary["day"] == "2026-01-10"
    assert svc.reports.puts == ["reports/daily/2026-01-10.csv", "reports/daily/2026-01-10.json"]  # JSON last
    report = json.loads(svc.reports.read("reports/daily/2026-01-10.json"))
    assert report["window"] == {"start": "2026-01-10T00:00:00.000Z", "end": "2026-01-10T23:59:59.999Z"}
    assert report["decisions"] == {
        "APPROVED": {"total": 2, "automatic": 1, "reviewer": 1, "other": 0},
        "REJECTED": {"total": 2, "automatic": 1, "reviewer": 1, "other": 0},
    }
    assert report["closed"] == {"WITHDRAWN": 1, "EXPIRED": 0}
    durations = [3600.0, 7200.0, 8 * 3600.0, 52 * 3600.0]  # a histogram: each percentile is its bucket's bound
    assert report["time_to_decision_seconds"] == {
        "count": 4,
        "p50": float(bucket_bound(percentile(durations, 50))),
        "p90": float(bucket_bound(percentile(durations, 90))),
    }
    assert report["time_to_decision_seconds"]["p90"] == 259200.0  # 52 h: in the bucket up to 72 h
    assert report["escalations"] == 1
    assert report["applications_by_state"] == {
        "AWAITING_DOCUMENTS": 0,
        "VERIFYING": 0,
        "FLAGGED": 0,
        "APPROVED": 3,
        "REJECTED": 2,
        "WITHDRAWN": 1,
        "EXPIRED": 0,
    }
    lines = svc.reports.read("reports/daily/2026-01-10.csv").splitlines()
    assert lines[0] == "day,metric,dimension,value" and "2026-01-10,escalations,,1" in lines
    again = svc.daily_reports.daily_report()
    assert again["written"] is False and len(svc.reports.puts) == 2


def test_a_regenerated_report_is_identical_and_an_unfinished_day_is_refused(svc, report_day, clock):
    moment = clock() + dt.timedelta(days=30)
    svc.daily_reports.daily_report(now=moment, day=DAY, overwrite=True)
    first = svc.reports.read("reports/daily/2026-01-10.json")
    svc.daily_reports.daily_report(now=moment, day=DAY, overwrite=True)
    assert svc.reports.read("reports/daily/2026-01-10.json") == first
    with pytest.raises(ValueError):
        svc.daily_reports.daily_report(now=at(0, 23), day=DAY)
