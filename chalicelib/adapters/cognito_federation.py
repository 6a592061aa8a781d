"""Corporate sign-in against Cognito: the staff pool's group membership, kept in step with the provider."""

from __future__ import annotations

from typing import Any

from ..services.ports import GroupMembership
from .cognito_directory import CognitoGroupDirectory


class CognitoGroupMembership(CognitoGroupDirectory, GroupMembership):
    """The staff pool's groups: read (as the app's live check reads them) and changed."""

    def __init__(self, idp: Any, user_pool_id: str):
        super().__init__(idp, user_pool_id)

    def add(self, username: str, group: str) -> None:
        self.idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)

    def remove(self, username: str, group: str) -> None:
        self.idp.admin_remove_user_from_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
