"""Staff sign-in through the corporate identity provider: the pool's groups follow the provider's (issue 21).

Runs as the staff pool's pre-token-generation trigger. At a sign-in through the
provider it verifies the provider's own ID token of that sign-in, maps its groups
to staff groups, makes the pool's membership exactly that (among the staff
groups; nothing else is touched) and puts the same groups in the token. A
refresh and the pool's own users are left as the pool has them: the app checks
the pool on every request, so the pool -- not an old token, not the provider's
last word -- decides.
"""

from __future__ import annotations

from typing import Optional

from ..domain.federation import REFRESH, FederationPolicy, FederationRefused, TokenGeneration
from ..domain.users import STAFF_GROUPS
from .ports import InvalidToken
from .ports.federation import GroupMembership, ProviderTokens


class StaffFederation:
    def __init__(self, policy: FederationPolicy, provider_tokens: ProviderTokens, membership: GroupMembership):
        self.policy = policy
        self.provider_tokens = provider_tokens
        self.membership = membership

    def on_token_generation(self, request: TokenGeneration) -> Optional[frozenset[str]]:
        """The groups the token must say (None: as the pool has them). Raises FederationRefused."""
        if not self.policy.federated_by_it(request) or request.kind == REFRESH:
            return None
        if not request.provider_token:
            raise FederationRefused("the provider's ID token was not mapped to custom:idp_id_token")
        try:
            sign_in = self.provider_tokens.verify(request.provider_token)
        except InvalidToken as error:
            raise FederationRefused(f"the provider's ID token was refused: {error}") from error
        wanted = self.policy.staff_groups(request, sign_in)
        held = self.membership.groups_of(request.username) & STAFF_GROUPS
        for group in sorted(wanted - held):
            self.membership.add(request.username, group)
        for group in sorted(held - wanted):
            self.membership.remove(request.username, group)
        return wanted
