"""The identity-check queue's messages: S3's ObjectCreated notifications of the documents bucket.

Each upload's notification (S3 -> SQS, with the object's ``versionId``) and
each check the sweeper asks for again (the same shape, ``ObjectCreated:Redrive``)
arrives here in a batch. Every record is checked in turn; one that fails is
reported (ReportBatchItemFailures) and comes back after the visibility timeout,
up to the queue's maxReceiveCount, then the DLQ.

Throttling is different: when the OCR service refuses for its rate quota (after
the client's own backoff), the rest of the batch would be refused too, so that
message and every one after it are put back with a delay that doubles with
each receive (plus jitter), instead of returning at once and hammering the
quota. The queue's concurrency limit (sized from the quota) does the rest.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any, Optional
from urllib.parse import unquote_plus

from ..observability import logger, message_context
from ..services.ports import Backoff, Metrics, OcrThrottled

#: The first retry of a throttled check: then 2x per receive, up to SQS's longest visibility (12 h).
FIRST_DELAY_SECONDS = 60
LONGEST_DELAY_SECONDS = 12 * 3600


class NotADocumentEvent(ValueError):
    """A message that is no S3 notification at all: failed, so it ends in the DLQ for a person."""


def documents_in(body: str, bucket: str) -> Iterator[tuple[str, Optional[str]]]:
    """(key, version) of each object an S3 notification message names in ``bucket``.

    S3's test event (sent when a notification configuration is saved) names none; a record of
    another bucket (the queue accepts this account's buckets) is ignored, loudly.
    """
    try:
        message = json.loads(body)
    except (TypeError, ValueError) as error:
        raise NotADocumentEvent("the message is not JSON") from error
    if not isinstance(message, dict):
        raise NotADocumentEvent("the message is not an S3 notification")
    if message.get("Event") == "s3:TestEvent":
        return
    records = message.get("Records")
    if not isinstance(records, list):
        raise NotADocumentEvent("the message has no Records")
    for record in records:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict):
            raise NotADocumentEvent("a record is not an S3 event")
        s3_object = s3.get("object")
        if not isinstance(s3_object, dict) or not isinstance(s3_object.get("key"), str):
            raise NotADocumentEvent("a record names no object")
        named = (s3.get("bucket") or {}).get("name")
        if named != bucket:
            logger.warning("a notification of another bucket ignored", extra={"bucket": str(named)[:100]})
            continue
        version = s3_object.get("versionId")
        yield unquote_plus(s3_object["key"]), version if isinstance(version, str) and version else None


def retry_delay(receive_count: int) -> int:
    """Seconds before a throttled message is received again: doubling, with up to 50 % jitter, capped."""
    base = min(LONGEST_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(0, receive_count - 1))
    return min(LONGEST_DELAY_SECONDS, int(base + random.uniform(0, base / 2)))


def handle_batch(
    event: Any,
    check: Callable[[str, Optional[str]], Any],
    bucket: str,
    backoff: Backoff,
    metrics: Metrics,
) -> dict[str, Any]:
    """Check each document of the batch; the ``batchItemFailures`` response for the rest."""
    records = event.to_dict().get("Records", []) if hasattr(event, "to_dict") else event.get("Records", [])
    failed: list[str] = []
    for position, record in enumerate(records):
        with message_context(record["messageId"], record.get("body")):
            try:
                for key, version in documents_in(record.get("body", ""), bucket):
                    outcome = check(key, version)
                    logger.info("identity document handled", extra={"key": key, "outcome": outcome})
            except OcrThrottled as throttled:
                later = records[position:]
                metrics.count("IdentityCheckThrottled", len(later))
                logger.warning(
                    "OCR throttled: the rest of the batch is put back for later",
                    extra={"code": str(throttled), "messages": len(later)},
                )
                for waiting in later:
                    receives = int((waiting.get("attributes") or {}).get("ApproximateReceiveCount", "1") or 1)
                    try:
                        backoff.retry_later(waiting["eventSourceARN"], waiting["receiptHandle"], retry_delay(receives))
                    except Exception:  # noqa: BLE001 - it then comes back after the visibility timeout
                        logger.exception("could not delay a throttled message", extra={"message": waiting["messageId"]})
                    failed.append(waiting["messageId"])
                break
            except Exception:  # noqa: BLE001 - reported for this message; the batch goes on
                logger.exception(
                    "message failed",
                    extra={
                        "message_id": record["messageId"],
                        "receive_count": (record.get("attributes") or {}).get("ApproximateReceiveCount"),
                    },
                )
                failed.append(record["messageId"])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
