"""Claims on already-handled event ids in the idempotency table, expiring by TTL."""

from __future__ import annotations

import datetime as dt

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from ..services.ports import Claims, Quotas
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


class DynamoQuotas(Quotas):
    """Per-key counters in the idempotency table: one conditional UpdateItem per use."""

    def take(self, key: str, limit: int, ttl_seconds: int) -> bool:
        try:
            IdempotencyModel(key).update(
                actions=[
                    IdempotencyModel.uses.add(1),
                    IdempotencyModel.expires_at.set(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)),
                ],
                condition=IdempotencyModel.uses.does_not_exist() | (IdempotencyModel.uses < limit),
            )
            return True
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def give_back(self, key: str) -> None:
        try:
            IdempotencyModel(key).update(actions=[IdempotencyModel.uses.add(-1)], condition=IdempotencyModel.uses > 0)
        except UpdateError:  # already at zero or expired: nothing to give back
            pass
