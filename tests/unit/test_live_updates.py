"""Live updates on the fakes: connect, the subscribe rules, and the fan-out."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from chalicelib.domain import disclosure
from chalicelib.services.live_updates import (
    MAX_TOKEN_CHARS,
    MY_APPLICATIONS,
    REVIEW_QUEUE,
    FrameError,
    applicant_topic,
    application_topic,
)
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


def one_event(application_id, seq=2, type_="document.received", state="VERIFYING", from_state="AWAITING_DOCUMENTS",
              shown_seq=None):
    """As the outbox publishes it; ``shown_seq`` (its place among the events the applicant is shown: ``seq`` unless
    told) is left out for an event hidden from the applicant, as the outbox does."""
    hidden = not disclosure.shown({"type": type_})
    return {
        "event_id": f"{application_id}#{seq}",
        "application_id": application_id,
        "seq": seq,
        "type": type_,
        "state": state,
        "from_state": from_state,
        **({} if hidden else {"shown_seq": seq if shown_seq is None else shown_seq}),
    }


def event(app, seq=2, type_="document.received", state="VERIFYING", from_state="AWAITING_DOCUMENTS", **extra):
    """The outbox's message for one event of ``app`` (an Application: its applicant routes it)."""
    first = {**one_event(app.application_id, seq, type_, state, from_state), **extra}
    return json.dumps({"application_id": app.application_id, "applicant_id": app.applicant_id, "events": [first]})


def watchers(svc, app):
    return list(svc.connections.subscribers(applicant_topic(app.applicant_id, app.application_id)))


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
        assert watchers(svc, watched) == []


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
    assert watchers(svc, app) == [cid]


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
    assert live.fan_out(event(mine)) == 1
    [frame] = svc.sender.frames(me)
    assert frame["type"] == "events" and frame["application_id"] == mine.application_id
    assert [e["event_id"] for e in frame["events"]] == [f"{mine.application_id}#2"]
    assert svc.sender.frames(them) == []


@pytest.mark.parametrize(
    "type_, state, from_state, watchers",
    [
        ("application.flagged", "FLAGGED", "VERIFYING", 2),
        ("application.approved", "APPROVED", "FLAGGED", 2),
        ("review.escalated", "FLAGGED", "FLAGGED", 1),  # staff work: the applicant is not told (disclosure.STAFF_WORK)
    ],
)
def test_review_queue_events_reach_reviewers_and_the_applicant(
    svc, live, applicant, reviewer, type_, state, from_state, watchers
):
    app = submit(svc, applicant)
    watcher, queue = connected(svc, applicant), connected(svc, reviewer)
    subscribe(svc, watcher, app.application_id)
    subscribe(svc, queue)
    assert live.fan_out(event(app, 5, type_, state, from_state)) == watchers
    assert len(svc.sender.frames(watcher)) == watchers - 1


def test_an_ordinary_event_does_not_reach_the_review_queue(svc, live, applicant, reviewer):
    app = submit(svc, applicant)
    queue = connected(svc, reviewer)
    subscribe(svc, queue)
    assert live.fan_out(event(app)) == 0
    assert svc.claims.keys() == []  # nothing written to tell nobody


def test_a_reviewer_watching_both_topics_gets_one_frame(svc, live, applicant, reviewer, clock):
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)  # in review: a reviewer may watch it
    cid = connected(svc, reviewer)
    subscribe(svc, cid)
    subscribe(svc, cid, app.application_id)
    assert live.fan_out(event(app, 5, "application.flagged", "FLAGGED", "VERIFYING")) == 1
    assert len(svc.sender.frames(cid)) == 1


def test_a_replayed_message_is_sent_again_with_the_same_event_ids_and_costs_no_write(svc, live, applicant):
    """At least once (issue 23): SNS's rare second delivery reaches the watcher again, with the ids it has seen
    (the console drops them, live.js); no claim is written per message to stop it."""
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    message = event(app)
    assert live.fan_out(message) == 1
    assert live.fan_out(message) == 1
    first, second = svc.sender.frames(cid)
    assert first == second and [e["event_id"] for e in first["events"]] == [f"{app.application_id}#2"]
    assert svc.claims.keys() == []


def test_a_gone_connection_is_forgotten_with_its_subscriptions_and_the_others_still_get_it(
    svc, live, applicant, reviewer
):
    app = submit(svc, applicant)
    gone, alive = connected(svc, applicant), connected(svc, applicant)
    for cid in (gone, alive):
        subscribe(svc, cid, app.application_id)
    svc.sender.mark_gone(gone)
    assert live.fan_out(event(app)) == 1
    assert svc.connections.get(gone) is None
    assert watchers(svc, app) == [alive]


def test_when_no_frame_could_be_sent_lambdas_retry_sends_it(svc, live, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    message = event(app)
    svc.sender.fail(ConnectionError("management API unreachable"))
    with pytest.raises(ConnectionError):
        live.fan_out(message)
    svc.sender.heal()
    assert live.fan_out(message) == 1  # Lambda's retry
    assert len(svc.sender.frames(cid)) == 1
    assert svc.metrics.counts["NotificationSendFailed"] == 1


def test_a_partial_failure_still_sends_to_the_others_and_the_retry_reaches_the_one_that_missed_it(
    svc, live, applicant
):
    app = submit(svc, applicant)
    failing, fine = connected(svc, applicant), connected(svc, applicant)
    for cid in (failing, fine):
        subscribe(svc, cid, app.application_id)
    svc.sender.fail(ConnectionError("one endpoint down"), failing)
    with pytest.raises(ConnectionError):
        live.fan_out(event(app))  # Lambda retries the event
    assert svc.metrics.counts["NotificationSendFailed"] == 1
    assert len(svc.sender.frames(fine)) == 1 and svc.sender.frames(failing) == []
    svc.sender.heal()
    assert live.fan_out(event(app)) == 2  # the retry: the one that missed it, and a repeat it drops by id
    assert len(svc.sender.frames(failing)) == 1
    assert {e["event_id"] for f in svc.sender.frames(fine) for e in f["events"]} == {f"{app.application_id}#2"}


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps({"event_id": 1}),
        json.dumps({"event_id": "x"}),
        json.dumps({"application_id": "a", "events": []}),
        json.dumps({"application_id": "a", "events": [{"event_id": "b#1", "application_id": "b", "seq": 1}]}),
    ],
)
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
    decision = event(
        app, 9, "application.rejected", "REJECTED", "FLAGGED",
        actor="reviewer:sub-of-the-reviewer",
        reason="internal: the photo does not match",
        details={"decision": "reject", "reviewer_email": "r@bank.example"},
    )
    assert live.fan_out(decision) == 3
    [seen_by_staff] = svc.sender.frames(staff)
    assert seen_by_staff["events"][0]["actor"] == "reviewer:sub-of-the-reviewer"
    assert seen_by_staff["events"][0]["details"]["reviewer_email"] == "r@bank.example"
    assert svc.sender.frames(queue) == [seen_by_staff]
    [seen_by_applicant] = svc.sender.frames(own)
    [shown] = seen_by_applicant["events"]
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
    assert live.fan_out(event(app, 9, read, "FLAGGED", "FLAGGED")) == 0
    # nor to the applicant: staff work is never shown to them (disclosure.STAFF_WORK: four eyes would tell)
    assert svc.sender.frames(staff) == [] and svc.sender.frames(own) == []


# --- one message per application and batch; all of an applicant's applications -------------------


def test_one_message_of_several_events_is_one_frame_for_each_watcher(svc, live, applicant):
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    message = json.dumps(
        {
            "application_id": app.application_id,
            "applicant_id": app.applicant_id,
            "events": [
                one_event(app.application_id, 5, "document.received", "VERIFYING", "AWAITING_DOCUMENTS"),
                one_event(app.application_id, 6, "check.completed", "VERIFYING", "VERIFYING"),
                one_event(app.application_id, 7, "application.approved", "APPROVED", "VERIFYING"),
            ],
        }
    )
    assert live.fan_out(message) == 1
    [frame] = svc.sender.frames(cid)
    assert [e["seq"] for e in frame["events"]] == [5, 7]  # a check's result alone is not pushed


@pytest.mark.parametrize("type_", ["check.completed", "biometric.consent_given", "liveness.session_created",
                                   "liveness.completed", "face.requested"])
def test_what_the_watcher_learns_otherwise_costs_no_lookup(svc, live, applicant, type_):
    """A check's result alone (the decision that follows carries it), the applicant's own face steps (the REST
    replies carry them) and the face check's request (internal): nothing to push, no call."""
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe(svc, cid, app.application_id)
    looked_up = []
    svc.connections.subscriptions = lambda topics: looked_up.append(topics) or []
    assert live.fan_out(event(app, 3, type_, "AWAITING_DOCUMENTS", "AWAITING_DOCUMENTS")) == 0
    assert looked_up == [] and svc.claims.keys() == []


def test_an_applicant_watches_all_their_applications_with_one_subscription(svc, live, applicant, other_applicant):
    first, second, theirs = submit(svc, applicant), submit(svc, applicant), submit(svc, other_applicant)
    cid = connected(svc, applicant)
    target = {"topic": MY_APPLICATIONS}
    assert svc.live_updates.command(cid, "subscribe", target, MY_APPLICATIONS) == {"type": "subscribed", **target}
    later = submit(svc, applicant)  # applications to come are watched too
    for app in (first, second, theirs, later):
        live.fan_out(event(app))
    assert [f["application_id"] for f in svc.sender.frames(cid)] == [
        first.application_id,
        second.application_id,
        later.application_id,
    ]
    assert svc.live_updates.command(cid, "unsubscribe", target, MY_APPLICATIONS) == {"type": "unsubscribed", **target}
    assert svc.connections.get(cid).topics == ()


def test_my_applications_is_for_applicants_only(svc, reviewer):
    cid = connected(svc, reviewer)
    with pytest.raises(FrameError) as refused:
        svc.live_updates.command(cid, "subscribe", {"topic": MY_APPLICATIONS}, MY_APPLICATIONS)
    assert refused.value.code == "wrong_user_pool"


def test_a_single_event_message_from_before_the_change_still_reaches_its_watchers(svc, live, applicant):
    """In flight during a deploy: the old outbox format, routed by application (no applicant in it)."""
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    svc.connections.subscribe(cid, application_topic(app.application_id))  # an old subscription
    assert live.fan_out(json.dumps(one_event(app.application_id))) == 1
    assert svc.sender.frames(cid)[0]["events"][0]["seq"] == 2


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
    everything = connected(svc, applicant)  # all of the applicant's applications (peak's per-applicant topic)
    svc.live_updates.command(everything, "subscribe", {"topic": MY_APPLICATIONS}, MY_APPLICATIONS)
    live.fan_out(event(app, 9, hidden, "FLAGGED", "FLAGGED"))
    assert svc.sender.frames(own) == svc.sender.frames(everything) == [] and len(svc.sender.frames(staff)) == 1


def test_a_batch_with_a_sanctions_review_in_it_sends_the_applicant_only_the_rest(svc, live, applicant, clock):
    """Peak's batching meets the tipping-off rule: one outbox message of several events, one of them hidden
    from the applicant, reaches the applicant's watchers without it (by application and by my-applications)."""
    from tests.unit.test_outbox_review_health import flagged

    app = flagged(svc, applicant, clock)
    own, everything = connected(svc, applicant), connected(svc, applicant)
    subscribe(svc, own, app.application_id)
    svc.live_updates.command(everything, "subscribe", {"topic": MY_APPLICATIONS}, MY_APPLICATIONS)
    message = json.dumps(
        {
            "application_id": app.application_id,
            "applicant_id": app.applicant_id,
            "events": [
                one_event(app.application_id, 8, "document.received", "FLAGGED", "FLAGGED"),
                one_event(app.application_id, 9, "screening.false_positive", "FLAGGED", "FLAGGED"),
            ],
        }
    )
    live.fan_out(message)
    for cid in (own, everything):
        [frame] = svc.sender.frames(cid)
        assert [e["seq"] for e in frame["events"]] == [8]


def test_the_frames_of_a_sanctions_and_duplicate_face_review_tell_the_applicant_nothing_staff_everything(
    svc, live, applicant, reviewer, clock
):
    """Tipping off, over the WebSocket: the application's real history (a possible sanctions match, its face on
    another application, FLAGGED, a four-eyes recommendation) relayed by the outbox as one message; the
    applicant's frames carry no sanctions check, no telling code and no recommendation (domain/disclosure.py)."""
    from chalicelib.domain.workflow import intake
    from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason
    from tests.support.fakes import relay

    app = submit(svc, applicant)
    app_id = app.application_id
    svc.applications.apply_with_retry(app_id, lambda a: intake.receive_document(a, "k", 2048, clock()))
    possible = Reason("SANCTIONS_POSSIBLE_MATCH", Outcome.REVIEW, "Our compliance team needs to review this.")
    svc.check_recorder.record(app_id, CheckResult(SANCTIONS, (possible,), {"candidates": [{"entry_id": "16452"}]}))
    same_face = Reason("DUPLICATE_FACE", Outcome.REVIEW, "The same face appears on another application")
    svc.check_recorder.record(app_id, CheckResult(FACE, (same_face,), {"duplicates": [{"application_id": "other"}]}))
    svc.check_recorder.record(app_id, CheckResult(ADDRESS))
    svc.check_recorder.record(app_id, CheckResult(IDENTITY))
    assert svc.repository.get(app_id).state.value == "FLAGGED"
    own, everything, staff = connected(svc, applicant), connected(svc, applicant), connected(svc, reviewer)
    subscribe(svc, own, app_id)
    subscribe(svc, staff, app_id)  # staff watch it once it is in review
    svc.live_updates.command(everything, "subscribe", {"topic": MY_APPLICATIONS}, MY_APPLICATIONS)
    svc.review.decide(reviewer, app_id, True, "not the listed man")  # four eyes on sanctions: a recommendation
    relay(svc, app_id)
    for published in svc.publisher.published:
        live.fan_out(json.dumps(published.message))

    staff_text = json.dumps(svc.sender.frames(staff))
    assert "SANCTIONS_POSSIBLE_MATCH" in staff_text and "review.recommended" in staff_text
    for cid in (own, everything):
        frames = svc.sender.frames(cid)
        events = [e for frame in frames for e in frame["events"]]
        assert "application.flagged" in [e["type"] for e in events]
        text = json.dumps(frames).lower()
        for word in ("sanction", "duplicate", "compliance", "same face", "recommend", "second reviewer", "16452"):
            assert word not in text, f"the applicant's frame tells {word!r}: {text}"
