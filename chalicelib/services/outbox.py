"""The outbox relay: publishes committed history events to the application-events topic.

Nothing in a request publishes. The history table's stream carries every
committed event exactly as written; this relay turns each into a message on
the topic, once per event id: a replayed stream record finds its marker and
publishes nothing. The marker is written after the publish succeeds, so a
crash in between republishes (at-least-once; subscribers dedupe by
``event_id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..domain.workflow import HistoryEvent
from .ports import Claims, EventPublisher


def message_for(event: HistoryEvent) -> dict[str, Any]:
    """What subscribers see: the change, never the applicant's personal data."""
    return {
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


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, claims: Claims):
        self.publisher = publisher
        self.claims = claims

    def publish(self, event: HistoryEvent) -> bool:
        """Publish once per event id; returns False for a replayed stream record."""
        message = message_for(event)
        marker = f"published#{message['event_id']}"
        if self.claims.is_claimed(marker):
            return False
        self.publisher.publish(
            message,
            {"event_type": message["type"], "state": message["state"], "from_state": message["from_state"] or "NONE"},
        )
        self.claims.claim(marker)
        return True

    def relay(self, events: Iterable[HistoryEvent]) -> int:
        return sum(1 for event in events if self.publish(event))
