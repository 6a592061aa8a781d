"""Staff rights, confirmed against the user pool as it is now, not as the token remembers it."""

from __future__ import annotations

from ..domain.users import Identity
from ..domain.workflow import NotAllowed
from .ports import GroupDirectory


class StaffAccess:
    def __init__(self, directory: GroupDirectory):
        self.directory = directory

    def is_member(self, identity: Identity, group: str) -> bool:
        """In ``group`` by the token and still in it in the pool (one directory call, staff only)."""
        if group not in identity.groups:
            return False
        return group in self.directory.groups_of(identity.username or identity.sub)

    def require(self, identity: Identity, group: str) -> Identity:
        if not self.is_member(identity, group):
            raise NotAllowed(f"only {group} may do this")
        return identity
