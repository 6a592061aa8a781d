"""The review queue a bank would use (issue 18): claims, filters and search, identifying details in each
row, age against the SLA, ordering and paging, through the Chalice test client on the session stack."""
from __future__ import annotations

import uuid

import pytest

from tests.support.documents import make_declared
from tests.support.identities import make_user
from tests.test_review_api import drive


def flagged(api, applicant, surname: str, sanctions: bool = False) -> str:
    reply = api.post("/applications", make_declared(full_name={"given_names": "Zoë", "surname": surname}),
                     user=applicant)
    assert reply.status == 201, reply.body
    app_id = reply.body["id"]
    outcome = drive(app_id, identity="PASS", sanctions="REVIEW") if sanctions else drive(app_id)
    assert outcome.state.value == "FLAGGED"
    return app_id


def queue(api, user, query: str) -> list[dict]:
    """Every row the query matches, following next_cursor (a filtered page may be short)."""
    rows, cursor = [], None
    for _ in range(200):
        reply = api.get(f"/review/queue?{query}" + (f"&cursor={cursor}" if cursor else ""), user=user)
        assert reply.status == 200, reply.body
        rows += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return rows
    raise AssertionError("the queue did not end")


@pytest.fixture
def surname() -> str:
    """A surname no other test uses: these tests search the shared stack's queue for their own cases."""
    return "Queue" + uuid.uuid4().hex[:10]


def test_a_claimed_case_is_seen_claimed_and_decided_only_by_its_holder(api, applicant, surname):
    ana, ben = make_user(("reviewers",)), make_user(("reviewers",))
    app_id = flagged(api, applicant, surname)
    claimed = api.post(f"/review/applications/{app_id}/claim", user=ana)
    assert claimed.status == 200, claimed.body
    assert claimed.body["claim"]["mine"] is True and claimed.body["claim"]["by"] == ana.email
    [row] = queue(api, ben, f"q={surname}")
    assert row["claim"] == {"by": ana.email, "until": claimed.body["claim"]["until"], "mine": False}
    assert [r["id"] for r in queue(api, ben, f"q={surname}&status=claimed")] == [app_id]
    assert queue(api, ben, f"q={surname}&status=unclaimed") == []
    assert [r["id"] for r in queue(api, ana, f"q={surname}&status=mine")] == [app_id]
    # Others can neither take it nor decide it while the claim lives.
    taken = api.post(f"/review/applications/{app_id}/claim", user=ben)
    assert taken.status == 409 and taken.error_code == "claimed_by_another", taken.body
    decided = api.post(f"/review/applications/{app_id}/decision", {"decision": "approve", "reason": "ok"}, user=ben)
    assert decided.status == 409 and decided.error_code == "claimed_by_another"
    assert api.call("DELETE", f"/review/applications/{app_id}/claim", user=ben).error_code == "claimed_by_another"
    # Released: anyone may take it; the holder's decision ends the claim.
    released = api.call("DELETE", f"/review/applications/{app_id}/claim", user=ana)
    assert released.status == 200 and released.body["claim"] is None
    assert api.post(f"/review/applications/{app_id}/claim", user=ben).status == 200
    done = api.post(f"/review/applications/{app_id}/decision", {"decision": "approve", "reason": "ok"}, user=ben)
    assert done.status == 200 and done.body["state"] == "APPROVED"
    from tests.test_review_api import history

    types = [e.type.value for e in history(app_id)]
    assert types.count("review.claimed") == 2 and types.count("review.released") == 1
    # Outside review a claim is the 404 of an unknown id.
    assert api.post(f"/review/applications/{app_id}/claim", user=ana).status == 404
    assert api.post(f"/review/applications/{uuid.uuid4()}/claim", user=ana).status == 404


def test_a_claim_lapses_after_review_claim_minutes():
    """On the in-memory services with a clock: after the setting's minutes another reviewer may take it."""
    from chalicelib.domain.policy import Policy
    from chalicelib.domain.workflow.errors import ClaimedByAnother
    from tests.support.fakes import FakeClock, fake_services, identity
    from tests.unit.test_outbox_review_health import flagged as flagged_in_memory

    clock = FakeClock()
    svc = fake_services(clock, Policy(review_claim_minutes=15))
    app = flagged_in_memory(svc, identity(), clock)
    ana, ben = identity("ana", "reviewers"), identity("ben", "reviewers")
    assert svc.review.claim(ana, app.application_id).claim["reviewer"] == "ana"
    with pytest.raises(ClaimedByAnother):
        svc.review.claim(ben, app.application_id)
    clock.advance(minutes=14)
    with pytest.raises(ClaimedByAnother):
        svc.review.decide(ben, app.application_id, True, "mine now?")
    clock.advance(minutes=2)
    assert svc.review.claim(ben, app.application_id).claim["reviewer"] == "ben"


def test_filters_search_and_identifying_details(api, applicant, surname):
    reviewer = make_user(("reviewers",))
    plain = flagged(api, applicant, surname)
    hit = flagged(api, applicant, surname, sanctions=True)
    rows = queue(api, reviewer, f"q={surname.lower()}&limit=1")  # any case; short pages followed
    assert [r["id"] for r in rows] == [plain, hit]  # oldest flag first
    row = rows[0]
    assert row["applicant_name"] == f"Zoë {surname}"
    assert (row["date_of_birth"], row["nationality"]) == (make_declared()["date_of_birth"], "GBR")
    assert row["decision_reasons"] and row["age_hours"] >= 0 and row["overdue"] is False and row["sla_due_at"]
    assert [r["id"] for r in queue(api, reviewer, f"q={surname}&order=newest")] == [hit, plain]
    assert [r["id"] for r in queue(api, reviewer, f"q={surname}&reason=sanctions")] == [hit]
    assert [r["id"] for r in queue(api, reviewer, f"q=ZOË%20{surname.upper()}")] == [plain, hit]  # any case
    assert [r["id"] for r in queue(api, reviewer, f"q={hit}")] == [hit]  # by id
    assert [r["id"] for r in queue(api, reviewer, f"q={surname}&older_than_hours=0")] == [plain, hit]
    assert queue(api, reviewer, f"q={surname}&older_than_hours=48") == []
    assert queue(api, reviewer, f"q={surname}&status=overdue") == []
    assert [r["needs_second_review"] for r in queue(api, reviewer, f"q={surname}")] == [False, True]


@pytest.mark.parametrize("query, field", [
    ("status=everything", "status"), ("reason=a%20b", "reason"), ("older_than_hours=-1", "older_than_hours"),
    ("order=random", "order"), ("q=" + "x" * 101, "q"), ("sort=name", "sort"), ("reason=", "reason"),
    ("reason=sanctions%0A", "reason"), ("older_than_hours=1%0A", "older_than_hours"),
])
def test_bad_queue_parameters_are_refused_naming_the_field(api, reviewer, query, field):
    reply = api.get(f"/review/queue?{query}", user=reviewer)
    assert reply.status == 422 and reply.error_code == "validation_failed", reply.body
    assert reply.body["error"]["details"]["fields"][0]["field"] == field


def test_each_reviewer_is_named_in_the_history_they_appear_in(api, applicant, surname):
    reviewer = make_user(("reviewers",))
    app_id = flagged(api, applicant, surname)
    api.post(f"/review/applications/{app_id}/claim", user=reviewer)
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    staff_events = [e for e in detail["history"] if e["actor"].startswith("reviewer:")]
    assert {e["type"] for e in staff_events} == {"review.claimed", "review.viewed"}
    assert all(e["actor_name"] == reviewer.email for e in staff_events)
    assert all(e["actor_name"] is None for e in detail["history"] if not e["actor"].startswith("reviewer:"))
