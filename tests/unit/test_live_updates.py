"""Live updates on the fakes: connect, the subscribe rules, and the fan-out."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from chalicelib.services.live_updates import MAX_TOKEN_CHARS, REVIEW_QUEUE, FrameError, application_topic
from chalicelib.services.ports import MAX_SUBSCRIPTIONS
from tests.support.fakes import submit


@pytest.fixture
def live(svc):
    return svc.live_updates


def connected(svc, who) -> str:
    cid = f"conn-{uuid.uuid4().hex}"
    assert svc.live_updates.connect(cid, {"token": svc.verifier.issue(who)}) == 200
    return cid


def subscribe(svc, cid, application_id=None):
    target = {"application_id": application_id} if application_id else {"topic": REVIEW_QUEUE}
    topic = application_topic(application_id) if application_id else REVIEW_QUEUE
    return svc.live_updates.command(cid, "subscribe", target, topic)


def event(application_id, seq=2, type_="document.received", state="VERIFYING", from_state="AWAITING_DOCUMENTS"):
    return json.dumps(
        {
            "event_id": f"{application_id}#{seq}",
            "application_id": application_id,
            "seq": seq,
            "type": type_,
            "state": state,
            "from_state": from_state,
        }
    )


# --- connect / disconnect ---------------------------------------------------------------


def test_a_valid_token_registers_the_connection_for_two_hours(svc, live, applicant, clock):
    cid = connected(svc, applicant)
    info = svc.connections.get(cid)
    assert info.identity == applicant and info.expires_at - clock() == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    "query", [None, {}, {"token": ""}, {"token": "forged"}, {"token": "x" * (MAX_TOKEN_CHARS + 1)}]
)
def test_a_connect_without_a_usable_token_is_refused(live, query):
    assert live.connect("conn-1", query) == 401


def test_a_revoked_token_is_refused(svc, live, applicant):
    token = svc.verifier.issue(applicant)
    svc.verifier.revoke(token)
    assert live.connect("conn-1", {"token": token}) == 401


def test_disconnect_removes_the_connection_and_its_subscriptions(svc, live, applicant, reviewer):
    app, other = submit(svc, applicant), submit(svc, applicant)  # an applicant watching two of their own
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    subscribe(svc, cid, other.application_id)
    rid = connected(svc, reviewer)  # staff are never applicants: the review queue on a staff token
    subscribe(svc, rid)
    for gone in (cid, cid, rid):  # $disconnect delivered twice
        live.disconnect(gone)
    assert svc.connections.get(cid) is None and svc.connections.get(rid) is None
    assert list(svc.connections.subscribers(REVIEW_QUEUE)) == []
    for watched in (app, other):
        assert list(svc.connections.subscribers(application_topic(watched.application_id))) == []


def test_an_expired_connection_is_unauthorized(svc, live, applicant, clock):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    clock.advance(hours=2, seconds=1)
    with pytest.raises(FrameError) as refused:
        subscribe(svc, cid, app.application_id)
    assert refused.value.code == "unauthorized"


# --- subscribe rules -----------------------------------------------------------------------


def test_an_applicant_subscribes_to_their_own_application_and_learns_where_it_stands(svc, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    ack = subscribe(svc, cid, app.application_id)
    assert ack == {"type": "subscribed", "application_id": app.application_id, "state": "AWAITING_DOCUMENTS", "seq": 1}
    assert list(svc.connections.subscribers(application_topic(app.application_id))) == [cid]


def test_someone_elses_or_an_unknown_application_is_not_found(svc, applicant, other_applicant):
    app = submit(svc, other_applicant)
    cid = connected(svc, applicant)
    for application_id in (app.application_id, str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(FrameError) as refused:
            subscribe(svc, cid, application_id)
        assert refused.value.frame() == {
            "type": "error",
            "code": "not_found",
            "message": "application not found",
            "application_id": application_id,
        }
    assert svc.connections.get(cid).topics == ()


def test_only_reviewers_watch_the_review_queue_and_only_applications_in_review(svc, applicant, reviewer):
    app = submit(svc, applicant)
    with pytest.raises(FrameError) as refused:
        subscribe(svc, connected(svc, applicant))
    assert refused.value.code == "wrong_user_pool"  # a customer-pool token
    cid = connected(svc, reviewer)
    assert subscribe(svc, cid) == {"type": "subscribed", "topic": REVIEW_QUEUE}
    with pytest.raises(FrameError) as refused:  # AWAITING_DOCUMENTS: not theirs to watch
        subscribe(svc, cid, app.application_id)
    assert refused.value.code == "not_found"
    svc.directory.remove(reviewer.sub, "reviewers")  # removed from the group: a frame past the bound knows
    svc.clock.advance(seconds=svc.staff.ttl_seconds)
    with pytest.raises(FrameError) as refused:
        subscribe(svc, cid)
    assert refused.value.code == "forbidden"


def test_unsubscribe_is_idempotent(svc, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    target = {"application_id": app.application_id}
    topic = application_topic(app.application_id)
    assert svc.live_updates.command(cid, "unsubscribe", target, topic) == {"type": "unsubscribed", **target}
    assert svc.live_updates.command(cid, "unsubscribe", target, topic) == {"type": "unsubscribed", **target}
    assert svc.connections.get(cid).topics == ()


def test_subscriptions_per_connection_are_bounded(svc, applicant):
    svc.settings.update(max_applications_per_day=MAX_SUBSCRIPTIONS + 1)
    cid = connected(svc, applicant)
    for _ in range(MAX_SUBSCRIPTIONS):
        subscribe(svc, cid, submit(svc, applicant).application_id)
    with pytest.raises(FrameError) as refused:
        subscribe(svc, cid, submit(svc, applicant).application_id)
    assert refused.value.code == "too_many_subscriptions"


def test_an_unregistered_connection_is_told_to_reconnect(svc, applicant):
    app = submit(svc, applicant)
    with pytest.raises(FrameError) as refused:
        subscribe(svc, "never-connected", app.application_id)
    assert refused.value.code == "unauthorized"


def test_a_reply_to_a_gone_connection_forgets_it(svc, live, applicant):
    cid = connected(svc, applicant)
    assert live.reply(cid, {"type": "pong"}) is True
    svc.sender.mark_gone(cid)
    assert live.reply(cid, {"type": "pong"}) is False
    assert svc.connections.get(cid) is None
    assert svc.sender.frames(cid) == [{"type": "pong"}]


# --- the fan-out ------------------------------------------------------------------------------


def test_an_event_reaches_its_applications_subscribers_only(svc, live, applicant, other_applicant):
    mine, theirs = submit(svc, applicant), submit(svc, other_applicant)
    me, them = connected(svc, applicant), connected(svc, other_applicant)
    subscribe(svc, me, mine.application_id)
    subscribe(svc, them, theirs.application_id)
    assert live.fan_out(event(mine.application_id)) == 1
    [frame] = svc.sender.frames(me)
    assert frame["type"] == "event" and frame["event"]["event_id"] == f"{mine.application_id}#2"
    assert svc.sender.frames(them) == []


@pytest.mark.parametrize(
    "type_, state, from_state",
    [
        ("application.flagged", "FLAGGED", "VERIFYING"),
        ("application.approved", "APPROVED", "FLAGGED"),
        ("review.escalated", "FLAGGED", "FLAGGED"),
    ],
)
def test_review_queue_events_reach_reviewers_and_the_applicant(
    svc, live, applicant, reviewer, type_, state, from_state
):
    app = submit(svc, applicant)
    watcher, queue = connected(svc, applicant), connected(svc, reviewer)
    subscribe(svc, watcher, app.application_id)
    subscribe(svc, queue)
    assert live.fan_out(event(app.application_id, 5, type_, state, from_state)) == 2


def test_an_ordinary_event_does_not_reach_the_review_queue(svc, live, applicant, reviewer):
    app = submit(svc, applicant)
    queue = connected(svc, reviewer)
    subscribe(svc, queue)
    assert live.fan_out(event(app.application_id)) == 0
    assert svc.claims.keys() == []  # nobody to tell: nothing claimed


def test_a_reviewer_watching_both_topics_gets_one_frame(svc, live, applicant, reviewer, clock):
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)  # in review: a reviewer may watch it
    cid = connected(svc, reviewer)
    subscribe(svc, cid)
    subscribe(svc, cid, app.application_id)
    assert live.fan_out(event(app.application_id, 5, "application.flagged", "FLAGGED", "VERIFYING")) == 1
    assert len(svc.sender.frames(cid)) == 1


def test_a_replayed_message_sends_no_second_frame(svc, live, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    message = event(app.application_id)
    assert live.fan_out(message) == 1
    assert live.fan_out(message) == 0
    assert len(svc.sender.frames(cid)) == 1


def test_a_gone_connection_is_forgotten_with_its_subscriptions_and_the_others_still_get_it(
    svc, live, applicant, reviewer
):
    app = submit(svc, applicant)
    gone, alive = connected(svc, applicant), connected(svc, applicant)
    for cid in (gone, alive):
        subscribe(svc, cid, app.application_id)
    svc.sender.mark_gone(gone)
    assert live.fan_out(event(app.application_id)) == 1
    assert svc.connections.get(gone) is None
    assert list(svc.connections.subscribers(application_topic(app.application_id))) == [alive]


def test_when_no_frame_could_be_sent_the_claim_is_released_for_the_retry(svc, live, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    message = event(app.application_id)
    svc.sender.fail(ConnectionError("management API unreachable"))
    with pytest.raises(ConnectionError):
        live.fan_out(message)
    assert svc.claims.keys() == []
    svc.sender.heal()
    assert live.fan_out(message) == 1  # Lambda's retry
    assert live.fan_out(message) == 0  # and a replay after it
    assert svc.metrics.counts["NotificationSendFailed"] == 1


def test_a_partial_failure_is_retried_for_the_failed_recipient_only(svc, live, applicant):
    app = submit(svc, applicant)
    failing, fine = connected(svc, applicant), connected(svc, applicant)
    for cid in (failing, fine):
        subscribe(svc, cid, app.application_id)
    svc.sender.fail(ConnectionError("one endpoint down"), failing)
    with pytest.raises(ConnectionError):
        live.fan_out(event(app.application_id))  # Lambda retries the event
    assert svc.metrics.counts["NotificationSendFailed"] == 1
    svc.sender.heal()
    assert live.fan_out(event(app.application_id)) == 1  # the retry: only the one that missed it
    assert live.fan_out(event(app.application_id)) == 0  # a late duplicate: nobody
    assert len(svc.sender.frames(failing)) == len(svc.sender.frames(fine)) == 1


@pytest.mark.parametrize("raw", ["not json", "[]", json.dumps({"event_id": 1}), json.dumps({"event_id": "x"})])
def test_a_message_that_is_not_an_application_event_is_dropped(svc, live, raw):
    assert live.fan_out(raw) == 0
    assert svc.metrics.counts["NotificationMessageDropped"] == 1


def test_staff_watching_an_application_see_who_decided_and_why_its_applicant_only_the_role(
    svc, live, applicant, reviewer, clock
):
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)
    own, staff, queue = connected(svc, applicant), connected(svc, reviewer), connected(svc, reviewer)
    subscribe(svc, own, app.application_id)
    subscribe(svc, staff, app.application_id)
    subscribe(svc, queue)
    decision = json.dumps(
        {
            **json.loads(event(app.application_id, 9, "application.rejected", "REJECTED", "FLAGGED")),
            "actor": "reviewer:sub-of-the-reviewer",
            "reason": "internal: the photo does not match",
            "details": {"decision": "reject", "reviewer_email": "r@bank.example"},
        }
    )
    assert live.fan_out(decision) == 3
    [seen_by_staff] = svc.sender.frames(staff)
    assert seen_by_staff["event"]["actor"] == "reviewer:sub-of-the-reviewer"
    assert seen_by_staff["event"]["details"]["reviewer_email"] == "r@bank.example"
    assert svc.sender.frames(queue) == [seen_by_staff]
    [seen_by_applicant] = svc.sender.frames(own)
    shown = seen_by_applicant["event"]
    assert shown["actor"] == "reviewer" and "internal" not in shown["reason"]
    assert "sub-of-the-reviewer" not in json.dumps(shown) and "r@bank.example" not in json.dumps(shown)


@pytest.mark.parametrize("read", ["review.viewed", "document.viewed"])
def test_a_reviewers_read_is_not_sent_to_staff_watchers_whose_refresh_would_read_again(
    svc, live, applicant, reviewer, clock, read
):
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)
    own, staff = connected(svc, applicant), connected(svc, reviewer)
    subscribe(svc, own, app.application_id)
    subscribe(svc, staff, app.application_id)
    assert live.fan_out(event(app.application_id, 9, read, "FLAGGED", "FLAGGED")) == 1
    assert svc.sender.frames(staff) == [] and len(svc.sender.frames(own)) == 1  # the applicant learns of it


@pytest.mark.parametrize("hidden", ["screening.false_positive", "customer.screening_hit", "customer.screening_recommended", "customer.screening_resolved"])
def test_a_sanctions_review_of_the_applicant_never_reaches_them_only_staff(
    svc, live, applicant, reviewer, clock, hidden
):
    """Tipping off (issue 20): the applicant's watchers get no frame for a sanctions review of them."""
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)
    own, staff = connected(svc, applicant), connected(svc, reviewer)
    subscribe(svc, own, app.application_id)
    subscribe(svc, staff, app.application_id)
    live.fan_out(event(app.application_id, 9, hidden, "FLAGGED", "FLAGGED"))
    assert svc.sender.frames(own) == [] and len(svc.sender.frames(staff)) == 1
