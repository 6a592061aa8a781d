"""Cognito's tokens for a user of a pool of this process's moto, as its managed login issues them (issue 21).

What the local stand-in of the user pool domain's token endpoint (:mod:`devstack.hosted_ui`) answers, and
the tests' way to a staff member's tokens (the staff app client has no password flow): ID and access tokens
shaped as Cognito's -- issuer, ``token_use``, ``cognito:groups``, the client's attributes and validity, the
pre-token-generation function's overrides -- signed with the pool's key and registered in moto as its own,
so the app verifies them exactly as on AWS.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

ACCOUNT = "123456789012"
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
DEFAULT_VALIDITY = {"AccessToken": ("hours", 1), "IdToken": ("hours", 1), "RefreshToken": ("days", 30)}


def mint_tokens(pool: Any, client: Any, user: Any, scopes: list[str], auth_time: int, nonce: str | None = None,
                override: dict[str, Any] | None = None, refresh: bool = True,
                origin_jti: str | None = None) -> dict[str, Any]:
    """Cognito's ID and access tokens (and a refresh token) for ``user`` of moto's ``pool``, signed with the
    pool's key and registered in moto as its own. What the token endpoint answers; the tests' way to a staff
    token (the staff app client has no password flow)."""
    from joserfc import jwt as jose_jwt

    now = int(time.time())
    username = user.username
    if refresh:
        refresh_token, origin_jti = pool.create_refresh_token(client.id, username)
    origin_jti = origin_jti or str(uuid.uuid4())
    groups = sorted(g.group_name for g in user.groups)
    override = override or {}
    if (override.get("groupOverrideDetails") or {}).get("groupsToOverride") is not None:
        groups = list(override["groupOverrideDetails"]["groupsToOverride"])
    issuer = f"https://cognito-idp.{pool.id.split('_', 1)[0]}.amazonaws.com/{pool.id}"
    subject = user.id
    cognito_username = username if user.status == "EXTERNAL_PROVIDER" or "email" not in pool.extended_config.get(
        "UsernameAttributes", []) else subject
    id_claims: dict[str, Any] = {"sub": subject, "aud": client.id, "iss": issuer, "token_use": "id",
                                 "cognito:username": cognito_username, "origin_jti": origin_jti,
                                 "auth_time": auth_time, "iat": now,
                                 "exp": now + validity(client, "IdToken"), "jti": str(uuid.uuid4())}
    readable = client.extended_config.get("ReadAttributes")
    for attribute in user.attributes:
        name, value = attribute["Name"], attribute["Value"]
        if name in ("sub", "cognito:user_status") or (readable is not None and name not in readable
                                                        and name != "identities"):
            continue
        if name == "identities":
            id_claims["identities"] = json.loads(value)
        elif name in ("email_verified", "phone_number_verified"):
            id_claims[name] = value == "true"
        else:
            id_claims[name] = value
    if groups:
        id_claims["cognito:groups"] = groups
    if nonce:
        id_claims["nonce"] = nonce
    for name in override.get("claimsToSuppress") or []:
        id_claims.pop(name, None)
    id_claims.update(override.get("claimsToAddOrOverride") or {})
    access_claims: dict[str, Any] = {"sub": subject, "iss": issuer, "version": 2, "client_id": client.id,
                                     "origin_jti": origin_jti, "token_use": "access", "scope": " ".join(scopes),
                                     "auth_time": auth_time, "iat": now,
                                     "exp": now + validity(client, "AccessToken"), "jti": str(uuid.uuid4()),
                                     "username": cognito_username}
    if groups:
        access_claims["cognito:groups"] = groups
    header = {"kid": "dummy", "alg": "RS256"}  # the kid of moto's JWKS
    id_token = jose_jwt.encode(header, id_claims, pool.json_web_key)
    access_token = jose_jwt.encode(header, access_claims, pool.json_web_key)
    pool.id_tokens[id_token] = (client.id, username)
    pool.access_tokens[access_token] = (client.id, username)
    answer: dict[str, Any] = {"id_token": id_token, "access_token": access_token, "token_type": "Bearer",
                              "expires_in": validity(client, "AccessToken")}
    if refresh:
        answer["refresh_token"] = refresh_token
    return answer


def staff_tokens(pool_id: str, client_id: str, username: str, account: str = ACCOUNT) -> dict[str, Any]:
    """Tokens of a user of a pool of this process's moto, as its managed login would issue them (tests)."""
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends[account][pool_id.split("_", 1)[0]].user_pools[pool_id]
    scopes = list(pool.clients[client_id].extended_config.get("AllowedOAuthScopes") or ["openid"])
    return mint_tokens(pool, pool.clients[client_id], pool._get_user(username), scopes, int(time.time()))


def validity(client: Any, kind: str) -> int:
    """Seconds a token of ``kind`` (AccessToken, IdToken, RefreshToken) lives, from the client's settings."""
    config = client.extended_config
    default_unit, default_value = DEFAULT_VALIDITY[kind]
    value = config.get(f"{kind}Validity")
    unit = (config.get("TokenValidityUnits") or {}).get(kind, default_unit)
    if value is None:
        return default_value * UNIT_SECONDS[default_unit]
    return int(value) * UNIT_SECONDS[unit]
