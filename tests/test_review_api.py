"""The reviewer API through the Chalice test client, against moto.

Applications are created through the API (or, where a test needs control of
time, through ApplicationService with a clock) and driven to FLAGGED with the
workflow's own commands: a document received, then an identity check that
needs review and a passing address check, which consolidates to FLAGGED.
"""
from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import datetime as dt
import json
import threading
import uuid

import pytest

from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared
# The shared helpers, moved to tests/support/reviews.py; imported here too (other test files still name them here).
from tests.support.reviews import (DOUBT, Clock, create_at, create_via_api, decide, drive, flagged_via_api,  # noqa: F401
                                   history, receive_document, record, service)


def walk_queue(api, user, limit: int) -> list[dict]:
    items, cursor = [], None
    while True:
        reply = api.get(f"/review/queue?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), user=user)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= limit
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return items


# --- who may ----------------------------------------------------------------------

def test_an_applicant_gets_403_on_every_reviewer_route_and_changes_nothing(api, applicant, other_applicant):
    app_id = flagged_via_api(api, other_applicant)
    before = len(history(app_id))
    for reply in (api.get("/review/queue", user=applicant),
                  api.get(f"/review/applications/{app_id}", user=applicant),
                  decide(api, applicant, app_id),
                  decide(api, other_applicant, app_id)):  # not even for one's own application
        assert reply.status == 403, reply.body
        assert reply.error_code == "wrong_user_pool"  # an applicant's token is of the customer pool
    assert len(history(app_id)) == before


def test_reviewer_routes_need_a_token(api):
    assert api.get("/review/queue").status == 401
    assert api.post(f"/review/applications/{uuid.uuid4()}/decision", {"decision": "approve", "reason": "x"}
                    ).status == 401


# --- queue ------------------------------------------------------------------------

def test_queue_is_only_flagged_oldest_first_with_reasons_across_pages(api, reviewer, applicant):
    mine = [flagged_via_api(api, applicant) for _ in range(5)]
    approved = create_via_api(api, applicant)
    assert drive(approved, identity="PASS").state.value == "APPROVED"
    awaiting = create_via_api(api, applicant)

    items = walk_queue(api, reviewer, limit=2)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids))  # no page repeats an item
    assert all(i["state"] == "FLAGGED" for i in items)
    assert [i["flagged_at"] for i in items] == sorted(i["flagged_at"] for i in items)
    assert [i for i in ids if i in mine] == mine  # oldest flag first
    assert approved not in ids and awaiting not in ids
    first = next(i for i in items if i["id"] == mine[0])
    assert [r["code"] for r in first["decision_reasons"]] == [DOUBT]
    assert first["decision_reasons"][0]["check"] == "identity"
    assert first["applicant_name"] == "Emily Jane Carter"


def test_queue_leaves_out_an_application_once_decided(api, reviewer, applicant):
    app_id = flagged_via_api(api, applicant)
    assert app_id in [i["id"] for i in walk_queue(api, reviewer, limit=100)]
    assert decide(api, reviewer, app_id).status == 200
    assert app_id not in [i["id"] for i in walk_queue(api, reviewer, limit=100)]


def test_a_forged_cursor_is_400(api, reviewer, applicant):
    for _ in range(2):
        flagged_via_api(api, applicant)
    cursor = api.get("/review/queue?limit=1", user=reviewer).body["next_cursor"]
    assert cursor
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data["review_queue"] = {"S": "APPROVED"}  # reach into another partition
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    own_list = api.get("/applications?limit=1", user=applicant).body["next_cursor"]  # another index's cursor
    for bad in (forged, own_list, "not-base64!!", base64.urlsafe_b64encode(b"[1, 2]").decode()):
        reply = api.get(f"/review/queue?limit=1&cursor={bad}", user=reviewer)
        assert reply.status == 400, (bad, reply.body)
        assert reply.error_code == "invalid_cursor"


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_queue_limits_are_validated(api, reviewer, limit):
    assert api.get(f"/review/queue?limit={limit}", user=reviewer).status == 422


# --- detail -----------------------------------------------------------------------

def test_detail_has_data_checks_and_the_full_history_with_chain_intact(api, reviewer, applicant):
    app_id = flagged_via_api(api, applicant)
    reply = api.get(f"/review/applications/{app_id}", user=reviewer)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["id"] == app_id and body["state"] == "FLAGGED" and body["applicant_id"] == applicant.sub
    assert body["declared"]["full_name"]["surname"] == "Carter"
    assert body["checks"]["identity"]["outcome"] == "REVIEW" and body["checks"]["address"]["outcome"] == "PASS"
    assert [e["type"] for e in body["history"]] == [
        "application.submitted", "document.received", "check.completed", "check.completed", "check.completed",
        "check.completed", "application.flagged", "review.viewed"]  # this very read is the last event: the audit trace
    assert [e["seq"] for e in body["history"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert body["chain_intact"] is True


@pytest.mark.parametrize("app_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_unknown_ids_are_404(api, reviewer, app_id):
    assert api.get(f"/review/applications/{app_id}", user=reviewer).status == 404
    reply = decide(api, reviewer, app_id)
    assert reply.status == 404 and reply.error_code == "not_found"


# --- decisions --------------------------------------------------------------------

@pytest.mark.parametrize("decision,state,event", [("approve", "APPROVED", "application.approved"),
                                                  ("reject", "REJECTED", "application.rejected")])
def test_a_decision_moves_the_application_and_records_reviewer_and_reason(
        api, reviewer, applicant, decision, state, event):
    app_id = flagged_via_api(api, applicant)
    reply = decide(api, reviewer, app_id, decision, "  name on the MRZ matches after transliteration ")
    assert reply.status == 200, reply.body
    assert reply.body["state"] == state and reply.body["id"] == app_id
    events = api.get(f"/review/applications/{app_id}", user=reviewer).body["history"]
    assert events[-1]["type"] == "review.viewed"  # the read that fetched them
    last = events[-2]
    assert last["type"] == event and last["from_state"] == "FLAGGED" and last["to_state"] == state
    assert last["actor"] == f"reviewer:{reviewer.sub}"
    assert last["reason"] == "name on the MRZ matches after transliteration"
    assert last["details"] == {"decision": decision, "reviewer_email": reviewer.email}
    own = api.get(f"/applications/{app_id}/history", user=applicant).body  # the applicant sees it too
    mine = own["items"][-1]  # and not the reads (staff work is never shown: disclosure.STAFF_WORK)
    assert mine["hash"] == last["hash"] and own["chain_intact"] is True
    assert mine["actor"] == "reviewer" and mine["reason"] == "decided by a reviewer"  # not the internal text
    assert "reviewer_email" not in mine["details"]  # nor who the reviewer is


def test_a_reviewer_cannot_apply_with_a_staff_token_nor_decide_an_application_of_their_own(api, reviewer):
    reply = api.post("/applications", make_declared(), user=reviewer)  # staff tokens are not applicants' tokens
    assert reply.status == 403 and reply.error_code == "wrong_user_pool"
    app_id = create_at(Clock(), reviewer.sub)  # the domain's rule, should a subject ever be both
    assert drive(app_id).state.value == "FLAGGED"
    reply = decide(api, reviewer, app_id)
    assert reply.status == 403 and reply.error_code == "forbidden"
    assert api.get(f"/review/applications/{app_id}", user=reviewer).body["state"] == "FLAGGED"


def test_deciding_outside_review_is_404_and_only_the_decider_learns_the_state(api, reviewer, applicant):
    """Outside review a decision is the 404 of an unknown id (no state); the reviewer who decided gets 409."""
    from tests.support.identities import make_user

    awaiting = create_via_api(api, applicant)
    verifying = create_via_api(api, applicant)
    receive_document(verifying)
    decided = flagged_via_api(api, applicant)
    assert decide(api, reviewer, decided, "reject").status == 200
    colleague = make_user(("reviewers",))
    for user, app_id in ((reviewer, awaiting), (reviewer, verifying), (colleague, decided)):
        count = len(history(app_id))
        reply = decide(api, user, app_id, "approve")
        assert reply.status == 404 and reply.body["error"] == {"code": "not_found", "message": "application not found",
                                                               "details": {}}, reply.body
        assert len(history(app_id)) == count
    reply = decide(api, reviewer, decided, "approve")
    assert reply.status == 409 and reply.body["error"]["details"]["state"] == "REJECTED"


@pytest.mark.parametrize("body", [{"decision": "maybe", "reason": "x"}, {"decision": "approve"},
                                  {"decision": "approve", "reason": "   "},
                                  {"decision": "approve", "reason": "x", "extra": 1}])
def test_a_decision_body_is_validated(api, reviewer, applicant, body):
    app_id = flagged_via_api(api, applicant)
    reply = api.post(f"/review/applications/{app_id}/decision", body, user=reviewer)
    assert reply.status == 422 and reply.error_code == "validation_failed"


def test_a_decision_survives_a_concurrent_escalation(api, reviewer, applicant, monkeypatch):
    """An escalation bumping the version between read and commit is not a reviewer conflict."""
    from chalicelib.domain.policy import Policy
    from chalicelib.domain.workflow import lifecycle, review

    app_id = flagged_via_api(api, applicant)
    original = review.decide
    escalated = []

    def decide_then_escalate(app, *args, **kwargs):
        change = original(app, *args, **kwargs)
        if not escalated:  # the escalation job commits first
            late = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
            escalated.append(service().apply_with_retry(app_id, lambda a: lifecycle.escalate(a, Policy(), late)))
        return change

    monkeypatch.setattr(review, "decide", decide_then_escalate)  # the review service calls review.decide
    reply = decide(api, reviewer, app_id)
    assert reply.status == 200, reply.body
    assert [e.type.value for e in history(app_id)][-2:] == ["review.escalated", "application.approved"]


#: Half the trials hold both decisions at their commit until both reviewers have read the application in review
#: (tests/support/races.py): a real race every time, whose loser the conditional write must refuse (409). The other
#: half run at natural timing, where the loser may also read after the winner decided (404). A broken condition
#: shows in the first held trial; 100 free trials were needed before only because most of them never raced.
DECISION_TRIALS = 24


def test_two_reviewers_deciding_at_once_exactly_one_wins(api, reviewer, monkeypatch):
    from tests.support.identities import make_user
    from tests.support.races import held_commits

    second = make_user(("reviewers",))
    # Eight per applicant: a person may create only ten applications a day. Fresh applicants
    # only: the shared demo applicant may have spent its day on earlier tests (the doc tests).
    applicants = [make_user() for _ in range(3)]
    ids = [flagged_via_api(api, applicants[i % 3]) for i in range(DECISION_TRIALS)]
    barrier = threading.Barrier(2)
    plans = ((reviewer, "approve", "APPROVED"), (second, "reject", "REJECTED"))

    def attempt(app_id, plan):
        user, decision, _ = plan
        barrier.wait(timeout=REPLY_S)
        return decide(api, user, app_id, decision, f"{decision} by {user.sub}")

    with held_commits(monkeypatch) as held, concurrent.futures.ThreadPoolExecutor(2) as pool:
        for trial, app_id in enumerate(ids):
            refused_before = held.conflicts
            with held.rendezvous(2) if trial % 2 == 0 else contextlib.nullcontext():
                replies = list(pool.map(lambda plan: attempt(app_id, plan), plans))
            # the loser read it in review (409: someone else decided) or after (404: no longer theirs to see)
            assert sorted(r.status for r in replies) in ([200, 404], [200, 409]), [r.body for r in replies]
            if trial % 2 == 0:  # both read it in review: the loser's write was refused
                assert held.conflicts - refused_before == 1 and sorted(r.status for r in replies) == [200, 409]
            winner = next(i for i, r in enumerate(replies) if r.status == 200)
            loser = replies[1 - winner]
            final = plans[winner][2]
            assert replies[winner].body["state"] == final
            if loser.status == 409:
                assert loser.body["error"]["details"]["state"] == final
            decisions = [e for e in history(app_id) if e.type.value in ("application.approved",
                                                                          "application.rejected")]
            assert len(decisions) == 1
            assert decisions[0].actor == f"reviewer:{plans[winner][0].sub}"
