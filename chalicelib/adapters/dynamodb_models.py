"""PynamoDB models: the DynamoDB item shapes, and nothing else.

Table names and the region are bound from ``Config`` by the composition root
(``bind``) before the first call, so importing this module reads nothing from
the environment.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class _Meta:
    region = "us-east-1"  # bound from Config
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


class OpenByStateIndex(GlobalSecondaryIndex["ApplicationModel"]):
    """Sparse, sharded, keys only: what the jobs still have to visit (see resources.yaml)."""

    class Meta:
        index_name = "open_by_state"
        projection = KeysOnlyProjection()

    state_shard = UnicodeAttribute(hash_key=True)
    state_since = UnicodeAttribute(range_key=True)


class ApplicationModel(Model):
    class Meta(_Meta):
        table_name = "applications"  # bound from Config

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
    document_version = UnicodeAttribute(null=True)
    decision_reasons = JSONAttribute(default=list)
    escalated_at = UnicodeAttribute(null=True)
    purged_at = UnicodeAttribute(null=True)
    legacy_seal = UnicodeAttribute(null=True)  # the sealed head of a version-1 (unkeyed) history
    recommendation = JSONAttribute(null=True)  # four eyes: the standing recommendation
    claim = JSONAttribute(null=True)  # the review queue: who holds the case, until when
    #: What the applicant is shown of the head (domain/disclosure.py); absent on items from before they were kept.
    shown_seq = NumberAttribute(null=True)
    shown_version = NumberAttribute(null=True)
    shown_at = UnicodeAttribute(null=True)
    review_queue = UnicodeAttribute(null=True)
    flagged_key = UnicodeAttribute(null=True)
    state_shard = UnicodeAttribute(null=True)  # "<STATE>#<NN>" while a job may still visit it
    #: Read only: the biometric record of items written before it had an item of its own (BiometricsModel);
    #: the next commit of such an application moves it there and leaves it out of this item.
    biometrics = JSONAttribute(null=True)
    #: A WebSocket subscription named it (issue 22): false on items created since the mark was kept, absent before.
    watched = BooleanAttribute(null=True)

    by_applicant = ByApplicantIndex()
    review_queue_index = ReviewQueueIndex()
    open_by_state = OpenByStateIndex()


class BiometricsModel(Model):
    """An application's biometric record (consent, liveness sessions and result, face ids: issue 17), apart
    from the application item so that the item and its indexes stay small: written only by the commits that
    change it, in the application's transaction, and read with the application in one TransactGetItems."""

    class Meta(_Meta):
        table_name = "biometrics"  # bound from Config

    application_id = UnicodeAttribute(hash_key=True)
    record = JSONAttribute()
    digest = UnicodeAttribute()  # of ``record``: a write is conditioned on the record it was made from
    version = NumberAttribute()  # the application's version that wrote it


class HistoryModel(Model):
    """Append-only: written with attribute_not_exists, never updated."""

    class Meta(_Meta):
        table_name = "history"  # bound from Config

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
    shown_seq = NumberAttribute(null=True)  # its place among the events the applicant is shown (not hashed)
    salt = UnicodeAttribute(null=True)  # events holding personal data, until the retention purge
    # Outside the hashed event (routing and counting only; absent on items written before them):
    applicant_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)  # the application's
    chain = NumberAttribute(null=True)  # the chain's version (workflow.history.CHAIN_*); absent: stored before it was
    counted = BooleanAttribute(null=True)  # its commit added it to the state counters (absent: the outbox counts it)
    watched = BooleanAttribute(null=True)  # the application's watch mark its commit wrote (absent: maybe watched)


class IdempotencyModel(Model):
    """Claims on idempotency keys and already-handled event ids, expiring by TTL."""

    class Meta(_Meta):
        table_name = "idempotency"  # bound from Config

    key = UnicodeAttribute(hash_key=True)
    result = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(null=True)
    uses = NumberAttribute(null=True)  # quota counters (per-user limits)
    expires_at = TTLAttribute()
    watchers = UnicodeSetAttribute(null=True)  # ``watching#<sub>``: the connections watching all their applications


class ConnectionModel(Model):
    """WebSocket connections (pk CONN#id, sk META) and subscriptions (pk TOPIC#t, sk CONN#id)."""

    class Meta(_Meta):
        table_name = "connections"  # bound from Config

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    groups = UnicodeAttribute(null=True)
    pool = UnicodeAttribute(null=True)  # the user pool that signed the token (none: customer)
    topics = JSONAttribute(null=True)  # subscriptions of connections registered before ``subscribed``
    subscribed = UnicodeSetAttribute(null=True)  # the topics the connection subscribed to
    expires_at = TTLAttribute()
    slot = NumberAttribute(null=True)  # META: the per-user slot the connection holds (USER#sub, SLOT#n)
    holder = UnicodeAttribute(null=True)  # a slot: the connection id holding it


def watching_all_key(applicant_id: str) -> str:
    """The idempotency-table item of the connections watching all of an applicant's applications (``watchers``,
    until ``expires_at``): a commit of their application read unwatched is conditioned on none (issue 22)."""
    return f"watching#{applicant_id}"


def bind(region: str, applications: str, history: str, idempotency: str, connections: str, biometrics: str) -> None:
    """Point the models at this deployment's tables (before any call: pynamodb keeps its connection)."""
    for model, table in (
        (ApplicationModel, applications),
        (BiometricsModel, biometrics),
        (HistoryModel, history),
        (IdempotencyModel, idempotency),
        (ConnectionModel, connections),
    ):
        if model.Meta.table_name != table or model.Meta.region != region:
            model.Meta.table_name = table
            model.Meta.region = region
            model._connection = None  # type: ignore[attr-defined]
