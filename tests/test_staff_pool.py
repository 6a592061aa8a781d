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


def test_staff_cannot_change_their_own_email_in_the_staff_pool(api, reviewer):
    """The self-decision rule compares the staff pool's verified e-mail: a reviewer changing it to another
    address (an applicant's) would slip past it. Without a corporate provider the staff console's app client
    leaves ``email`` out of WriteAttributes; federated (issue 21), Cognito needs the mapped attributes
    writable, and what refuses is the scope: the client grants no ``aws.cognito.signin.user.admin`` and has
    no password flow, so no token it issues may write a profile. Either way Cognito (here the local stack's)
    refuses and changes nothing; decisions still see the address an administrator (or the provider) set."""
    import boto3
    import botocore.exceptions

    idp = boto3.client("cognito-idp")
    pool, client_id = os.environ["STAFF_USER_POOL_ID"], os.environ["STAFF_USER_POOL_CLIENT_ID"]
    client = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    email_writable = "email" in client["WriteAttributes"] or "email_verified" in client["WriteAttributes"]
    admin_scope = "aws.cognito.signin.user.admin" in client.get("AllowedOAuthScopes", [])
    password_flow = {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"} & set(
        client.get("ExplicitAuthFlows", []))
    assert not email_writable or (not admin_scope and not password_flow)
    for attributes in ([{"Name": "email", "Value": "someone-else@example.com"}],
                       [{"Name": "email_verified", "Value": "false"}],
                       [{"Name": "locale", "Value": "en"}, {"Name": "email", "Value": "someone-else@example.com"}]):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            idp.update_user_attributes(AccessToken=reviewer.access_token, UserAttributes=attributes)
        assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    stored = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool, Username=reviewer.email)["UserAttributes"]}
    assert stored["email"] == reviewer.email and stored.get("locale") is None
