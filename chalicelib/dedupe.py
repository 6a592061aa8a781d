"""Remembering which events were already handled, for at-least-once deliveries."""
from __future__ import annotations

import datetime as dt

from pynamodb.exceptions import DoesNotExist, PutError

from .models import IdempotencyModel

DEFAULT_TTL = 7 * 24 * 3600


def seen(key: str) -> bool:
    try:
        IdempotencyModel.get(key, consistent_read=True)
        return True
    except DoesNotExist:
        return False


def mark(key: str, ttl: int = DEFAULT_TTL) -> None:
    IdempotencyModel(key, expires_at=dt.timedelta(seconds=ttl)).save()


def claim(key: str, ttl: int = DEFAULT_TTL) -> bool:
    """True for exactly one caller per key: a conditional put."""
    try:
        IdempotencyModel(key, expires_at=dt.timedelta(seconds=ttl)).save(
            condition=IdempotencyModel.key.does_not_exist())
        return True
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def release(key: str) -> None:
    """Give a claim back, so the next delivery of the same event is handled again."""
    IdempotencyModel(key).delete()
