"""Every route but /health and /openapi.json needs a token the app really verifies."""
from __future__ import annotations

import os
import time

import jwt
import pytest

from tests.support.identities import forge, random_rsa_key

PROTECTED = [("GET", "/applications"), ("POST", "/applications"),
             ("GET", "/applications/00000000-0000-4000-8000-000000000000")]


def call(api, method, path, token=None, raw_header=None):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if raw_header is not None:
        headers["Authorization"] = raw_header
    return api.call(method, path, headers=headers, raw=b"{}" if method == "POST" else b"")


def assert_401(reply):
    assert reply.status == 401, reply.body
    assert reply.body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("method,path", PROTECTED)
def test_missing_token_is_401(api, method, path):
    assert_401(call(api, method, path))


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "token-without-scheme"])
def test_malformed_authorization_headers_are_401(api, header):
    assert_401(call(api, "GET", "/applications", raw_header=header))


def test_real_cognito_id_and_access_tokens_are_accepted(api, applicant):
    assert call(api, "GET", "/applications", applicant.token).status == 200
    assert call(api, "GET", "/applications", applicant.access_token).status == 200


def test_token_signed_by_another_key_is_401(api):
    assert_401(call(api, "GET", "/applications", forge(key=random_rsa_key())))


def test_token_with_unknown_kid_is_401(api):
    assert_401(call(api, "GET", "/applications", forge(kid="someone-elses-key")))


def test_expired_token_is_401(api):
    past = int(time.time()) - 3600
    assert_401(call(api, "GET", "/applications", forge({"iat": past - 600, "exp": past})))


def test_alg_none_is_401(api):
    assert_401(call(api, "GET", "/applications", forge(algorithm="none")))


def test_hs256_signed_with_the_public_key_is_401(api):
    """The classic key-confusion attack: HMAC keyed with the RSA public key."""
    token = jwt.encode({"sub": "x", "token_use": "id"}, "public-key-text", algorithm="HS256",
                       headers={"kid": "dummy"})
    assert_401(call(api, "GET", "/applications", token))


def test_wrong_audience_is_401(api):
    assert_401(call(api, "GET", "/applications", forge({"aud": "another-client"})))


def test_access_token_for_another_client_is_401(api):
    assert_401(call(api, "GET", "/applications",
                    forge({"token_use": "access", "aud": None, "client_id": "another-client"})))


def test_wrong_issuer_is_401(api):
    assert_401(call(api, "GET", "/applications", forge({"iss": "https://evil.example.com/pool"})))


@pytest.mark.parametrize("token_use", ["refresh", None])
def test_wrong_or_missing_token_use_is_401(api, token_use):
    assert_401(call(api, "GET", "/applications", forge({"token_use": token_use})))


def test_tampered_payload_is_401(api, applicant):
    header, payload, signature = applicant.token.split(".")
    claims = jwt.utils.base64url_decode(payload + "==")
    forged_payload = jwt.utils.base64url_encode(claims.replace(b'"sub"', b'"sub" ')).decode()
    assert_401(call(api, "GET", "/applications", f"{header}.{forged_payload}.{signature}"))


def test_a_correctly_signed_token_is_accepted_which_proves_the_negative_cases_are_about_claims(api):
    assert call(api, "GET", "/applications", forge()).status == 200


def test_public_routes_need_no_token(api):
    assert api.get("/health").status == 200
    assert api.get("/openapi.json").status == 200


def test_jwks_is_fetched_once_and_cached(api, applicant):
    from chalicelib.adapters.cognito_tokens import jwks_client
    from chalicelib.bootstrap import services

    verifier = services().verifier.by_issuer[os.environ["COGNITO_ISSUER"]]  # the customer pool's
    fetches = []
    fresh = jwks_client(os.environ["COGNITO_JWKS_URL"])
    original = fresh.fetch_data
    fresh.fetch_data = lambda: fetches.append(1) or original()
    saved, verifier.jwks = verifier.jwks, fresh
    try:
        for _ in range(5):
            assert call(api, "GET", "/applications", applicant.token).status == 200
        for _ in range(5):  # unknown kids do not hammer the JWKS endpoint
            assert_401(call(api, "GET", "/applications", forge(kid=f"k{_}")))
    finally:
        verifier.jwks = saved
    assert len(fetches) == 1
