"""Corporate sign-in for staff (issue 21), through the real entry points.

- The app's ``staff_token_groups`` function (the staff pool's pre-token-generation trigger) as Lambda
  calls it: Cognito's event in, the answered event out.
- The local stack's stand-in of the user pool domain (devstack/hosted_ui.py) with the stand-in corporate
  provider: the console's authorization code + PKCE, and what it must refuse.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.deadlines import REPLY_S
from tests.support.staff import trigger_event


@pytest.fixture
def federated(client):
    """The app with fakes behind its federation: a provider's tokens and the staff pool's membership."""
    from chalicelib import bootstrap
    from chalicelib.adapters.memory import InMemoryGroupMembership, StaticProviderTokens
    from chalicelib.domain.federation import FederationPolicy, GroupMapping
    from chalicelib.services.federation import StaffFederation

    saved = bootstrap._services
    services = bootstrap.services()
    tokens, membership = StaticProviderTokens(), InMemoryGroupMembership()
    policy = FederationPolicy("Corporate", GroupMapping.parse("reviewers=kyc-reviewers;operators=kyc-operations"))
    services.__dict__["federation"] = StaffFederation(policy, tokens, membership)
    try:
        yield client, tokens, membership
    finally:
        services.__dict__.pop("federation", None)
        bootstrap.replace(saved)


def test_the_trigger_answers_cognito_with_the_providers_groups_and_keeps_the_providers_token_out(federated):
    client, tokens, membership = federated
    event = trigger_event("Corporate_rita", tokens.issue("rita", ("kyc-operations",)))
    answer = client.lambda_.invoke("staff_token_groups", event).payload
    details = answer["response"]["claimsOverrideDetails"]
    assert details["groupOverrideDetails"]["groupsToOverride"] == ["operators"]
    assert details["claimsToSuppress"] == ["custom:idp_id_token"]
    assert membership.groups_of("Corporate_rita") == {"operators"}
    assert answer["userName"] == "Corporate_rita"  # the rest of Cognito's event, as it came


def test_the_trigger_refuses_a_sign_in_without_mfa_so_cognito_issues_no_token(federated):
    client, tokens, membership = federated
    event = trigger_event("Corporate_rita", tokens.issue("rita", ("kyc-reviewers",), ("pwd",)))
    with pytest.raises(Exception, match="MFA"):
        client.lambda_.invoke("staff_token_groups", event)
    assert membership.groups_of("Corporate_rita") == frozenset()


def test_the_trigger_refuses_what_is_not_cognitos_event(federated):
    client, _, _ = federated
    for event in ({}, {"triggerSource": "PreSignUp_SignUp", "userName": "x", "request": {}}, []):
        with pytest.raises(Exception, match="event"):
            client.lambda_.invoke("staff_token_groups", event)


# --- the user pool domain's stand-in, with the stand-in provider -------------------------------------------


@pytest.fixture(scope="module")
def domain() -> Iterator[dict[str, Any]]:
    """A user pool with the corporate provider, on this session's moto (in-process), its domain's endpoints."""
    import boto3

    from devstack.hosted_ui import HostedUi
    from devstack.oidc_provider import Person, StandInProvider, new_totp_secret

    cognito = boto3.client("cognito-idp")
    hosted = HostedUi().start()
    provider = StandInProvider().start()
    secret = new_totp_secret()
    provider.add(Person("rita@bank.example", "Rita-Pass-2024!", {"groups": ["kyc-reviewers"]}, totp_secret=secret))
    registration = provider.register_client([f"{hosted.url}/oauth2/idpresponse"])
    pool = cognito.create_user_pool(PoolName="federation-test", UsernameAttributes=["email"],
                                    Schema=[{"Name": "idp_id_token", "AttributeDataType": "String", "Mutable": True}]
                                    )["UserPool"]["Id"]
    cognito.create_identity_provider(UserPoolId=pool, ProviderName="Corporate", ProviderType="OIDC", ProviderDetails={
        "client_id": registration.client_id, "client_secret": registration.client_secret,
        "oidc_issuer": provider.issuer, "authorize_scopes": "openid email profile"},
        AttributeMapping={"email": "email", "custom:idp_id_token": "id_token"})
    console = "http://127.0.0.1:9/console"
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="console", ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[console], LogoutURLs=[console], SupportedIdentityProviders=["Corporate"],
        RefreshTokenValidity=60, TokenValidityUnits={"RefreshToken": "minutes"})["UserPoolClient"]["ClientId"]
    yield {"url": hosted.url, "client_id": client_id, "console": console, "pool": pool, "cognito": cognito,
           "secret": secret, "provider": provider}
    provider.stop()
    hosted.stop()


def code_for(domain: dict[str, Any], challenge: str) -> str:
    """Through authorize and the provider's sign-in, back to the console with a code."""
    from devstack.oidc_provider import totp

    with requests.Session() as browser:
        answer = browser.get(f"{domain['url']}/oauth2/authorize", allow_redirects=False, timeout=REPLY_S, params={
            "response_type": "code", "client_id": domain["client_id"], "redirect_uri": domain["console"],
            "scope": "openid email", "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})
        login = answer.headers["Location"]
        answer = browser.post(login, allow_redirects=False, timeout=REPLY_S, data={
            "username": "rita@bank.example", "password": "Rita-Pass-2024!", "otp": totp(domain["secret"])})
        back = browser.get(answer.headers["Location"], allow_redirects=False, timeout=REPLY_S).headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert back.startswith(domain["console"]) and query["state"] == ["s1"], back
    return query["code"][0]


def exchange(domain: dict[str, Any], **form: str) -> requests.Response:
    return requests.post(f"{domain['url']}/oauth2/token", timeout=REPLY_S, data={
        "client_id": domain["client_id"], "redirect_uri": domain["console"], **form})


def test_a_code_goes_only_with_its_pkce_verifier_once_and_the_tokens_are_the_pools(domain):
    from devstack.signin import pkce_pair

    verifier, challenge = pkce_pair()
    code = code_for(domain, challenge)
    assert exchange(domain, grant_type="authorization_code", code=code, code_verifier="wrong" * 9).json()[
        "error"] == "invalid_grant"
    code = code_for(domain, challenge)
    answer = exchange(domain, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert exchange(domain, grant_type="authorization_code", code=code, code_verifier=verifier).status_code == 400
    claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    assert claims["iss"].endswith("/" + domain["pool"]) and claims["aud"] == domain["client_id"]
    assert claims["cognito:username"].startswith("Corporate_") and claims["identities"][0]["providerName"] == "Corporate"
    assert "custom:idp_id_token" in json.dumps(domain["cognito"].admin_get_user(
        UserPoolId=domain["pool"], Username=claims["cognito:username"])["UserAttributes"])  # the provider's token, kept
    refreshed = exchange(domain, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200 and "id_token" in refreshed.json()
    assert requests.post(f"{domain['url']}/oauth2/revoke", timeout=REPLY_S,
                         data={"client_id": domain["client_id"], "token": tokens["refresh_token"]}).status_code == 200
    assert exchange(domain, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


def test_a_disabled_user_gets_no_more_tokens(domain):
    from devstack.signin import pkce_pair

    verifier, challenge = pkce_pair()
    tokens = exchange(domain, grant_type="authorization_code", code=code_for(domain, challenge),
                      code_verifier=verifier).json()
    username = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))["cognito:username"]
    domain["cognito"].admin_disable_user(UserPoolId=domain["pool"], Username=username)
    try:
        assert exchange(domain, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400
        with pytest.raises(KeyError):  # signing in again is refused: back to the console with an error, no code
            code_for(domain, challenge)
    finally:
        domain["cognito"].admin_enable_user(UserPoolId=domain["pool"], Username=username)


def test_authorize_refuses_a_redirect_uri_the_client_does_not_have_and_the_password_flow_is_off(domain):
    answer = requests.get(f"{domain['url']}/oauth2/authorize", allow_redirects=False, timeout=REPLY_S, params={
        "response_type": "code", "client_id": domain["client_id"], "redirect_uri": "https://evil.example/cb",
        "identity_provider": "Corporate"})
    assert answer.status_code == 400 and "redirect_mismatch" in answer.text
    with pytest.raises(domain["cognito"].exceptions.InvalidParameterException):
        domain["cognito"].initiate_auth(ClientId=domain["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": "rita@bank.example", "PASSWORD": "x"})
