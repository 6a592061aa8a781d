"""The JWKS behaviour the verifier keeps with PyJWT's PyJWKClient: cache, refetch for an
unknown kid, and no more than one refetch per cooldown however many forged kids arrive."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.cognito_tokens import JWKS_REFRESH_MIN_INTERVAL, CognitoTokenVerifier, jwks_client
from chalicelib.services.ports import InvalidToken

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"
CLIENT = "client-1"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str) -> dict:
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig",
            "alg": "RS256"}


def token(key, kid: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": str(uuid.uuid4()), "aud": CLIENT, "token_use": "id", "iat": now,
              "exp": now + 600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class KeySet:
    """The pool's JWKS endpoint on 127.0.0.1, counting fetches; ``keys`` can rotate between fetches."""

    def __init__(self, *keys: dict):
        self.keys = list(keys)
        self.fetches = 0
        self.failing = False
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(500 if owner.failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def verifier(self) -> CognitoTokenVerifier:
        return CognitoTokenVerifier(ISSUER, CLIENT, jwks_client(self.url))


@pytest.fixture
def serve():
    with contextlib.ExitStack() as stack:

        def start(*keys: dict) -> KeySet:
            endpoint = KeySet(*keys)
            stack.callback(endpoint.server.shutdown)
            return endpoint

        yield start


def past_cooldown(verifier: CognitoTokenVerifier) -> None:
    verifier.jwks._last_successful_fetch = time.monotonic() - JWKS_REFRESH_MIN_INTERVAL - 1


def test_keys_are_fetched_once_and_cached(serve):
    key = new_key()
    endpoint = serve(jwk(key, "a"))
    verifier = endpoint.verifier()
    for _ in range(5):
        verifier.verify(token(key, "a"))
    assert endpoint.fetches == 1


def test_unknown_kids_cause_at_most_one_fetch_per_cooldown(serve):
    key, forged = new_key(), new_key()
    endpoint = serve(jwk(key, "a"))
    verifier = endpoint.verifier()
    verifier.verify(token(key, "a"))
    for n in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(token(forged, f"forged-{n}"))
    assert endpoint.fetches == 1


def test_a_rotated_key_is_fetched_once_the_cooldown_has_passed(serve):
    old, new = new_key(), new_key()
    endpoint = serve(jwk(old, "old"))
    verifier = endpoint.verifier()
    verifier.verify(token(old, "old"))
    endpoint.keys.append(jwk(new, "new"))  # the pool rotates
    past_cooldown(verifier)
    assert verifier.verify(token(new, "new")).token_use == "id"
    assert endpoint.fetches == 2
    for n in range(5):  # and right after that refetch, forged kids wait for the next cooldown
        with pytest.raises(InvalidToken):
            verifier.verify(token(new_key(), f"forged-{n}"))
    assert endpoint.fetches == 2


def test_an_unreachable_key_set_refuses_the_token(serve):
    key = new_key()
    endpoint = serve(jwk(key, "a"))
    endpoint.failing = True
    with pytest.raises(InvalidToken):
        endpoint.verifier().verify(token(key, "a"))
