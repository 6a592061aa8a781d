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
    _PATCHED = True
