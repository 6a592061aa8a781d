"""Verifies Cognito JWTs the same way everywhere: AWS, `chalice local`, the test client.

Chalice's Cognito authorizer is only decoded (not verified) by `chalice local`,
so the app verifies tokens itself: RS256 signature against the user pool's
JWKS, issuer, audience or client id, expiry and token_use. PyJWT does the claim
checks and fetches the key set (its ``PyJWKClient.fetch_data``: http(s) only,
no redirects, a timeout); the signature is checked by ``rs256`` (standard
library, so the Lambda package carries no ``cryptography``). ``JwksClient``
caches the pool's keys per container and refetches for an unknown ``kid`` at
most once per cooldown, so a flood of forged kids cannot turn into a flood of
fetches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import jwt

from ..domain.users import CUSTOMER_POOL, Identity
from ..services.ports import InvalidToken, TokenVerifier
from .rs256 import RS256, RsaPublicKey

JWKS_REFRESH_MIN_INTERVAL = 60.0  # an unknown kid never causes more than one fetch a minute
JWKS_LIFESPAN = 6 * 3600.0  # Cognito rotates keys rarely; an unknown kid refetches anyway


class JwksError(jwt.PyJWKClientError):
    """No usable key for the token (unknown kid, or a key set without RS256 signing keys)."""


class JwksClient:
    """The pool's RS256 signing keys by kid: cached for ``lifespan`` seconds; an unknown kid
    refetches the set, but never sooner than ``cooldown`` seconds after the last fetch."""

    def __init__(self, url: str, lifespan: float, cooldown: float, timeout: float = 5):
        self.uri = url
        self.lifespan = lifespan
        self.cooldown = cooldown
        self._fetcher = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._keys: dict[str, RsaPublicKey] = {}
        self._fetched_at: float | None = None
        self._last_successful_fetch: float | None = None
        self._lock = threading.Lock()

    def fetch_data(self) -> Any:
        """The key set as JSON (raises ``jwt.PyJWKClientError`` when it cannot be fetched or read)."""
        try:
            return self._fetcher.fetch_data()
        except ValueError as error:  # not JSON
            raise JwksError(f"the key set is not JSON: {error}") from error

    def _refresh(self) -> None:
        data = self.fetch_data()
        listed = data.get("keys") if isinstance(data, dict) else None
        keys: dict[str, RsaPublicKey] = {}
        for jwk in listed if isinstance(listed, list) else []:
            if not isinstance(jwk, dict) or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
                continue
            if jwk.get("alg", "RS256") != "RS256":
                continue
            try:
                keys[str(jwk["kid"])] = RsaPublicKey.from_jwk(jwk)
            except ValueError:
                continue  # an unusable key: skipped, as PyJWT's key set does
        if not keys:
            raise JwksError("the key set holds no usable RS256 signing key")
        self._keys = keys
        self._fetched_at = self._last_successful_fetch = time.monotonic()

    def signing_key(self, kid: str) -> RsaPublicKey:
        with self._lock:
            if self._fetched_at is None or time.monotonic() - self._fetched_at > self.lifespan:
                self._refresh()
            key = self._keys.get(kid)
            if key is None and (
                self._last_successful_fetch is None or time.monotonic() - self._last_successful_fetch >= self.cooldown
            ):
                self._refresh()
                key = self._keys.get(kid)
            if key is None:
                raise JwksError(f"no signing key matches kid {kid!r}")
            return key


def jwks_client(url: str) -> JwksClient:
    return JwksClient(url, lifespan=JWKS_LIFESPAN, cooldown=JWKS_REFRESH_MIN_INTERVAL)


class _RS256Only(jwt.PyJWT):
    """PyJWT's decoder and claim checks with one algorithm: RS256 from ``rs256`` (none, HS* or a
    ``cryptography`` RS256 can never be picked, whatever is installed)."""

    def __init__(self) -> None:
        super().__init__()
        self._jws = jwt.PyJWS(algorithms=[], options=self._get_sig_options())
        self._jws.register_algorithm("RS256", RS256())


_decoder = _RS256Only()


def rs256_kid(token: str) -> str:
    """The key id in the (unverified) header of an RS256 token; InvalidToken for a malformed token or any
    other algorithm (none, HS*: never chosen by the token)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(f"malformed token: {error}") from error
    if header.get("alg") != "RS256":
        raise InvalidToken(f"algorithm {header.get('alg')!r} not allowed")
    return str(header.get("kid"))


class CognitoTokenVerifier(TokenVerifier):
    """One user pool's tokens; the identity says which pool (``customer`` or ``staff``) signed in."""

    def __init__(
        self, issuer: str, client_id: str, jwks: JwksClient, leeway_seconds: int = 5, pool: str = CUSTOMER_POOL
    ):
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway_seconds
        self.pool = pool

    def verify(self, token: str) -> Identity:
        kid = rs256_kid(token)
        try:
            key = self.jwks.signing_key(kid)
        except jwt.PyJWKClientError as error:  # unknown kid, or the key set cannot be fetched
            raise InvalidToken(f"signing key: {error}") from error
        try:
            claims = _decoder.decode(
                token,
                key,  # type: ignore[arg-type]  # our RS256 takes RsaPublicKey (rs256.py)
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        self._check_audience(claims)
        return Identity(
            sub=claims["sub"],
            groups=frozenset(claims.get("cognito:groups") or ()),
            email=claims.get("email"),
            token_use=claims["token_use"],
            username=claims.get("cognito:username") or claims.get("username"),
            expires_at=int(claims["exp"]),
            pool=self.pool,
        )

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


class UserPoolsTokenVerifier(TokenVerifier):
    """Tokens of several user pools (applicants', staff's), each checked only against its own pool.

    The token's unverified ``iss`` only picks which pool's verifier looks at it; that verifier
    then checks the signature with that pool's JWKS, the issuer again, and that the audience is
    that pool's app client. A token of an unknown issuer is refused before any key is fetched.
    """

    def __init__(self, verifiers: Iterable[CognitoTokenVerifier]):
        self.by_issuer: dict[str, CognitoTokenVerifier] = {}
        for verifier in verifiers:
            if not verifier.issuer:
                continue  # a pool not configured: none of its tokens is accepted
            if verifier.issuer in self.by_issuer:
                raise ValueError(f"two user pools share the issuer {verifier.issuer!r}")
            self.by_issuer[verifier.issuer] = verifier

    def verify(self, token: str) -> Identity:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as error:
            raise InvalidToken(f"malformed token: {error}") from error
        verifier = self.by_issuer.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise InvalidToken("token of an unknown issuer")
        return verifier.verify(token)
