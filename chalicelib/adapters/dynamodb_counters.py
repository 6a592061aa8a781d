"""State and daily counters in the idempotency table, kept exactly once per history event.

Items (``key`` is the table's hash key):

* ``count#state#<NN>`` -- one attribute per state, the number of applications in
  it, spread over 256 shards (each write picks one at random, so no item is hot
  and concurrent writers rarely meet: at 1,000 applications a second, about
  3,000 state-moving commits, a shard sees about 12 a second, and two
  transactions on one item at once cancel one of them, retried on another
  shard): the count is the shards' sum;
* ``count#day#<YYYY-MM-DD>#<NN>`` -- what that UTC day saw, by the keys
  ``domain.reporting.tally`` gives (``decided.APPROVED.automatic``,
  ``closed.WITHDRAWN``, ``escalated``, ``ttd.le3600`` ...), sharded the same way;
* ``counted#<event id>`` -- a marker per event counted here (TTL 7 days, longer
  than the stream keeps a record), put in the same transaction as the additions
  with ``attribute_not_exists``: an event offered again (a retried stream batch,
  a bisected one) makes the transaction fail on its marker and is left out of
  the next attempt, so nothing is counted twice and nothing is lost.

Since issue 22 each commit adds its own events (``additions``, one more item of
the commit's transaction in ``DynamoApplicationRepository``: exactly once with
no marker, because the commit happens once) and marks them ``counted``; this
adapter's ``count`` -- one TransactWriteItems per relayed batch (per 98 counted
events), through the boto3 client: the attribute names are the states and day
keys, which pynamodb's fixed models cannot express -- is left for events
written before that (the relay's). Reading sums the 256 shards, three BatchGetItems
(the operations view and the daily report: rare reads, for rare conflicts at a peak).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any, Optional

from ..domain.reporting import Tally
from ..services.ports import StateCounters

SHARDS = 256
#: BatchGetItem takes 100 keys: reading a counter's shards takes three calls.
READ_KEYS = 100
MARKER_TTL_SECONDS = 7 * 24 * 3600
#: TransactWriteItems takes 100 items: the two counter items (state, day) leave room for 98 markers.
PER_TRANSACTION = 98
_ATTEMPTS = 8


def state_key(shard: int) -> str:
    return f"count#state#{shard:02d}"


def day_key(day: str, shard: int) -> str:
    return f"count#day#{day}#{shard:02d}"


def additions(tallies: Sequence[Tally], shard: Optional[int] = None) -> list[tuple[str, dict[str, int]]]:
    """The counter items ``tallies`` add to, each with its non-zero additions (one shard, random unless given):
    what one relayed batch's transaction, or one commit's (``DynamoApplicationRepository``), adds."""
    at = random.randrange(SHARDS) if shard is None else shard
    states: dict[str, int] = {}
    days: dict[str, dict[str, int]] = {}
    for tally in tallies:
        for name, delta in tally.states.items():
            states[name] = states.get(name, 0) + delta
        for name, delta in tally.day_counts.items():
            days.setdefault(tally.day, {})[name] = days.get(tally.day, {}).get(name, 0) + delta
    found = [(state_key(at), states)] + [(day_key(day, at), counts) for day, counts in sorted(days.items())]
    return [(key, {n: d for n, d in deltas.items() if d}) for key, deltas in found if any(deltas.values())]


class DynamoStateCounters(StateCounters):
    def __init__(self, dynamodb: Any, table: str):
        self.dynamodb = dynamodb  # the boto3 DynamoDB client
        self.table = table

    # --- writing ------------------------------------------------------------------

    def count(self, tallies: Sequence[tuple[str, Tally]]) -> int:
        unique = list({key: tally for key, tally in tallies}.items())
        counted = 0
        for start in range(0, len(unique), PER_TRANSACTION):
            counted += self._count_chunk(unique[start : start + PER_TRANSACTION])
        return counted

    def _count_chunk(self, chunk: list[tuple[str, Tally]]) -> int:
        pending = list(chunk)
        for attempt in range(_ATTEMPTS):
            if not pending:
                return 0
            items = self._items(pending)
            try:
                self.dynamodb.transact_write_items(TransactItems=items)
                return len(pending)
            except self.dynamodb.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                markers = [i for i, item in enumerate(items) if "Put" in item]
                taken = {
                    pending[n][0]
                    for n, i in enumerate(markers)
                    if i < len(reasons) and reasons[i].get("Code") == "ConditionalCheckFailed"
                }
                if taken:
                    pending = [(key, tally) for key, tally in pending if key not in taken]  # counted before
                    continue
                if not any(r.get("Code") == "TransactionConflict" for r in reasons):
                    raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # a conflict on a counter item: another shard next
        raise RuntimeError("the counters kept conflicting")

    def _items(self, pending: list[tuple[str, Tally]]) -> list[dict[str, Any]]:
        items = [self._add(key, deltas) for key, deltas in additions([tally for _, tally in pending])]
        expires = str(int(time.time()) + MARKER_TTL_SECONDS)
        for key, _ in pending:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {"key": {"S": f"counted#{key}"}, "expires_at": {"N": expires}},
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": "key"},
                    }
                }
            )
        return items

    def _add(self, key: str, deltas: dict[str, int]) -> dict[str, Any]:
        changed = sorted(name for name, delta in deltas.items() if delta)
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"key": {"S": key}},
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(changed))),
                "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(changed)},
                "ExpressionAttributeValues": {f":c{i}": {"N": str(deltas[name])} for i, name in enumerate(changed)},
            }
        }

    # --- reading ------------------------------------------------------------------

    def states(self) -> dict[str, int]:
        return self._sum([state_key(n) for n in range(SHARDS)])

    def day(self, day: str) -> dict[str, int]:
        return self._sum([day_key(day, n) for n in range(SHARDS)])

    def _sum(self, keys: list[str]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for start in range(0, len(keys), READ_KEYS):
            chunk = keys[start : start + READ_KEYS]
            request: dict[str, Any] = {
                self.table: {"Keys": [{"key": {"S": key}} for key in chunk], "ConsistentRead": True}
            }
            while request:
                answer = self.dynamodb.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table, []):
                    for name, value in item.items():
                        if name not in ("key", "expires_at") and "N" in value:
                            totals[name] = totals.get(name, 0) + int(value["N"])
                request = answer.get("UnprocessedKeys") or {}
        return totals
