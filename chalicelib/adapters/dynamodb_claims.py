"""Claims on already-handled event ids in the idempotency table, expiring by TTL."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Sequence
from typing import Optional

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..services.ports import Claims, Quotas
from .dynamodb_models import IdempotencyModel

#: TransactWriteItems takes at most 100 items.
TRANSACTION_ITEMS = 100


class DynamoClaims(Claims):
    def __init__(self, connection: Optional[Connection] = None):
        self.connection = connection  # for claim_all's transactions

    def claim_all(self, keys: Sequence[str], ttl_seconds: int = 7 * 24 * 3600) -> set[str]:
        """Conditional puts in one TransactWriteItems (per hundred keys): one call when all are new.

        A transaction is all or nothing, so when some keys are taken already the cancellation
        reasons name them and the rest is tried again without them (a replay costs a second call).
        """
        won: set[str] = set()
        pending = list(dict.fromkeys(keys))
        if self.connection is None or len(pending) == 1:
            return super().claim_all(pending, ttl_seconds)
        for start in range(0, len(pending), TRANSACTION_ITEMS):
            chunk = pending[start : start + TRANSACTION_ITEMS]
            for attempt in range(8):
                if not chunk:
                    break
                try:
                    with TransactWrite(connection=self.connection) as tx:
                        for key in chunk:
                            tx.save(
                                IdempotencyModel(key, expires_at=dt.timedelta(seconds=ttl_seconds)),
                                condition=IdempotencyModel.key.does_not_exist(),
                            )
                    won.update(chunk)
                    break
                except TransactWriteError as error:
                    codes = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
                    taken = {key for key, code in zip(chunk, codes, strict=False) if code == "ConditionalCheckFailed"}
                    if (
                        not taken
                        and not any(c == "TransactionConflict" for c in codes)
                        and (error.cause_response_code != "TransactionConflictException")
                    ):
                        raise
                    chunk = [key for key in chunk if key not in taken]
                    if not taken:
                        time.sleep(random.uniform(0, 0.01 * 2**attempt))  # a conflict: back off and retry
            else:
                raise RuntimeError("claims kept conflicting")
        return won

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
