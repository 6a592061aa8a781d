"""The outbox relay: publishes committed history events to the application-events topic.

Nothing in a request publishes. The history table's stream carries every
committed event exactly as written; this relay turns each into a message on
the topic, at least once (subscribers dedupe by ``event_id``), ten to a
PublishBatch call, reporting the first record it could not publish so the
stream retries from there and no failure blocks the records before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from ..domain.workflow import HistoryEvent
from .ports import Claims, EventPublisher

STAFF_DETAILS = ("decision", "reviewer_email")


def message_for(event: HistoryEvent) -> dict[str, Any]:
    """What the (internal, encrypted) topic carries: the change, never the applicant's personal data.

    It is the staff view: who acted and why, and for a decision the reviewer's
    e-mail, so a reviewer's console can say who decided first. The notifier
    sends applicants ``workflow.for_applicant`` of it (staff as their role).
    """
    details = event.details if isinstance(event.details, Mapping) else {}
    message: dict[str, Any] = {
        "event_id": f"{event.application_id}#{event.seq}",
        "application_id": event.application_id,
        "seq": event.seq,
        "type": event.type.value,
        "from_state": event.from_state.value if event.from_state else None,
        "state": event.to_state.value,
        "at": event.at,
        "actor": event.actor,
        "reason": event.reason,
    }
    staff_details = {key: str(details[key]) for key in STAFF_DETAILS if details.get(key) is not None}
    if staff_details:
        message["details"] = staff_details
    return message


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, claims: Claims):
        self.publisher = publisher
        self.claims = claims

    def relay_batch(self, records: Sequence[tuple[str, HistoryEvent]]) -> tuple[int, Optional[str]]:
        """Publish a stream batch's events in order; returns (published, first failed sequence number).

        One PublishBatch call per ten events, no DynamoDB call: the stream
        delivers each committed event at least once and every subscriber
        dedupes by ``event_id`` (the notifier's claim, the checks' replay
        rules), so a marker per event would only cost two calls to save a
        rare duplicate. When some entries fail, the first failed record's
        sequence number is returned for Lambda's ReportBatchItemFailures: the
        stream is retried from there (later ones may go out twice), and never
        blocked by the records before it.
        """
        entries = [(message_for(event), _attributes(message_for(event))) for _, event in records]
        if not entries:
            return 0, None
        failed = self.publisher.publish_batch(entries)
        if not failed:
            return len(entries), None
        return len(entries) - len(failed), records[min(failed)][0]

    def relay(self, events: Iterable[HistoryEvent]) -> int:
        """Publish events outside a stream batch (tools, tests): raises if any could not be published."""
        published, failed_at = self.relay_batch([(str(i), e) for i, e in enumerate(events)])
        if failed_at is not None:
            raise RuntimeError(f"event {failed_at} of the batch could not be published")
        return published


def _attributes(message: dict[str, Any]) -> dict[str, str]:
    """String attributes the topic's subscriptions filter on (the address-check queue: submissions)."""
    return {"event_type": message["type"], "state": message["state"], "from_state": message["from_state"] or "NONE"}
