"""Live updates and schedules on the real local stack, with a real WebSocket client."""
from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import quote

import pytest
from websockets.sync.client import connect

from tests.e2e.face import HOLDER_PHOTO, live_selfie
from tests.e2e.http import call, upload
from tests.support.deadlines import OUTCOME_S, REPLY_S
from tests.support.documents import make_declared, passport_bytes

pytestmark = pytest.mark.e2e
PO_BOX = {"country": "GB", "street_address": ["PO Box 42"], "city": "London", "postal_code": "SW1A 2AA"}


def socket(stack, token):
    return connect(f"{stack.ws_url}?token={quote(token)}", open_timeout=REPLY_S)


def ask(ws, frame):
    """Send a command and return its reply; an events frame may come first (the subscription is live
    before its ack is sent, and the application's earlier events are still being relayed)."""
    ws.send(json.dumps(frame))
    while True:
        reply = json.loads(ws.recv(timeout=REPLY_S))
        if reply.get("type") != "events":
            return reply


def events_until(ws, done, timeout=OUTCOME_S):
    """Read events frames until ``done(event)`` for one of their events; a deadline, not a sleep."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame.get("type") == "events":
            for event in frame["events"]:
                seen.append(event)
                if done(event):
                    return seen
    raise AssertionError(f"no matching event within {timeout}s; saw {seen}")


def pushed_seqs(stack, token, app_id, after_seq, through_seq):
    """The ``seq`` of every event of the application in (after_seq, through_seq] that is pushed to a watcher,
    from the history over REST: every event but those ``outbox.NOT_PUSHED`` names (a check's result alone,
    the applicant's own steps that their REST replies carry, the face check's request)."""
    from chalicelib.services.outbox import NOT_PUSHED

    seqs, cursor = set(), None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = call(stack, "GET", f"/applications/{app_id}/history", token, params=params).json()
        seqs |= {e["seq"] for e in page["items"]
                 if after_seq < e["seq"] <= through_seq and e["type"] not in NOT_PUSHED}
        cursor = page.get("next_cursor")
        if not cursor:
            return seqs


def every_event_through(ws, stack, token, app_id, after_seq, final_states, timeout=OUTCOME_S):
    """Read until a final state has arrived and with it every pushed event of the application since
    ``after_seq``; return them in ``seq`` order. Frames of one application may arrive out of order
    (the notifier runs concurrently, as SNS invokes Lambda): a client orders them by ``seq``, and a
    missing ``seq`` is a lost frame, never merely a late one."""
    deadline = time.monotonic() + timeout
    mine: dict[int, dict] = {}
    expected = None
    while True:
        final = [e["seq"] for e in mine.values() if e["state"] in final_states]
        if final and expected is None:
            expected = pushed_seqs(stack, token, app_id, after_seq, min(final))
        if expected is not None and expected <= set(mine):
            return [mine[seq] for seq in sorted(mine)]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"not every event up to a final state within {timeout}s; "
                                 f"after seq {after_seq} saw {sorted(mine)} (expected {expected}): "
                                 f"{list(mine.values())}")
        frame = json.loads(ws.recv(timeout=max(0.1, remaining)))
        if frame.get("type") == "events" and frame["application_id"] == app_id:
            for event in frame["events"]:  # at least once: a repeat carries the same event (and id)
                assert mine.setdefault(event["seq"], event) == event, f"two different events of one seq: {event}"


def create_and_upload(stack, token, body):
    """The create answers with the upload forms: no second call for one."""
    app = call(stack, "POST", "/applications", token, json=body).json()
    return app["id"], app["uploads"]["image/jpeg"]


def test_applicant_watches_verifying_then_approved_arrive_after_uploading(local_stack):
    token = local_stack.token("applicant")
    app_id, presigned = create_and_upload(local_stack, token, make_declared())
    with socket(local_stack, token) as ws:
        ack = ask(ws, {"action": "subscribe", "application_id": app_id})
        assert ack["type"] == "subscribed"
        assert upload(presigned, passport_bytes(photo=HOLDER_PHOTO), "image/jpeg").status_code in (200, 201, 204)
        live_selfie(local_stack, token, app_id)  # nothing is approved without the face check (issue 17)
        events = every_event_through(ws, local_stack, token, app_id, ack["seq"], {"APPROVED"})
    states = [e["state"] for e in events if e["seq"] > ack["seq"]]  # in seq order, none missing
    assert "VERIFYING" in states and states[-1] == "APPROVED"
    assert states.index("VERIFYING") < states.index("APPROVED")


def test_an_applicant_watching_all_their_applications_sees_a_new_one_decided(local_stack):
    token = local_stack.token("applicant")
    with socket(local_stack, token) as ws:
        assert ask(ws, {"action": "subscribe", "topic": "my-applications"})["type"] == "subscribed"
        app_id, presigned = create_and_upload(local_stack, token, make_declared())  # subscribed before it existed
        assert upload(presigned, passport_bytes(photo=HOLDER_PHOTO), "image/jpeg").status_code in (200, 201, 204)
        live_selfie(local_stack, token, app_id)  # nothing is approved without the face check (issue 17)
        events = events_until(ws, lambda e: e["application_id"] == app_id and e["state"] == "APPROVED")
    # the submission is the create's own answer (not pushed); the first frame is its document received
    assert [e["type"] for e in events if e["application_id"] == app_id][0] == "document.received"


def test_reviewer_sees_a_flagged_application_arrive_and_leave_when_decided(local_stack):
    applicant, reviewer = local_stack.token("applicant"), local_stack.token("reviewer")
    with socket(local_stack, reviewer) as ws:
        assert ask(ws, {"action": "subscribe", "topic": "review-queue"})["type"] == "subscribed"
        app_id, presigned = create_and_upload(local_stack, applicant, make_declared(address=PO_BOX))
        upload(presigned, passport_bytes(make_declared(address=PO_BOX), photo=HOLDER_PHOTO), "image/jpeg")
        live_selfie(local_stack, applicant, app_id)  # the decision waits for the face check
        arrived = events_until(ws, lambda e: e["application_id"] == app_id and e["state"] == "FLAGGED")
        assert arrived[-1]["type"] == "application.flagged"
        queue = call(local_stack, "GET", "/review/queue?limit=100", reviewer).json()["items"]
        assert app_id in [item["id"] for item in queue]
        decided = call(local_stack, "POST", f"/review/applications/{app_id}/decision", reviewer,
                       json={"decision": "reject", "reason": "PO box not accepted for residence"})
        assert decided.status_code == 200, decided.text
        left = events_until(ws, lambda e: e["application_id"] == app_id and e["from_state"] == "FLAGGED")
        assert left[-1]["state"] == "REJECTED"
    queue = call(local_stack, "GET", "/review/queue?limit=100", reviewer).json()["items"]
    assert app_id not in [item["id"] for item in queue]
    history = call(local_stack, "GET", f"/applications/{app_id}/history", applicant).json()["items"]
    decision = [e for e in history if e["type"] == "application.rejected"][-1]
    # The applicant sees that a reviewer decided, never the reviewer's sub or internal reason (issue 12).
    assert decision["reason"] == "decided by a reviewer" and decision["actor"] == "reviewer"
    detail = call(local_stack, "GET", f"/review/applications/{app_id}", reviewer).json()
    assert any(e["reason"] == "PO box not accepted for residence" for e in detail["history"])


def test_an_applicant_cannot_watch_the_review_queue_or_another_application(local_stack):
    applicant, reviewer = local_stack.token("applicant"), local_stack.token("reviewer")
    with socket(local_stack, applicant) as ws:
        assert ask(ws, {"action": "subscribe", "topic": "review-queue"})["code"] == "wrong_user_pool"
        assert ask(ws, {"action": "subscribe", "application_id": "00000000-0000-4000-8000-000000000000"})[
            "code"] == "not_found"
    with pytest.raises(Exception):
        socket(local_stack, reviewer[:-4] + "AAAA")


def test_the_daily_report_fired_now_lands_in_s3_as_json_and_csv(local_stack):
    summary = local_stack.fire("write_daily_report")
    day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).date().isoformat()
    s3 = local_stack.client("s3")
    bucket = local_stack.env["REPORTS_BUCKET_NAME"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert {f"reports/daily/{day}.json", f"reports/daily/{day}.csv"} <= keys, summary
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/daily/{day}.json")["Body"].read())
    assert "AWAITING_DOCUMENTS" in json.dumps(report)


def test_schedules_fired_twice_change_nothing_the_second_time(local_stack):
    for name in ("expire_abandoned_applications", "escalate_overdue_reviews", "purge_documents_past_retention"):
        local_stack.fire(name)
        second = local_stack.fire(name)
        assert second["changed"] == 0 and second["failed"] == 0, second
