"""Corporate sign-in against Cognito: the staff pool's group membership, kept in step with the provider."""

from __future__ import annotations

from typing import Any

from ..services.ports import GroupMembership


class CognitoGroupMembership(GroupMembership):
    """The staff pool's groups: read (as the app's live check reads them) and changed."""

    def __init__(self, idp: Any, user_pool_id: str):
        self.idp = idp
        self.user_pool_id = user_pool_id

    def groups_of(self, username: str) -> frozenset[str]:
        groups: set[str] = set()
        request: dict[str, Any] = {"UserPoolId": self.user_pool_id, "Username": username, "Limit": 60}
        try:
            while True:
                page = self.idp.admin_list_groups_for_user(**request)
                groups.update(group["GroupName"] for group in page.get("Groups", []))
                if not page.get("NextToken"):
                    return frozenset(groups)
                request["NextToken"] = page["NextToken"]
        except self.idp.exceptions.UserNotFoundException:
            return frozenset()

    def add(self, username: str, group: str) -> None:
        self.idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)

    def remove(self, username: str, group: str) -> None:
        self.idp.admin_remove_user_from_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
