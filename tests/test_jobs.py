"""The scheduled jobs, through the handlers registered in app.py and through the job functions.

Jobs act on the whole (shared) table, so each test makes its applications
old by creating and driving them with a clock in the past, then runs the job
at the real time (through the handler) or at a chosen ``now``. Nothing else
in the suite lives that far in the past, so a run touches only what the test
made. Every job is run twice: the second run must change nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import boto3
import pytest

from tests import test_review_api as h
from tests.support.flows import selfie_at
# Moved to tests/support/jobs.py; imported here too (other test files still name them here).
from tests.support.jobs import decided_with_documents, flagged_at, schedule_event  # noqa: F401

UTC = dt.timezone.utc


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def fire(client, handler: str, at: dt.datetime | None = None, detail: dict | None = None) -> dict:
    return client.lambda_.invoke(handler, schedule_event(client, handler, at, detail)).payload


def get(app_id: str):
    from chalicelib.bootstrap import services

    return services().repository.get(app_id)


# --- escalate -----------------------------------------------------------------------

def test_escalation_handler_escalates_flagged_past_the_sla_once(client):
    overdue = flagged_at(now() - dt.timedelta(hours=49))
    within = flagged_at(now() - dt.timedelta(hours=47))

    first = fire(client, "escalate_overdue_reviews")
    assert first["job"] == "escalate_overdue" and first["changed"] >= 1 and first["failed"] == 0
    app = get(overdue)
    assert app.state.value == "FLAGGED" and app.escalated_at is not None
    last = h.history(overdue)[-1]
    assert last.type.value == "review.escalated" and last.actor == "system:escalation-job"
    assert last.from_state.value == last.to_state.value == "FLAGGED"
    assert "48 hours" in last.reason
    assert get(within).escalated_at is None

    # The event leaves through the outbox like any other: the history stream carries it to SNS.
    from tests.support.flows import stream_records

    records = [r for r in stream_records(overdue) if r["dynamodb"]["NewImage"]["type"]["S"] == "review.escalated"]
    assert len(records) == 1
    assert client.lambda_.invoke("publish_history", {"Records": records}).payload == {"batchItemFailures": []}

    counts = {i: len(h.history(i)) for i in (overdue, within)}
    second = fire(client, "escalate_overdue_reviews")
    assert second["changed"] == 0 and second["already_done"] >= 1
    assert {i: len(h.history(i)) for i in (overdue, within)} == counts


def test_escalation_run_in_the_future(api, applicant):
    from chalicelib.bootstrap import services

    jobs = services().maintenance

    app_id = h.flagged_via_api(api, applicant)
    jobs.escalate_overdue(now=now() + dt.timedelta(hours=47))
    assert get(app_id).escalated_at is None
    later = now() + dt.timedelta(hours=49)
    jobs.escalate_overdue(now=later)
    assert get(app_id).escalated_at is not None
    count = len(h.history(app_id))
    assert jobs.escalate_overdue(now=later)["changed"] == 0
    assert len(h.history(app_id)) == count


def test_a_job_out_of_time_stops_between_applications_and_the_next_run_carries_on():
    from chalicelib.bootstrap import services

    jobs = services().maintenance

    apps = [flagged_at(now() - dt.timedelta(days=days)) for days in (701, 700)]
    stopped = jobs.escalate_overdue(budget_seconds=0)
    # spent before the first application: that one is still handled (else no run would progress), then it stops
    assert stopped["truncated"] is True and stopped["candidates"] == 1
    assert sum(get(app_id).escalated_at is not None for app_id in apps) <= 1
    carried_on = jobs.escalate_overdue()
    assert carried_on["truncated"] is False and all(get(app_id).escalated_at is not None for app_id in apps)


# --- expire -------------------------------------------------------------------------

def test_expiry_handler_expires_applications_awaiting_documents_too_long(client):
    old = h.create_at(h.Clock(now() - dt.timedelta(days=31)))
    young = h.create_at(h.Clock(now() - dt.timedelta(days=29)))
    verifying = h.create_at(h.Clock(now() - dt.timedelta(days=40)))
    h.receive_document(verifying, h.Clock(now() - dt.timedelta(days=39)))
    selfie_at(verifying, h.Clock(now() - dt.timedelta(days=39)))  # waiting for a check, not for the applicant
    no_selfie = h.create_at(h.Clock(now() - dt.timedelta(days=40)))  # issue 17: a document, never a selfie
    h.receive_document(no_selfie, h.Clock(now() - dt.timedelta(days=39)))

    first = fire(client, "expire_abandoned_applications")
    assert first["job"] == "expire_abandoned" and first["changed"] >= 2 and first["failed"] == 0
    assert get(old).state.value == "EXPIRED"
    last = h.history(old)[-1]
    assert last.type.value == "application.expired" and last.actor == "system:expiry-job"
    assert get(young).state.value == "AWAITING_DOCUMENTS"
    assert get(verifying).state.value == "VERIFYING"
    assert get(no_selfie).state.value == "EXPIRED"
    assert h.history(no_selfie)[-1].reason == "no liveness check within 30 days"

    counts = {i: len(h.history(i)) for i in (old, young, verifying, no_selfie)}
    assert fire(client, "expire_abandoned_applications")["changed"] == 0
    assert {i: len(h.history(i)) for i in (old, young, verifying, no_selfie)} == counts


def test_expiry_boundary_with_a_chosen_now():
    from chalicelib.bootstrap import services

    jobs = services().maintenance

    created = now() - dt.timedelta(days=300)
    app_id = h.create_at(h.Clock(created))
    jobs.expire_abandoned(now=created + dt.timedelta(days=29, hours=23))
    assert get(app_id).state.value == "AWAITING_DOCUMENTS"
    summary = jobs.expire_abandoned(now=created + dt.timedelta(days=30, minutes=1))
    assert summary["changed"] >= 1 and get(app_id).state.value == "EXPIRED"


# --- purge --------------------------------------------------------------------------

@pytest.fixture
def s3_deletes(monkeypatch):
    """Every application whose documents the purge deletes, in order."""
    from chalicelib.bootstrap import services

    documents = services().maintenance.documents
    calls: list[str] = []
    original = documents.delete_all_for

    def spy(application_id):
        calls.append(application_id)
        return original(application_id)

    monkeypatch.setattr(documents, "delete_all_for", spy)
    return calls


def objects_of(app_id: str) -> list[str]:
    page = boto3.client("s3").list_objects_v2(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
                                              Prefix=f"applications/{app_id}/")
    return [o["Key"] for o in page.get("Contents", [])]


def assert_purged(app_id: str, keys: list[str]):
    app = get(app_id)
    assert app.state.value == "REJECTED" and app.purged_at is not None and app.document_key is None
    assert not {"email", "phone", "address", "identity_document"} & set(app.declared)
    assert app.declared["full_name"]["surname"] == "Carter"  # whom the bank decided about stays
    assert objects_of(app_id) == []
    last = h.history(app_id)[-1]
    assert last.type.value == "documents.purged" and last.actor == "system:retention-job"
    assert last.details["document_key"] == keys[0]
    assert "Downing" not in json.dumps([e.to_dict() for e in h.history(app_id)])  # the history too
    from chalicelib.bootstrap import services

    assert services().applications.chain_intact(get(app_id), h.history(app_id))


def test_purge_handler_deletes_documents_then_minimises_data_and_a_rerun_does_nothing(client, s3_deletes):
    app_id, keys = decided_with_documents(now() - dt.timedelta(days=91))
    recent, recent_keys = decided_with_documents(now() - dt.timedelta(days=89))
    approved, approved_keys = decided_with_documents(now() - dt.timedelta(days=400), identity="PASS")
    assert sorted(objects_of(app_id)) == sorted(keys)

    first = fire(client, "purge_documents_past_retention")
    assert first["job"] == "purge_past_retention" and first["failed"] == 0
    assert first["changed"] >= 1 and first["objects_deleted"] >= 2
    assert_purged(app_id, keys)
    assert app_id in s3_deletes and recent not in s3_deletes
    assert get(recent).purged_at is None and sorted(objects_of(recent)) == sorted(recent_keys)
    # APPROVED: kept for anti-money-laundering record keeping (approved_document_retention_days)
    assert get(approved).purged_at is None and sorted(objects_of(approved)) == sorted(approved_keys)

    count = len(h.history(app_id))
    s3_deletes.clear()
    second = fire(client, "purge_documents_past_retention")
    assert second["changed"] == 0 and second["objects_deleted"] == 0
    assert s3_deletes == []  # no second S3 delete for anything
    assert len(h.history(app_id)) == count


def test_purge_retention_boundary_and_a_crash_between_delete_and_commit(s3_deletes, monkeypatch):
    from chalicelib.bootstrap import services

    jobs = services().maintenance
    from chalicelib.bootstrap import services

    closed = now() - dt.timedelta(days=400)
    app_id, keys = decided_with_documents(closed)
    jobs.purge_past_retention(now=closed + dt.timedelta(days=89))
    assert get(app_id).purged_at is None and objects_of(app_id)

    # The objects go, then the commit fails: the rerun finds the application unpurged and finishes it.
    original = services().applications.apply_with_retry

    def crash(*args, **kwargs):
        raise RuntimeError("lambda died before the commit")

    monkeypatch.setattr(services().applications, "apply_with_retry", crash)
    failed = jobs.purge_past_retention(now=closed + dt.timedelta(days=91))
    assert failed["failed"] >= 1 and objects_of(app_id) == [] and get(app_id).purged_at is None
    monkeypatch.setattr(services().applications, "apply_with_retry", original)
    done = jobs.purge_past_retention(now=closed + dt.timedelta(days=91))
    assert done["changed"] >= 1 and done["failed"] == 0
    assert_purged(app_id, keys)


def test_a_failing_application_fails_the_invocation_after_the_others_ran(client, monkeypatch):
    from chalicelib.api.schedules import JobFailed
    from chalicelib.domain.workflow import lifecycle

    first = flagged_at(now() - dt.timedelta(days=900, hours=2))
    second = flagged_at(now() - dt.timedelta(days=900, hours=1))
    original = lifecycle.escalate

    def broken_for_first(app, policy, when):
        if app.application_id == first:
            raise RuntimeError("poisoned item")
        return original(app, policy, when)

    monkeypatch.setattr(lifecycle, "escalate", broken_for_first)  # the job calls lifecycle.escalate
    with pytest.raises(JobFailed) as failure:
        fire(client, "escalate_overdue_reviews")
    assert failure.value.summary["failed"] == 1
    assert get(first).escalated_at is None and get(second).escalated_at is not None


# --- daily report -------------------------------------------------------------------

DAY = dt.date(2001, 2, 3)


def at(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC) + dt.timedelta(days=day_offset)


@pytest.fixture(scope="module")
def report_day():
    """A day in 2001 with known decisions, escalations and a withdrawal."""
    from chalicelib.bootstrap import services
    from chalicelib.domain.workflow import intake
    from chalicelib.domain.users import Identity
    from chalicelib.services.review import ReviewService

    jobs = services().maintenance

    clock = h.Clock()
    reviewer = Identity(sub=str(uuid.uuid4()), groups=frozenset({"reviewers"}), pool="staff")

    def made(created, **drive):
        app_id = h.create_at(clock.at(created))
        if drive:
            h.drive(app_id, clock=clock.at(drive.pop("at")), **drive)
        return app_id

    auto_approved = made(at(0, 8), at=at(0, 9), identity="PASS")             # 1 h
    auto_rejected = made(at(0, 8), at=at(0, 10), identity="FAIL")            # 2 h
    escalated_then_approved = made(at(-2, 8), at=at(-2, 9))  # 25 h old at the first run, 49 h at the second
    escalated_still_flagged = made(at(-2, 8), at=at(-2, 9))
    escalated_the_day_before = made(at(-4, 7), at=at(-4, 8))
    reviewer_rejected = made(at(0, 7), at=at(0, 7, 30))
    withdrawn = made(at(0, 6))
    next_day = made(at(0, 20), at=at(1, 1), identity="PASS")
    jobs.escalate_overdue(now=at(-1, 10))
    jobs.escalate_overdue(now=at(0, 10))
    from chalicelib.adapters.memory import InMemoryUserDirectory
    from chalicelib.services.staff import StaffAccess

    review = ReviewService(h.service(clock), services().metrics, staff=StaffAccess(InMemoryUserDirectory()))
    clock.at(at(0, 12))
    review.decide(reviewer, escalated_then_approved, True, "checked by phone")     # 52 h
    clock.at(at(0, 15))
    review.decide(reviewer, reviewer_rejected, False, "document does not match")  # 8 h
    clock.at(at(0, 16))
    h.service(clock).apply_with_retry(withdrawn, lambda a: intake.withdraw(a, a.applicant_id, "moved abroad",
                                                                           clock()))
    assert get(escalated_the_day_before).escalated_at.startswith("2001-02-02")
    assert get(escalated_still_flagged).escalated_at.startswith("2001-02-03")
    from tests.support.flows import relay

    relay(auto_approved, auto_rejected, escalated_then_approved, escalated_still_flagged, escalated_the_day_before,
          reviewer_rejected, withdrawn, next_day)  # the outbox relay counts: the report reads its counters
    return {"next_day": next_day, "auto": [auto_approved, auto_rejected]}


def read_report(day: dt.date) -> tuple[dict, str, dict]:
    s3 = boto3.client("s3")
    bucket = os.environ["REPORTS_BUCKET_NAME"]
    obj = s3.get_object(Bucket=bucket, Key=f"reports/daily/{day.isoformat()}.json")
    csv_text = s3.get_object(Bucket=bucket, Key=f"reports/daily/{day.isoformat()}.csv")["Body"].read().decode()
    return json.loads(obj["Body"].read()), csv_text, {"etag": obj["ETag"], "modified": obj["LastModified"]}


def test_daily_report_handler_writes_the_previous_day_as_json_and_csv(client, report_day):
    summary = fire(client, "write_daily_report", at=at(1, 0, 15))
    assert summary["written"] is True and summary["day"] == "2001-02-03"
    report, csv_text, _ = read_report(DAY)
    assert report["day"] == "2001-02-03"
    assert report["window"] == {"start": "2001-02-03T00:00:00.000Z", "end": "2001-02-03T23:59:59.999Z"}
    assert report["decisions"] == {
        "APPROVED": {"total": 2, "automatic": 1, "reviewer": 1, "other": 0},
        "REJECTED": {"total": 2, "automatic": 1, "reviewer": 1, "other": 0}}
    assert report["closed"] == {"WITHDRAWN": 1, "EXPIRED": 0}
    # a histogram: p50 7,200 s exactly on a bound; p90 (52 h) reported as its bucket's bound, 72 h
    assert report["time_to_decision_seconds"] == {"count": 4, "p50": 7200.0, "p90": 259200.0}
    assert report["escalations"] == 2
    from chalicelib.domain.workflow.states import State

    assert set(report["applications_by_state"]) == {s.value for s in State}
    assert all(isinstance(n, int) and n >= 0 for n in report["applications_by_state"].values())
    assert report["applications_by_state"]["FLAGGED"] >= 2
    lines = csv_text.splitlines()
    assert lines[0] == "day,metric,dimension,value"
    assert "2001-02-03,decisions_reviewer,APPROVED,1" in lines
    assert "2001-02-03,time_to_decision_seconds,p90,259200.0" in lines
    assert "2001-02-03,escalations,,2" in lines


def test_daily_report_rerun_writes_nothing_new(client, report_day):
    fire(client, "write_daily_report", at=at(1, 0, 15))
    before = read_report(DAY)
    again = fire(client, "write_daily_report", at=at(1, 0, 45))  # a retry of the same schedule
    assert again["written"] is False and again["day"] == "2001-02-03"
    assert read_report(DAY) == before


def test_daily_report_regenerated_for_a_day_is_identical(report_day):
    from chalicelib.bootstrap import services

    jobs = services().daily_reports
    moment = at(30, 0, 15)
    jobs.daily_report(now=moment, day=DAY, overwrite=True)
    first, first_csv, _ = read_report(DAY)
    jobs.daily_report(now=moment, day=DAY, overwrite=True)
    second, second_csv, _ = read_report(DAY)
    assert first == second and first_csv == second_csv
    with pytest.raises(ValueError):
        jobs.daily_report(now=at(0, 23), day=DAY)  # the day has not ended



@pytest.mark.parametrize("function, timeout", [("rescreen_customers", 900), ("escalate_overdue_reviews", 30)])
def test_an_invocation_gets_its_functions_configured_timeout_not_the_test_clients_3_s(
    client, monkeypatch, function, timeout
):
    """The jobs budget by the context's remaining time (``api.schedules``), so the test client's context must
    have the function's ``lambda_timeout`` (900 s for ``rescreen_customers``, the 30 s default else)."""
    remaining = lambda event, context: context.get_remaining_time_in_millis()  # noqa: E731 - the handler
    monkeypatch.setitem(client.lambda_._app.handler_map, function, remaining)
    assert timeout * 1000 - 5000 < client.lambda_.invoke(function).payload <= timeout * 1000
