"""Fixes to moto, the local AWS, where it differs from AWS (dev tooling only).

:func:`patch_moto` applies them all: DynamoDB made safe under concurrent
requests (below), SQS deletes that never drop a message sent meanwhile
(:func:`sqs_deletes_keep_concurrent_sends`), S3 presigned POST policies enforced
(:func:`enforce_presigned_post_policies`), S3 events naming their object
version (:func:`s3_events_carry_version_ids`), app clients' WriteAttributes honoured
(:func:`enforce_client_write_attributes`) and a per-request directory scan
done once (:func:`list_moto_modules_once`), and a Query that reads its partition, not the
whole table (:func:`queries_read_their_partition`).

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
import json
import threading
import time
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
    """Snapshot and roll back transactions in place, in time proportional to what they touch.

    moto snapshots each table a TransactWriteItems touches with
    ``copy.deepcopy`` and, when the transaction is cancelled, *replaces* the
    table object with that copy. Two problems: the deep copy is O(table size)
    per transaction (tens of ms at a few hundred items, seconds once a test
    session or a benchmark has written thousands), and the replacement carries
    a new stream shard, so a stream reader opened before the cancellation (the
    local stack's pump) never sees another record.

    Instead we hand moto the live table as its "snapshot" (so its restore is a
    no-op), remember the items the transaction names (at most 100, by their
    keys: a deep copy of each, or that it was absent) and the stream's length,
    and on cancellation put those items back and cut the stream back, in the
    same table and shard objects. Under the lock above nothing else writes
    meanwhile, and a transaction writes nothing but the items it names. A
    request whose keys cannot be read is snapshotted whole, as before.
    """
    import copy
    import types
    from collections import defaultdict

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            return value  # rolled back in place by transact_write_items below
        return copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items
    absent = object()

    def keys_named(table: Any, transact_items: Any, name: str) -> list[tuple[Any, Any]]:
        keys = []
        for item in transact_items:
            for op_type, op in item.items():
                if not isinstance(op, dict) or op.get("TableName") != name:
                    continue
                attributes = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(attributes[table.hash_key_attr])
                range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
                keys.append((hash_key, range_key))
        return keys

    def snapshot(table: Any, name: str, transact_items: Any) -> tuple[Any, Any, Any]:
        stream = len(table.stream_shard.items) if table.stream_shard is not None else None
        try:
            keys = keys_named(table, transact_items, name)
        except (KeyError, TypeError, AttributeError):  # moto will refuse it; keep the old, whole copy
            whole = defaultdict(dict, {h: dict(v) if isinstance(v, dict) else v for h, v in table.items.items()})
            return None, copy.deepcopy(whole), stream
        saved = []
        for hash_key, range_key in keys:
            partition = table.items.get(hash_key, absent)
            if range_key is None:
                old = partition
            else:
                old = partition.get(range_key, absent) if partition is not absent else absent
            saved.append((hash_key, range_key, partition is not absent,
                          old if old is absent else copy.deepcopy(old)))
        return saved, None, stream

    def restore(table: Any, saved: Any, whole: Any, stream: Any) -> None:
        if whole is not None:
            table.items = whole
        else:
            for hash_key, range_key, had_partition, old in reversed(saved):
                if range_key is None:
                    if old is absent:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = old
                    continue
                partition = table.items.get(hash_key)
                if old is not absent:
                    table.items[hash_key][range_key] = old
                elif partition is not None:
                    partition.pop(range_key, None)
                    if not partition and not had_partition:
                        table.items.pop(hash_key, None)
        if stream is not None:
            del table.stream_shard.items[stream:]

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        names = {op.get("TableName") for item in transact_items for op in item.values() if isinstance(op, dict)}
        tables = {name: self.tables[name] for name in names if name in self.tables}
        saved = {name: snapshot(table, name, transact_items) for name, table in tables.items()}
        try:
            return original(self, transact_items)
        except Exception:
            for name, table in tables.items():
                self.tables[name] = table
                restore(table, *saved[name])
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


_S3_GET_PATCHED = False


def enforce_presigned_get_links() -> None:
    """Idempotent: a presigned GET/HEAD link is checked as S3 does (signature over what it names, expiry).

    moto serves any link that carries a signature parameter; see :mod:`devstack.s3_presigned_get`.
    Requests signed in the Authorization header (the SDK's own calls) are untouched.
    """
    global _S3_GET_PATCHED
    if _S3_GET_PATCHED:
        return
    from moto.s3.responses import S3Response

    from .s3_presigned_get import check, is_presigned

    original = S3Response._key_response

    @functools.wraps(original)
    def checked(self: Any, request: Any, full_url: str) -> Any:
        method = request.method.upper()
        environ = getattr(request, "environ", {}) or {}
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        raw_path, _, raw_query = raw.partition("?") if raw else (urlparse(full_url).path, "", urlparse(full_url).query)
        if method in ("GET", "HEAD") and raw_query and is_presigned(raw_query):
            refusal = check(method, raw_path, raw_query, dict(request.headers))
            if refusal is not None:
                return refusal
        return original(self, request, full_url)

    S3Response._key_response = checked  # type: ignore[method-assign]
    _S3_GET_PATCHED = True


_QUERY = threading.local()


def queries_read_their_partition() -> None:
    """moto answers a Query by listing every item of the table, sorted, then keeping the queried key's: each
    query costs the whole table, and the suite's shared local AWS fills as it runs (9 ms a query, 45 s of the
    suite's CPU, the DynamoDB lock held meanwhile). Real DynamoDB reads one partition. Here a table query lists
    only its partition; an index query still looks at every item (moto keeps no index) but skips the sort of
    the whole table, since moto sorts what it keeps. Same results, same order (test_motofix)."""
    import inspect

    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_reads_its_partition", False):
        return
    original_query, original_all_items = Table.query, Table.all_items
    signature = inspect.signature(original_query)

    @functools.wraps(original_query)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        _QUERY.scope = (self, arguments.get("hash_key"), arguments.get("index_name"))
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _QUERY.scope = None

    @functools.wraps(original_all_items)
    def all_items(self: Any) -> Any:
        scope = getattr(_QUERY, "scope", None)
        if scope is None or scope[0] is not self:
            return original_all_items(self)
        _, hash_key, index_name = scope
        if index_name is not None or hash_key is None:  # every item, in no particular order
            if not self.range_key_attr:
                return list(self.items.values())
            return [item for partition in self.items.values() for item in partition.values()]
        partition = self.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]  # moto sorts them after

    query._reads_its_partition = True  # type: ignore[attr-defined]
    Table.query = query
    Table.all_items = all_items



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


def s3_events_carry_version_ids() -> None:
    """Idempotent: an S3 event names the object version it is about, as S3 does on a versioned bucket.

    moto's notification record has the key, size and ETag but no ``versionId`` (and no
    ``sequencer``): the app pins every read of a document to the version the event names, and a
    later version under the same key is recorded, never read -- which needs the id locally too.
    """
    import moto.s3.notifications as notifications

    if getattr(notifications._get_s3_event, "devstack_versions", False):
        return
    original = notifications._get_s3_event

    @functools.wraps(original)
    def with_version(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = original(event_name, bucket, key, notification_id)
        version = getattr(key, "version_id", None)
        for record in event["Records"]:
            s3_object = record["s3"]["object"]
            if version and version != "null":
                s3_object["versionId"] = version
            # S3's sequencer orders events of one key: hex, growing with each write
            s3_object.setdefault("sequencer", f"{time.time_ns():016X}")
        return event

    with_version.devstack_versions = True  # type: ignore[attr-defined]
    notifications._get_s3_event = with_version  # type: ignore[assignment]


def enforce_client_write_attributes() -> None:
    """UpdateUserAttributes honours the app client's ``WriteAttributes``, as Cognito does.

    moto lets a signed-in user write any attribute whatever the client that issued the access token
    allows; Cognito answers ``NotAuthorizedException`` ("A client attempted to write unauthorized
    attribute") and changes nothing. The staff console's client leaves ``email`` out, so a reviewer
    cannot change the address the self-decision rule compares (issue 18).

    Cognito also refuses an access token without the ``aws.cognito.signin.user.admin`` scope ("Access
    Token does not have required scopes"); moto does not check it. The staff client, once federated
    (issue 21), must let Cognito write the attributes it maps from the corporate provider, and its
    tokens come only from managed login with ``openid email profile``: the scope is what keeps a
    reviewer from writing their own e-mail there."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    original = CognitoIdpBackend.update_user_attributes
    if getattr(original, "devstack_write_attributes", False):
        return

    @functools.wraps(original)
    def checked(self: Any, access_token: str, attributes: list[dict[str, str]]) -> None:
        for user_pool in self.user_pools.values():
            if access_token in user_pool.access_tokens:
                client_id, _ = user_pool.access_tokens[access_token]
                if "aws.cognito.signin.user.admin" not in _access_token_scopes(access_token):
                    raise NotAuthorizedError("Access Token does not have required scopes")
                client = user_pool.clients.get(client_id)
                allowed = (client.extended_config.get("WriteAttributes") if client is not None else None)
                if allowed is not None and any(a["Name"] not in allowed for a in attributes):
                    raise NotAuthorizedError("A client attempted to write unauthorized attribute")
        return original(self, access_token, attributes)

    checked.devstack_write_attributes = True  # type: ignore[attr-defined]
    CognitoIdpBackend.update_user_attributes = checked  # type: ignore[method-assign]


def _access_token_scopes(access_token: str) -> list[str]:
    """The ``scope`` claim of a (moto-issued, already known) access token, unverified."""
    import base64

    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return []
    return str(claims.get("scope") or "").split()


_SQS_DELETE_PATCHED = False


def sqs_deletes_keep_concurrent_sends() -> None:
    """Idempotent: deleting an SQS message never loses another message sent at the same moment.

    moto's ``Queue.delete_message`` rebuilds the queue's message list without
    the deleted one and then *rebinds* ``_messages`` to the new list, holding
    no lock, while ``add_message`` (SendMessage, and SNS delivering to a
    subscribed queue) appends under the queue's ``_messages_lock``. A message
    appended after the rebuild's loop has passed the end of the old list, and
    before the rebinding, is silently discarded: sent (SNS answered with its
    message id), never received, never in the DLQ. The local stack's pumps
    delete after every invocation while SNS publishes into the same internal
    queues, so under load application events vanished on their way to the
    notifier (a state-change frame that never came, and nothing logged).
    SQS never loses an acknowledged message.

    The delete here holds the queue's lock and removes in place, so a send
    waits for it, and the receive path's own in-place removals (moving a
    message to the DLQ) cannot be undone by a rebinding either.
    """
    global _SQS_DELETE_PATCHED
    if _SQS_DELETE_PATCHED:
        return
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            if receipt_handle in self.deleted_messages:
                return  # already deleted: deleting again is not an error
            doomed = [m for m in list(self._messages) if m.had_receipt_handle(receipt_handle)]
            if not doomed:
                raise ReceiptHandleIsInvalid()
            for message in doomed:  # deleted whatever its pending state, as moto does
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                try:
                    self._messages.remove(message)
                except ValueError:  # moved to the DLQ meanwhile
                    pass

    delete_message.devstack_locked = True  # type: ignore[attr-defined]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    _SQS_DELETE_PATCHED = True


def patch_moto() -> None:
    """Every fix the local stack applies to moto (idempotent)."""
    serialise_dynamodb()
    enforce_client_write_attributes()
    sqs_deletes_keep_concurrent_sends()
    s3_events_carry_version_ids()
    enforce_presigned_post_policies()
    enforce_presigned_get_links()
    list_moto_modules_once()
    queries_read_their_partition()
    from .moto_delivery import patch as delivery  # issue 21: code signing configs, signing jobs

    delivery()
