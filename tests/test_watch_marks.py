"""Issue 22: the notifier looks watchers up only for applications someone may watch, on DynamoDB (moto).

A WebSocket subscribe marks what it watches in its own transaction (``WatchMark``); every commit is
conditioned on the mark as it read it, and its history items carry the mark it wrote, so the outbox message
says ``watched: false`` only when nobody could be watching. Here through the real handlers: the create route,
the use case committing a document, ``publish_history`` on the history stream's own records, and
``notify_subscribers`` on what it published; every AWS call counted (``tests/support/faults.injected``).
The frames go to a recording sender (tests/test_websocket.py and tests/e2e push them over real sockets).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from chalicelib.adapters.memory import RecordingEventPublisher, RecordingWebSocketSender
from chalicelib.domain.workflow import intake
from chalicelib.services.live_updates import applicant_topic, application_topic
from tests.support.faults import FaultPlan, injected
from tests.support.flows import create_application, stream_records

NOTHING_FAILS = FaultPlan(lambda service, operation: False)


@pytest.fixture
def live(chalice_app, monkeypatch):
    """The app's services, with the outbox's messages and the notifier's frames recorded."""
    from chalicelib.bootstrap import services

    svc = services(chalice_app.websocket_api)
    monkeypatch.setattr(svc.outbox, "publisher", RecordingEventPublisher())
    monkeypatch.setattr(svc.live_updates, "sender", RecordingWebSocketSender())
    return svc


def receive_document(svc, application_id, current=None):
    """The identity document arriving, as the S3-triggered check commits it (``current``: as read before)."""
    key = f"applications/{application_id}/identity/{uuid.uuid4()}"
    return svc.applications.apply_with_retry(
        application_id,
        lambda app: intake.receive_document(app, key, 2048, dt.datetime.now(dt.UTC)),
        current,
    )


def relayed(client, svc, application_id):
    """``publish_history`` on the application's stream records; the message it published for the application."""
    answer = client.lambda_.invoke("publish_history", {"Records": stream_records(application_id)}).payload
    assert answer == {"batchItemFailures": []}
    [message] = [p.message for p in svc.outbox.publisher.published if p.message["application_id"] == application_id]
    return message


def notified(client, message):
    """``notify_subscribers`` on one message; the AWS calls it made."""
    with injected(NOTHING_FAILS) as plan:
        client.lambda_.invoke("notify_subscribers", client.events.generate_sns_event(message=json.dumps(message)))
    return plan.calls


def connected(svc, user):
    connection_id = f"conn-{uuid.uuid4().hex}"
    assert svc.live_updates.connect(connection_id, {"token": user.token}) == 200
    return connection_id


def frames_to(svc, connection_id):
    return [json.loads(text) for cid, text in svc.live_updates.sender.sent if cid == connection_id]


def test_an_application_nobody_watches_is_pushed_with_no_lookup(api, client, applicant, live):
    application_id = create_application(api, applicant)
    receive_document(live, application_id)  # VERIFYING: an event the notifier pushes
    message = relayed(client, live, application_id)
    assert message["watched"] is False
    assert notified(client, message) == []  # no Query, nothing sent


def test_a_subscribe_between_a_commits_read_and_write_sends_the_commit_round_again_and_it_is_pushed(
    api, client, applicant, live
):
    application_id = create_application(api, applicant)
    read = live.repository.get(application_id)  # the commit's read ...
    connection_id = connected(live, applicant)
    ack = live.live_updates.command(
        connection_id, "subscribe", {"application_id": application_id}, application_topic(application_id)
    )
    assert (ack["type"], ack["state"]) == ("subscribed", "AWAITING_DOCUMENTS")  # ... then the subscribe lands
    with injected(NOTHING_FAILS) as plan:
        receive_document(live, application_id, current=read)  # ... then its write
    writes = [call for call in plan.calls if call == ("dynamodb", "TransactWriteItems")]
    assert len(writes) == 2  # lost to the mark once, committed again from the marked application
    message = relayed(client, live, application_id)
    assert "watched" not in message
    calls = notified(client, message)
    assert ("dynamodb", "Query") in calls
    [frame] = frames_to(live, connection_id)
    assert [event["state"] for event in frame["events"]] == ["VERIFYING"]


def test_an_application_from_before_the_mark_is_still_looked_up_and_pushed(api, client, applicant, live):
    """A deploy over live data: an item without the mark, watched by a subscription made before the deploy
    (which wrote no mark), is maybe watched: its events are looked up for, as before."""
    from chalicelib.adapters.dynamodb_models import ApplicationModel

    application_id = create_application(api, applicant)
    ApplicationModel(application_id).update(actions=[ApplicationModel.watched.remove()])
    connection_id = connected(live, applicant)
    live.connections.subscribe(connection_id, applicant_topic(applicant.sub, application_id))  # no mark
    receive_document(live, application_id)
    assert live.repository.get(application_id).watched is None
    message = relayed(client, live, application_id)
    assert "watched" not in message
    assert ("dynamodb", "Query") in notified(client, message)
    [frame] = frames_to(live, connection_id)
    assert [event["state"] for event in frame["events"]] == ["VERIFYING"]


def test_watching_all_of_ones_applications_marks_a_new_one_until_the_connection_leaves(
    api, client, applicant, live
):
    connection_id = connected(live, applicant)
    target = {"topic": "my-applications"}
    assert live.live_updates.command(connection_id, "subscribe", target, "my-applications")["type"] == "subscribed"
    watched = create_application(api, applicant)
    receive_document(live, watched)
    message = relayed(client, live, watched)
    assert "watched" not in message and ("dynamodb", "Query") in notified(client, message)
    assert [f["events"][-1]["state"] for f in frames_to(live, connection_id)] == ["VERIFYING"]
    live.live_updates.disconnect(connection_id)
    after = create_application(api, applicant)
    receive_document(live, after)
    assert relayed(client, live, after)["watched"] is False
