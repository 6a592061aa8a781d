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
    from chalicelib.domain.workflow import GENESIS_HASH

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
