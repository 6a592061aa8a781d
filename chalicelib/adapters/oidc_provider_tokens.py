"""The corporate identity provider's ID tokens, verified as the app verifies Cognito's (issue 21).

The provider is found from its issuer (``/.well-known/openid-configuration`` ->
``jwks_uri``), its keys cached per container by the same ``JwksClient`` (an
unknown ``kid`` refetches at most once a cooldown) and its RS256 signatures
checked by ``rs256`` (standard library). A token is accepted only from the
configured issuer, for the configured client (the app registered at the
provider), unexpired, and issued within ``max_age_seconds``: the token Cognito
mapped to the user's profile at this very sign-in, never an older one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any, Optional

import jwt

from ..domain.federation import ProviderSignIn, claim_values
from ..services.ports import InvalidToken, ProviderTokens
from .cognito_tokens import JWKS_LIFESPAN, JWKS_REFRESH_MIN_INTERVAL, JwksClient, _RS256Only, rs256_kid

DISCOVERY = "/.well-known/openid-configuration"


class OidcProviderTokens(ProviderTokens):
    def __init__(
        self,
        issuer: str,
        client_id: str,
        groups_claim: str = "groups",
        max_age_seconds: int = 600,
        leeway_seconds: int = 5,
        timeout: float = 5,
    ):
        self.issuer = issuer
        self.client_id = client_id
        self.groups_claim = groups_claim
        self.max_age = max_age_seconds
        self.leeway = leeway_seconds
        self.timeout = timeout
        self._jwks: Optional[JwksClient] = None
        self._lock = threading.Lock()
        self._decoder = _RS256Only()

    def _keys(self) -> JwksClient:
        with self._lock:
            if self._jwks is None:
                url = self.issuer.rstrip("/") + DISCOVERY
                try:
                    with urllib.request.urlopen(url, timeout=self.timeout) as answer:  # noqa: S310 - configured
                        document: Any = json.loads(answer.read())
                except (OSError, ValueError) as error:
                    raise InvalidToken(f"the provider's discovery document cannot be read: {error}") from error
                if not isinstance(document, dict) or document.get("issuer") != self.issuer:
                    raise InvalidToken("the provider's discovery document names another issuer")
                self._jwks = JwksClient(
                    str(document.get("jwks_uri")), JWKS_LIFESPAN, JWKS_REFRESH_MIN_INTERVAL, timeout=self.timeout
                )
            return self._jwks

    def verify(self, token: str) -> ProviderSignIn:
        if not self.issuer or not self.client_id:
            raise InvalidToken("no corporate identity provider is configured")
        kid = rs256_kid(token)
        try:
            key = self._keys().signing_key(kid)
            claims = self._decoder.decode(
                token,
                key,  # type: ignore[arg-type]  # our RS256 takes RsaPublicKey (rs256.py)
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=self.client_id,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError as error:  # the signing key (unknown kid, key set unreadable) included
            raise InvalidToken(str(error)) from error
        if time.time() - float(claims["iat"]) > self.max_age + self.leeway:
            raise InvalidToken("the token is older than this sign-in")
        return ProviderSignIn(
            subject=str(claims["sub"]),
            groups=claim_values(claims.get(self.groups_claim)),
            methods=claim_values(claims.get("amr")),
        )
