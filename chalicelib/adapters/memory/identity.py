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
    GroupDirectory,
    InvalidToken,
    Metrics,
    SettingsSource,
    TokenVerifier,
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


class InMemoryGroupDirectory(GroupDirectory):
    """A user pool in which every user is in the staff groups their token names, until ``remove``d."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.removed: dict[str, set[str]] = {}

    def groups_of(self, username: str) -> frozenset[str]:
        with self._lock:
            return frozenset(STAFF_GROUPS - self.removed.get(username, set()))

    def remove(self, username: str, group: str) -> None:
        with self._lock:
            self.removed.setdefault(username, set()).add(group)
