"""The routes behind the console, through the Chalice test client against moto.

The reviewer's document link (who may, what it points at, the audit event
each view leaves, the documented errors) and the operators' routes (counts
from the transition table, the DLQ and its redrive, the jobs' last runs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from chalicelib.domain.workflow.states import TRANSITIONS, State
from tests import test_review_api as h
from tests.support.deadlines import REPLY_S
from tests.support.documents import jpeg_bytes


def flagged_with_document(api, applicant, body: bytes, declared_type: str = "application/pdf") -> str:
    """FLAGGED with a real object in S3, whose declared type may lie about its bytes."""
    app_id = h.create_via_api(api, applicant)
    key = h.receive_document(app_id)
    boto3.client("s3").put_object(
        Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=key, Body=body, ContentType=declared_type
    )
    h.record(app_id, "address", "PASS")
    h.record(app_id, "sanctions", "PASS")
    h.record(app_id, "face", "PASS")
    assert h.record(app_id, "identity", "REVIEW").state.value == "FLAGGED"
    return app_id


# --- the reviewer's document -----------------------------------------------------------


def test_a_reviewer_gets_a_short_lived_inline_link_typed_by_the_bytes_and_the_view_is_audited(api, applicant, reviewer):
    app_id = flagged_with_document(api, applicant, jpeg_bytes(), declared_type="application/pdf")
    before = h.history(app_id)
    reply = api.get(f"/review/applications/{app_id}/document", user=reviewer)
    assert reply.status == 200, reply.body
    assert reply.headers.get("Cache-Control") == "no-store"
    assert reply.body["content_type"] == "image/jpeg"  # sniffed, not the uploader's claim
    query = parse_qs(urlsplit(reply.body["url"]).query)
    assert query["response-content-type"] == ["image/jpeg"]
    assert query["response-content-disposition"] == ["inline"]
    expires = dt.datetime.fromisoformat(reply.body["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(0) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=5)
    import requests

    fetched = requests.get(reply.body["url"], timeout=REPLY_S)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.content[:3] == b"\xff\xd8\xff"

    after = h.history(app_id)
    assert len(after) == len(before) + 1
    viewed = after[-1]
    assert viewed.type.value == "document.viewed" and viewed.actor == f"reviewer:{reviewer.sub}"
    assert viewed.from_state == viewed.to_state == State.FLAGGED
    assert viewed.details["reviewer_email"] == reviewer.email
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    assert detail["state"] == "FLAGGED" and detail["chain_intact"] is True
    api.get(f"/review/applications/{app_id}/document", user=reviewer)
    assert [e.type.value for e in h.history(app_id)[-2:]] == ["review.viewed", "document.viewed"]  # each read audited


def test_applicants_and_operators_are_refused_the_document_and_leave_no_trace(api, applicant, other_applicant):
    from tests.support.identities import make_user

    app_id = flagged_with_document(api, applicant, jpeg_bytes())
    before = len(h.history(app_id))
    for user, code in ((applicant, "wrong_user_pool"), (other_applicant, "wrong_user_pool"),
                       (make_user(("operators",)), "forbidden")):
        reply = api.get(f"/review/applications/{app_id}/document", user=user)
        assert (reply.status, reply.error_code) == (403, code)
    assert api.get(f"/review/applications/{app_id}/document").status == 401
    assert len(h.history(app_id)) == before


def test_unknown_ids_missing_and_purged_documents_get_the_documented_errors(api, applicant, reviewer):
    unknown = api.get("/review/applications/00000000-0000-4000-8000-000000000000/document", user=reviewer)
    assert (unknown.status, unknown.error_code) == (404, "not_found")
    assert api.get("/review/applications/not-an-id/document", user=reviewer).status == 404
    waiting = h.create_via_api(api, applicant)  # not in review: the 404 of an unknown id, not "no document"
    reply = api.get(f"/review/applications/{waiting}/document", user=reviewer)
    assert reply.status == 404 and reply.body["error"] == unknown.body["error"]
    not_a_picture = flagged_with_document(api, applicant, b"MZ" + os.urandom(4096), declared_type="image/png")
    reply = api.get(f"/review/applications/{not_a_picture}/document", user=reviewer)
    assert (reply.status, reply.error_code) == (422, "document_not_displayable")

    from tests.test_jobs import decided_with_documents, fire

    purged, _ = decided_with_documents(dt.datetime.now(dt.UTC) - dt.timedelta(days=91))
    fire(api.client, "purge_documents_past_retention")
    reply = api.get(f"/review/applications/{purged}/document", user=reviewer)  # decided by the system: not theirs
    assert reply.status == 404 and reply.body["error"] == unknown.body["error"]


# --- operators ---------------------------------------------------------------------------


@pytest.fixture
def operator():
    from tests.support.identities import make_user

    return make_user(("operators",))


def counts(api, operator) -> dict[str, dict]:
    reply = api.get("/operations/workflow", user=operator)
    assert reply.status == 200, reply.body
    return {s["state"]: s for s in reply.body["states"]}


def test_the_workflow_route_is_the_transition_table_with_counts_and_oldest_ages(api, applicant, operator):
    body = api.get("/operations/workflow", user=operator).body
    assert [s["state"] for s in body["states"]] == [s.value for s in State]
    table = {(m["event"], m["from"], m["to"]) for m in body["transitions"]}
    assert table == {
        (e.value, f.value if f else None, t.value) for e, moves in TRANSITIONS.items() for f, t in moves.items()
    }
    from tests.support.flows import relay

    before = counts(api, operator)
    app_id = h.create_via_api(api, applicant)
    relay(app_id)  # counted as the outbox relays the application's events
    during = counts(api, operator)
    assert during["AWAITING_DOCUMENTS"]["count"] == before["AWAITING_DOCUMENTS"]["count"] + 1
    assert during["AWAITING_DOCUMENTS"]["oldest_since"] is not None
    assert api.post(f"/applications/{app_id}/withdraw", {}, user=applicant).status == 200
    relay(app_id)  # the whole history again: what was counted is not counted twice
    after = counts(api, operator)
    assert after["AWAITING_DOCUMENTS"]["count"] == before["AWAITING_DOCUMENTS"]["count"]
    assert after["WITHDRAWN"]["count"] == before["WITHDRAWN"]["count"] + 1


def test_operator_routes_refuse_everyone_else(api, applicant, reviewer):
    for path in ("/operations/workflow", "/operations/queues", "/operations/jobs"):
        for user in (applicant, reviewer):
            assert api.get(path, user=user).status == 403
        assert api.get(path).status == 401
    assert api.post("/operations/queues/address-check/redrive", {}, user=reviewer).status == 403


def test_dlq_depth_and_redrive_moves_the_dead_letters_back(api, operator):
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=os.environ["ADDRESS_CHECK_DLQ_NAME"])["QueueUrl"]
    queue = sqs.get_queue_url(QueueName=os.environ["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"dead": n}))
    status = {q["name"]: q for q in api.get("/operations/queues", user=operator).body["queues"]}
    assert status["address-check"]["dlq_depth"] >= 3
    reply = api.post("/operations/queues/address-check/redrive", {}, user=operator)
    assert reply.status == 200 and reply.body["moved"] >= 3
    status = {q["name"]: q for q in api.get("/operations/queues", user=operator).body["queues"]}
    assert status["address-check"]["dlq_depth"] == 0
    found = set()
    while not found >= {0, 1, 2}:  # other tests' submissions may be queued before them
        moved = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        assert moved, f"the redriven messages are not on the queue (found {found})"
        found |= {json.loads(m["Body"]).get("dead") for m in moved}
        for message in moved:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert api.post("/operations/queues/nope/redrive", {}, user=operator).status == 404


def test_the_operator_sees_every_queue_the_stack_has(api, operator):
    """Every SQS queue of resources.yaml, from the stack's outputs alone: the customer projection and
    re-screening queues (issue 20) were missing from a hand-kept list; the functions' on-failure dead-letter
    queues are listed too, without a redrive."""
    from devstack.template import load_template
    from tests.support.aws import ROOT

    resources = load_template(ROOT / "resources.yaml")["Resources"].values()
    in_template = [r for r in resources if isinstance(r, dict) and r.get("Type") == "AWS::SQS::Queue"]
    rows = api.get("/operations/queues", user=operator).body["queues"]
    shown = [name for q in rows for name in (q["queue"], q["dead_letter_queue"]) if name]
    assert len(set(shown)) == len(shown) == len(in_template), rows
    by_name = {q["name"]: q for q in rows}
    for work in ("address-check", "sanctions-screening", "face-check", "customer-projection", "customer-rescreening"):
        assert by_name[work]["redrivable"] and by_name[work]["depth"] is not None, by_name.get(work)
    assert by_name["history-stream"] == {**by_name["history-stream"], "depth": None, "redrivable": False}
    assert api.post("/operations/queues/history-stream/redrive", {}, user=operator).status == 404


def test_each_scheduled_job_shows_its_last_run_and_summary(api, client, chalice_app, operator):
    from tests.test_jobs import fire

    jobs = {j["name"]: j for j in api.get("/operations/jobs", user=operator).body["jobs"]}
    scheduled = {source.name for source in chalice_app.event_sources if hasattr(source, "schedule_expression")}
    assert set(jobs) == scheduled and "write_daily_report" in scheduled
    assert jobs["escalate_overdue_reviews"]["schedule"] == "rate(1 hour)"
    fire(client, "expire_abandoned_applications")
    jobs = {j["name"]: j for j in api.get("/operations/jobs", user=operator).body["jobs"]}
    run = jobs["expire_abandoned_applications"]["last_run"]
    assert run["ok"] is True and run["summary"]["job"] == "expire_abandoned" and "changed" in run["summary"]
    assert run["started_at"] <= run["finished_at"]


def test_the_console_is_served_publicly_with_its_headers(api):
    page = api.get("/console")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = api.get("/console/config.json").body
    assert config["cognito"]["client_id"] == os.environ["USER_POOL_CLIENT_ID"]  # applicants
    assert config["cognito"]["staff_client_id"] == os.environ["STAFF_USER_POOL_CLIENT_ID"]  # reviewers, operators
    assert config["cognito"]["staff_client_id"] != config["cognito"]["client_id"]
    assert config["review_sla_hours"] == 48
    assert api.get("/console/app.py").status == 404
