"""Staff rights, confirmed against the staff user pool as it is now, not as the token remembers it.

A token stays valid for up to an hour after its user was removed from a group,
deleted or disabled. Every staff request and WebSocket frame, and every staff
frame the notifier sends, asks ``is_member`` instead: the user must still exist
in the staff pool, be enabled, have the token's sub (a deleted user re-created
under the same name is someone else) and be in the group. Each answer is kept
``ttl_seconds`` per container (the removal bound, docs/security.md), so a busy
console costs two Cognito reads per user per bound, not two per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Optional

from ..domain.users import Identity
from ..domain.workflow.errors import NotAllowed
from .ports import DirectoryUser, UserDirectory

#: How long one answer of the staff pool is trusted (seconds): removal, deletion and disabling take
#: effect on REST and WebSocket within this bound. Configurable (STAFF_STATUS_CACHE_SECONDS).
DEFAULT_TTL_SECONDS = 30
#: Cache entries per container, at most (cleared whole when full: a cache, not a store).
MAX_ENTRIES = 2000


class StaffEmailUnknown(NotAllowed):
    """The staff member's e-mail cannot be established from the staff pool (missing or unverified)."""

    code = "staff_email_unverified"


class StaffAccess:
    def __init__(
        self,
        directory: UserDirectory,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.directory = directory  # the staff user pool's: staff are never looked up among customers
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Optional[DirectoryUser]]] = {}

    def current(self, identity: Identity) -> Optional[DirectoryUser]:
        """The staff-pool user behind a staff token, as the pool said at most ``ttl_seconds`` ago;
        None when the token is not a staff token, or the user is gone, disabled or not the same sub."""
        if not identity.is_staff:
            return None
        username = identity.username or identity.sub
        now = self.clock()
        with self._lock:
            cached = self._cache.get(username)
        if cached is not None and now < cached[0]:
            user = cached[1]
        else:
            user = self.directory.user(username)
            with self._lock:
                if len(self._cache) >= MAX_ENTRIES:
                    self._cache.clear()
                self._cache[username] = (now + self.ttl_seconds, user)
        if user is None or not user.enabled or user.sub != identity.sub:
            return None
        return user

    def is_member(self, identity: Identity, group: str) -> bool:
        """A staff-pool token in ``group`` whose user is still enabled and in it in the staff pool.
        A customer-pool token is never a member, whatever it claims."""
        if not identity.is_staff or group not in identity.groups:
            return False
        user = self.current(identity)
        return user is not None and group in user.groups

    def require(self, identity: Identity, group: str) -> Identity:
        if not self.is_member(identity, group):
            raise NotAllowed(f"only {group} may do this")
        return identity

    def verified_email(self, identity: Identity) -> str:
        """The staff member's e-mail as the staff pool has verified it (never the token's claim: an
        access token has none, and an ID token's may be older). Raises StaffEmailUnknown."""
        user = self.current(identity)
        if user is None or not user.email or not user.email_verified:
            raise StaffEmailUnknown(
                "your e-mail address is not verified in the staff directory: ask an administrator to verify it "
                "before you decide applications"
            )
        return user.email
