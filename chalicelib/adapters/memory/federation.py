"""Fakes of corporate sign-in: the provider's tokens and the staff pool's group membership."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ...domain.federation import ProviderSignIn
from ...services.ports import GroupMembership, InvalidToken, ProviderTokens


class StaticProviderTokens(ProviderTokens):
    """Accepts the tokens it issued (until it is told they expired) and nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, ProviderSignIn] = {}
        self._serial = 0

    def issue(self, subject: str, groups: Iterable[str] = (), methods: Iterable[str] = ("pwd", "mfa")) -> str:
        with self._lock:
            self._serial += 1
            token = f"provider-token-{self._serial}"
            self._tokens[token] = ProviderSignIn(subject, frozenset(groups), frozenset(methods))
        return token

    def expire(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def verify(self, token: str) -> ProviderSignIn:
        with self._lock:
            sign_in = self._tokens.get(token)
        if sign_in is None:
            raise InvalidToken("not a token of the provider, or too old")
        return sign_in


class InMemoryGroupMembership(GroupMembership):
    """The staff pool's users and their groups."""

    def __init__(self, members: dict[str, Iterable[str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, set[str]] = {user: set(groups) for user, groups in (members or {}).items()}
        self.changes: list[tuple[str, str, str]] = []  # (add|remove, user, group), in order

    def groups_of(self, username: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._groups.get(username, set()))

    def add(self, username: str, group: str) -> None:
        with self._lock:
            if group not in self._groups.setdefault(username, set()):
                self._groups[username].add(group)
                self.changes.append(("add", username, group))

    def remove(self, username: str, group: str) -> None:
        with self._lock:
            if group in self._groups.get(username, set()):
                self._groups[username].discard(group)
                self.changes.append(("remove", username, group))
