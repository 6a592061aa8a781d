"""PynamoDB models: the DynamoDB item shapes, and nothing else.

Table names come from the environment (recorded from the resources stack's
outputs), read once at import, like every adapter setting.
"""

from __future__ import annotations

import os

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class _Meta:
    region = REGION
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5


class ByApplicantIndex(GlobalSecondaryIndex["ApplicationModel"]):
    class Meta:
        index_name = "by_applicant"
        projection = AllProjection()

    applicant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ReviewQueueIndex(GlobalSecondaryIndex["ApplicationModel"]):
    """Sparse: only FLAGGED items carry ``review_queue``."""

    class Meta:
        index_name = "review_queue"
        projection = AllProjection()

    review_queue = UnicodeAttribute(hash_key=True)
    flagged_key = UnicodeAttribute(range_key=True)


class ByStateIndex(GlobalSecondaryIndex["ApplicationModel"]):
    class Meta:
        index_name = "by_state"
        projection = AllProjection()

    state = UnicodeAttribute(hash_key=True)
    state_since = UnicodeAttribute(range_key=True)


class ApplicationModel(Model):
    class Meta(_Meta):
        table_name = os.environ.get("APPLICATIONS_TABLE_NAME", "applications")

    application_id = UnicodeAttribute(hash_key=True)
    applicant_id = UnicodeAttribute()
    created_key = UnicodeAttribute()
    state = UnicodeAttribute()
    state_since = UnicodeAttribute()
    version = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    declared = JSONAttribute()
    checks = JSONAttribute(default=dict)
    last_seq = NumberAttribute()
    last_hash = UnicodeAttribute()
    document_key = UnicodeAttribute(null=True)
    decision_reasons = JSONAttribute(default=list)
    escalated_at = UnicodeAttribute(null=True)
    purged_at = UnicodeAttribute(null=True)
    review_queue = UnicodeAttribute(null=True)
    flagged_key = UnicodeAttribute(null=True)

    by_applicant = ByApplicantIndex()
    review_queue_index = ReviewQueueIndex()
    by_state = ByStateIndex()


class HistoryModel(Model):
    """Append-only: written with attribute_not_exists, never updated."""

    class Meta(_Meta):
        table_name = os.environ.get("HISTORY_TABLE_NAME", "history")

    application_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    type = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    from_state = UnicodeAttribute(null=True)
    to_state = UnicodeAttribute()
    reason = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()


class IdempotencyModel(Model):
    """Claims on idempotency keys and already-handled event ids, expiring by TTL."""

    class Meta(_Meta):
        table_name = os.environ.get("IDEMPOTENCY_TABLE_NAME", "idempotency")

    key = UnicodeAttribute(hash_key=True)
    result = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class ConnectionModel(Model):
    """WebSocket connections (pk CONN#id, sk META) and subscriptions (pk TOPIC#t, sk CONN#id)."""

    class Meta(_Meta):
        table_name = os.environ.get("CONNECTIONS_TABLE_NAME", "connections")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    groups = UnicodeAttribute(null=True)
    topics = JSONAttribute(default=list)
    expires_at = TTLAttribute()
