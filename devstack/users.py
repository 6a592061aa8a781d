"""Demo users of the local stack and signing them in.

Applicants are users of the customer pool (``USER_POOL_ID``), created through
Cognito's admin APIs with permanent passwords, so a developer signs in at once
with USER_PASSWORD_AUTH and gets the same RS256 tokens (signed by moto, with the
AWS-form ``iss``) the app verifies.

Reviewers and operators are people of the corporate identity provider -- locally
its stand-in (:mod:`devstack.oidc_provider`) -- as in a bank: a password and an
authenticator app (MFA at the provider), and a provider group (``kyc-reviewers``,
``kyc-operations``) that the staff pool maps to ``reviewers`` / ``operators``
(``LOCAL_PROVIDER_GROUPS``). They sign in through the staff pool's managed login
(authorization code + PKCE, :func:`devstack.signin.oauth_sign_in`); Cognito makes
them staff pool users (``Corporate_<subject>``) at their first sign-in. The staff
app client has no password flow, here as on AWS.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The staff groups and the corporate provider's groups that grant them (the stage's StaffProviderGroups).
LOCAL_PROVIDER_GROUPS = {"reviewers": "kyc-reviewers", "operators": "kyc-operations"}
STAFF_PROVIDER = "Corporate"  # the staff pool's name for the corporate provider (resources.yaml)


def local_group_mapping() -> str:
    return ";".join(f"{group}={provider}" for group, provider in sorted(LOCAL_PROVIDER_GROUPS.items()))


@dataclass(frozen=True)
class DemoUser:
    role: str
    email: str
    password: str
    groups: tuple[str, ...] = ()
    totp_secret: str | None = None  # staff: the authenticator app enrolled at the provider (base32)

    @property
    def pool(self) -> str:
        """``staff`` for reviewers and operators (any group), ``customer`` for applicants."""
        return "staff" if self.groups else "customer"

    @property
    def provider_groups(self) -> tuple[str, ...]:
        return tuple(LOCAL_PROVIDER_GROUPS[group] for group in self.groups)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["pool"] = self.pool
        if self.pool == "staff":
            data["signs_in_at"] = "the corporate provider (stand-in)"
            data["provider_groups"] = list(self.provider_groups)
        else:
            data.pop("totp_secret")
        return data


# Passwords meet the policies: applicants 12+ characters, upper, lower and a digit; staff's are the provider's.
# The staff's authenticator secrets are demo values (anyone reading this file has them): local use only.
DEMO_USERS = (
    DemoUser("applicant", "applicant@example.com", "Applicant-Demo-2024"),
    DemoUser("reviewer", "reviewer@example.com", "Reviewer-Demo-2024", ("reviewers",),
             totp_secret="JBSWY3DPEHPK3PXPREVIEWERDEMO2345"),
    DemoUser("operator", "operator@example.com", "Operator-Demo-2024", ("operators",),
             totp_secret="JBSWY3DPEHPK3PXPOPERATORDEMO2345"),
)


#: ``./dev user add --role``: the groups each role is given (staff roles go into the staff pool).
ROLE_GROUPS: dict[str, tuple[str, ...]] = {"applicant": (), "reviewer": ("reviewers",),
                                           "operator": ("operators",)}


def seed_demo_users(cognito: Any, user_pool_id: str,
                    users: tuple[DemoUser, ...] = DEMO_USERS, provider: Any = None) -> list[DemoUser]:
    """Applicants: confirmed users of the customer pool with permanent passwords. Staff: people of the
    corporate ``provider`` (a :class:`devstack.oidc_provider.StandInProvider`) in their provider groups."""
    from .oidc_provider import Person

    for user in users:
        if user.pool == "staff":
            if provider is None:
                raise ValueError(f"{user.email} is staff: they sign in at the corporate provider (pass provider)")
            provider.add(Person(user.email, user.password, {"groups": list(user.provider_groups),
                                                            "name": user.role.capitalize()},
                                totp_secret=user.totp_secret))
            continue
        cognito.admin_create_user(
            UserPoolId=user_pool_id, Username=user.email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": user.email},
                            {"Name": "email_verified", "Value": "true"}])
        cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=user.email,
                                        Password=user.password, Permanent=True)
    return list(users)


def sign_in_steps(user: dict[str, Any], password: str, console_url: str) -> list[str]:
    """What ``./dev user add`` prints: how the person just added signs in on the local stack. Applicants: the
    console's form with their password. Staff have no password at the bank: they sign in at their
    organisation's provider (here its stand-in) with its password and authenticator code, from the console's
    "Sign in with your organisation's account" or ``./dev token``."""
    email, groups = user["email"], list(user.get("groups") or [])
    if user.get("pool") != "staff" and not groups:
        return [f"added {email} (customer pool): an applicant with password {password}",
                f"sign in: the console {console_url}, e-mail and password; a token: ./dev token {email}"]
    page = "#/operator" if "operators" in groups else "#/review"
    provider_groups = ", ".join(user.get("provider_groups") or [])
    return [
        f"added {email} (staff pool, groups: {', '.join(groups)}): a person of the corporate provider "
        f"(its local stand-in) in {provider_groups}; the staff pool makes them its user at their first sign-in",
        "staff have no password at the bank's sign-in; they sign in at their organisation's provider:",
        f"  console: open {console_url}/{page}, press \"Sign in with your organisation's account\", then at the "
        f"provider give {email}, the provider password {password} and the authenticator code "
        f"that ./dev otp {email} prints",
        f"  API:     ./dev token {email}   (the same sign-in, done for you: code + PKCE with the authenticator code)",
    ]


def client_id_for(env: dict[str, str], user: dict[str, Any] | DemoUser) -> str:
    """The app client of the user's pool: staff sign in to the staff pool's client."""
    pool = user.pool if isinstance(user, DemoUser) else user.get("pool") or (
        "staff" if user.get("groups") else "customer")
    return env["STAFF_USER_POOL_CLIENT_ID"] if pool == "staff" else env["USER_POOL_CLIENT_ID"]


def sign_in(cognito: Any, client_id: str, email: str, password: str) -> dict[str, Any]:
    """USER_PASSWORD_AUTH sign-in (applicants); returns Cognito's AuthenticationResult."""
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
