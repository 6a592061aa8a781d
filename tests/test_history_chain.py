"""The audit history's chain, keyed and anchored (issue 18, item 7).

Each event is MACed (HMAC-SHA-256) under a key derived from the stage's KMS HMAC key, over its content
and the previous event's MAC, and the chain must end at the head the application item stores
(``last_seq``, ``last_hash``). So a writer to the history table -- who has no ``kms:GenerateMac`` on
that key -- cannot edit an event and recompute the chain, and cannot delete the last events unseen.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import boto3

from tests.test_review_api import drive, flagged_via_api, history


def table():
    return boto3.resource("dynamodb").Table(os.environ["HISTORY_TABLE_NAME"])


def intact(api, applicant, app_id) -> bool:
    reply = api.get(f"/applications/{app_id}/history", user=applicant)
    assert reply.status == 200, reply.body
    return reply.body["chain_intact"]


def test_deleting_the_last_event_is_detected(api, applicant, reviewer):
    app_id = flagged_via_api(api, applicant)
    assert intact(api, applicant, app_id) is True
    last = history(app_id)[-1]
    table().delete_item(Key={"application_id": app_id, "seq": last.seq})  # a writer to the table truncates
    assert intact(api, applicant, app_id) is False
    detail = api.get(f"/review/applications/{app_id}", user=reviewer)
    assert detail.status == 200 and detail.body["chain_intact"] is False


def test_an_event_edited_and_the_chain_recomputed_without_the_key_is_detected(api, applicant):
    from chalicelib.domain.workflow.history import GENESIS_HASH

    from tests.support.documents import make_declared

    app_id = api.post("/applications", make_declared(), user=applicant).body["id"]
    drive(app_id, identity="PASS")
    events = history(app_id)
    assert intact(api, applicant, app_id) is True
    # rewrite the identity check's outcome and re-chain every event as a table writer could: plain SHA-256
    prev = GENESIS_HASH
    for event in events:
        if event.type.value == "check.completed" and event.details.get("check") == "identity":
            event = dataclasses.replace(event, reason="identity check: PASS (edited)")
        event = dataclasses.replace(event, prev_hash=prev)
        canonical = json.dumps(event.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        forged = hashlib.sha256(canonical.encode()).hexdigest()
        table().update_item(Key={"application_id": app_id, "seq": event.seq},
                            UpdateExpression="SET #r = :r, prev_hash = :p, #h = :h",
                            ExpressionAttributeNames={"#r": "reason", "#h": "hash"},
                            ExpressionAttributeValues={":r": event.reason, ":p": prev, ":h": forged})
        prev = forged
    boto3.resource("dynamodb").Table(os.environ["APPLICATIONS_TABLE_NAME"]).update_item(
        Key={"application_id": app_id}, UpdateExpression="SET last_hash = :h", ExpressionAttributeValues={":h": prev})
    assert intact(api, applicant, app_id) is False


def test_the_chain_key_is_derived_once_from_kms_and_is_what_kms_derives():
    from chalicelib.adapters.kms_chain_key import LABEL
    from chalicelib.bootstrap import services

    key = services().chain_key.secret()
    expected = boto3.client("kms").generate_mac(KeyId=os.environ["HISTORY_CHAIN_KEY_ARN"], Message=LABEL,
                                                MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert key == expected and len(key) == 32
    assert services().chain_key.secret() is key  # once per container: no KMS call per transition


# --- version 1 (unkeyed) histories from before the chain was keyed --------------------------------

def _rewrite_unkeyed(app_id: str) -> None:
    """Make the application's stored history what the pre-upgrade code wrote: each event's hash the plain
    SHA-256 of its content, no chain version stored, and the head to match."""
    from chalicelib.domain.workflow.history import CHAIN_UNKEYED, GENESIS_HASH

    prev = GENESIS_HASH
    for event in history(app_id):
        event = dataclasses.replace(event, prev_hash=prev, chain=CHAIN_UNKEYED)
        legacy_hash = event.unkeyed_hash()
        table().update_item(Key={"application_id": app_id, "seq": event.seq},
                            UpdateExpression="SET prev_hash = :p, #h = :h REMOVE #c",
                            ExpressionAttributeNames={"#h": "hash", "#c": "chain"},
                            ExpressionAttributeValues={":p": prev, ":h": legacy_hash})
        prev = legacy_hash
    boto3.resource("dynamodb").Table(os.environ["APPLICATIONS_TABLE_NAME"]).update_item(
        Key={"application_id": app_id}, UpdateExpression="SET last_hash = :h", ExpressionAttributeValues={":h": prev})


def test_a_pre_upgrade_history_verifies_once_sealed_and_goes_on_keyed(api, applicant, reviewer):
    from chalicelib.bootstrap import services
    from chalicelib.domain.workflow.history import CHAIN_KEYED, CHAIN_UNKEYED

    app_id = flagged_via_api(api, applicant)
    _rewrite_unkeyed(app_id)
    assert [e.chain for e in history(app_id)] == [None] * len(history(app_id))
    # Unsealed, an unkeyed history is what a table writer could have made of a keyed one: not intact.
    assert intact(api, applicant, app_id) is False
    applications = services().applications
    assert applications.seal_legacy_history(app_id) is True  # the one-off upgrade step
    assert applications.seal_legacy_history(app_id) is False  # idempotent
    assert intact(api, applicant, app_id) is True
    # A reviewer's read appends a keyed event after the legacy head; the whole chain still verifies.
    legacy_count = len(history(app_id))
    detail = api.get(f"/review/applications/{app_id}", user=reviewer)
    assert detail.status == 200 and detail.body["chain_intact"] is True
    stored = table().get_item(Key={"application_id": app_id, "seq": legacy_count + 1}, ConsistentRead=True)["Item"]
    assert stored["type"] == "review.viewed" and int(stored["chain"]) == CHAIN_KEYED
    assert intact(api, applicant, app_id) is True
    # The sealed prefix cannot be edited: re-chaining the old events changes the head the keyed event names.
    first = history(app_id)[0]
    edited = dataclasses.replace(first, reason=first.reason + " (edited)", chain=CHAIN_UNKEYED)
    table().update_item(Key={"application_id": app_id, "seq": 1}, UpdateExpression="SET #r = :r, #h = :h",
                        ExpressionAttributeNames={"#r": "reason", "#h": "hash"},
                        ExpressionAttributeValues={":r": edited.reason, ":h": edited.unkeyed_hash()})
    assert intact(api, applicant, app_id) is False


def test_a_keyed_history_rewritten_unkeyed_is_detected(api, applicant):
    """The downgrade: a table writer recomputes a keyed history as version 1. No seal vouches for it."""
    app_id = flagged_via_api(api, applicant)
    assert intact(api, applicant, app_id) is True
    _rewrite_unkeyed(app_id)
    assert intact(api, applicant, app_id) is False


def test_unkeyed_events_verify_only_inside_the_sealed_prefix():
    """Domain rules: an unkeyed event past the seal, or a seal not made with the key, verifies nothing."""
    from chalicelib.domain.workflow import chain
    from chalicelib.domain.workflow.application import Application
    from chalicelib.domain.workflow.history import CHAIN_UNKEYED, GENESIS_HASH, HistoryEvent, LegacySeal
    from chalicelib.domain.workflow.states import EventType, State

    key, other = b"k" * 32, b"o" * 32
    app = Application("a" * 8, "sub", State.AWAITING_DOCUMENTS, 1, "t", "t", "t", {})
    events, prev = [], GENESIS_HASH
    for seq in (1, 2, 3):
        event = HistoryEvent(app.application_id, seq, EventType.SUBMITTED, "system", "t",
                             None, State.AWAITING_DOCUMENTS, f"r{seq}", {}, prev, chain=CHAIN_UNKEYED)
        event = dataclasses.replace(event, hash=event.unkeyed_hash(), chain=None)
        events.append(event)
        prev = event.hash
    sealed_at_2 = LegacySeal(2, events[1].hash, LegacySeal.mac_of(key, app.application_id, 2,
                                                                  events[1].hash))
    assert chain.verify_chain(events[:2], key, (2, events[1].hash), sealed_at_2) is None
    assert chain.verify_chain(events, key, (3, events[2].hash), sealed_at_2) == 3  # past the seal
    assert chain.verify_chain(events[:2], other, (2, events[1].hash), sealed_at_2) == 1  # not our key
    assert chain.verify_chain(events[:2], key, (2, events[1].hash), None) == 1  # no seal
    head = dataclasses.replace(app, last_seq=3, last_hash=events[2].hash)
    seal = chain.seal_legacy_head(head, events, key)
    assert seal is not None and chain.verify_chain(events, key, (3, events[2].hash), seal) is None
