"""Make moto's DynamoDB safe under concurrent requests (dev tooling only).

moto's TransactWriteItems is not atomic across threads: it checks conditions
and writes item by item with no lock, and on a cancelled transaction it
restores a deep copy of the whole table taken before it started, silently
discarding writes other requests made in between. The threaded moto server
therefore loses updates when two transactions race — exactly what the app's
conditional writes are meant to settle. Real DynamoDB serialises
transactions per item; we approximate that by serialising every DynamoDB
and DynamoDB Streams request in the emulator. This patches the emulator,
never the app.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_PATCHED = False


def serialise_dynamodb() -> None:
    """Idempotent: wrap the DynamoDB and Streams request handlers in one lock."""
    global _PATCHED
    if _PATCHED:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        @functools.wraps(original)
        def locked(self: Any, _original: Any = original) -> Any:
            with _LOCK:
                return _original(self)

        handler.call_action = locked  # type: ignore[method-assign]
    _cheap_transaction_snapshots()
    _PATCHED = True


_TX = threading.local()


def _cheap_transaction_snapshots() -> None:
    """Replace the deep copy moto takes of every table a transaction touches.

    moto snapshots each table with ``copy.deepcopy`` before a TransactWriteItems
    so it can roll a cancelled one back: O(table size) per transaction, which
    makes every test slower as the session's tables grow (tens of ms per
    transaction at a few hundred items). Under the lock above nothing else
    writes meanwhile, and Put/Delete replace Item objects rather than mutate
    them, so copying the item maps (not the items) is an exact snapshot. A
    transaction with an Update (which mutates items in place) keeps the deep copy.
    """
    import copy
    import types
    from collections import defaultdict

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    def snapshot(table: Any) -> Any:
        clone = copy.copy(table)
        clone.items = defaultdict(dict, {h: dict(v) if isinstance(v, dict) else v for h, v in table.items.items()})
        if table.stream_shard is not None:
            shard = copy.copy(table.stream_shard)
            shard.items = list(table.stream_shard.items)
            shard.table = clone
            clone.stream_shard = shard
        return clone

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table) and getattr(_TX, "no_updates", False):
            return snapshot(value)
        return copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        _TX.no_updates = all("Update" not in item for item in transact_items)
        try:
            return original(self, transact_items)
        finally:
            _TX.no_updates = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
