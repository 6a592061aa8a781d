"""GroupMembership and ProviderTokens (issue 21, corporate sign-in): the same behaviour from fake and real.

``real`` membership is the staff pool on moto (``memory.InMemoryGroupMembership`` is its fake); ``real``
provider tokens are verified by ``OidcProviderTokens`` against the local stand-in provider, a real OpenID
provider with its own keys (``memory.StaticProviderTokens`` is their fake).
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.services.ports import InvalidToken
from tests.contracts.conftest import real_services
from tests.support.deadlines import REPLY_S


@pytest.fixture
def membership(kind: str) -> tuple[Any, str]:
    """The staff pool's membership and a user of it in no group."""
    if kind == "fake":
        return memory.InMemoryGroupMembership({"someone": ()}), "someone"
    from tests.support.identities import make_user

    user = make_user(pool="staff")
    from chalicelib.adapters.cognito_federation import CognitoGroupMembership

    return CognitoGroupMembership(real_services().client("cognito-idp"), os.environ["STAFF_USER_POOL_ID"]), user.email


def test_a_user_joins_and_leaves_groups_idempotently(membership):
    groups, username = membership
    assert groups.groups_of(username) == frozenset()
    groups.add(username, "reviewers")
    groups.add(username, "reviewers")  # again: nothing changes
    assert groups.groups_of(username) == {"reviewers"}
    groups.add(username, "operators")
    groups.remove(username, "reviewers")
    groups.remove(username, "reviewers")  # not a member any more: nothing changes
    assert groups.groups_of(username) == {"operators"}


def test_an_unknown_user_is_in_no_group(membership):
    groups, _ = membership
    assert groups.groups_of(f"nobody-{uuid.uuid4().hex}@example.com") == frozenset()


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    from devstack.oidc_provider import Person, StandInProvider

    stand_in = StandInProvider().start()
    stand_in.add(Person("rita@bank.example", "Rita-Pass-2024", {"groups": ["kyc-reviewers", "all-staff"]},
                        totp_secret="JBSWY3DPEHPK3PXPCONTRACTTESTS234"))
    yield stand_in
    stand_in.stop()


def provider_token(provider: Any, client: Any, with_mfa: bool = True) -> str:
    """An ID token of the stand-in provider for Rita, as its token endpoint gives it to a relying party."""
    import requests

    from devstack.oidc_provider import totp

    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uris[0],
             "scope": "openid email profile", "state": "s", "nonce": uuid.uuid4().hex}
    person = provider.person("rita@bank.example")
    form = {"username": person.email, "password": person.password,
            "otp": totp(person.totp_secret) if with_mfa else ""}
    if not with_mfa:
        person.totp_secret, secret = None, person.totp_secret
    try:
        answer = requests.post(f"{provider.issuer}/oauth2/authorize?{urllib.parse.urlencode(query)}", data=form,
                               allow_redirects=False, timeout=REPLY_S)
    finally:
        if not with_mfa:
            person.totp_secret = secret
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{provider.issuer}/oauth2/token", timeout=REPLY_S, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uris[0],
        "client_id": client.client_id, "client_secret": client.client_secret}).json()
    return str(tokens["id_token"])


@pytest.fixture
def tokens(kind: str, provider: Any) -> tuple[Any, Callable[..., str], str]:
    """The port, a way to get a token of the provider for Rita (with or without MFA), and her subject."""
    subject = provider.person("rita@bank.example").sub
    if kind == "fake":
        fake = memory.StaticProviderTokens()

        def issue(with_mfa: bool = True) -> str:
            methods = ("pwd", "mfa", "otp") if with_mfa else ("pwd",)
            return fake.issue(subject, ("kyc-reviewers", "all-staff"), methods)

        return fake, issue, subject
    from chalicelib.adapters.oidc_provider_tokens import OidcProviderTokens

    client = provider.register_client(["http://127.0.0.1:9/oauth2/idpresponse"])
    return (OidcProviderTokens(provider.issuer, client.client_id),
            lambda with_mfa=True: provider_token(provider, client, with_mfa), subject)


def test_a_token_of_the_provider_says_who_signed_in_their_groups_and_how(tokens):
    port, issue, subject = tokens
    sign_in = port.verify(issue())
    assert sign_in.subject == subject
    assert sign_in.groups == {"kyc-reviewers", "all-staff"}
    assert "mfa" in sign_in.methods
    assert "mfa" not in port.verify(issue(with_mfa=False)).methods


def test_anything_else_is_refused(tokens):
    port, issue, _ = tokens
    token = issue()
    for forged in ("not.a.token", token[:-8] + "AAAAAAAA", token + "x", ""):
        with pytest.raises(InvalidToken):
            port.verify(forged)


def test_the_real_verifier_refuses_another_audience_and_an_old_token(provider):
    """The real verifier's own checks (the fake knows only the tokens it issued)."""
    from chalicelib.adapters.oidc_provider_tokens import OidcProviderTokens

    ours, theirs = (provider.register_client(["http://127.0.0.1:9/cb"]) for _ in range(2))
    token = provider_token(provider, theirs)
    with pytest.raises(InvalidToken, match="(?i)audience"):
        OidcProviderTokens(provider.issuer, ours.client_id).verify(token)
    with pytest.raises(InvalidToken, match="older than this sign-in"):
        OidcProviderTokens(provider.issuer, theirs.client_id, max_age_seconds=-10).verify(token)
    assert OidcProviderTokens(provider.issuer, theirs.client_id).verify(token).subject
