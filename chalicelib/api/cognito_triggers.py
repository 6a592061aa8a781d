"""Cognito's Lambda trigger events, read and answered (issue 21: the staff pool's pre-token generation).

The event is Cognito's (V1_0): ``triggerSource``, ``userName``,
``request.userAttributes`` (``identities`` -- a JSON list naming the provider of
a federated user -- and ``custom:idp_id_token``, the provider's ID token mapped at
this sign-in) and ``request.groupConfiguration``. The answer is the same event
with ``response.claimsOverrideDetails``. A malformed event is refused, never
guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from ..domain.federation import REFRESH, SIGN_IN, TokenGeneration

REFRESH_SOURCES = frozenset({"TokenGeneration_RefreshTokens"})
PROVIDER_TOKEN_ATTRIBUTE = "custom:idp_id_token"


class MalformedTriggerEvent(ValueError):
    """Not a pre-token-generation event of Cognito's."""


def token_generation(event: Any) -> TokenGeneration:
    if not isinstance(event, dict):
        raise MalformedTriggerEvent("the event is not an object")
    source, username, request = event.get("triggerSource"), event.get("userName"), event.get("request")
    if not isinstance(source, str) or not source.startswith("TokenGeneration_"):
        raise MalformedTriggerEvent("not a pre-token-generation event")
    if not isinstance(username, str) or not username or not isinstance(request, dict):
        raise MalformedTriggerEvent("the event names no user")
    attributes = request.get("userAttributes") or {}
    groups = (request.get("groupConfiguration") or {}).get("groupsToOverride") or []
    if not isinstance(attributes, dict) or not isinstance(groups, list):
        raise MalformedTriggerEvent("the event's attributes or groups are malformed")
    token = attributes.get(PROVIDER_TOKEN_ATTRIBUTE)
    return TokenGeneration(
        username=username,
        kind=REFRESH if source in REFRESH_SOURCES else SIGN_IN,
        provider=_provider(attributes.get("identities")),
        provider_token=token if isinstance(token, str) and token else None,
        current_groups=frozenset(str(group) for group in groups),
    )


def _provider(identities: Any) -> Optional[str]:
    """The provider of a federated user (Cognito's ``identities`` attribute), or None."""
    try:
        listed = json.loads(identities) if isinstance(identities, str) else identities
    except ValueError:
        return None
    if isinstance(listed, list) and listed and isinstance(listed[0], dict):
        name = listed[0].get("providerName")
        return str(name) if name else None
    return None


def reply(event: dict[str, Any], groups: Optional[Iterable[str]]) -> dict[str, Any]:
    """The event answered: the token's groups overridden (None: as the pool has them), the provider's
    token never copied into Cognito's tokens."""
    details: dict[str, Any] = {"claimsToSuppress": [PROVIDER_TOKEN_ATTRIBUTE]}
    if groups is not None:
        details["groupOverrideDetails"] = {"groupsToOverride": sorted(groups)}
    answered = dict(event)
    answered["response"] = {**(event.get("response") or {}), "claimsOverrideDetails": details}
    return answered
