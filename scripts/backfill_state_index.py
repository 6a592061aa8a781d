"""One-off migration for a stage that has data: the sharded state index and the state counters.

    python -m scripts.backfill_state_index --since 2026-12-06T12:00:00Z [--rate 200] [--dry-run]

Run it once, after the release with the ``open_by_state`` index is deployed with
``LegacyByStateIndex=keep`` (resources.yaml), with the stage's environment (the
table names: ``APPLICATIONS_TABLE_NAME``, ``HISTORY_TABLE_NAME``,
``IDEMPOTENCY_TABLE_NAME``; ``./dev env`` prints them for the local stack).
``--since`` is when that release went live: from then on the app writes
``state_shard`` on every item it writes and the outbox relay counts every
transition, so the script only has to mend what came before:

1. every application item written before without ``state_shard`` gets it
   (open, or closed with its documents not yet purged), with a conditional
   UpdateItem that touches nothing the app has changed since (the state must
   still be the one scanned, and no ``state_shard`` written meanwhile);
2. the state counters get the population of ``--since``: each item's state
   as of then (its state, when it has not changed since; else the state its
   first later transition left, read from its history; none, when it was
   created later), added to one counter shard with a marker in the same
   transaction, so a second run adds nothing (``--force`` to add again after
   a failed one is understood).

The scan reads the table at ``--rate`` items a second (it shares the table with
live traffic). Then deploy with ``LegacyByStateIndex=drop``. Per-day counters of
days before ``--since`` are not rebuilt: their reports were written already;
the report of the ``--since`` day itself counts only what happened after it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from typing import Any

FINAL = {"APPROVED", "REJECTED", "WITHDRAWN", "EXPIRED"}


def state_at(item: dict[str, Any], since: str, history: Any, table: str) -> str | None:
    """The item's state at ``since``: unchanged since (its own), else what its first later event left."""
    state = item["state"]["S"]
    if item.get("updated_at", {}).get("S", "") < since:
        return state
    if item.get("created_at", {}).get("S", "") >= since:
        return None  # created after: the relay counted it from its submission on
    pages = history.get_paginator("query").paginate(
        TableName=table, KeyConditionExpression="application_id = :a",
        ExpressionAttributeValues={":a": item["application_id"]}, ConsistentRead=True)
    for page in pages:
        for event in page.get("Items", []):
            if event.get("at", {}).get("S", "") >= since and "from_state" in event and "S" in event["from_state"]:
                return str(event["from_state"]["S"])
    return state


def main(argv: list[str] | None = None) -> int:
    from chalicelib.adapters.dynamodb_applications import STATE_SHARDS, shard_of

    parser = argparse.ArgumentParser(prog="python -m scripts.backfill_state_index", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", required=True, help="when the release went live (ISO 8601, UTC)")
    parser.add_argument("--rate", type=float, default=200.0, help="items scanned per second at most")
    parser.add_argument("--dry-run", action="store_true", help="count and report, change nothing")
    parser.add_argument("--force", action="store_true", help="add the counters' baseline even if added before")
    args = parser.parse_args(argv)
    since = args.since.replace("+00:00", "Z")
    import boto3

    dynamodb = boto3.client("dynamodb")
    applications = os.environ["APPLICATIONS_TABLE_NAME"]
    history = os.environ["HISTORY_TABLE_NAME"]
    idempotency = os.environ["IDEMPOTENCY_TABLE_NAME"]
    marker = f"counted#backfill#{since}"
    if not args.force and "Item" in dynamodb.get_item(TableName=idempotency, Key={"key": {"S": marker}},
                                                      ConsistentRead=True):
        print(f"the counters' baseline for {since} was added before ({marker}); --force to add it again")
        return 2

    baseline: Counter[str] = Counter()
    keyed = skipped = scanned = 0
    started = time.monotonic()
    for page in dynamodb.get_paginator("scan").paginate(TableName=applications, PaginationConfig={"PageSize": 100}):
        for item in page.get("Items", []):
            if "state" not in item or "application_id" not in item:
                continue  # not an application
            scanned += 1
            before = state_at(item, since, dynamodb, history)
            if before is not None:
                baseline[before] += 1
            state = item["state"]["S"]
            if "state_shard" in item or (state in FINAL and "S" in item.get("purged_at", {})):
                skipped += 1
                continue
            key = f"{state}#{shard_of(item['application_id']['S']):02d}"
            if not args.dry_run:
                try:
                    dynamodb.update_item(
                        TableName=applications, Key={"application_id": item["application_id"]},
                        UpdateExpression="SET state_shard = :k",
                        ConditionExpression="attribute_exists(application_id) AND #s = :s AND "
                                            "attribute_not_exists(state_shard)",
                        ExpressionAttributeNames={"#s": "state"},
                        ExpressionAttributeValues={":k": {"S": key}, ":s": {"S": state}})
                    keyed += 1
                except dynamodb.exceptions.ConditionalCheckFailedException:
                    skipped += 1  # the app wrote it since the scan read it: its value is the right one
            else:
                keyed += 1
        time.sleep(max(0.0, scanned / args.rate - (time.monotonic() - started)))  # the --rate
    print(f"scanned {scanned} applications; {'would key' if args.dry_run else 'keyed'} {keyed}, "
          f"left {skipped} (keyed already, or purged)")
    print(f"the population at {since}: {dict(sorted(baseline.items()))}")
    if args.dry_run or not baseline:
        return 0
    names = sorted(baseline)
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": idempotency, "Key": {"key": {"S": f"count#state#{STATE_SHARDS - 1:02d}"}},
                    "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(names))),
                    "ExpressionAttributeNames": {f"#c{i}": n for i, n in enumerate(names)},
                    "ExpressionAttributeValues": {f":c{i}": {"N": str(baseline[n])} for i, n in enumerate(names)}}},
        {"Put": {"TableName": idempotency, "Item": {"key": {"S": marker}, "added": {"S": str(dict(baseline))}},
                 **({} if args.force else {"ConditionExpression": "attribute_not_exists(#k)",
                                           "ExpressionAttributeNames": {"#k": "key"}})}},
    ])
    print(f"added the population to the state counters ({marker})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
