"""Corporate sign-in for staff: which staff groups a person holds, from what their identity provider said.

The bank's identity provider (Entra ID, Okta ...) knows who works in KYC review
and who runs operations; the staff user pool stays what the app checks on every
request (``StaffAccess``), so a change there counts at once. At each sign-in
through the provider, the provider's own signed ID token (mapped to the user's
profile by Cognito) is read: its groups claim, mapped with ``GroupMapping``, becomes
the user's staff groups in the pool -- added and removed -- and the token's
``amr`` must report MFA when the stage requires it. Between sign-ins nothing is
taken from the provider: refreshing a session keeps the pool's groups as they are
now (an operator's removal in the pool is never undone by a refresh).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Optional

from .users import STAFF_GROUPS

#: RFC 8176 authentication method reference: the provider did multi-factor authentication.
MFA = "mfa"
SIGN_IN = "sign_in"
REFRESH = "refresh"


class FederationRefused(Exception):
    """A provider sign-in that must not become a staff session (the message says why; no secret in it)."""


class InvalidGroupMapping(ValueError):
    """The stage's mapping of provider groups to staff groups cannot be read."""


def claim_values(value: object) -> frozenset[str]:
    """A provider claim's values, whatever shape it arrived in: a JSON list, Cognito's ``[a, b]`` rendering
    of a list, a comma-separated string or a single value. Blank values are dropped."""
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple, set, frozenset)):
        items: Iterable[object] = value
    else:
        text = str(value).strip()
        if not text:
            return frozenset()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            items = parsed
        else:
            items = (
                text.strip("[]").split(",") if (text.startswith("[") and text.endswith("]")) or "," in text else [text]
            )
    return frozenset(str(item).strip().strip('"') for item in items if str(item).strip().strip('"'))


@dataclass(frozen=True)
class GroupMapping:
    """Each staff group and the provider groups (names or object ids) that grant it."""

    grants: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, text: str) -> GroupMapping:
        """``reviewers=kyc-reviewers|3f2a...;operators=kyc-operations`` (the stage's ``StaffProviderGroups``)."""
        grants: dict[str, frozenset[str]] = {}
        for part in (text or "").split(";"):
            if not part.strip():
                continue
            group, _, values = part.partition("=")
            group = group.strip()
            if group not in STAFF_GROUPS:
                raise InvalidGroupMapping(f"{group!r} is not a staff group ({', '.join(sorted(STAFF_GROUPS))})")
            provider_groups = frozenset(v.strip() for v in values.split("|") if v.strip())
            if not provider_groups:
                raise InvalidGroupMapping(f"no provider group grants {group}")
            grants[group] = grants.get(group, frozenset()) | provider_groups
        return cls(MappingProxyType(grants))

    def staff_groups(self, provider_groups: Iterable[str]) -> frozenset[str]:
        held = frozenset(provider_groups)
        return frozenset(group for group, granting in self.grants.items() if granting & held)


@dataclass(frozen=True)
class ProviderSignIn:
    """What the provider's ID token of a sign-in says (its signature, issuer, audience and age checked)."""

    subject: str
    groups: frozenset[str]
    methods: frozenset[str]  # amr


@dataclass(frozen=True)
class TokenGeneration:
    """Cognito is about to issue a staff pool token (its pre-token-generation trigger)."""

    username: str
    kind: str  # SIGN_IN or REFRESH
    provider: Optional[str]  # the federated user's provider name; None for the pool's own users
    provider_token: Optional[str]  # the provider's ID token of this sign-in (custom:idp_id_token)
    current_groups: frozenset[str]


@dataclass(frozen=True)
class FederationPolicy:
    provider: str  # the pool's name of the corporate provider ("Corporate"); "" when there is none
    mapping: GroupMapping
    require_mfa: bool = True

    def federated_by_it(self, request: TokenGeneration) -> bool:
        return bool(self.provider) and request.provider == self.provider

    def staff_groups(self, request: TokenGeneration, sign_in: ProviderSignIn) -> frozenset[str]:
        """The staff groups this sign-in earns; refused when it is someone else's token or lacks MFA."""
        expected_subject = request.username.removeprefix(f"{self.provider}_")
        if sign_in.subject != expected_subject:
            raise FederationRefused("the provider's token is not this user's")
        if self.require_mfa and MFA not in sign_in.methods:
            raise FederationRefused("staff must sign in with MFA at the identity provider")
        return self.mapping.staff_groups(sign_in.groups)
