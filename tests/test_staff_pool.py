"""Staff apart from customers: each user pool's tokens only for its own routes (issue 11, hardened resources).

Applicants sign up in the customer pool; reviewers and operators are invited
into the staff pool (MFA required, no self sign-up). The verifier accepts
tokens of both pools, each checked against its own issuer, key set and app
client, and says which pool signed; a group claim counts only in the staff
pool, and the live group re-check asks the staff pool. The cross-pool matrix
over every documented route is in test_authorization_matrix.py, the WebSocket
frames in test_websocket_rights.py.
"""
from __future__ import annotations

import os

import pytest

from tests.support.deadlines import REPLY_S
from tests.support.identities import forge, make_user


def verifier():
    from chalicelib.bootstrap import services

    return services().verifier


def pool_kid() -> str:
    import json
    import urllib.request

    with urllib.request.urlopen(os.environ["STAFF_COGNITO_JWKS_URL"], timeout=REPLY_S) as r:
        return json.loads(r.read())["keys"][0]["kid"]


# --- the verifier -----------------------------------------------------------------------------------


def test_the_verifier_says_which_pool_signed_the_token(applicant, reviewer):
    assert verifier().verify(applicant.token).pool == "customer"
    staff = verifier().verify(reviewer.token)
    assert (staff.pool, staff.groups, staff.is_reviewer) == ("staff", frozenset({"reviewers"}), True)


def test_a_customer_pool_group_named_reviewers_makes_no_reviewer():
    impostor = verifier().verify(make_user(("reviewers",), pool="customer").token)
    assert impostor.pool == "customer" and "reviewers" in impostor.groups
    assert not impostor.is_reviewer and not impostor.is_operator


@pytest.mark.parametrize("claims, pool", [
    ({"aud": "USER_POOL_CLIENT_ID"}, "staff"),  # the staff issuer, the customer pool's client
    ({"aud": "STAFF_USER_POOL_CLIENT_ID"}, "customer"),  # the customer issuer, the staff pool's client
])
def test_each_pool_accepts_only_tokens_for_its_own_client(claims, pool):
    from chalicelib.services.ports import InvalidToken

    token = forge({"aud": os.environ[claims["aud"]], "cognito:groups": ["reviewers"]}, kid=pool_kid(), pool=pool)
    with pytest.raises(InvalidToken, match="another client"):
        verifier().verify(token)


def test_both_pools_tokens_are_signed_correctly_when_forged_here(applicant):
    """The forge helper is right for both pools (so the refusals above are about the client, not the key)."""
    assert verifier().verify(forge({}, kid=pool_kid(), pool="staff")).pool == "staff"
    assert verifier().verify(forge({}, kid=pool_kid())).pool == "customer"


def test_two_pools_with_one_issuer_are_a_configuration_error():
    from chalicelib.adapters.cognito_tokens import CognitoTokenVerifier, UserPoolsTokenVerifier, jwks_client

    jwks = jwks_client("https://example.invalid/jwks.json")
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_same"
    with pytest.raises(ValueError, match="share the issuer"):
        UserPoolsTokenVerifier([CognitoTokenVerifier(issuer, "a", jwks, pool="customer"),
                                CognitoTokenVerifier(issuer, "b", jwks, pool="staff")])


def test_a_pool_without_an_issuer_accepts_nothing(applicant):
    from chalicelib.adapters.cognito_tokens import CognitoTokenVerifier, UserPoolsTokenVerifier, jwks_client
    from chalicelib.services.ports import InvalidToken

    only_staff = UserPoolsTokenVerifier([
        CognitoTokenVerifier("", "", jwks_client("https://example.invalid/jwks.json"), pool="customer"),
        CognitoTokenVerifier(os.environ["STAFF_COGNITO_ISSUER"], os.environ["STAFF_USER_POOL_CLIENT_ID"],
                             jwks_client(os.environ["STAFF_COGNITO_JWKS_URL"]), pool="staff"),
    ])
    with pytest.raises(InvalidToken, match="unknown issuer"):
        only_staff.verify(applicant.token)


# --- the live group re-check asks the staff pool ------------------------------------------------------


def test_the_group_directory_is_the_staff_pools(reviewer):
    from chalicelib.bootstrap import services

    impostor = make_user(("reviewers",), pool="customer")
    found = services().directory.user(reviewer.email)
    assert found.groups == frozenset({"reviewers"}) and found.sub == reviewer.sub and found.enabled
    assert services().directory.user(impostor.email) is None  # not a staff-pool user at all


# --- REST: the error each side gets ---------------------------------------------------------------------


def test_a_customer_token_claiming_reviewers_gets_a_machine_readable_403_on_staff_routes(api):
    impostor = make_user(("reviewers",), pool="customer")
    for path in ("/review/queue", "/operations/workflow"):
        reply = api.get(path, user=impostor)
        assert reply.status == 403, reply.body
        assert reply.body["error"]["code"] == "wrong_user_pool"
        assert reply.body["error"]["details"] == {"token_pool": "customer", "required_pool": "staff"}
        assert "request_id" in reply.body


def test_a_staff_token_on_applicant_routes_gets_403_and_creates_nothing(api, reviewer):
    from tests.support.documents import make_declared

    reply = api.post("/applications", make_declared(), user=reviewer)
    assert reply.status == 403, reply.body
    assert reply.body["error"]["code"] == "wrong_user_pool"
    assert reply.body["error"]["details"] == {"token_pool": "staff", "required_pool": "customer"}
    reply = api.get("/applications", user=reviewer)
    assert (reply.status, reply.body["error"]["code"]) == (403, "wrong_user_pool")


def test_a_staff_token_with_a_bad_body_is_refused_for_its_pool_first(api, reviewer):
    reply = api.call("POST", "/applications", headers=reviewer.auth, raw=b"{not json")
    assert (reply.status, reply.body["error"]["code"]) == (403, "wrong_user_pool")
