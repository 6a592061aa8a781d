"""Verifies Cognito JWTs the same way everywhere: AWS, `chalice local`, the test client.

Chalice's Cognito authorizer is only decoded (not verified) by `chalice local`,
so the app verifies tokens itself: RS256 signature against the user pool's
JWKS, issuer, audience or client id, expiry and token_use. PyJWT does the
cryptography, the claim checks and the key set: its ``PyJWKClient`` caches the
pool's keys per container and refetches for an unknown ``kid`` at most once
per cooldown, so a flood of forged kids cannot turn into a flood of fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jwt

from ..domain.users import CUSTOMER_POOL, Identity
from ..services.ports import InvalidToken, TokenVerifier

JWKS_REFRESH_MIN_INTERVAL = 60.0  # an unknown kid never causes more than one fetch a minute
JWKS_LIFESPAN = 6 * 3600.0  # Cognito rotates keys rarely; an unknown kid refetches anyway


def jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(
        url, cache_jwk_set=True, lifespan=JWKS_LIFESPAN, timeout=5, cooldown_duration=JWKS_REFRESH_MIN_INTERVAL
    )


class CognitoTokenVerifier(TokenVerifier):
    """One user pool's tokens; the identity says which pool (``customer`` or ``staff``) signed in."""

    def __init__(
        self, issuer: str, client_id: str, jwks: jwt.PyJWKClient, leeway_seconds: int = 5, pool: str = CUSTOMER_POOL
    ):
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway_seconds
        self.pool = pool

    def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"malformed token: {error}") from error
        if header.get("alg") != "RS256":
            raise InvalidToken(f"algorithm {header.get('alg')!r} not allowed")
        try:
            key = self.jwks.get_signing_key(str(header.get("kid"))).key
        except jwt.PyJWKClientError as error:  # unknown kid, or the key set cannot be fetched
            raise InvalidToken(f"signing key: {error}") from error
        try:
            claims = jwt.decode(
                token,
                key,
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
