"""Staff rights, confirmed against the user pool as it is now, not as the token remembers it."""

from __future__ import annotations

from ..domain.users import Identity
from ..domain.workflow import NotAllowed
from .ports import GroupDirectory


class StaffAccess:
    def __init__(self, directory: GroupDirectory):
        self.directory = directory  # the staff user pool's: staff are never looked up among customers

    def is_member(self, identity: Identity, group: str) -> bool:
        """A staff-pool token in ``group`` whose user is still in it in the staff pool (one
        directory call, staff only). A customer-pool token is never a member, whatever it claims."""
        if not identity.is_staff or group not in identity.groups:
            return False
        return group in self.directory.groups_of(identity.username or identity.sub)

    def require(self, identity: Identity, group: str) -> Identity:
        if not self.is_member(identity, group):
            raise NotAllowed(f"only {group} may do this")
        return identity
