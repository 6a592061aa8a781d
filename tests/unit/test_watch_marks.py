"""Issue 22 on the fakes: a subscribe marks what it watches; commits carry the mark to the outbox's message; the
notifier looks nobody up for an application committed unwatched, except the review queue's watchers."""

from __future__ import annotations

import json
import uuid

from chalicelib.domain.workflow import intake
from chalicelib.services.live_updates import MY_APPLICATIONS, REVIEW_QUEUE, applicant_topic, application_topic
from tests.support.fakes import relay, submit


def connected(svc, who) -> str:
    cid = f"conn-{uuid.uuid4().hex}"
    assert svc.live_updates.connect(cid, {"token": svc.verifier.issue(who)}) == 200
    return cid


def subscribe(svc, cid, application_id):
    target = {"application_id": application_id}
    return svc.live_updates.command(cid, "subscribe", target, application_topic(application_id))


def document(svc, app):
    return intake.receive_document(app, f"applications/{app.application_id}/identity/x", 2048, svc.applications.clock())


def messages_of(svc, application_id):
    return [m for m in svc.publisher.messages if m["application_id"] == application_id]


def test_a_new_applications_messages_say_nobody_watches_until_a_subscribe_marks_it(svc, applicant):
    app = submit(svc, applicant)
    relay(svc, app.application_id)
    assert [m.get("watched") for m in messages_of(svc, app.application_id)] == [False]
    cid = connected(svc, applicant)
    assert subscribe(svc, cid, app.application_id)["type"] == "subscribed"
    assert svc.repository.get(app.application_id).watched is True
    svc.applications.commit(document(svc, svc.repository.get(app.application_id)))
    svc.publisher.published.clear()
    relay(svc, app.application_id)
    [message] = messages_of(svc, app.application_id)
    assert "watched" not in message  # maybe watched: looked up
    assert svc.live_updates.fan_out(json.dumps(message)) == 1
    [frame] = [json.loads(text) for to, text in svc.sender.sent if to == cid]
    assert [e["state"] for e in frame["events"]] == ["VERIFYING"]


def test_a_message_of_an_unwatched_application_reaches_no_application_watcher_but_the_review_queue(
    svc, applicant, reviewer
):
    """The skip is real: a subscription that wrote no mark (made before the mark existed) is not looked up
    for a message that says nobody watches; the review queue, watched apart from any application, is."""
    app = submit(svc, applicant)
    old = connected(svc, applicant)
    svc.connections.subscribe(old, applicant_topic(applicant.sub, app.application_id))  # no mark
    queue = connected(svc, reviewer)
    assert svc.live_updates.command(queue, "subscribe", {"topic": REVIEW_QUEUE}, REVIEW_QUEUE)["type"] == "subscribed"
    flagged = {
        "event_id": f"{app.application_id}#3", "application_id": app.application_id, "seq": 3, "shown_seq": 3,
        "type": "application.flagged", "from_state": "VERIFYING", "state": "FLAGGED",
    }
    message = {"application_id": app.application_id, "applicant_id": applicant.sub, "events": [flagged]}
    assert svc.live_updates.fan_out(json.dumps({**message, "watched": False})) == 1
    assert [c for c, _ in svc.sender.sent] == [queue]
    assert svc.live_updates.fan_out(json.dumps(message)) == 2  # maybe watched: both


def test_a_commit_that_lost_only_to_a_subscribe_commits_the_same_change_again_without_deciding_again(
    svc, applicant
):
    app = submit(svc, applicant)
    change = document(svc, app)  # decided from the application as read ...
    commits = svc.repository.commits
    subscribe(svc, connected(svc, applicant), app.application_id)  # ... a subscribe lands ...
    committed = svc.applications.commit(change)  # ... its write: no 409 for a person, no new decision
    assert svc.repository.commits == commits + 1
    assert committed.after.watched is True and svc.repository.get(app.application_id).state.value == "VERIFYING"
    assert svc.repository.watched_of[f"{app.application_id}#{committed.events[-1].seq}"] is True


def test_a_subscribe_whose_application_moved_on_reads_again_and_acknowledges_where_it_stands(svc, applicant):
    """The ack's state and seq are of the version the mark was written at: a commit landing between the
    subscribe's read and its write sends the subscribe round again."""
    app = submit(svc, applicant)
    cid = connected(svc, applicant)
    subscribe_once = svc.connections.subscribe
    landed = []

    def commit_first(*args, **kwargs):
        if not landed:
            landed.append(svc.applications.commit(document(svc, svc.repository.get(app.application_id))))
        return subscribe_once(*args, **kwargs)

    svc.connections.subscribe = commit_first
    ack = subscribe(svc, cid, app.application_id)
    assert (ack["state"], ack["seq"]) == ("VERIFYING", 2) and landed
    assert svc.repository.get(app.application_id).watched is True


def test_watching_all_marks_a_new_application_and_ends_with_the_connection(svc, applicant):
    cid = connected(svc, applicant)
    target = {"topic": MY_APPLICATIONS}
    assert svc.live_updates.command(cid, "subscribe", target, MY_APPLICATIONS)["type"] == "subscribed"
    assert svc.repository.get(submit(svc, applicant).application_id).watched is True
    svc.live_updates.disconnect(cid)
    assert svc.repository.get(submit(svc, applicant).application_id).watched is False
