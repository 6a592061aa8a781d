"""Staff removal is live everywhere (issue 18, item 4): REST and WebSocket, reviewers and operators,
removed from the group, deleted or disabled (AdminDisableUser).

A token stays valid for up to an hour after any of these. The app asks the staff pool instead, and
trusts each answer for ``StaffAccess.ttl_seconds`` (the bound, docs/security.md). The tests show the
bound by moving that cache's clock past it (``staff_bound_passed``), never by sleeping: within the
bound the old answer may still hold; past it, every path refuses.
"""
from __future__ import annotations

import os

import boto3
import pytest

from tests import test_websocket as ws_tests
from tests.support.identities import make_user, staff_bound_passed
from tests.test_authorization_matrix import audience, call, documented_operations
from tests.test_review_api import flagged_via_api
from tests.test_websocket import ask, event_for, notify, open_ws, recv, refused_status

gateway, sockets, store = ws_tests.gateway, ws_tests.sockets, ws_tests.store


def administer(action: str, user) -> None:
    """What an administrator does in the staff pool."""
    idp, pool = boto3.client("cognito-idp"), os.environ["STAFF_USER_POOL_ID"]
    if action == "remove":
        for group in user.groups:
            idp.admin_remove_user_from_group(UserPoolId=pool, Username=user.email, GroupName=group)
    elif action == "delete":
        idp.admin_delete_user(UserPoolId=pool, Username=user.email)
    else:
        idp.admin_disable_user(UserPoolId=pool, Username=user.email)


ACTIONS = ("remove", "delete", "disable")


def routes_of(api, group: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p, secured in documented_operations(api) if secured and audience(p) == group]


def concrete(path: str, application_id: str) -> str:
    return path.replace("{application_id}", application_id).replace("{name}", "address-check")


@pytest.mark.parametrize("group", ["reviewers", "operators"])
@pytest.mark.parametrize("action", ACTIONS)
def test_every_staff_route_refuses_a_removed_deleted_or_disabled_user_within_the_bound(api, applicant, group,
                                                                                        action):
    user = make_user((group,))
    app_id = flagged_via_api(api, applicant)
    probe = "/review/queue" if group == "reviewers" else "/operations/workflow"
    assert api.get(probe, user=user).status == 200  # the pool's answer is now cached
    administer(action, user)
    with staff_bound_passed():
        for method, path in routes_of(api, group):
            for token in (user.token, user.access_token):
                reply = call(api, method, concrete(path, app_id), token)
                assert reply.status == 403 and reply.body["error"]["code"] == "forbidden", (action, method, path,
                                                                                         reply.status, reply.body)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_open_websocket_gets_no_staff_frame_once_its_user_is_removed_deleted_or_disabled(
        gateway, sockets, api, applicant, action):
    leaving, staying = make_user(("reviewers",)), make_user(("reviewers",))
    sockets_of = {}
    for user in (leaving, staying):
        sockets_of[user.sub] = open_ws(gateway, sockets, user.token)
        assert ask(sockets_of[user.sub], {"action": "subscribe", "topic": "review-queue"})["type"] == "subscribed"
    app_id = flagged_via_api(api, applicant)
    flagged = dict(event_for(app_id, seq=6, type_="application.flagged", from_state="VERIFYING", state="FLAGGED"),
                   actor="reviewer:someone", reason="internal: a note only staff may read",
                   details={"reviewer_email": "colleague@bank.example"})
    notify(ws_tests_client(api), flagged)
    for user in (leaving, staying):  # both still reviewers: both get the staff frame
        assert recv(sockets_of[user.sub])["events"][0]["reason"].startswith("internal")
    administer(action, leaving)
    with staff_bound_passed():
        notify(ws_tests_client(api), dict(flagged, event_id=f"{app_id}#7", seq=7))
        ended = recv(sockets_of[leaving.sub])  # told once, then forgotten: no event frame
        assert (ended["type"], ended["code"]) == ("error", "forbidden"), ended
        assert recv(sockets_of[staying.sub])["events"][0]["seq"] == 7
        reply = ask(sockets_of[leaving.sub], {"action": "subscribe", "topic": "review-queue"})
        assert reply["type"] == "error" and reply["code"] in ("unauthorized", "forbidden"), reply
        notify(ws_tests_client(api), dict(flagged, event_id=f"{app_id}#8", seq=8))
        assert recv(sockets_of[staying.sub])["events"][0]["seq"] == 8
        assert ask(sockets_of[leaving.sub], {"action": "ping"}) == {"type": "pong"}  # nothing else arrived


@pytest.mark.parametrize("action", ["delete", "disable"])
def test_a_deleted_or_disabled_staff_user_cannot_open_a_websocket(gateway, action):
    from urllib.parse import quote

    user = make_user(("reviewers",))
    administer(action, user)
    with staff_bound_passed():
        assert refused_status(gateway, f"?token={quote(user.token, safe='')}") == 401


def ws_tests_client(api):
    return api.client
