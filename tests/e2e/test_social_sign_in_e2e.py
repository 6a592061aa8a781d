"""Applicants' optional Google / Apple sign-in (issue 21), through the customer pool's managed login.

The local stack configures both (its stand-in OpenID provider plays Google and Apple, as it plays the bank's
provider for staff): the code path is the console's -- authorize with PKCE at the customer pool's domain,
the provider's sign-in, ``/oauth2/idpresponse``, the code exchanged with its verifier -- and the tokens are
the customer pool's: applicant routes take them, staff routes refuse them.
"""
from __future__ import annotations

import json
import secrets
import uuid

import jwt
import pytest

from tests.e2e.http import call

pytestmark = pytest.mark.e2e


def a_person_of_the_provider(local_stack) -> tuple[str, str]:
    email, password = f"applicant.{uuid.uuid4().hex[:10]}@mail.example", secrets.token_urlsafe(12) + "a1!"
    local_stack.provider("POST", body={"email": email, "password": password, "groups": []})
    return email, password


@pytest.mark.parametrize("provider, prefix", [("Google", "google_"), ("SignInWithApple", "signinwithapple_")])
def test_an_applicant_signs_in_with_a_social_provider_and_gets_the_customer_pools_tokens(local_stack, provider,
                                                                                          prefix):
    from devstack.signin import oauth_sign_in

    offered = local_stack.env["CUSTOMER_IDENTITY_PROVIDERS"].split(",")
    assert provider in offered
    config = call(local_stack, "GET", "/console/config.json").json()["cognito"]  # what the console offers
    assert provider in config["customer_identity_providers"] and config["customer_auth_url"]

    email, password = a_person_of_the_provider(local_stack)
    tokens = oauth_sign_in(local_stack.auth_url, local_stack.env["USER_POOL_CLIENT_ID"], local_stack.console_url,
                           provider, email, password)
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["iss"].endswith("/" + local_stack.env["USER_POOL_ID"])  # the customer pool's token
    assert claims["cognito:username"].lower().startswith(prefix) and claims["email"] == email

    mine = call(local_stack, "GET", "/applications", tokens["IdToken"])
    assert mine.status_code == 200 and mine.json()["items"] == []
    refused = call(local_stack, "GET", "/review/queue", tokens["IdToken"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "wrong_user_pool", refused.text


def test_a_wrong_password_at_the_provider_gives_no_token(local_stack):
    from devstack.signin import SignInRefused, oauth_sign_in

    email, _ = a_person_of_the_provider(local_stack)
    with pytest.raises(SignInRefused):
        oauth_sign_in(local_stack.auth_url, local_stack.env["USER_POOL_CLIENT_ID"], local_stack.console_url,
                      "Google", email, "not-the-password-1A!")


def test_the_staff_provider_is_not_offered_to_applicants(local_stack):
    from devstack.signin import SignInRefused, oauth_sign_in
    from devstack.users import STAFF_PROVIDER

    email, password = a_person_of_the_provider(local_stack)
    with pytest.raises(SignInRefused):  # the customer pool's client supports Google and Apple only
        oauth_sign_in(local_stack.auth_url, local_stack.env["USER_POOL_CLIENT_ID"], local_stack.console_url,
                      STAFF_PROVIDER, email, password)
    offered = call(local_stack, "GET", "/console/config.json").json()["cognito"]["customer_identity_providers"]
    assert json.dumps(offered) == json.dumps(["Google", "SignInWithApple"])
