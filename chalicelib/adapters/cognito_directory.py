"""Users as a Cognito user pool knows them now: existence, status, verified e-mail, groups.

A token says which groups its user was in, and that the user existed and was
enabled, when it was issued -- for up to an hour (refreshable for days). Staff
rights are therefore confirmed against the pool (``services.staff`` caches each
answer for a few seconds: the removal bound in docs/security.md); the
self-decision rule reads the applicant's own customer-pool account by its sub.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..services.ports import DirectoryUser, UserDirectory


class CognitoUserDirectory(UserDirectory):
    def __init__(self, idp: Any, user_pool_id: str):
        self.idp = idp
        self.user_pool_id = user_pool_id

    def user(self, username: str) -> Optional[DirectoryUser]:
        """AdminGetUser, then AdminListGroupsForUser (two calls; a deleted user costs one)."""
        try:
            found = self.idp.admin_get_user(UserPoolId=self.user_pool_id, Username=username)
        except self.idp.exceptions.UserNotFoundException:
            return None
        name = found["Username"]
        return _user(name, found.get("UserAttributes", []), bool(found.get("Enabled", True)), self._groups(name))

    def user_by_sub(self, sub: str) -> Optional[DirectoryUser]:
        """ListUsers filtered on ``sub`` (an exact match; the value is quoted as JSON, so it cannot widen)."""
        found = self.idp.list_users(UserPoolId=self.user_pool_id, Filter=f"sub = {json.dumps(sub)}", Limit=2)
        users = [u for u in found.get("Users", []) if _attribute(u.get("Attributes", []), "sub") == sub]
        if len(users) != 1:
            return None
        user = users[0]
        return _user(user["Username"], user.get("Attributes", []), bool(user.get("Enabled", True)), frozenset())

    def _groups(self, username: str) -> frozenset[str]:
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


def _attribute(attributes: list[dict[str, str]], name: str) -> Optional[str]:
    return next((a.get("Value") for a in attributes if a.get("Name") == name), None)


def _user(username: str, attributes: list[dict[str, str]], enabled: bool, groups: frozenset[str]) -> DirectoryUser:
    return DirectoryUser(
        username=username,
        sub=_attribute(attributes, "sub") or "",
        email=_attribute(attributes, "email"),
        email_verified=(_attribute(attributes, "email_verified") or "").lower() == "true",
        enabled=enabled,
        groups=groups,
    )
