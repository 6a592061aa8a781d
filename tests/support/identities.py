"""Real Cognito users in the test moto server, and forged tokens for the negative cases.

Applicants are users of the customer pool (``USER_POOL_ID``); reviewers and operators of the
staff pool (``STAFF_USER_POOL_ID``), as in production. ``make_user(groups, pool=...)`` makes the
odd ones the cross-pool tests need (a customer-pool user in ``reviewers``, a staff user with no group).
"""
from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, Optional

import boto3
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

PASSWORD = "Correct-Horse-Battery-9"


@dataclass
class User:
    email: str
    sub: str
    token: str
    access_token: str
    groups: tuple[str, ...]
    pool: str = "customer"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def cognito() -> Any:
    return boto3.client("cognito-idp")


def pool_ids(pool: str) -> tuple[str, str]:
    """(user pool id, app client id) of ``customer`` or ``staff``."""
    prefix = "STAFF_" if pool == "staff" else ""
    return os.environ[f"{prefix}USER_POOL_ID"], os.environ[f"{prefix}USER_POOL_CLIENT_ID"]


def ensure_group(pool_id: str, group: str) -> None:
    """The customer pool has no staff groups (by design); a cross-pool test creates one to forge membership."""
    idp = cognito()
    try:
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    except idp.exceptions.GroupExistsException:
        pass


def make_user(groups: tuple[str, ...] = (), pool: Optional[str] = None) -> User:
    """Create through the admin API and sign in: real moto tokens (applicants: USER_PASSWORD_AUTH; staff:
    what the staff pool's managed login issues).

    ``pool`` defaults to ``staff`` when the user is in any group (reviewers, operators), else ``customer``.
    """
    idp = cognito()
    pool = pool or ("staff" if groups else "customer")
    pool_id, client_id = pool_ids(pool)
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    idp.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email},  # verified, as by sign-up or invite
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        if pool == "customer":
            ensure_group(pool_id, group)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    result = signed_in_tokens(pool, pool_id, client_id, email)
    sub = jwt.decode(result["IdToken"], options={"verify_signature": False})["sub"]
    return User(email, sub, result["IdToken"], result["AccessToken"], groups, pool)


def signed_in_tokens(pool: str, pool_id: str, client_id: str, email: str) -> dict[str, str]:
    """``IdToken`` and ``AccessToken`` of a user of the pool whose password is ``PASSWORD``."""
    if pool == "staff":
        # The staff app client has no password flow (issue 21: staff sign in through managed login): the
        # tokens its token endpoint would issue, minted as the local stand-in of it (devstack/hosted_ui.py) mints
        # them (devstack/pool_tokens.py).
        from devstack.pool_tokens import staff_tokens

        minted = staff_tokens(pool_id, client_id, email)
        return {"IdToken": minted["id_token"], "AccessToken": minted["access_token"]}
    result = cognito().initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
    return {name: result["AuthenticationResult"][name] for name in ("IdToken", "AccessToken")}


def moto_signing_key() -> Any:
    """moto's private JWK: lets a test mint a correctly signed token with bad claims."""
    raw = resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz").read_bytes()
    return jwt.PyJWK.from_dict(json.loads(gzip.decompress(raw))).key


def forge(claims: Optional[dict[str, Any]] = None, key: Any = None, kid: str = "dummy",
          algorithm: str = "RS256", pool: str = "customer") -> str:
    now = int(time.time())
    prefix = "STAFF_" if pool == "staff" else ""
    payload = {
        "iss": os.environ[f"{prefix}COGNITO_ISSUER"], "sub": str(uuid.uuid4()),
        "aud": os.environ[f"{prefix}USER_POOL_CLIENT_ID"],
        "token_use": "id", "iat": now, "exp": now + 600, "email": "forged@example.com",
    }
    payload.update(claims or {})
    payload = {k: v for k, v in payload.items() if v is not None}
    if algorithm == "none":
        return jwt.encode(payload, None, algorithm="none", headers={"kid": kid})
    signing_key = key if key is not None else moto_signing_key()
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})


def random_rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class staff_bound_passed:  # noqa: N801 - used as a context manager, reads as a sentence
    """Within the block, the app's staff-status cache sees a clock past its bound (the TTL, seconds).

    Removal, deletion and disabling take effect within ``StaffAccess.ttl_seconds``; a test shows it by
    moving that cache's clock, not by sleeping. ``staff_bound_passed(0)`` is "now" (still cached).
    """

    def __init__(self, extra: float | None = None) -> None:
        self.extra = extra

    def __enter__(self) -> float:
        from chalicelib.bootstrap import services

        staff = services().staff
        self.staff, self.saved = staff, staff.clock
        shift = staff.ttl_seconds + 1 if self.extra is None else self.extra
        staff.clock = lambda: self.saved() + shift
        return shift

    def __exit__(self, *exc: Any) -> None:
        self.staff.clock = self.saved
