"""Signing in through managed login, as the console does but without a browser (``./dev token``, tests, benches).

The whole authorization code flow with PKCE, against the local stack's user pool
domain (:mod:`devstack.hosted_ui`) and the stand-in provider
(:mod:`devstack.oidc_provider`): authorize -> the provider's sign-in form (e-mail,
password, the authenticator's code) -> ``/oauth2/idpresponse`` -> the console's
redirect URI with a code -> ``/oauth2/token`` with the code verifier. What comes
back is what the console gets: Cognito's ID, access and refresh tokens.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import urllib.parse
from typing import Any

TIMEOUT_S = 60


class SignInRefused(RuntimeError):
    """The provider or the user pool said no (the message is theirs)."""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def oauth_sign_in(auth_url: str, client_id: str, redirect_uri: str, provider: str, email: str, password: str,
                  totp_secret: str | None = None) -> dict[str, Any]:
    """Cognito's tokens (``IdToken``, ``AccessToken``, ``RefreshToken``) for a person of ``provider``."""
    import requests

    from .oidc_provider import totp

    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    with requests.Session() as browser:
        answer = browser.get(f"{auth_url.rstrip('/')}/oauth2/authorize", allow_redirects=False, timeout=TIMEOUT_S,
                             params={"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                                     "scope": "openid email profile", "state": state, "identity_provider": provider,
                                     "code_challenge": challenge, "code_challenge_method": "S256"})
        login = _redirected(answer, "the user pool's authorize endpoint")
        form = {"username": email, "password": password, "otp": totp(totp_secret) if totp_secret else ""}
        answer = browser.post(login, data=form, allow_redirects=False, timeout=TIMEOUT_S)
        if answer.status_code != 302:
            found = re.search(r'id="provider-error"[^>]*>([^<]*)<', answer.text)
            raise SignInRefused(f"the provider refused {email}: {html.unescape(found.group(1)) if found else answer.status_code}")
        callback = _redirected(browser.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT_S),
                               "the user pool's idpresponse endpoint")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
        if "error" in query:
            raise SignInRefused(f"{query['error'][0]}: {query.get('error_description', [''])[0]}")
        if query.get("state", [""])[0] != state:
            raise SignInRefused("the user pool answered another sign-in (state)")
        tokens = browser.post(f"{auth_url.rstrip('/')}/oauth2/token", timeout=TIMEOUT_S, data={
            "grant_type": "authorization_code", "client_id": client_id, "code": query["code"][0],
            "redirect_uri": redirect_uri, "code_verifier": verifier})
    if tokens.status_code != 200:
        raise SignInRefused(f"the token endpoint refused the code: {tokens.text}")
    body = tokens.json()
    return {"IdToken": body["id_token"], "AccessToken": body["access_token"], "RefreshToken": body.get("refresh_token"),
            "ExpiresIn": body.get("expires_in")}


def _redirected(answer: Any, what: str) -> str:
    if answer.status_code != 302 or "Location" not in answer.headers:
        raise SignInRefused(f"{what} answered {answer.status_code}: {answer.text[:300]}")
    return str(answer.headers["Location"])
