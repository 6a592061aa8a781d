"""WebSocket rights hold for every frame, not just at $connect; hostile frames and floods are bounded.

Driven through a real local gateway calling the app's unchanged handlers
(the fixtures and helpers of test_websocket.py).
"""
from __future__ import annotations

import json
import os
import time
import uuid

import boto3
import pytest

from tests import test_websocket as ws_tests
from tests.support.deadlines import EVENT_S, REPLY_S
from tests.support.identities import forge
from tests.test_review_api import flagged_via_api
from tests.test_websocket import (
    ask,
    assert_no_frame_pending,
    event_for,
    new_application,
    notify,
    open_ws,
    refused_status,
)

# The real local gateway and its helpers, shared with test_websocket.py.
gateway, sockets, store = ws_tests.gateway, ws_tests.sockets, ws_tests.store


def pool_kid() -> str:
    import urllib.request

    with urllib.request.urlopen(os.environ["COGNITO_JWKS_URL"], timeout=REPLY_S) as r:
        return json.loads(r.read())["keys"][0]["kid"]


# --- hostile frames -------------------------------------------------------------------

@pytest.mark.parametrize("frame", ["[" * 1000 + "]" * 1000, '{"a":' * 600 + "1" + "}" * 600,
                                   '{"action": "subscribe", "action": "ping"}'])
def test_deeply_nested_or_ambiguous_frames_get_an_error_frame_and_the_connection_stays(gateway, sockets, applicant,
                                                                                      frame):
    ws = open_ws(gateway, sockets, applicant.token)
    reply = ask(ws, frame)
    assert reply["type"] == "error" and reply["code"] in ("malformed_json", "validation_failed"), reply
    assert_no_frame_pending(ws)


def test_an_unknown_id_in_a_frame_is_not_echoed_unbounded(gateway, sockets, applicant):
    ws = open_ws(gateway, sockets, applicant.token)
    reply = ask(ws, {"action": "subscribe", "application_id": "Z" * 3000})
    assert reply["type"] == "error"
    assert len(json.dumps(reply)) < 300


# --- rights re-checked per frame ---------------------------------------------------------------

def test_a_connection_whose_token_has_expired_can_no_longer_subscribe(gateway, sockets, api, applicant):
    """The token is still inside the verifier's clock-skew leeway at $connect, past its exp at the frame."""
    application_id = new_application(api, applicant)
    now = int(time.time())
    token = forge({"sub": applicant.sub, "iat": now - 600, "exp": now - 2}, kid=pool_kid())
    ws = open_ws(gateway, sockets, token)
    reply = ask(ws, {"action": "subscribe", "application_id": application_id})
    assert (reply["type"], reply["code"]) == ("error", "unauthorized"), reply


def test_a_connection_lives_no_longer_than_its_token(gateway, sockets, api, applicant, store):
    now = int(time.time())
    token = forge({"sub": applicant.sub, "iat": now, "exp": now + 300}, kid=pool_kid())
    ws = open_ws(gateway, sockets, token)
    application_id = new_application(api, applicant)
    assert ask(ws, {"action": "subscribe", "application_id": application_id})["type"] == "subscribed"
    # an applicant's own watching lives in their partition (services/live_updates.applicant_topic)
    [connection_id] = list(store.subscribers(f"applicant#{applicant.sub}/application#{application_id}"))
    assert store.get(connection_id).expires_at.timestamp() <= now + 300 + 1


def test_a_reviewer_removed_from_the_group_loses_the_review_queue_on_the_next_frame(gateway, sockets):
    from tests.support.identities import make_user

    reviewer = make_user(("reviewers",))
    ws = open_ws(gateway, sockets, reviewer.token)
    assert ask(ws, {"action": "subscribe", "topic": "review-queue"})["type"] == "subscribed"
    boto3.client("cognito-idp").admin_remove_user_from_group(
        UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username=reviewer.email, GroupName="reviewers")
    ask(ws, {"action": "unsubscribe", "topic": "review-queue"})
    from tests.support.identities import staff_bound_passed

    with staff_bound_passed():  # within the removal bound (docs/security.md)
        reply = ask(ws, {"action": "subscribe", "topic": "review-queue"})
    assert (reply["type"], reply["code"]) == ("error", "forbidden"), reply


def test_reviewers_may_only_watch_applications_in_review(gateway, sockets, api, applicant, reviewer):
    awaiting = new_application(api, applicant)
    flagged = flagged_via_api(api, applicant)
    ws = open_ws(gateway, sockets, reviewer.token)
    assert ask(ws, {"action": "subscribe", "application_id": awaiting})["code"] == "not_found"
    assert ask(ws, {"action": "subscribe", "application_id": flagged})["type"] == "subscribed"


# --- each pool's tokens for its own subscriptions ----------------------------------------------------

def test_a_customer_pool_token_claiming_reviewers_may_not_watch_the_review_queue(gateway, sockets):
    """A real, correctly signed customer-pool token in a customer-pool group named ``reviewers``."""
    from tests.support.identities import make_user

    impostor = make_user(("reviewers",), pool="customer")
    ws = open_ws(gateway, sockets, impostor.token)
    reply = ask(ws, {"action": "subscribe", "topic": "review-queue"})
    assert (reply["type"], reply["code"]) == ("error", "wrong_user_pool"), reply


def test_a_forged_group_claim_on_a_customer_token_does_not_reach_an_application_in_review(gateway, sockets, api,
                                                                                         applicant):
    flagged = flagged_via_api(api, applicant)
    token = forge({"cognito:groups": ["reviewers"], "cognito:username": "nobody"}, kid=pool_kid())
    ws = open_ws(gateway, sockets, token)
    assert ask(ws, {"action": "subscribe", "topic": "review-queue"})["code"] == "wrong_user_pool"
    assert ask(ws, {"action": "subscribe", "application_id": flagged})["code"] == "not_found"


def test_a_staff_token_does_not_watch_as_the_applicant(gateway, sockets, api, applicant):
    """A staff user whose sub happened to own nothing is still never an applicant: no get_own for staff."""
    from tests.support.identities import make_user

    operator = make_user(("operators",))
    awaiting = new_application(api, applicant)
    ws = open_ws(gateway, sockets, operator.token)
    assert ask(ws, {"action": "subscribe", "application_id": awaiting})["code"] == "not_found"
    assert ask(ws, {"action": "subscribe", "topic": "review-queue"})["code"] == "forbidden"


def test_a_token_of_the_staff_pool_issuer_for_the_customer_client_is_refused_at_connect(gateway):
    token = forge({"aud": os.environ["USER_POOL_CLIENT_ID"], "cognito:groups": ["reviewers"]}, kid=pool_kid(),
                  pool="staff")
    assert refused_status(gateway, f"?token={token}") == 401


# --- floods -----------------------------------------------------------------------------------------

def test_connections_per_user_are_bounded_with_429(gateway, sockets, applicant):
    from chalicelib.domain.limits import MAX_CONNECTIONS_PER_USER

    for _ in range(MAX_CONNECTIONS_PER_USER):
        assert_no_frame_pending(open_ws(gateway, sockets, applicant.token))
    assert refused_status(gateway, f"?token={applicant.token}") == 429
    # Another user is not affected.
    from tests.support.identities import make_user

    assert_no_frame_pending(open_ws(gateway, sockets, make_user().token))


def test_parallel_connects_cannot_race_past_the_per_user_limit(gateway, sockets):
    """Connects opened all at once (the race that count-then-insert lost): at most the limit are accepted."""
    import concurrent.futures

    from websockets.exceptions import InvalidStatus

    from chalicelib.domain.limits import MAX_CONNECTIONS_PER_USER
    from tests.support.identities import make_user

    user = make_user()
    attempts = MAX_CONNECTIONS_PER_USER * 3

    def attempt(_: int) -> object:
        try:
            return ws_tests.connect(f"{gateway.ws_url}/?token={user.token}", open_timeout=ws_tests.DEADLINE_S)
        except InvalidStatus as refused:
            return refused.response.status_code

    with concurrent.futures.ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(attempt, range(attempts)))
    opened = [o for o in outcomes if not isinstance(o, int)]
    for ws in opened:
        sockets.enter_context(ws)
    assert len(opened) == MAX_CONNECTIONS_PER_USER, outcomes
    assert sorted(set(o for o in outcomes if isinstance(o, int))) == [429]


def test_a_closed_connection_frees_its_slot(gateway, sockets, applicant, store):
    from chalicelib.domain.limits import MAX_CONNECTIONS_PER_USER

    opened = [open_ws(gateway, sockets, applicant.token) for _ in range(MAX_CONNECTIONS_PER_USER)]
    for ws in opened:
        assert_no_frame_pending(ws)
    opened[0].close()
    deadline = time.monotonic() + EVENT_S  # the $disconnect frees the slot asynchronously
    while True:
        try:
            ws = open_ws(gateway, sockets, applicant.token)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert_no_frame_pending(ws)


# --- the notifier ------------------------------------------------------------------------------------

def test_a_send_failing_part_way_loses_the_event_for_no_recipient(client, chalice_app, store, monkeypatch):
    """Three watchers; the send to the second fails once. The others still get it, and the retry (Lambda's)
    reaches the second. At least once (issue 23): a retry or a late duplicate delivery sends the same event
    again, which a client drops by its ``event_id``."""
    from chalicelib.domain.users import Identity

    application_id = str(uuid.uuid4())
    watchers = [f"conn-{i}-{uuid.uuid4().hex[:8]}" for i in range(3)]
    for connection_id in watchers:
        store.register(connection_id, Identity(sub=str(uuid.uuid4()), groups=frozenset()))
        store.subscribe(connection_id, f"application#{application_id}")
    sent: list[str] = []
    failing = {watchers[1]: 1}

    def send(connection_id: str, message: str) -> None:
        if failing.get(connection_id):
            failing[connection_id] -= 1
            raise ConnectionResetError("management API hiccup")
        sent.append(connection_id)

    monkeypatch.setattr(chalice_app.websocket_api, "send", send)
    message = event_for(application_id)
    with pytest.raises(Exception):
        notify(client, message)  # the failed recipient makes the invocation fail: Lambda retries it
    assert sent == [watchers[0], watchers[2]]  # the failure stopped no one else
    notify(client, message)  # the retry
    assert set(sent) == set(watchers) and sent.count(watchers[1]) == 1


# --- the authorisation matrix, WebSocket side -----------------------------------------------------

@pytest.mark.parametrize("kind", [k for k in __import__("tests.test_authorization_matrix", fromlist=["x"]).BAD_TOKENS
                                  if k != "anonymous"])
def test_every_kind_of_bad_token_is_refused_at_connect(gateway, applicant, kind):
    from urllib.parse import quote

    from tests.test_authorization_matrix import BAD_TOKENS

    token = BAD_TOKENS[kind](applicant)
    assert refused_status(gateway, f"?token={quote(token, safe='')}") == 401

