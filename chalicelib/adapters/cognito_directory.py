"""Current group memberships from the Cognito user pool.

A token says which groups its user was in when it was issued, for up to an
hour (refreshable for days). Staff rights are therefore confirmed against
the pool on each staff request and WebSocket frame: a reviewer removed from
``reviewers`` loses access at once, not when the token expires.
"""

from __future__ import annotations

from typing import Any

from ..services.ports import GroupDirectory


class CognitoGroupDirectory(GroupDirectory):
    def __init__(self, idp: Any, user_pool_id: str):
        self.idp = idp
        self.user_pool_id = user_pool_id

    def groups_of(self, username: str) -> frozenset[str]:
        groups: set[str] = set()
        request: dict[str, Any] = {"UserPoolId": self.user_pool_id, "Username": username, "Limit": 60}
        try:
            while True:
                page = self.idp.admin_list_groups_for_user(**request)
                groups.update(g["GroupName"] for g in page.get("Groups", []))
                if not page.get("NextToken"):
                    return frozenset(groups)
                request["NextToken"] = page["NextToken"]
        except self.idp.exceptions.UserNotFoundException:
            return frozenset()
