"""Demo users of the local stack and signing them in.

The users are created through Cognito's admin APIs with permanent passwords,
so a developer can sign in at once with USER_PASSWORD_AUTH and get the same
RS256 tokens (signed by moto, with the AWS-form ``iss``) the app verifies.
Applicants live in the customer pool (``USER_POOL_ID``); reviewers and operators
in the staff pool (``STAFF_USER_POOL_ID``), the only pool whose tokens staff
routes accept. The staff pool requires MFA: on AWS a staff member enrols a TOTP
app at first sign-in; moto lets a user who never enrolled sign in without one,
so the demo staff sign in with a password alone on the local stack.
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

    @property
    def pool(self) -> str:
        """``staff`` for reviewers and operators (any group), ``customer`` for applicants."""
        return "staff" if self.groups else "customer"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["pool"] = self.pool
        return data


# Passwords meet the pools' policies: 12+ characters, upper, lower and a digit; staff 14+ and a symbol.
DEMO_USERS = (
    DemoUser("applicant", "applicant@example.com", "Applicant-Demo-2024"),
    DemoUser("reviewer", "reviewer@example.com", "Reviewer-Demo-2024", ("reviewers",)),
    DemoUser("operator", "operator@example.com", "Operator-Demo-2024", ("operators",)),
)


#: ``./dev user add --role``: the groups each role is given (staff roles go into the staff pool).
ROLE_GROUPS: dict[str, tuple[str, ...]] = {"applicant": (), "reviewer": ("reviewers",),
                                           "operator": ("operators",)}


def seed_demo_users(cognito: Any, user_pool_id: str,
                    users: tuple[DemoUser, ...] = DEMO_USERS,
                    staff_user_pool_id: str | None = None) -> list[DemoUser]:
    """Create confirmed users with permanent passwords and their group memberships:
    applicants in ``user_pool_id``, staff (any group) in ``staff_user_pool_id``."""
    for user in users:
        pool = user_pool_id
        if user.pool == "staff":
            if not staff_user_pool_id:
                raise ValueError(f"{user.email} is staff: pass staff_user_pool_id (STAFF_USER_POOL_ID)")
            pool = staff_user_pool_id
        cognito.admin_create_user(
            UserPoolId=pool, Username=user.email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": user.email},
                            {"Name": "email_verified", "Value": "true"}])
        cognito.admin_set_user_password(UserPoolId=pool, Username=user.email,
                                        Password=user.password, Permanent=True)
        for group in user.groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=user.email,
                                            GroupName=group)
    return list(users)


def client_id_for(env: dict[str, str], user: dict[str, Any] | DemoUser) -> str:
    """The app client of the user's pool: staff sign in to the staff pool's client."""
    pool = user.pool if isinstance(user, DemoUser) else user.get("pool") or ("staff" if user.get("groups") else "customer")
    return env["STAFF_USER_POOL_CLIENT_ID"] if pool == "staff" else env["USER_POOL_CLIENT_ID"]


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
