"""ConnectionStore, WebSocketSender and TokenVerifier: the same behaviour from fake and real."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.users import Identity
from chalicelib.domain.workflow import intake
from chalicelib.services.ports import (
    MAX_SUBSCRIPTIONS,
    WATCHING_ALL_FOR,
    ConcurrentChange,
    ConnectionGone,
    ConnectionInfo,
    InvalidToken,
    TooManySubscriptions,
    WatchMark,
)

SOMEONE = Identity(sub="someone", groups=frozenset({"reviewers"}), pool="staff")


def new_id() -> str:
    return f"conn-{uuid.uuid4().hex}"


def topic() -> str:
    return f"application#{uuid.uuid4()}"


# --- connections ------------------------------------------------------------------------------


def test_a_registered_connection_reads_back_with_its_identity_and_expiry(connection_store):
    store = connection_store()
    cid = new_id()
    info = store.register(cid, SOMEONE)
    assert isinstance(info, ConnectionInfo) and info.topics == ()
    assert dt.timedelta(hours=1, minutes=59) < info.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
    read = store.get(cid)
    assert (read.connection_id, read.identity.sub, read.identity.groups, read.identity.pool, read.topics) == (
        cid,
        "someone",
        frozenset({"reviewers"}),
        "staff",  # which user pool signed the token: the frames' rights depend on it
        (),
    )
    assert abs(read.expires_at - info.expires_at) < dt.timedelta(seconds=1)
    assert store.get(new_id()) is None


def test_subscriptions_are_idempotent_and_listed_both_ways(connection_store):
    store = connection_store()
    a, b, t = new_id(), new_id(), topic()
    store.register(a, SOMEONE)
    store.register(b, SOMEONE)
    store.subscribe(a, t)
    store.subscribe(a, t)
    store.subscribe(b, t)
    assert store.get(a).topics == (t,)
    assert sorted(store.subscribers(t)) == sorted([a, b])
    store.unsubscribe(a, t)
    store.unsubscribe(a, t)
    assert store.get(a).topics == () and list(store.subscribers(t)) == [b]


def test_an_applicants_watchers_are_found_together_whichever_way_they_subscribed(connection_store):
    """Scoped topics (``<partition>/<scope>``) of one partition: the fan-out finds them in one lookup."""
    store = connection_store()
    sub, app, other = uuid.uuid4().hex, uuid.uuid4(), uuid.uuid4()
    one, mine, elsewhere = new_id(), new_id(), new_id()
    watch_one, watch_all = f"applicant#{sub}/application#{app}", f"applicant#{sub}/*"
    for cid in (one, mine, elsewhere):
        store.register(cid, SOMEONE)
    store.subscribe(one, watch_one, store.get(one))  # with the connection as read: no second read
    store.subscribe(mine, watch_all)
    store.subscribe(elsewhere, f"applicant#{sub}/application#{other}")
    assert sorted(store.subscriptions([watch_one, watch_all])) == sorted([(one, watch_one), (mine, watch_all)])
    assert list(store.subscribers(watch_all)) == [mine]
    assert store.get(one).topics == (watch_one,)
    store.unsubscribe(one, watch_one, f"application#{app}#staff")  # several at once, absent ones too
    assert store.subscriptions([watch_one, watch_all]) == [(mine, watch_all)]
    assert store.get(one).topics == ()
    for cid in (one, mine, elsewhere):
        store.forget(cid)
    assert store.subscriptions([watch_one, watch_all, f"applicant#{sub}/application#{other}"]) == []


def test_a_connection_id_with_a_slash_is_found_in_scoped_and_plain_topics(connection_store):
    """API Gateway's connection ids are base64 ("L0SM9cOF/vHcCIhw="): a "/" in one is part of the id, never
    the start of a scope (a reviewer on the review queue once missed a frame for it, one id in six)."""
    store = connection_store()
    sub, app = uuid.uuid4().hex, uuid.uuid4()
    slashed = f"/{uuid.uuid4().hex[:6]}/x+y="
    scoped, plain = f"applicant#{sub}/application#{app}", "review-queue"
    store.register(slashed, SOMEONE)
    store.subscribe(slashed, scoped)
    store.subscribe(slashed, plain)
    assert store.subscriptions([scoped]) == [(slashed, scoped)]
    assert slashed in set(store.subscribers(plain))
    store.forget(slashed)
    assert store.subscriptions([scoped]) == [] and slashed not in set(store.subscribers(plain))


def test_a_gone_connection_cannot_subscribe(connection_store):
    store = connection_store()
    with pytest.raises(ConnectionGone):
        store.subscribe(new_id(), topic())
    with pytest.raises(ConnectionGone):
        store.unsubscribe(new_id(), topic())


def test_subscriptions_per_connection_are_bounded(connection_store):
    store = connection_store()
    cid = new_id()
    store.register(cid, SOMEONE)
    topics = [topic() for _ in range(MAX_SUBSCRIPTIONS)]
    for t in topics:
        store.subscribe(cid, t)
    with pytest.raises(TooManySubscriptions):
        store.subscribe(cid, topic())
    store.subscribe(cid, topics[0])  # already there: still fine
    assert sorted(store.get(cid).topics) == sorted(topics)
    store.forget(cid)


def test_forget_removes_the_connection_and_every_subscription_also_ones_it_no_longer_lists(connection_store):
    store = connection_store()
    cid, t1, t2, stray = new_id(), topic(), topic(), topic()
    store.register(cid, SOMEONE)
    store.subscribe(cid, t1)
    store.subscribe(cid, t2)
    store.forget(cid)
    assert store.get(cid) is None
    assert list(store.subscribers(t1)) == [] and list(store.subscribers(t2)) == []
    store.forget(cid)  # already gone: a no-op
    store.forget(cid, also_topics=[stray])


def test_past_its_expiry_a_connection_and_its_subscriptions_are_ignored(connection_store):
    past = connection_store(lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    now = connection_store()
    cid, t = new_id(), topic()
    past.register(cid, SOMEONE)
    past.subscribe(cid, t)
    assert now.get(cid) is None and list(now.subscribers(t)) == []
    with pytest.raises(ConnectionGone):
        now.subscribe(cid, topic())


def test_the_per_user_limit_holds_against_parallel_registers(connection_store):
    """Twelve connects of one user at once, a limit of 3: exactly 3 are registered (count-then-insert let
    every one of them through); a forgotten connection gives its slot back, an expired one frees it."""
    import concurrent.futures

    from chalicelib.services.ports import TooManyConnections

    store = connection_store()
    user = Identity(sub=f"racer-{uuid.uuid4()}", groups=frozenset())
    ids = [new_id() for _ in range(12)]

    def connect(cid: str) -> bool:
        try:
            store.register(cid, user, 3)
            return True
        except TooManyConnections:
            return False

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        won = [cid for cid, ok in zip(ids, pool.map(connect, ids)) if ok]
    assert len(won) == 3 and store.count_for_user(user.sub) == 3
    with pytest.raises(TooManyConnections):
        store.register(new_id(), user, 3)
    store.forget(won[0])
    assert store.count_for_user(user.sub) == 2
    store.register(new_id(), user, 3)
    with pytest.raises(TooManyConnections):
        store.register(new_id(), user, 3)
    # Connections past their expiry (a lost $disconnect) hold no slot.
    later = connection_store(lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=3))
    assert later.count_for_user(user.sub) == 0
    later.register(new_id(), user, 3)


# --- the WebSocket sender ------------------------------------------------------------------------


@pytest.fixture
def sender(kind):
    """The sender, what a connection received (text), and a sender for which a connection is gone.

    moto's management API accepts every post and never answers 410 Gone, so
    for the real adapter the Gone answer is stubbed at botocore's level: the
    adapter and Chalice's WebsocketAPI still run unchanged.
    """
    if kind == "fake":
        fake = memory.RecordingWebSocketSender()

        def received_fake(cid):
            return "".join(text for c, text in fake.sent if c == cid)

        def gone_fake(cid):
            fake.mark_gone(cid)
            return fake

        return fake, received_fake, gone_fake

    import boto3
    from botocore.stub import Stubber
    from chalice.app import WebsocketAPI
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    from chalicelib.adapters.websocket_sender import ChaliceWebSocketSender

    def api():
        websocket_api = WebsocketAPI()
        websocket_api.session = boto3.session.Session(region_name="us-east-1")
        websocket_api._endpoint = os.environ["MOTO_SERVER"]  # moto serves the management API at its root
        return websocket_api

    def received_real(cid):
        backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
        return backend.connections[cid].data.decode() if cid in backend.connections else ""

    def gone_real(cid):
        websocket_api = api()
        client = websocket_api._get_client()
        stubber = Stubber(client)
        stubber.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)
        stubber.activate()
        return ChaliceWebSocketSender(websocket_api)

    return ChaliceWebSocketSender(api()), received_real, gone_real


def test_frames_reach_the_connection_in_order(sender):
    send, received, _ = sender
    cid = new_id()
    send.send(cid, '{"type":"pong"}')
    send.send(cid, '{"type":"event"}')
    assert received(cid) == '{"type":"pong"}{"type":"event"}'


def test_a_gone_connection_raises_connection_gone(sender):
    _, _, gone = sender
    cid = new_id()
    with pytest.raises(ConnectionGone):
        gone(cid).send(cid, "{}")


# --- tokens ------------------------------------------------------------------------------------------


def test_a_good_token_gives_back_who_it_was_issued_to(tokens):
    verifier, issue = tokens
    token, who = issue(("reviewers",))
    got = verifier.verify(token)
    assert (got.sub, got.groups, got.email, got.pool) == (who.sub, who.groups, who.email, "staff")
    assert verifier.verify_bearer(f"Bearer {token}").sub == who.sub
    applicant = verifier.verify(issue(())[0])
    assert (applicant.groups, applicant.pool) == (frozenset(), "customer")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x"])
def test_anything_else_is_an_invalid_token(tokens, token):
    verifier, _ = tokens
    with pytest.raises(InvalidToken):
        verifier.verify(token)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   ", "token"])
def test_a_malformed_authorization_header_is_an_invalid_token(tokens, header):
    verifier, _ = tokens
    with pytest.raises(InvalidToken):
        verifier.verify_bearer(header)


# --- watch marks (issue 22): a subscribe marks what it watches, in its own transaction -----------------------


@pytest.fixture
def watching(kind, repository):
    """The repository and a connection store whose subscribe writes its mark where the applications are."""
    if kind == "fake":
        return repository, memory.InMemoryConnectionStore(marks=repository)
    from chalicelib.adapters.dynamodb_connections import DynamoConnectionStore
    from tests.contracts.conftest import real_services

    return repository, DynamoConnectionStore(real_services().dynamodb_connection)


def _applicant_connection(store, applicant_id):
    cid = new_id()
    info = store.register(cid, Identity(sub=applicant_id, groups=frozenset()))
    return cid, info


def _submitted(repository, moment, watched=False, applicant_id=None):
    change = intake.submit(str(uuid.uuid4()), applicant_id or str(uuid.uuid4()), {"email": "w@example.com"}, moment())
    if watched is not False:  # an item written before the mark was kept (None)
        change = dataclasses.replace(change, after=dataclasses.replace(change.after, watched=watched))
    repository.commit(change)
    return change.after


def test_a_new_application_is_unwatched_and_a_subscribe_at_its_version_marks_it(watching, moment):
    repository, store = watching
    app = _submitted(repository, moment)
    assert repository.get(app.application_id).watched is False
    cid, info = _applicant_connection(store, app.applicant_id)
    scoped = f"applicant#{app.applicant_id}/application#{app.application_id}"
    store.subscribe(cid, scoped, info, WatchMark(application_id=app.application_id, version=app.version))
    assert repository.get(app.application_id).watched is True
    assert store.subscriptions([scoped]) == [(cid, scoped)]


def test_a_commit_read_before_the_mark_loses_and_commits_again_from_the_marked_application(watching, moment):
    """The race the mark closes: a subscribe lands between a commit's read and its write."""
    repository, store = watching
    for read_as in (False, None):  # None: an item from before the mark
        app = _submitted(repository, moment, watched=read_as)
        cid, info = _applicant_connection(store, app.applicant_id)
        store.subscribe(cid, f"applicant#{app.applicant_id}/*x", info, WatchMark(app.application_id, app.version))
        with pytest.raises(ConcurrentChange) as lost:
            repository.commit(intake.receive_document(app, "k", 2048, moment()))
        assert lost.value.current.watched is True and lost.value.current.version == app.version
        again = intake.receive_document(lost.value.current, "k", 2048, moment())
        repository.commit(again)
        assert repository.get(app.application_id).watched is True


def test_a_subscribe_whose_application_moved_on_writes_nothing(watching, moment):
    repository, store = watching
    app = _submitted(repository, moment)
    moved = intake.receive_document(app, "k", 2048, moment())
    repository.commit(moved)
    cid, info = _applicant_connection(store, app.applicant_id)
    scoped = f"applicant#{app.applicant_id}/application#{app.application_id}"
    with pytest.raises(ConcurrentChange):
        store.subscribe(cid, scoped, info, WatchMark(application_id=app.application_id, version=app.version))
    assert repository.get(app.application_id).watched is False
    assert store.subscriptions([scoped]) == [] and store.get(cid).topics == ()


def test_watching_all_of_an_applicants_applications_marks_each_by_its_next_commit(watching, moment):
    """``my-applications``: no item names the applications; an unwatched commit of one of them is written
    watched (and so is a new application), another applicant's is not."""
    repository, store = watching
    app = _submitted(repository, moment)
    other = _submitted(repository, moment)
    cid, info = _applicant_connection(store, app.applicant_id)
    store.subscribe(cid, f"applicant#{app.applicant_id}/*", info, WatchMark(applicant_id=app.applicant_id))
    repository.commit(intake.receive_document(app, "k", 2048, moment()))
    repository.commit(intake.receive_document(other, "k", 2048, moment()))
    assert repository.get(app.application_id).watched is True
    assert repository.get(other.application_id).watched is False
    assert repository.get(_submitted(repository, moment, applicant_id=app.applicant_id).application_id).watched is True


def test_watching_all_ends_when_the_last_watching_connection_leaves(watching, moment):
    """Two connections (two tabs) watch all; one unsubscribing keeps the mark, the last one gone (disconnected)
    ends it: the applicant's new application commits unwatched again."""
    repository, store = watching
    applicant_id = str(uuid.uuid4())
    every = f"applicant#{applicant_id}/*"
    (one, one_info), (two, two_info) = (_applicant_connection(store, applicant_id) for _ in range(2))
    store.subscribe(one, every, one_info, WatchMark(applicant_id=applicant_id))
    store.subscribe(two, every, two_info, WatchMark(applicant_id=applicant_id))
    store.unsubscribe(one, every)
    assert repository.get(_submitted(repository, moment, applicant_id=applicant_id).application_id).watched is True
    store.forget(two)
    assert repository.get(_submitted(repository, moment, applicant_id=applicant_id).application_id).watched is False


def test_watching_all_expires_by_the_clock_the_repository_and_the_store_share(kind, moment):
    """The applicant's mark lasts ``WATCHING_ALL_FOR`` by the store's clock, and the repository reads its
    expiry by the same injected clock (not the machine's): past it, a commit is written unwatched."""
    now = [dt.datetime.now(dt.UTC)]

    def clock() -> dt.datetime:
        return now[0]

    if kind == "fake":
        repository = memory.InMemoryApplicationRepository(clock=clock)
        store = memory.InMemoryConnectionStore(clock, marks=repository)
    else:
        from chalicelib.adapters.dynamodb_applications import DynamoApplicationRepository
        from chalicelib.adapters.dynamodb_connections import DynamoConnectionStore
        from tests.contracts.conftest import real_services

        repository = DynamoApplicationRepository(real_services().dynamodb_connection, clock=clock)
        store = DynamoConnectionStore(real_services().dynamodb_connection, clock=clock)
    applicant_id = str(uuid.uuid4())
    early, late = (_submitted(repository, moment, applicant_id=applicant_id) for _ in range(2))
    cid, info = _applicant_connection(store, applicant_id)
    store.subscribe(cid, f"applicant#{applicant_id}/*", info, WatchMark(applicant_id=applicant_id))
    repository.commit(intake.receive_document(early, "k", 2048, moment()))
    now[0] += WATCHING_ALL_FOR + dt.timedelta(minutes=1)
    repository.commit(intake.receive_document(late, "k", 2048, moment()))
    assert repository.get(early.application_id).watched is True
    assert repository.get(late.application_id).watched is False
