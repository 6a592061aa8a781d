"""What a use case can refuse with, beside the domain's own errors."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.policy import Broken


class NotFound(Exception):
    """Unknown, malformed or somebody else's: the caller cannot tell which."""


class DeclarationRefused(Exception):
    """The declaration breaks rules no document could mend (too young, expired, not served): nothing is stored."""

    def __init__(self, broken: Sequence[Broken]):
        super().__init__("; ".join(b.code for b in broken))
        self.broken = tuple(broken)


class IdempotencyKeyReused(Exception):
    """Same Idempotency-Key, different body: refusing beats silently returning the old one."""


class PoisonMessage(ValueError):
    """A message that can never be processed: it goes to the DLQ for a human."""


class QuotaExceeded(Exception):
    """A per-user limit was reached; the caller may try again after ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds))


class RateLimited(QuotaExceeded):
    """Too many requests of one user in the current window (``services.rate_limits``)."""

    def __init__(self, limit: int, window_seconds: int, retry_after_seconds: int):
        super().__init__(
            f"too many requests: at most {limit} per {window_seconds} s per user; retry after Retry-After",
            retry_after_seconds,
        )
        self.limit = limit
        self.window_seconds = window_seconds


class DocumentNotDisplayable(Exception):
    """The stored object is not a JPEG, PNG or PDF by its bytes: it is not shown in a browser."""


class UnknownQueue(KeyError):
    """An operator named a queue that is not one of ours."""
