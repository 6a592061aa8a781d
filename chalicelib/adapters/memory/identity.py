"""Fakes of settings, token verification, group membership, and metrics."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any, Optional

from ...domain.policy import Policy
from ...domain.users import CUSTOMER_POOL, STAFF_GROUPS, STAFF_POOL, Identity
from ...services.ports import (
    DirectoryUser,
    InvalidToken,
    Metrics,
    SettingsSource,
    TokenVerifier,
    UserDirectory,
)


class StaticSettings(SettingsSource):
    """A Policy held in memory; ``update`` plays an operator changing Parameter Store."""

    def __init__(self, policy: Optional[Policy] = None) -> None:
        self._policy = policy or Policy()
        self.reads = 0

    def policy(self) -> Policy:
        self.reads += 1
        return self._policy

    def fresh_policy(self) -> Policy:
        self.reads += 1
        return self._policy

    def update(self, **changes: Any) -> Policy:
        self._policy = dataclasses.replace(self._policy, **changes)
        return self._policy


class FakeTokenVerifier(TokenVerifier):
    """Accepts the tokens it issued (until revoked) and nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Identity] = {}
        self._serial = itertools.count(1)

    def issue(self, identity: Identity) -> str:
        token = f"fake-token-{next(self._serial)}-{uuid.uuid4().hex}"
        with self._lock:
            self._tokens[token] = identity
        return token

    def issue_for(
        self, sub: Optional[str] = None, groups: Iterable[str] = (), email: Optional[str] = None, pool: str = ""
    ) -> str:
        """A token of ``pool``: by default the staff pool's for anyone in a group, else the customer pool's."""
        groups = frozenset(groups)
        pool = pool or (STAFF_POOL if groups else CUSTOMER_POOL)
        return self.issue(Identity(sub=sub or str(uuid.uuid4()), groups=groups, email=email, pool=pool))

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def verify(self, token: str) -> Identity:
        with self._lock:
            identity = self._tokens.get(token)
        if identity is None:
            raise InvalidToken("token not issued by the fake verifier")
        return identity


class RecordingMetrics(Metrics):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.counts[name] += value


class InMemoryUserDirectory(UserDirectory):
    """A user pool in memory.

    ``auto_staff``: a username never added is a staff member in every staff group, enabled, with a
    verified e-mail ``<username>@staff.example`` and the username as sub (use-case tests make staff
    identities ad hoc); ``add``, ``remove``, ``disable`` and ``delete`` play an administrator.
    """

    def __init__(self, auto_staff: bool = True) -> None:
        self._lock = threading.Lock()
        self.auto_staff = auto_staff
        self.users: dict[str, DirectoryUser] = {}
        self.deleted: set[str] = set()
        self.lookups = 0

    def add(self, user: DirectoryUser) -> DirectoryUser:
        with self._lock:
            self.users[user.username] = user
            self.deleted.discard(user.username)
        return user

    def _get(self, username: str) -> Optional[DirectoryUser]:
        if username in self.deleted:
            return None
        if username not in self.users and self.auto_staff:
            self.users[username] = DirectoryUser(
                username, username, f"{username}@staff.example", True, True, frozenset(STAFF_GROUPS)
            )
        return self.users.get(username)

    def user(self, username: str) -> Optional[DirectoryUser]:
        with self._lock:
            self.lookups += 1
            return self._get(username)

    def user_by_sub(self, sub: str) -> Optional[DirectoryUser]:
        with self._lock:
            self.lookups += 1
            found = [u for name, u in self.users.items() if u.sub == sub and name not in self.deleted]
            return dataclasses.replace(found[0], groups=frozenset()) if len(found) == 1 else None

    def remove(self, username: str, group: str) -> None:
        with self._lock:
            user = self._get(username)
            if user is not None:
                self.users[username] = dataclasses.replace(user, groups=user.groups - {group})

    def disable(self, username: str) -> None:
        with self._lock:
            user = self._get(username)
            if user is not None:
                self.users[username] = dataclasses.replace(user, enabled=False)

    def delete(self, username: str) -> None:
        with self._lock:
            self.deleted.add(username)
