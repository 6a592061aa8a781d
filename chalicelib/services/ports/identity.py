"""Settings and identity: Parameter Store settings, token verification, group membership."""

from __future__ import annotations

import abc
from typing import Optional

from ...domain.policy import Policy
from ...domain.users import Identity
from .common import InvalidToken


class SettingsSource(abc.ABC):
    """Business thresholds and lists (Parameter Store), cached briefly."""

    @abc.abstractmethod
    def policy(self) -> Policy: ...

    @abc.abstractmethod
    def fresh_policy(self) -> Policy:
        """Read now, past any cache: for a job whose settings must not lag a change (the list URLs)."""


class TokenVerifier(abc.ABC):
    @abc.abstractmethod
    def verify(self, token: str) -> Identity:
        """Raises InvalidToken."""

    def verify_bearer(self, header_value: Optional[str]) -> Identity:
        if not header_value:
            raise InvalidToken("missing token")
        scheme, _, token = header_value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected 'Authorization: Bearer <token>'")
        return self.verify(token.strip())


class GroupDirectory(abc.ABC):
    """The user pool as it is now: a token's groups are only as of when it was issued."""

    @abc.abstractmethod
    def groups_of(self, username: str) -> frozenset[str]:
        """The user's current groups; none for an unknown user."""
