"""Corporate sign-in: the provider's ID tokens, and the staff pool's group membership to keep in step."""

from __future__ import annotations

import abc

from ...domain.federation import ProviderSignIn


class ProviderTokens(abc.ABC):
    """The corporate identity provider's ID tokens."""

    @abc.abstractmethod
    def verify(self, token: str) -> ProviderSignIn:
        """Signature (the provider's JWKS), issuer, audience, expiry and that it is fresh (this sign-in's).
        Raises InvalidToken."""


class GroupMembership(abc.ABC):
    """The staff pool's groups, changed as well as read."""

    @abc.abstractmethod
    def groups_of(self, username: str) -> frozenset[str]:
        """The user's current groups; none for an unknown user."""

    @abc.abstractmethod
    def add(self, username: str, group: str) -> None:
        """Idempotent: adding a member again changes nothing."""

    @abc.abstractmethod
    def remove(self, username: str, group: str) -> None:
        """Idempotent: removing a non-member changes nothing."""
