"""Live updates: the app's WebSocket handlers and SNS notifier, end to end in-process.

A real ``devstack.wsgateway.WebSocketGateway`` plays API Gateway for the real
app object: clients connect with the ``websockets`` sync client, the gateway
calls the app's unchanged ``$connect``/``$default``/``$disconnect`` handlers,
and the app sends through the gateway's HTTPS management endpoint. The SNS
notifier is invoked through the Chalice test client; DynamoDB and Cognito are
the tests' moto server.

Nothing waits by sleeping: frames are read with deadlines, and "no frame
arrived" is shown by a ping whose pong must be the very next frame (a
connection's frames arrive in order, and the notifier has finished sending
before ``invoke`` returns).
"""
from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared
from tests.support.identities import forge, random_rsa_key

DEADLINE_S = REPLY_S  # a frame, a connect: generous for a loaded machine (tests/support/deadlines.py)


# --- fixtures and helpers --------------------------------------------------------

@pytest.fixture(scope="module")
def gateway(chalice_app, tmp_path_factory):
    """A gateway for the shared app; the app's sender is pointed at it only for this module.

    ``WebsocketAPI.configure`` keeps the first endpoint it is given, so the
    previous session, endpoint and client are put back afterwards: other
    modules share the imported app. The gateway's CA is given to the session
    itself rather than through AWS_CA_BUNDLE, because botocore reads the
    environment through the ``os.environ`` object that existed when the
    session was made, and the Chalice test client swaps ``os.environ`` for a
    copy while it invokes (concurrent invokes can leave the copy in place).
    """
    import boto3
    import botocore.session

    from devstack.wsgateway import WebSocketGateway

    api = chalice_app.websocket_api
    saved = (api.session, api._endpoint, api._client)
    server = WebSocketGateway(chalice_app, state_dir=tmp_path_factory.mktemp("devstack"), configure_app=False)
    server.start()
    core = botocore.session.get_session()
    core.set_config_variable("ca_bundle", str(server.ca_bundle))
    api.session = boto3.session.Session(botocore_session=core, region_name="us-east-1")
    api._endpoint = api._client = None
    api.configure(server.management_domain, server.stage)
    try:
        yield server
    finally:
        server.stop()
        api.session, api._endpoint, api._client = saved


@pytest.fixture
def store():
    from chalicelib.bootstrap import services

    return services().connections


@pytest.fixture
def sockets():
    """Every client a test opens is entered here and closed at the test's end."""
    with contextlib.ExitStack() as stack:
        yield stack


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


def open_ws(gateway, sockets: contextlib.ExitStack, token: str | None) -> ClientConnection:
    query = f"?token={quote(token, safe='')}" if token is not None else ""
    return sockets.enter_context(connect(f"{gateway.ws_url}/{query}", open_timeout=DEADLINE_S))


def refused_status(gateway, url_suffix: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        with connect(f"{gateway.ws_url}/{url_suffix}", open_timeout=DEADLINE_S):
            pass
    return refused.value.response.status_code


def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=DEADLINE_S))


def ask(ws: ClientConnection, frame: Any) -> dict[str, Any]:
    ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return recv(ws)


def assert_no_frame_pending(ws: ClientConnection) -> None:
    assert ask(ws, {"action": "ping"}) == {"type": "pong"}


def new_application(api, user) -> str:
    reply = api.post("/applications", make_declared(), user=user)
    assert reply.status == 201, reply.body
    return reply.body["id"]


def event_for(application_id: str, seq: int = 2, type_: str = "document.received",
              from_state: str | None = "AWAITING_DOCUMENTS", state: str = "VERIFYING") -> dict[str, Any]:
    """An SNS message in the shape publisher.message_for() gives: ``shown_seq``, the event's place among those its
    applicant is shown, here the same as ``seq`` (no hidden event before it)."""
    return {"event_id": f"{application_id}#{seq}", "application_id": application_id, "seq": seq,
            "type": type_, "from_state": from_state, "state": state, "at": "2025-01-01T00:00:00Z",
            "actor": "system:test", "reason": "test", "shown_seq": seq}


def notify(client, message: Any) -> Any:
    body = message if isinstance(message, str) else json.dumps(message)
    return client.lambda_.invoke("notify_subscribers",
                                 client.events.generate_sns_event(message=body, subject=None)).payload


def only_connection(store, topic: str) -> str:
    [connection_id] = wait_until(lambda: list(store.subscribers(topic)) or None)
    return connection_id


def app_topic(application_id: str) -> str:
    return f"application#{application_id}"


def watch_topic(user: Any, application_id: str) -> str:
    """Where an applicant's subscription to their application is kept (the applicant's partition)."""
    return f"applicant#{user.sub}/application#{application_id}"


def frame_of(*events: dict[str, Any]) -> dict[str, Any]:
    """The frame a watcher gets: staff the events as published, the applicant numbered by ``shown_seq`` (the same
    as ``seq`` in these messages); neither gets ``shown_seq`` itself."""
    shown = [{k: v for k, v in event.items() if k != "shown_seq"} for event in events]
    return {"type": "events", "application_id": events[0]["application_id"], "events": shown}


# --- $connect ---------------------------------------------------------------------

def test_connect_with_a_valid_token_registers_the_connection_with_a_ttl(gateway, sockets, applicant, api, store):
    from chalicelib.adapters.dynamodb_models import ConnectionModel

    ws = open_ws(gateway, sockets, applicant.token)
    application_id = new_application(api, applicant)
    assert ask(ws, {"action": "subscribe", "application_id": application_id})["type"] == "subscribed"
    connection_id = only_connection(store, watch_topic(applicant, application_id))
    meta = ConnectionModel.get(f"CONN#{connection_id}", "META", consistent_read=True)
    assert meta.user_id == applicant.sub and meta.groups == ""
    assert meta.subscribed == {watch_topic(applicant, application_id)}
    remaining = meta.expires_at.timestamp() - time.time()
    token_left = jwt.decode(applicant.token, options={"verify_signature": False})["exp"] - time.time()
    assert remaining <= 2 * 3600 + 1  # API Gateway's limit, and never past the token's expiry
    assert abs(remaining - min(2 * 3600, token_left)) < 60
    subscription = ConnectionModel.get(f"TOPIC#applicant#{applicant.sub}",
                                       f"CONN#{connection_id}|application#{application_id}")
    assert subscription.expires_at == meta.expires_at


def test_access_token_is_accepted_too(gateway, sockets, applicant):
    ws = open_ws(gateway, sockets, applicant.access_token)
    assert_no_frame_pending(ws)


@pytest.mark.parametrize("suffix", [
    pytest.param("", id="missing"),
    pytest.param("?token=", id="empty"),
    pytest.param("?token=not-a-jwt", id="garbage"),
    pytest.param("?other=1", id="other-parameter"),
])
def test_connect_without_a_usable_token_is_refused_with_401(gateway, suffix):
    assert refused_status(gateway, suffix) == 401


def test_expired_token_is_refused(gateway):
    past = int(time.time()) - 3600
    assert refused_status(gateway, f"?token={forge({'iat': past - 600, 'exp': past})}") == 401


def test_token_signed_by_another_key_is_refused(gateway):
    assert refused_status(gateway, f"?token={forge(key=random_rsa_key())}") == 401


def test_token_for_another_client_is_refused(gateway):
    assert refused_status(gateway, f"?token={forge({'aud': 'another-client'})}") == 401


# --- subscribe / unsubscribe ------------------------------------------------------

def test_applicant_subscribes_to_own_application_and_learns_where_it_stands(gateway, sockets, api, applicant):
    application_id = new_application(api, applicant)
    ws = open_ws(gateway, sockets, applicant.token)
    assert ask(ws, {"action": "subscribe", "application_id": application_id}) == {
        "type": "subscribed", "application_id": application_id, "state": "AWAITING_DOCUMENTS", "seq": 1}
    # Subscribing again is idempotent.
    assert ask(ws, {"action": "subscribe", "application_id": application_id})["type"] == "subscribed"


def test_applicant_cannot_subscribe_to_someone_elses_application(gateway, sockets, api, applicant, other_applicant,
                                                                 store):
    theirs = new_application(api, other_applicant)
    ws = open_ws(gateway, sockets, applicant.token)
    reply = ask(ws, {"action": "subscribe", "application_id": theirs})
    assert reply["type"] == "error" and reply["code"] == "not_found"
    assert reply["application_id"] == theirs and reply["message"]
    assert list(store.subscribers(watch_topic(applicant, theirs))) == []


@pytest.mark.parametrize("application_id", [str(uuid.uuid4()), "not-an-id", "../../etc"],
                         ids=["unknown-uuid", "not-an-id", "path"])  # stable ids: every xdist worker collects the same
def test_unknown_application_is_not_found(gateway, sockets, applicant, reviewer, application_id):
    for user in (applicant, reviewer):
        ws = open_ws(gateway, sockets, user.token)
        reply = ask(ws, {"action": "subscribe", "application_id": application_id})
        assert (reply["type"], reply["code"]) == ("error", "not_found")


def test_applicant_cannot_watch_the_review_queue(gateway, sockets, applicant, store):
    ws = open_ws(gateway, sockets, applicant.token)
    reply = ask(ws, {"action": "subscribe", "topic": "review-queue"})
    assert (reply["type"], reply["code"], reply["topic"]) == ("error", "wrong_user_pool", "review-queue")


def test_reviewer_watches_the_review_queue_and_applications_in_review(gateway, sockets, api, reviewer, applicant):
    from tests.test_review_api import flagged_via_api

    application_id = flagged_via_api(api, applicant)
    ws = open_ws(gateway, sockets, reviewer.token)
    assert ask(ws, {"action": "subscribe", "topic": "review-queue"}) == {
        "type": "subscribed", "topic": "review-queue"}
    ack = ask(ws, {"action": "subscribe", "application_id": application_id})
    assert ack["type"] == "subscribed" and ack["state"] == "FLAGGED"


@pytest.mark.parametrize("frame, code", [
    pytest.param("this is not json", "malformed_json", id="not-json"),
    pytest.param("[1, 2]", "validation_failed", id="not-an-object"),
    pytest.param({}, "validation_failed", id="no-action"),
    pytest.param({"action": "dance"}, "unknown_action", id="unknown-action"),
    pytest.param({"action": 7}, "unknown_action", id="action-not-a-string"),
    pytest.param({"action": "subscribe"}, "validation_failed", id="no-target"),
    pytest.param({"action": "unsubscribe"}, "validation_failed", id="unsubscribe-no-target"),
    pytest.param({"action": "subscribe", "topic": "review-queue", "application_id": "x"}, "validation_failed",
                 id="two-targets"),
    pytest.param({"action": "subscribe", "topic": "everything"}, "validation_failed", id="unknown-topic"),
    pytest.param({"action": "subscribe", "application_id": 42}, "validation_failed", id="id-not-a-string"),
    pytest.param({"action": "subscribe", "application_id": "x" * 5000}, "payload_too_large", id="oversized"),
])
def test_bad_frames_get_an_error_frame_and_the_connection_stays_usable(gateway, sockets, applicant, frame, code):
    ws = open_ws(gateway, sockets, applicant.token)
    reply = ask(ws, frame)
    assert reply["type"] == "error" and reply["code"] == code and isinstance(reply["message"], str)
    assert_no_frame_pending(ws)


def test_unsubscribe_stops_the_events(gateway, sockets, api, client, applicant, store):
    application_id = new_application(api, applicant)
    ws = open_ws(gateway, sockets, applicant.token)
    ask(ws, {"action": "subscribe", "application_id": application_id})
    connection_id = only_connection(store, watch_topic(applicant, application_id))
    assert ask(ws, {"action": "unsubscribe", "application_id": application_id}) == {
        "type": "unsubscribed", "application_id": application_id}
    assert list(store.subscribers(watch_topic(applicant, application_id))) == []
    assert store.get(connection_id).topics == ()
    assert notify(client, event_for(application_id)) is None
    assert_no_frame_pending(ws)
    # Unsubscribing from what one is not subscribed to is fine.
    assert ask(ws, {"action": "unsubscribe", "topic": "review-queue"})["type"] == "unsubscribed"


# --- the SNS notifier -----------------------------------------------------------

def test_an_applicant_watching_all_their_applications_gets_each_ones_events(gateway, sockets, api, client, applicant,
                                                                           other_applicant):
    ws = open_ws(gateway, sockets, applicant.token)
    assert ask(ws, {"action": "subscribe", "topic": "my-applications"}) == {
        "type": "subscribed", "topic": "my-applications"}
    mine, theirs = new_application(api, applicant), new_application(api, other_applicant)
    for application_id in (theirs, mine):
        notify(client, {"application_id": application_id, "events": [event_for(application_id)],
                        **({"applicant_id": applicant.sub} if application_id == mine else {})})
    assert recv(ws) == frame_of(event_for(mine))
    assert_no_frame_pending(ws)


def test_event_reaches_the_applications_subscribers_only(gateway, sockets, api, client, applicant,
                                                         other_applicant, reviewer):
    mine, theirs = new_application(api, applicant), new_application(api, other_applicant)
    watcher = open_ws(gateway, sockets, applicant.token)
    bystander = open_ws(gateway, sockets, other_applicant.token)
    queue = open_ws(gateway, sockets, reviewer.token)
    ask(watcher, {"action": "subscribe", "application_id": mine})
    ask(bystander, {"action": "subscribe", "application_id": theirs})
    ask(queue, {"action": "subscribe", "topic": "review-queue"})

    message = event_for(mine)
    notify(client, message)
    assert recv(watcher) == frame_of(message)
    for ws in (bystander, queue, watcher):
        assert_no_frame_pending(ws)


@pytest.mark.parametrize("message", [
    pytest.param(dict(type_="application.flagged", from_state="VERIFYING", state="FLAGGED"), id="enters-flagged"),
    pytest.param(dict(type_="application.approved", from_state="FLAGGED", state="APPROVED"), id="leaves-flagged"),
    # staff work: reviewers see it, the applicant is not told (disclosure.STAFF_WORK)
    pytest.param(dict(type_="review.escalated", from_state="FLAGGED", state="FLAGGED"), id="escalated"),
])
def test_review_queue_events_reach_reviewers_and_the_applicant(gateway, sockets, api, client, applicant,
                                                               reviewer, message):
    application_id = new_application(api, applicant)
    watcher = open_ws(gateway, sockets, applicant.token)
    queue = open_ws(gateway, sockets, reviewer.token)
    ask(watcher, {"action": "subscribe", "application_id": application_id})
    ask(queue, {"action": "subscribe", "topic": "review-queue"})

    event = event_for(application_id, seq=3, **message)
    notify(client, event)
    assert recv(queue) == frame_of(event)
    if message["type_"] != "review.escalated":
        assert recv(watcher) == frame_of(event)
    assert_no_frame_pending(queue)
    assert_no_frame_pending(watcher)


def test_reviewer_watching_both_topics_gets_one_frame(gateway, sockets, api, client, applicant, reviewer):
    application_id = new_application(api, applicant)
    ws = open_ws(gateway, sockets, reviewer.token)
    ask(ws, {"action": "subscribe", "topic": "review-queue"})
    ask(ws, {"action": "subscribe", "application_id": application_id})
    event = event_for(application_id, type_="application.flagged", from_state="VERIFYING", state="FLAGGED")
    notify(client, event)
    assert recv(ws) == frame_of(event)
    assert_no_frame_pending(ws)


def test_a_replayed_sns_message_sends_the_same_event_again_for_the_client_to_drop_by_its_id(
    gateway, sockets, api, client, applicant
):
    """At least once (issue 23: no claim write per message): SNS's rare second delivery reaches the watcher
    again with the same event and ``event_id``, which the client drops (the console's live.js does)."""
    application_id = new_application(api, applicant)
    ws = open_ws(gateway, sockets, applicant.token)
    ask(ws, {"action": "subscribe", "application_id": application_id})
    message = event_for(application_id)
    notify(client, message)
    notify(client, message)
    assert recv(ws) == frame_of(message)
    assert recv(ws) == frame_of(message)
    assert_no_frame_pending(ws)
    # A different event of the same application still goes out.
    following = event_for(application_id, seq=3, type_="application.approved", from_state="VERIFYING",
                          state="APPROVED")
    notify(client, following)
    assert recv(ws) == frame_of(following)


def test_a_gone_connection_is_deleted_with_its_subscriptions(gateway, sockets, api, client, applicant, store):
    from chalicelib.domain.users import Identity

    application_id = new_application(api, applicant)
    ws = open_ws(gateway, sockets, applicant.token)
    ask(ws, {"action": "subscribe", "application_id": application_id})
    # A connection API Gateway no longer knows whose $disconnect never came.
    ghost = "Z2hvc3QtY29ubmVjdGlvbg=="
    store.register(ghost, Identity(sub=applicant.sub, groups=frozenset()))
    store.subscribe(ghost, watch_topic(applicant, application_id))
    store.subscribe(ghost, "review-queue")
    assert ghost in set(store.subscribers(watch_topic(applicant, application_id)))

    message = event_for(application_id)
    notify(client, message)
    assert recv(ws) == frame_of(message)
    assert store.get(ghost) is None
    assert ghost not in set(store.subscribers(watch_topic(applicant, application_id)))
    assert ghost not in set(store.subscribers("review-queue"))


def test_disconnect_removes_the_connection_and_its_subscriptions(gateway, sockets, api, applicant, reviewer,
                                                                 store):
    from tests.test_review_api import flagged_via_api

    application_id = flagged_via_api(api, applicant)
    ws = open_ws(gateway, sockets, reviewer.token)
    ask(ws, {"action": "subscribe", "application_id": application_id})
    ask(ws, {"action": "subscribe", "topic": "review-queue"})
    connection_id = only_connection(store, app_topic(application_id) + "#staff")  # a reviewer watches as staff
    assert store.get(connection_id) is not None
    ws.close()
    wait_until(lambda: store.get(connection_id) is None)
    assert connection_id not in set(store.subscribers(app_topic(application_id) + "#staff"))
    assert connection_id not in set(store.subscribers("review-queue"))


def test_a_message_that_is_not_an_application_event_is_dropped(client):
    assert notify(client, "not json") is None
    assert notify(client, {"hello": "world"}) is None


# --- notifier and store details, without the gateway ---------------------------

def live_updates_with(sender: Any) -> Any:
    """The live-updates use case of this container, sending through ``sender``."""
    from chalicelib.bootstrap import services
    from chalicelib.services.live_updates import LiveUpdates

    real = services()
    return LiveUpdates(real.verifier, real.connections, sender, real.applications, real.metrics, real.staff,
                       real.review)


class FlakySender:
    """A stand-in for the WebSocket sender whose endpoint fails until told otherwise."""

    def __init__(self, error: Exception):
        self.error: Exception | None = error
        self.sent: list[tuple[str, str]] = []

    def send(self, connection_id: str, message: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((connection_id, message))


def test_when_no_frame_could_be_sent_lambdas_retry_sends_it(store):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.domain.users import Identity

    application_id = str(uuid.uuid4())
    connection_id = f"conn-{uuid.uuid4().hex}"
    store.register(connection_id, Identity(sub="someone", groups=frozenset()))
    store.subscribe(connection_id, app_topic(application_id))
    message = json.dumps(event_for(application_id))
    sender = FlakySender(EndpointConnectionError(endpoint_url="https://example.invalid"))
    live = live_updates_with(sender)
    with pytest.raises(EndpointConnectionError):
        live.fan_out(message)
    sender.error = None
    assert live.fan_out(message) == 1  # Lambda's retry
    [(to, frame)] = sender.sent
    assert to == connection_id  # with the event's id, what a client drops a repeat by
    assert [e["event_id"] for e in json.loads(frame)["events"]] == [f"{application_id}#2"]


def test_gone_during_a_reply_forgets_the_connection(store):
    from chalicelib.domain.users import Identity
    from chalicelib.services.ports import ConnectionGone

    connection_id = f"conn-{uuid.uuid4().hex}"
    store.register(connection_id, Identity(sub="someone", groups=frozenset()))
    sender = FlakySender(ConnectionGone(connection_id))
    assert live_updates_with(sender).reply(connection_id, {"type": "pong"}) is False
    assert store.get(connection_id) is None


def test_subscriptions_per_connection_are_bounded(store):
    from chalicelib.domain.users import Identity
    from chalicelib.services.ports import MAX_SUBSCRIPTIONS, TooManySubscriptions

    connection_id = f"conn-{uuid.uuid4().hex}"
    store.register(connection_id, Identity(sub="someone", groups=frozenset()))
    topics = [app_topic(str(uuid.uuid4())) for _ in range(MAX_SUBSCRIPTIONS)]
    for topic in topics:
        store.subscribe(connection_id, topic)
    with pytest.raises(TooManySubscriptions):
        store.subscribe(connection_id, app_topic(str(uuid.uuid4())))
    assert sorted(store.get(connection_id).topics) == sorted(topics)
    store.forget(connection_id)
    assert all(list(store.subscribers(t)) == [] for t in topics)


def test_expired_connections_and_subscriptions_are_ignored_before_dynamodb_deletes_them():
    import datetime as dt

    from chalicelib.adapters.dynamodb_connections import DynamoConnectionStore
    from chalicelib.bootstrap import services
    from chalicelib.domain.users import Identity

    connection = services().dynamodb_connection
    past = DynamoConnectionStore(connection, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    connection_id = f"conn-{uuid.uuid4().hex}"
    topic = app_topic(str(uuid.uuid4()))
    past.register(connection_id, Identity(sub="someone", groups=frozenset()))
    past.subscribe(connection_id, topic)
    now = DynamoConnectionStore(connection)
    assert now.get(connection_id) is None
    assert list(now.subscribers(topic)) == []


def test_concurrent_subscribes_keep_the_connection_listing_every_subscription(store):
    import concurrent.futures

    from chalicelib.domain.users import Identity

    connection_id = f"conn-{uuid.uuid4().hex}"
    store.register(connection_id, Identity(sub="someone", groups=frozenset()))
    topics = [app_topic(str(uuid.uuid4())) for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda t: store.subscribe(connection_id, t), topics))
    assert sorted(store.get(connection_id).topics) == sorted(topics)
    store.forget(connection_id)
    assert all(list(store.subscribers(t)) == [] for t in topics)


def test_the_fan_out_reads_a_topics_subscribers_strongly_consistently(store, monkeypatch):
    """A subscription acknowledged to the client must be seen by the next fan-out: DynamoDB answers a
    Query eventually consistently unless asked (a frame sent within about a second of the ack could miss
    the subscriber in AWS). moto is always consistent, so the request itself is what is checked."""
    from pynamodb.connection.base import Connection

    from chalicelib.domain.users import Identity

    connection_id = f"conn-{uuid.uuid4().hex}"
    topic = app_topic(str(uuid.uuid4()))
    store.register(connection_id, Identity(sub="someone", groups=frozenset()))
    store.subscribe(connection_id, topic)
    queries = []
    original = Connection._make_api_call

    def recording(self, operation_name, operation_kwargs):
        if operation_name == "Query":
            queries.append(operation_kwargs)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", recording)
    assert list(store.subscribers(topic)) == [connection_id]
    assert queries and all(query.get("ConsistentRead") is True for query in queries)
    store.forget(connection_id)
