"""Claims on already-handled event ids in the idempotency table, expiring by TTL."""

from __future__ import annotations

import datetime as dt

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from ..services.ports import Claims
from .dynamodb_models import IdempotencyModel


class DynamoClaims(Claims):
    def claim(self, key: str, ttl_seconds: int = 7 * 24 * 3600) -> bool:
        """A conditional put: exactly one caller per key wins."""
        try:
            IdempotencyModel(key, expires_at=dt.timedelta(seconds=ttl_seconds)).save(
                condition=IdempotencyModel.key.does_not_exist()
            )
            return True
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def release(self, key: str) -> None:
        try:
            IdempotencyModel(key).delete()
        except DeleteError:  # already gone: nothing to give back
            pass

    def is_claimed(self, key: str) -> bool:
        try:
            IdempotencyModel.get(key, consistent_read=True)
            return True
        except DoesNotExist:
            return False
