"""What a use case can refuse with, beside the domain's own errors."""

from __future__ import annotations


class NotFound(Exception):
    """Unknown, malformed or somebody else's: the caller cannot tell which."""


class IdempotencyKeyReused(Exception):
    """Same Idempotency-Key, different body: refusing beats silently returning the old one."""


class PoisonMessage(ValueError):
    """A message that can never be processed: it goes to the DLQ for a human."""


class QuotaExceeded(Exception):
    """A per-user limit was reached; the caller may try again after ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds))


class DocumentNotDisplayable(Exception):
    """The stored object is not a JPEG, PNG or PDF by its bytes: it is not shown in a browser."""


class UnknownQueue(KeyError):
    """An operator named a queue that is not one of ours."""
