"""Publishes committed history events to the application-events topic (the outbox relay)."""
from __future__ import annotations

import json
import os
from typing import Any

from . import dedupe
from .aws import client
from .domain.workflow import HistoryEvent


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


def publish(event: HistoryEvent) -> bool:
    """Publish once per event id; returns False for a replayed stream record.

    The marker is written after the publish succeeds, so a crash in between
    republishes (at-least-once) and subscribers dedupe by event_id.
    """
    message = message_for(event)
    marker = f"published#{message['event_id']}"
    if dedupe.seen(marker):
        return False
    client("sns").publish(
        TopicArn=os.environ["EVENTS_TOPIC_ARN"],
        Message=json.dumps(message),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": message["type"]},
            "state": {"DataType": "String", "StringValue": message["state"]},
            "from_state": {"DataType": "String", "StringValue": message["from_state"] or "NONE"},
        },
    )
    dedupe.mark(marker)
    return True


def publish_stream_records(event: Any) -> int:
    """Relay the INSERTs of a history stream batch; other record types never happen (append-only)."""
    from .repository import event_from_stream_image

    published = 0
    for record in event:
        if record.event_name != "INSERT" or not record.new_image:
            continue
        if publish(event_from_stream_image(record.new_image)):
            published += 1
    return published
