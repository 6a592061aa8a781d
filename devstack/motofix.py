"""Fixes to moto, the local AWS, where it differs from AWS (dev tooling only).

:func:`patch_moto` applies them all: DynamoDB made safe under concurrent
requests (below), S3 presigned POST policies enforced
(:func:`enforce_presigned_post_policies`) and a per-request directory scan
done once (:func:`list_moto_modules_once`).

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
from urllib.parse import parse_qs, urlparse

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


def _cheap_transaction_snapshots() -> None:
    """Snapshot and roll back transactions in place, cheaply.

    moto snapshots each table a TransactWriteItems touches with
    ``copy.deepcopy`` and, when the transaction is cancelled, *replaces* the
    table object with that copy. Two problems: the deep copy is O(table size)
    per transaction (tens of ms at a few hundred items), and the replacement
    carries a new stream shard, so a stream reader opened before the
    cancellation (the local stack's pump) never sees another record.

    Instead we hand moto the live table as its "snapshot" (so its restore is a
    no-op), keep our own copy of the item maps and of the stream records, and
    on cancellation put them back into the same table and shard objects. Under
    the lock above nothing else writes meanwhile. Put and Delete replace Item
    objects rather than mutate them, so copying the maps is exact; a
    transaction with an Update (which mutates items in place) deep-copies the
    items it may touch.
    """
    import copy
    import types
    from collections import defaultdict

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            return value  # rolled back in place by transact_write_items below
        return copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    def snapshot(table: Any, with_updates: bool) -> tuple[Any, Any]:
        if with_updates:
            items = copy.deepcopy(table.items)
        else:
            items = defaultdict(dict, {h: dict(v) if isinstance(v, dict) else v for h, v in table.items.items()})
        stream = list(table.stream_shard.items) if table.stream_shard is not None else None
        return items, stream

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        names = {op.get("TableName") for item in transact_items for op in item.values() if isinstance(op, dict)}
        tables = {name: self.tables[name] for name in names if name in self.tables}
        with_updates = any("Update" in item for item in transact_items)
        saved = {name: snapshot(table, with_updates) for name, table in tables.items()}
        try:
            return original(self, transact_items)
        except Exception:
            for name, table in tables.items():
                items, stream = saved[name]
                self.tables[name] = table
                table.items = items
                if stream is not None:
                    table.stream_shard.items[:] = stream
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_S3_POST_PATCHED = False


def enforce_presigned_post_policies() -> None:
    """Idempotent: S3 POST uploads are checked against their policy, as S3 does.

    moto stores any form upload; see :mod:`devstack.s3_post_policy` for what is
    checked and how a refusal is answered. Deleting keys (also a bucket POST)
    is untouched.
    """
    global _S3_POST_PATCHED
    if _S3_POST_PATCHED:
        return
    from moto.s3.responses import S3Response

    from .s3_post_policy import check

    original = S3Response._bucket_response_post

    @functools.wraps(original)
    def checked(self: Any, request: Any, bucket_name: str) -> Any:
        content_type = request.headers.get("Content-Type", "")
        query = parse_qs(urlparse(self._get_path(request)).query, keep_blank_values=True)
        if content_type.startswith("multipart/form-data") and "delete" not in query:
            form = {name: value for name, value in self.form_data.items() if name != "file"}
            refusal = check(bucket_name, form, len(self.raw_body or b""))
            if refusal is not None:
                return refusal
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = checked  # type: ignore[method-assign]
    _S3_POST_PATCHED = True


def list_moto_modules_once() -> None:
    """Idempotent: moto's server lists its own package directory once, not on every request.

    ``DomainDispatcherApplication.get_application`` calls
    ``backends.list_of_moto_modules()`` (an ``os.listdir`` plus an ``isdir``
    per entry, about 200 system calls) for each request, under one global
    lock: under load that was the busiest code in the moto process and
    serialised every request behind file-system calls.
    """
    import moto.backends as backends

    if getattr(backends.list_of_moto_modules, "devstack_cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Any:
        return iter(modules)

    list_of_moto_modules.devstack_cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]


_S3_EVENTS_PATCHED = False


def s3_notifications_as_s3_sends_them() -> None:
    """Idempotent: moto's S3 event notifications shaped as S3's own.

    moto's records lack the object's ``versionId`` (S3 sends it for a versioned
    bucket: the identity check reads exactly that version), the ``sequencer``
    (orders events of one key) and the request's identity, and they
    percent-encode ``/`` in the key, which S3 does not (it encodes like a form:
    space as ``+``).
    """
    global _S3_EVENTS_PATCHED
    if _S3_EVENTS_PATCHED:
        return
    import itertools
    from urllib.parse import quote_plus

    import moto.s3.notifications as notifications

    original = notifications._get_s3_event
    sequence = itertools.count(int(__import__("time").time() * 1000) << 16)

    @functools.wraps(original)
    def shaped(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = original(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            s3_object = record["s3"]["object"]
            s3_object["key"] = quote_plus(key.name, safe="/")
            version = getattr(key, "version_id", None)
            if getattr(bucket, "is_versioned", False) and version and version != "null":
                s3_object["versionId"] = version
            s3_object["sequencer"] = f"{next(sequence):016X}"
            record.setdefault("userIdentity", {"principalId": "AWS:DEVSTACK"})
            record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            record.setdefault("responseElements", {"x-amz-request-id": "DEVSTACK", "x-amz-id-2": "DEVSTACK"})
        return event

    notifications._get_s3_event = shaped
    _S3_EVENTS_PATCHED = True


def patch_moto() -> None:
    """Every fix the local stack applies to moto (idempotent)."""
    serialise_dynamodb()
    enforce_presigned_post_policies()
    list_moto_modules_once()
    s3_notifications_as_s3_sends_them()
