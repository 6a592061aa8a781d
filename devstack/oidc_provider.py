"""The local stand-in of the bank's identity provider (and of Google and Apple), for sign-in (issue 21).

A real OpenID Connect provider on 127.0.0.1: discovery, authorize, token,
userinfo, JWKS with its own RSA key -- the protocol is ``oidc-provider-mock``
(MIT; built on Authlib), with client registration required, so only the clients
the local stack registered (the staff pool's and the customer pool's) may use it.
In front of it, what makes it a provider a person signs in to:

- a directory of people (e-mail, password, an authenticator app or not, claims
  such as ``groups`` and ``name``); the sign-in page asks for the e-mail, the
  password and -- when the person enrolled one -- the authenticator's code
  (TOTP, RFC 6238), and refuses anyone else (the mock alone would let anyone in);
- the ``amr`` claim says how they authenticated (``["pwd"]`` or ``["pwd", "mfa"]``),
  as Entra ID and Okta do, so the staff pool can insist on MFA at the provider;
- ``remove``: the person is gone from the provider (leaver): their sessions end
  and they cannot sign in again; ``set_groups``: their groups change.

Dev-only (never in the Lambda package): the local stack starts one
(:mod:`devstack.stack`), the tests drive it. The people are the demo staff and
applicants of :mod:`devstack.users`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import os
import secrets
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .webserver import WsgiServer, html_response

log = logging.getLogger("devstack")

TOTP_STEP_S = 30
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                # no form-action: the answer redirects to the relying party (another origin)
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits): what an authenticator app shows for ``secret`` (base32)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = struct.pack(">Q", int((time.time() if at is None else at) // TOTP_STEP_S))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def _totp_matches(secret: str, code: str) -> bool:
    now = time.time()
    return any(hmac.compare_digest(totp(secret, now + drift * TOTP_STEP_S), code) for drift in (-1, 0, 1))


@dataclass
class Person:
    """Someone who can sign in at the provider."""

    email: str
    password: str
    claims: dict[str, Any] = field(default_factory=dict)  # e.g. {"groups": [...], "name": "..."}
    totp_secret: str | None = None  # enrolled an authenticator app: the provider asks for its code
    sub: str = ""

    def __post_init__(self) -> None:
        self.sub = self.sub or "p-" + hashlib.sha256(self.email.lower().encode()).hexdigest()[:20]


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


class StandInProvider(WsgiServer):
    """An OpenID provider on ``host:port`` (0: a free one) serving the people in its directory."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, name: str = "corporate") -> None:
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on the loopback only
        import warnings

        import werkzeug.test

        import authlib.deprecate  # noqa: F401 - first: it installs an "always" filter of its own

        with warnings.catch_warnings():  # Authlib's own deprecation notices about modules the mock imports
            warnings.simplefilter("ignore")
            from oidc_provider_mock import app as provider_app
        _sign_with_kid()

        self.name = name
        self._lock = threading.Lock()
        self._people: dict[str, Person] = {}
        self._inner = provider_app(require_client_registration=True, require_nonce=True,
                                   issue_refresh_token=False)
        self._inner.wsgi_app = self._inner.wsgi_app.app  # the mock wraps itself in werkzeug's debugger: unwrap
        self._inner.debug = False
        self._client = werkzeug.test.Client(self._inner)
        super().__init__(host, port, f"devstack-oidc-{name}")

    @property
    def issuer(self) -> str:
        return self.url

    # --- the directory -----------------------------------------------------------------------------

    def add(self, person: Person) -> Person:
        with self._lock:
            self._people[person.email.lower()] = person
        self._publish_claims(person, ["pwd"])
        return person

    def person(self, email: str) -> Person | None:
        with self._lock:
            return self._people.get(email.lower())

    def people(self) -> list[Person]:
        with self._lock:
            return list(self._people.values())

    def set_groups(self, email: str, groups: list[str]) -> None:
        person = self.person(email)
        if person is None:
            raise KeyError(f"no one signs in as {email} at the {self.name} provider")
        person.claims["groups"] = list(groups)
        self._publish_claims(person, ["pwd"])

    def remove(self, email: str) -> None:
        """A leaver: gone from the directory, their provider sessions and tokens revoked."""
        with self._lock:
            person = self._people.pop(email.lower(), None)
        if person is not None:
            self._client.post(f"/users/{urllib.parse.quote(person.sub)}/revoke-tokens")

    def register_client(self, redirect_uris: list[str]) -> RegisteredClient:
        """A relying party (a user pool), as dynamic client registration (RFC 7591) registers it."""
        response = self._client.post("/oauth2/clients", json={"redirect_uris": list(redirect_uris),
                                                              "token_endpoint_auth_method": "client_secret_post"})
        if response.status_code != 201:
            raise RuntimeError(f"the stand-in provider refused the client: {response.get_data(as_text=True)}")
        body = response.get_json()
        return RegisteredClient(body["client_id"], body["client_secret"], tuple(body["redirect_uris"]))

    def _publish_claims(self, person: Person, amr: list[str]) -> None:
        """What the next ID token of ``person`` says (the mock issues tokens from these claims)."""
        claims = {"email": person.email, "email_verified": True, **person.claims, "amr": amr}
        response = self._client.put(f"/users/{urllib.parse.quote(person.sub)}", json=claims)
        if response.status_code != 204:
            raise RuntimeError(f"the stand-in provider refused the claims: {response.get_data(as_text=True)}")

    # --- HTTP ----------------------------------------------------------------------------------

    def respond(self, request: Any) -> Any:
        """The sign-in page in front of the mock's authorize endpoint; everything else is the mock's."""
        from werkzeug.wrappers import Response

        if request.path != "/oauth2/authorize":
            return self._inner
        # The mock checks the client, its redirect URI, the scope and the nonce: ask it first.
        query = request.query_string.decode()
        checked = self._client.get("/oauth2/authorize", query_string=query, base_url=self.issuer)
        if checked.status_code != 200:
            return Response(checked.get_data(), status=checked.status_code,
                            headers=[(k, v) for k, v in checked.headers.items() if k.lower() == "content-type"])
        if request.method == "GET":
            return self._page("")
        if request.method != "POST":
            return Response("method not allowed", status=405)
        email = (request.form.get("username") or "").strip()
        person = self.person(email)
        password_ok = person is not None and hmac.compare_digest(person.password, request.form.get("password", ""))
        if not password_ok or person is None:
            log.info("devstack %s provider: refused a sign-in as %s", self.name, email or "(nobody)")
            return self._page("Wrong e-mail or password.", status=401)
        amr = ["pwd"]
        if person.totp_secret:
            code = (request.form.get("otp") or "").strip()
            if not code:
                return self._page("Enter the code from your authenticator app.", status=401, email=email)
            if not _totp_matches(person.totp_secret, code):
                return self._page("That code is not right.", status=401, email=email)
            amr = ["pwd", "mfa", "otp"]
        self._publish_claims(person, amr)
        # Forwarded as from the same host, so the mock's issuer is this provider's
        answer = self._client.post("/oauth2/authorize", query_string=query, data={"sub": person.sub},
                                   base_url=self.issuer)
        log.info("devstack %s provider: %s signed in (%s)", self.name, email, "+".join(amr))
        return Response(answer.get_data(), status=answer.status_code,
                        headers=[(k, v) for k, v in answer.headers.items()
                                 if k.lower() in ("location", "content-type")])

    def _page(self, error: str, status: int = 200, email: str = "") -> Any:
        title = f"Sign in -- {self.name} (local stand-in provider)"
        body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 3rem auto">
<h1 id="provider-title">{html.escape(self.name.capitalize())} sign-in</h1>
<p>The local stack's stand-in for the {html.escape(self.name)} identity provider.</p>
<form method="post" id="provider-form">
<p><label for="provider-username">E-mail</label><br>
<input id="provider-username" name="username" type="email" autocomplete="username" required
 value="{html.escape(email)}"></p>
<p><label for="provider-password">Password</label><br>
<input id="provider-password" name="password" type="password" autocomplete="current-password"></p>
<p><label for="provider-otp">Authenticator code (if you enrolled one)</label><br>
<input id="provider-otp" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="6"></p>
<p id="provider-error" role="alert" style="color: #b00">{html.escape(error)}</p>
<p><button type="submit" id="provider-submit">Sign in</button></p>
</form></body></html>"""
        return html_response(body, status, PAGE_HEADERS)


def _sign_with_kid() -> None:
    """ID tokens name their key (``kid``: the JWKS's thumbprint), as every production provider's do -- the
    mock leaves it out, and relying parties (Cognito, the app) pick the key by it."""
    from oidc_provider_mock import _app

    if getattr(_app.OpenIDCode, "_devstack_kid", False):
        return
    original = _app.OpenIDCode.get_jwt_config

    def get_jwt_config(self: Any, grant: Any, client: Any = None) -> dict[str, Any]:
        config = dict(original(self, grant, client))
        config["kid"] = _app.storage.jwk.thumbprint()
        return config

    _app.OpenIDCode.get_jwt_config = get_jwt_config  # type: ignore[method-assign]
    _app.OpenIDCode._devstack_kid = True  # type: ignore[attr-defined]


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
