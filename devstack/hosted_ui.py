"""moto's missing half of Cognito: a user pool domain's OAuth endpoints, answered by the local stack (issue 21).

moto keeps user pools, app clients, identity providers and the pool's signing
key, but has no managed login: no ``/oauth2/authorize``, ``/oauth2/token`` or
``/oauth2/idpresponse``. This module answers them over HTTP, in the moto process
(it reads and writes moto's own Cognito state), as the user pool domain does on
AWS -- for every pool of the local AWS, the app client naming the pool:

- ``GET /oauth2/authorize`` (authorization code, PKCE S256): the client must allow
  the code flow, the redirect URI must be one of its callback URLs, the scopes its
  own, the provider one it supports; the person is sent to that provider (OIDC,
  and Google or Sign in with Apple played by the local stand-in provider);
- ``GET /oauth2/idpresponse``: the provider's code is exchanged at its token
  endpoint and its ID token verified (signature by its JWKS, issuer, audience,
  nonce), the pool's attribute mapping applied (``id_token`` maps the raw token;
  a list claim becomes ``[a, b]``); the federated user ``<Provider>_<sub>`` is
  made or updated -- a disabled one is refused; the pool's pre-token-generation
  function runs (the app's handler, through the local stack's invoker); a code
  goes back to the console;
- ``POST /oauth2/token``: ``authorization_code`` (the same client and redirect URI,
  the PKCE verifier checked, once, within 5 minutes) and ``refresh_token`` (the
  refresh token's life is the client's ``RefreshTokenValidity``; the user must
  still exist and be enabled; the trigger runs again); ID and access tokens shaped
  as Cognito's, signed with the pool's key, so the app verifies them exactly as
  on AWS (issuer, JWKS, audience, ``token_use``);
- ``POST /oauth2/revoke`` and ``GET /logout``.

What it does not do: show Cognito's own sign-in page (a pool's native users --
the ``COGNITO`` provider -- sign in with the pools API locally); keep a session
cookie of its own (each authorize goes to the provider).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .pool_tokens import ACCOUNT, mint_tokens, validity
from .pool_tokens import staff_tokens as staff_tokens  # bench/review_queue.py imports it from here
from .webserver import WsgiServer, html_response, json_response, redirect

log = logging.getLogger("devstack")

CODE_LIFETIME_S = 300
PENDING_LIFETIME_S = 900


class OAuthError(Exception):
    """An OAuth error answer: ``error`` (RFC 6749 code) and a description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class Pending:
    """An authorization sent to a provider, waiting for its answer at /oauth2/idpresponse."""

    pool_id: str
    client_id: str
    redirect_uri: str
    state: str | None
    scopes: list[str]
    code_challenge: str | None
    nonce: str | None  # the console's, for our ID token
    provider: str
    provider_nonce: str
    created: float = field(default_factory=time.monotonic)


@dataclass
class Grant:
    """An authorization code issued to a client, with what its tokens will say."""

    pool_id: str
    client_id: str
    redirect_uri: str
    username: str
    scopes: list[str]
    code_challenge: str | None
    nonce: str | None
    auth_time: int
    override: dict[str, Any] | None
    created: float = field(default_factory=time.monotonic)


class HostedUi(WsgiServer):
    """The OAuth endpoints of every user pool of this moto, on ``host:port``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, account: str = ACCOUNT) -> None:
        self.account = account
        self.lambda_invoke_url: str | None = None  # the local stack's "run this function of the app"
        self.providers: dict[str, dict[str, str]] = {}  # Google, SignInWithApple -> the stand-in's issuer, secret
        self._pending: dict[str, Pending] = {}
        self._codes: dict[str, Grant] = {}
        self._refresh_issued: dict[str, tuple[float, int]] = {}  # refresh token -> (issued at, auth_time)
        self._discovery: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        super().__init__(host, port, "devstack-hosted-ui")

    # --- moto's Cognito -------------------------------------------------------------------------

    def _backend(self, pool_id: str) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends

        return cognitoidp_backends[self.account][pool_id.split("_", 1)[0]]

    def _client(self, client_id: str) -> tuple[Any, Any]:
        """(user pool, app client) of ``client_id``, whatever the region."""
        from moto.cognitoidp.models import cognitoidp_backends

        for backend in list(cognitoidp_backends[self.account].values()):  # the regions in use
            for pool in list(backend.user_pools.values()):
                if client_id in pool.clients:
                    return pool, pool.clients[client_id]
        raise OAuthError("invalid_client", "no such app client", 400)

    # --- HTTP -------------------------------------------------------------------------------------

    def respond(self, request: Any) -> Any:
        from werkzeug.wrappers import Response

        routes = {("GET", "/oauth2/authorize"): self.authorize, ("GET", "/oauth2/idpresponse"): self.idp_response,
                  ("POST", "/oauth2/token"): self.token, ("POST", "/oauth2/revoke"): self.revoke,
                  ("GET", "/logout"): self.logout, ("POST", "/_devstack/config"): self.configure}
        handler = routes.get((request.method, request.path))
        if request.method == "OPTIONS" and request.path in ("/oauth2/token", "/oauth2/revoke"):
            response = Response(status=204)
        elif handler is None:
            response = json_response({"error": "not_found"}, 404)
        else:
            try:
                response = handler(request)
            except OAuthError as error:
                response = json_response({"error": error.error, "error_description": error.description},
                                         error.status)
            except Exception as error:  # noqa: BLE001 - an answer, and the cause in the stack's log
                log.exception("devstack hosted UI: %s %s failed", request.method, request.path)
                response = json_response({"error": "server_error", "error_description": str(error)}, 500)
        if request.path in ("/oauth2/token", "/oauth2/revoke"):  # called with fetch() from the console
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        response.headers["Cache-Control"] = "no-store"
        return response

    def configure(self, request: Any) -> Any:
        body = request.get_json(force=True) or {}
        if "lambda_invoke_url" in body:
            self.lambda_invoke_url = body["lambda_invoke_url"]
        self.providers.update(body.get("providers") or {})
        return json_response({})

    # --- /oauth2/authorize ---------------------------------------------------------------------------

    def authorize(self, request: Any) -> Any:
        args = request.args
        try:
            pool, client = self._client(args.get("client_id", ""))
        except OAuthError:
            return _error_page("invalid_client", "The app client does not exist.")
        config = client.extended_config
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in (config.get("CallbackURLs") or []):
            return _error_page("redirect_mismatch", "The redirect URI is not one of the client's callback URLs.")
        state = args.get("state")

        def refuse(error: str, description: str) -> Any:
            return _redirect(redirect_uri, {"error": error, "error_description": description, "state": state})

        if not config.get("AllowedOAuthFlowsUserPoolClient") or "code" not in (config.get("AllowedOAuthFlows") or []):
            return refuse("unauthorized_client", "the client may not use the authorization code flow")
        if args.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        allowed_scopes = list(config.get("AllowedOAuthScopes") or [])
        scopes = (args.get("scope") or " ".join(allowed_scopes)).split()
        if not scopes or not set(scopes) <= set(allowed_scopes):
            return refuse("invalid_scope", "a scope the client does not have was asked for")
        challenge = args.get("code_challenge")
        if challenge and args.get("code_challenge_method", "plain") != "S256":
            return refuse("invalid_request", "code_challenge_method must be S256")
        supported = list(config.get("SupportedIdentityProviders") or [])
        provider = args.get("identity_provider")
        if not provider:
            external = [name for name in supported if name != "COGNITO"]
            if len(external) != 1:
                return _error_page("invalid_request", "The local stand-in of managed login shows no sign-in page: "
                                   "name the provider (identity_provider=...).")
            provider = external[0]
        if provider not in supported:
            return refuse("invalid_request", f"the client does not support the provider {provider}")
        if provider == "COGNITO" or provider not in pool.identity_providers:
            return _error_page("invalid_request", "The local stand-in of managed login signs in through an "
                               "identity provider only; native users sign in with the user pools API.")
        idp = pool.identity_providers[provider].extended_config
        endpoints, provider_client_id, _secret = self._provider_endpoints(provider, idp)
        our_state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
        with self._lock:
            self._forget_stale()
            self._pending[our_state] = Pending(pool.id, client.id, redirect_uri, state, scopes, challenge,
                                               args.get("nonce"), provider, nonce)
        details = idp.get("ProviderDetails", {})
        scope = details.get("authorize_scopes", "openid email")
        if idp.get("ProviderType") == "SignInWithApple" and "openid" not in scope.split():
            # Apple's scopes are "email name" and Apple always answers with an ID token; the OpenID stand-in
            # that plays Apple issues one only when asked for openid.
            scope = f"openid {scope}"
        query = {"response_type": "code", "client_id": provider_client_id,
                 "redirect_uri": f"{self.url}/oauth2/idpresponse", "state": our_state, "nonce": nonce,
                 "scope": scope}
        return _redirect(endpoints["authorization_endpoint"], query)

    def _provider_endpoints(self, provider: str, idp: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
        """(discovery document, client id, client secret) of a pool's provider."""
        details = idp.get("ProviderDetails", {})
        kind = idp.get("ProviderType", "OIDC")
        if kind == "OIDC":
            issuer, secret = details["oidc_issuer"], details.get("client_secret", "")
        elif kind in self.providers:  # Google, SignInWithApple: the local stand-in plays them
            issuer, secret = self.providers[kind]["issuer"], self.providers[kind]["client_secret"]
        else:
            raise OAuthError("invalid_request", f"no local stand-in for {kind} providers")
        if issuer not in self._discovery:
            with urllib.request.urlopen(f"{issuer.rstrip('/')}/.well-known/openid-configuration",  # noqa: S310
                                        timeout=10) as answer:
                self._discovery[issuer] = json.loads(answer.read())
        return self._discovery[issuer], details["client_id"], secret

    # --- /oauth2/idpresponse --------------------------------------------------------------------------

    def idp_response(self, request: Any) -> Any:
        with self._lock:
            pending = self._pending.pop(request.args.get("state", ""), None)
        if pending is None or time.monotonic() - pending.created > PENDING_LIFETIME_S:
            return _error_page("invalid_request", "No sign-in is waiting for this answer (or it is too old).")

        def refuse(error: str, description: str) -> Any:
            log.info("devstack hosted UI: sign-in through %s refused: %s", pending.provider, description)
            return _redirect(pending.redirect_uri, {"error": error, "error_description": description,
                                                    "state": pending.state})

        if request.args.get("error"):
            return refuse("access_denied", f"{pending.provider}: {request.args.get('error')}")
        backend = self._backend(pending.pool_id)
        pool = backend.user_pools[pending.pool_id]
        idp = pool.identity_providers[pending.provider].extended_config
        try:
            id_token, claims = self._exchange(pending, idp, request.args.get("code", ""))
        except OAuthError as error:
            return refuse("access_denied", error.description)
        attributes = self._mapped_attributes(pool, idp, claims, id_token)
        username = f"{pending.provider}_{claims['sub']}"
        try:
            user = self._federated_user(pool, pending.provider, idp.get("ProviderType", "OIDC"), username,
                                        claims["sub"], attributes)
        except OAuthError as error:
            return refuse(error.error, error.description)
        auth_time = int(time.time())
        try:
            override = self._pre_token(pool, pending.client_id, user, "TokenGeneration_HostedAuth")
        except OAuthError as error:
            return refuse("access_denied", error.description)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = Grant(pool.id, pending.client_id, pending.redirect_uri, user.username,
                                      pending.scopes, pending.code_challenge, pending.nonce, auth_time, override)
        log.info("devstack hosted UI: %s signed in through %s", user.username, pending.provider)
        return _redirect(pending.redirect_uri, {"code": code, "state": pending.state})

    def _exchange(self, pending: Pending, idp: dict[str, Any], code: str) -> tuple[str, dict[str, Any]]:
        import jwt

        endpoints, client_id, client_secret = self._provider_endpoints(pending.provider, idp)
        form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": f"{self.url}/oauth2/idpresponse", "client_id": client_id,
                                       "client_secret": client_secret}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - the configured provider
                    endpoints["token_endpoint"], data=form,
                    headers={"Content-Type": "application/x-www-form-urlencoded"}), timeout=10) as answer:
                tokens = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise OAuthError("access_denied", f"the provider refused the code ({error.code})") from None
        id_token = tokens.get("id_token")
        if not id_token:
            raise OAuthError("access_denied", "the provider sent no ID token")
        try:
            key = jwt.PyJWKClient(endpoints["jwks_uri"]).get_signing_key_from_jwt(id_token)
            claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=client_id,
                                issuer=endpoints["issuer"], options={"require": ["sub", "exp", "iat"]})
        except jwt.PyJWTError as error:
            raise OAuthError("access_denied", f"the provider's ID token is not valid: {error}") from None
        if claims.get("nonce") != pending.provider_nonce:
            raise OAuthError("access_denied", "the provider's ID token answers another sign-in (nonce)")
        return id_token, claims

    @staticmethod
    def _mapped_attributes(pool: Any, idp: dict[str, Any], claims: dict[str, Any], id_token: str) -> dict[str, str]:
        """The pool's attribute mapping applied to what the provider said (Cognito's string forms)."""
        limits = {name: attribute for name, attribute in pool.schema_attributes.items()}
        values: dict[str, str] = {}
        for pool_attribute, claim in (idp.get("AttributeMapping") or {}).items():
            if pool_attribute == "username":
                continue
            value = id_token if claim == "id_token" else claims.get(claim)
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (list, tuple)):
                text = "[" + ", ".join(str(item) for item in value) + "]"
            else:
                text = str(value)
            schema = limits.get(pool_attribute)
            maximum = int((getattr(schema, "string_constraints", None) or {}).get("MaxLength", 2048))
            if len(text) > maximum:
                raise OAuthError("invalid_request", f"{pool_attribute} from the provider is longer than {maximum}")
            values[pool_attribute] = text
        return values

    def _federated_user(self, pool: Any, provider: str, kind: str, username: str, subject: str,
                        attributes: dict[str, str]) -> Any:
        """Made at the first sign-in, its mapped attributes updated at every later one; a disabled user is refused."""
        from moto.cognitoidp.models import CognitoIdpUser

        user = pool.users.get(username)
        if user is None:
            identities = [{"userId": subject, "providerName": provider, "providerType": kind, "issuer": None,
                           "primary": "true", "dateCreated": str(int(time.time() * 1000))}]
            user = CognitoIdpUser(pool.id, username, None, "EXTERNAL_PROVIDER",
                                  [{"Name": "identities", "Value": json.dumps(identities)}])
            pool.users[username] = user
        elif not user.enabled:
            raise OAuthError("access_denied", "User is disabled.")
        user.update_attributes([{"Name": name, "Value": value} for name, value in attributes.items()])
        return user

    # --- the pre-token-generation trigger -----------------------------------------------------------

    def _pre_token(self, pool: Any, client_id: str, user: Any, source: str) -> dict[str, Any] | None:
        """Run the pool's pre-token-generation function (V1_0); its claimsOverrideDetails, or None."""
        config = pool.extended_config.get("LambdaConfig") or {}
        arn = (config.get("PreTokenGenerationConfig") or {}).get("LambdaArn") or config.get("PreTokenGeneration")
        if not arn:
            return None
        if not self.lambda_invoke_url:
            raise OAuthError("server_error", "the pool has a pre-token-generation function but the local stack has "
                             "not connected its function invoker")
        attributes = {a["Name"]: a["Value"] for a in user.attributes}
        attributes["cognito:user_status"] = user.status
        event = {"version": "1", "triggerSource": source, "region": pool.id.split("_", 1)[0],
                 "userPoolId": pool.id, "userName": user.username,
                 "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
                 "request": {"userAttributes": attributes,
                             "groupConfiguration": {"groupsToOverride": sorted(g.group_name for g in user.groups),
                                                    "iamRolesToOverride": [], "preferredRole": None}},
                 "response": {"claimsOverrideDetails": None}}
        function = arn.rsplit(":", 1)[-1]
        request = urllib.request.Request(f"{self.lambda_invoke_url}/functions/{urllib.parse.quote(function)}/invoke",
                                         data=json.dumps(event).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the local stack
                result = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            # As Cognito: "PreTokenGeneration failed with error <the function's message>."
            raise OAuthError("access_denied", f"PreTokenGeneration failed with error {body.get('error', error.code)}."
                             ) from None
        return (result.get("response") or {}).get("claimsOverrideDetails")

    # --- /oauth2/token -------------------------------------------------------------------------------

    def token(self, request: Any) -> Any:
        form = request.form
        client_id = form.get("client_id") or ""
        if request.authorization and request.authorization.username:  # a confidential client's Basic auth
            client_id = request.authorization.username
        pool, client = self._client(client_id)
        if client.generate_secret:
            secret = form.get("client_secret") or (request.authorization.password if request.authorization else "")
            if secret != client.secret:
                raise OAuthError("invalid_client", "client authentication failed", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            tokens = self._redeem(pool, client, form)
        elif grant_type == "refresh_token":
            tokens = self._refresh(pool, client, form.get("refresh_token", ""))
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        return json_response(tokens)

    def _redeem(self, pool: Any, client: Any, form: Any) -> dict[str, Any]:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # once only, whatever follows
        if grant is None or time.monotonic() - grant.created > CODE_LIFETIME_S:
            raise OAuthError("invalid_grant", "the code is unknown, used or expired")
        if grant.client_id != client.id or grant.redirect_uri != form.get("redirect_uri"):
            raise OAuthError("invalid_grant", "the code was issued to another client or redirect URI")
        if grant.code_challenge:
            verifier = form.get("code_verifier") or ""
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if not verifier or digest != grant.code_challenge:
                raise OAuthError("invalid_grant", "the PKCE code_verifier does not match the code_challenge")
        user = pool.users.get(grant.username)
        if user is None or not user.enabled:
            raise OAuthError("invalid_grant", "the user is gone or disabled")
        return self._issue(pool, client, user, grant.scopes, grant.auth_time, grant.nonce, grant.override,
                           refresh=True)

    def _refresh(self, pool: Any, client: Any, refresh_token: str) -> dict[str, Any]:
        entry = pool.refresh_tokens.get(refresh_token)
        issued = self._refresh_issued.get(refresh_token)
        if not entry or issued is None or entry[0] != client.id:
            raise OAuthError("invalid_grant", "Invalid Refresh Token")
        if time.time() - issued[0] > validity(client, "RefreshToken"):
            raise OAuthError("invalid_grant", "Refresh Token has expired")
        user = pool._get_user(entry[1])
        if user is None or not user.enabled:
            raise OAuthError("invalid_grant", "User is disabled." if user else "User does not exist.")
        override = self._pre_token(pool, client.id, user, "TokenGeneration_RefreshTokens")
        scopes = list(client.extended_config.get("AllowedOAuthScopes") or ["openid"])
        return self._issue(pool, client, user, scopes, issued[1], None, override, refresh=False,
                           origin_jti=entry[2])

    def _issue(self, pool: Any, client: Any, user: Any, scopes: list[str], auth_time: int, nonce: str | None,
               override: dict[str, Any] | None, refresh: bool, origin_jti: str | None = None) -> dict[str, Any]:
        answer = mint_tokens(pool, client, user, scopes, auth_time, nonce, override, refresh, origin_jti)
        if refresh:
            self._refresh_issued[answer["refresh_token"]] = (time.time(), auth_time)
        return answer

    # --- /oauth2/revoke, /logout ----------------------------------------------------------------------

    def revoke(self, request: Any) -> Any:
        from werkzeug.wrappers import Response

        pool, client = self._client(request.form.get("client_id") or "")
        token = request.form.get("token", "")
        entry = pool.refresh_tokens.get(token)
        if entry and entry[0] != client.id:
            raise OAuthError("unauthorized_client", "the token belongs to another client")
        if entry:
            pool.refresh_tokens[token] = None  # moto's mark of a revoked refresh token
            self._refresh_issued.pop(token, None)
        return Response("", status=200)

    def logout(self, request: Any) -> Any:
        try:
            _pool, client = self._client(request.args.get("client_id", ""))
        except OAuthError:
            return _error_page("invalid_client", "The app client does not exist.")
        target = request.args.get("logout_uri", "")
        if target not in (client.extended_config.get("LogoutURLs") or []):
            return _error_page("invalid_request", "The logout URI is not one of the client's sign-out URLs.")
        return redirect(target)

    def _forget_stale(self) -> None:
        now = time.monotonic()
        for state in [s for s, p in self._pending.items() if now - p.created > PENDING_LIFETIME_S]:
            del self._pending[state]
        for code in [c for c, g in self._codes.items() if now - g.created > CODE_LIFETIME_S]:
            del self._codes[code]


def _with_query(url: str, query: dict[str, Any]) -> str:
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return urllib.parse.urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _redirect(url: str, query: dict[str, Any]) -> Any:
    return redirect(_with_query(url, query))


def _error_page(error: str, description: str) -> Any:
    import html

    return html_response(f"<!doctype html><html lang=en><meta charset=utf-8><title>Sign-in error</title>"
                         f"<h1>Sign-in error</h1><p id=error-code>{html.escape(error)}</p>"
                         f"<p id=error-description>{html.escape(description)}</p></html>", 400)


def start_hosted_ui(host: str = "127.0.0.1", port: int = 0) -> HostedUi:
    """The endpoints, serving the Cognito state of this process's moto."""
    return HostedUi(host, port).start()
