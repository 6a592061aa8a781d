"""Verifies Cognito JWTs the same way everywhere: AWS, `chalice local`, the test client.

Chalice's Cognito authorizer is only decoded (not verified) by `chalice local`,
so the app verifies tokens itself: RS256 signature against the user pool's
JWKS (fetched once per container and cached), issuer, audience or client id,
expiry and token_use. PyJWT does the cryptography and claim checks.
"""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Optional

import jwt

REVIEWERS_GROUP = "reviewers"
JWKS_REFRESH_MIN_INTERVAL = 60.0  # an unknown kid never causes more than one fetch a minute


class InvalidToken(Exception):
    """Any reason a token is not accepted; the message says which, for logs only."""


@dataclass(frozen=True)
class Identity:
    sub: str
    groups: frozenset[str]
    email: Optional[str] = None
    token_use: str = "id"

    @property
    def is_reviewer(self) -> bool:
        return REVIEWERS_GROUP in self.groups

    def to_context(self) -> dict[str, str]:
        """Flat strings, the shape an API Gateway authorizer context has."""
        return {"principalId": self.sub, "groups": ",".join(sorted(self.groups)),
                "email": self.email or "", "token_use": self.token_use}

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> "Identity":
        groups = frozenset(g for g in (context.get("groups") or "").split(",") if g)
        return cls(sub=context["principalId"], groups=groups, email=context.get("email") or None,
                   token_use=context.get("token_use", "id"))


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - URL from configuration
        return json.loads(response.read())


class JwksCache:
    """The pool's signing keys by kid, refreshed on an unknown kid at most once a minute."""

    def __init__(self, url: str, fetch: Callable[[str], dict[str, Any]] = _fetch_json):
        self._url = url
        self._fetch = fetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        if kid not in self._keys:
            self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("unknown signing key") from None

    def _refresh(self) -> None:
        with self._lock:
            if self._keys and time.monotonic() - self._fetched_at < JWKS_REFRESH_MIN_INTERVAL:
                return
            try:
                jwks = jwt.PyJWKSet.from_dict(self._fetch(self._url))
            except Exception as error:  # network, JSON or key errors: the token cannot be checked
                raise InvalidToken(f"cannot load JWKS: {error}") from error
            self._keys = {k.key_id: k.key for k in jwks.keys if k.key_id}
            self._fetched_at = time.monotonic()


class TokenVerifier:
    def __init__(self, issuer: str, client_id: str, jwks: JwksCache, leeway_seconds: int = 5):
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway_seconds

    def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"malformed token: {error}") from error
        if header.get("alg") != "RS256":
            raise InvalidToken(f"algorithm {header.get('alg')!r} not allowed")
        key = self.jwks.key(str(header.get("kid")))
        try:
            claims = jwt.decode(
                token, key, algorithms=["RS256"], issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        self._check_audience(claims)
        return Identity(sub=claims["sub"], groups=frozenset(claims.get("cognito:groups") or ()),
                        email=claims.get("email"), token_use=claims["token_use"])

    def _check_audience(self, claims: dict[str, Any]) -> None:
        """ID tokens name the app client in ``aud``; access tokens in ``client_id``."""
        token_use = claims.get("token_use")
        if token_use == "id":
            audience = claims.get("aud")
        elif token_use == "access":
            audience = claims.get("client_id")
        else:
            raise InvalidToken(f"token_use {token_use!r} not allowed")
        if audience != self.client_id:
            raise InvalidToken("token was issued to another client")

    def verify_bearer(self, header_value: Optional[str]) -> Identity:
        if not header_value:
            raise InvalidToken("missing token")
        scheme, _, token = header_value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected 'Authorization: Bearer <token>'")
        return self.verify(token.strip())


_verifier: Optional[TokenVerifier] = None


def verifier() -> TokenVerifier:
    """One verifier per container, configured from the environment."""
    global _verifier
    if _verifier is None:
        _verifier = TokenVerifier(
            issuer=os.environ["COGNITO_ISSUER"],
            client_id=os.environ["USER_POOL_CLIENT_ID"],
            jwks=JwksCache(os.environ["COGNITO_JWKS_URL"]),
        )
    return _verifier
