"""What every port shares: the clock, the id generator and the errors every implementation raises the same way."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Optional

from ...domain.workflow.application import Application

Clock = Callable[[], dt.datetime]
IdGenerator = Callable[[], str]


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


def new_uuid() -> str:
    """The real id generator: random, canonical, lower-case."""
    return str(uuid.uuid4())


# --- errors every implementation raises the same way ---------------------------


class ConcurrentChange(Exception):
    """Someone else changed the application first; ``current`` is what won."""

    def __init__(self, current: Optional[Application]):
        self.current = current
        super().__init__("application changed concurrently")


class IdempotentReplay(Exception):
    """The idempotency key was already used; ``application_id`` is its result."""

    def __init__(self, application_id: str, fingerprint: Optional[str]):
        self.application_id = application_id
        self.fingerprint = fingerprint
        super().__init__("idempotency key already used")


class QuotaFull(Exception):
    """The commit's quota (``QuotaUse``) was already used up: nothing was written."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"quota {key} is used up")


class InvalidCursor(ValueError):
    """A page cursor that was not handed out by us (or reaches outside the caller's data)."""


class InvalidToken(Exception):
    """Any reason a token is not accepted; the message says which, for logs only."""


class ConnectionGone(Exception):
    """The WebSocket connection is not (or no longer) there."""


class TooManySubscriptions(Exception):
    pass


class TooManyConnections(Exception):
    """The user already holds as many WebSocket connections as allowed."""
