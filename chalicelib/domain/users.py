"""Who is calling: a signed-in user as the token verifier saw them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

REVIEWERS_GROUP = "reviewers"
OPERATORS_GROUP = "operators"
STAFF_GROUPS = frozenset({REVIEWERS_GROUP, OPERATORS_GROUP})

#: The user pool a token came from. Applicants sign up in the customer pool; reviewers and
#: operators are invited into the staff pool (MFA required). A group claim counts only in the
#: staff pool: a customer-pool token saying ``reviewers`` is an applicant's token all the same.
CUSTOMER_POOL = "customer"
STAFF_POOL = "staff"
POOLS = frozenset({CUSTOMER_POOL, STAFF_POOL})


@dataclass(frozen=True)
class Identity:
    sub: str
    groups: frozenset[str]
    email: Optional[str] = None
    token_use: str = "id"
    #: The pool's user name (``cognito:username`` / ``username``): what the directory knows the user by.
    username: Optional[str] = None
    #: When the token stops being valid (epoch seconds): a WebSocket connection lives no longer.
    expires_at: Optional[int] = None
    #: Which user pool signed the token: ``customer`` or ``staff``.
    pool: str = CUSTOMER_POOL

    @property
    def is_staff(self) -> bool:
        return self.pool == STAFF_POOL

    @property
    def is_customer(self) -> bool:
        return self.pool == CUSTOMER_POOL

    @property
    def is_reviewer(self) -> bool:
        return self.is_staff and REVIEWERS_GROUP in self.groups

    @property
    def is_operator(self) -> bool:
        return self.is_staff and OPERATORS_GROUP in self.groups

    def to_context(self) -> dict[str, str]:
        """Flat strings, the shape an API Gateway authorizer context has."""
        return {
            "principalId": self.sub,
            "groups": ",".join(sorted(self.groups)),
            "email": self.email or "",
            "token_use": self.token_use,
            "username": self.username or "",
            "pool": self.pool,
        }

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Identity:
        groups = frozenset(g for g in (context.get("groups") or "").split(",") if g)
        return cls(
            sub=context["principalId"],
            groups=groups,
            email=context.get("email") or None,
            token_use=context.get("token_use", "id"),
            username=context.get("username") or None,
            pool=context.get("pool") or CUSTOMER_POOL,
        )
