"""Settings and identity: Parameter Store settings, token verification, group membership."""

from __future__ import annotations

import abc
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the user pool knows them now (a token says only what was true when it was issued)."""

    username: str
    sub: str
    email: Optional[str] = None
    email_verified: bool = False
    enabled: bool = True
    #: Current groups (``user`` only; ``user_by_sub`` leaves them empty: the customer pool has none).
    groups: frozenset[str] = frozenset()


class UserDirectory(abc.ABC):
    """One user pool as it is now: who exists, whether enabled, their verified e-mail, their groups."""

    @abc.abstractmethod
    def user(self, username: str) -> Optional[DirectoryUser]:
        """The user and their groups; None when there is no such user (never created, or deleted)."""

    @abc.abstractmethod
    def user_by_sub(self, sub: str) -> Optional[DirectoryUser]:
        """The user whose ``sub`` this is (groups not read); None when there is none."""
