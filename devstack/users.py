"""Demo users of the local stack and signing them in.

The users are created through Cognito's admin APIs with permanent passwords,
so a developer can sign in at once with USER_PASSWORD_AUTH and get the same
RS256 tokens (signed by moto, with the AWS-form ``iss``) the app verifies.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DemoUser:
    role: str
    email: str
    password: str
    groups: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data


# Passwords meet the pool policy: 12+ characters, upper, lower and a digit.
DEMO_USERS = (
    DemoUser("applicant", "applicant@example.com", "Applicant-Demo-2024"),
    DemoUser("reviewer", "reviewer@example.com", "Reviewer-Demo-2024", ("reviewers",)),
    DemoUser("operator", "operator@example.com", "Operator-Demo-2024", ("operators",)),
)


def seed_demo_users(cognito: Any, user_pool_id: str,
                    users: tuple[DemoUser, ...] = DEMO_USERS) -> list[DemoUser]:
    """Create confirmed users with permanent passwords and their group memberships."""
    for user in users:
        cognito.admin_create_user(
            UserPoolId=user_pool_id, Username=user.email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": user.email},
                            {"Name": "email_verified", "Value": "true"}])
        cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=user.email,
                                        Password=user.password, Permanent=True)
        for group in user.groups:
            cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=user.email,
                                            GroupName=group)
    return list(users)


def sign_in(cognito: Any, client_id: str, email: str, password: str) -> dict[str, Any]:
    """USER_PASSWORD_AUTH sign-in; returns Cognito's AuthenticationResult."""
    response = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password})
    return response["AuthenticationResult"]


def find_user(users: list[dict[str, Any]], role_or_email: str) -> dict[str, Any]:
    """A user from a state file's user list, by role (``reviewer``) or email."""
    for user in users:
        if role_or_email in (user["role"], user["email"]):
            return user
    known = ", ".join(user["role"] for user in users)
    raise KeyError(f"no demo user {role_or_email!r} (known: {known})")
