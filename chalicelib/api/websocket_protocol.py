"""The WebSocket protocol: client frames in, reply frames out.

Frames from clients (JSON text, at most ``MAX_FRAME_BYTES``)::

    {"action": "subscribe",   "application_id": "<id>"}   applicant: own only; reviewer: any
    {"action": "subscribe",   "topic": "review-queue"}    reviewers only
    {"action": "unsubscribe", "application_id": "<id>"}   (or "topic": "review-queue")
    {"action": "ping"}                                    keeps an idle connection open

Frames to clients::

    {"type": "subscribed",   "application_id": ..., "state": ..., "seq": ...}
    {"type": "subscribed",   "topic": "review-queue"}
    {"type": "unsubscribed", "application_id": ...}       (or "topic")
    {"type": "pong"}
    {"type": "event", "event": <the application-events SNS message>}
    {"type": "error", "code": ..., "message": ...}        plus the target it concerns

``seq`` in the subscribe ack is the application's latest history sequence
number: a client compares it with the events' ``seq`` to know what it already
has and to notice a gap (then it reads the history over REST). Notifications
are a hint; the REST API stays the source of truth. Each event reaches each
subscribed connection once, but the events of one application may arrive out
of order (the notifier handles them concurrently, as SNS invokes Lambda):
a client orders them by ``seq`` and never takes the last frame to arrive as
the current state.

Error codes: ``ERROR_CODES`` below. The same protocol is described
machine-readably, from these definitions, in the AsyncAPI document
(``chalicelib/api/asyncapi.py``, served at ``/asyncapi.json``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Optional

from chalice import Response

from ..observability import logger
from ..services.live_updates import REVIEW_QUEUE, FrameError, LiveUpdates, application_topic
from . import strict_json

#: Client frames are small commands; API Gateway alone would allow 128 KB.
MAX_FRAME_BYTES = 4096
ACTIONS = ("subscribe", "unsubscribe", "ping")
#: Every ``code`` an error frame can carry, and what it means to the client.
ERROR_CODES: dict[str, str] = {
    "payload_too_large": f"the frame is over {MAX_FRAME_BYTES} bytes",
    "malformed_json": "the frame is not valid JSON",
    "validation_failed": "not a JSON object, no action, or not exactly one of application_id and topic",
    "unknown_action": "the action is not one of " + ", ".join(ACTIONS),
    "not_found": "no such application (someone else's is indistinguishable from a missing one, as over REST)",
    "forbidden": "not allowed for this user (the review queue is for reviewers)",
    "wrong_user_pool": "the token is of the other user pool (the review queue is for staff-pool tokens only)",
    "too_many_subscriptions": "this connection watches as many things as it may: unsubscribe first",
    "unauthorized": "the connection is no longer registered (expired or gone): reconnect",
    "internal_error": "an unexpected error; try again",
}


CONNECT_REFUSALS = {
    401: ("unauthorized", "a valid ?token= is required"),
    429: ("too_many_connections", "too many open connections for this user; close one first"),
}
#: How long a refused client waits before connecting again.
RETRY_AFTER_SECONDS = 30


def connect_response(status: int) -> Response:
    """The $connect answer: 200, or the refusal in the one error shape."""
    if status == 200:
        return Response(body="", status_code=200)
    code, text = CONNECT_REFUSALS.get(status, ("unauthorized", "refused"))
    headers: dict[str, str | list[str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else {}
    return Response(body={"error": {"code": code, "message": text}}, status_code=status, headers=headers)


def handle_frame(live: LiveUpdates, connection_id: str, body: Optional[str]) -> dict[str, Any]:
    """Answer one client frame; the reply is always a frame, never an exception."""
    try:
        request = _parse(body)
        action = request.get("action")
        if action is None:
            raise FrameError("validation_failed", "'action' is required")
        if action not in ACTIONS:
            raise FrameError("unknown_action", f"action must be one of {', '.join(ACTIONS)}")
        if action == "ping":
            return {"type": "pong"}
        target, topic = _target(request)
        return live.command(connection_id, action, target, topic)
    except FrameError as error:
        return error.frame()
    except Exception:  # noqa: BLE001 - a frame always gets a reply
        logger.exception("websocket frame failed", extra={"connection_id": connection_id})
        return FrameError("internal_error", "an unexpected error occurred; try again").frame()


def message(live: LiveUpdates, connection_id: str, body: Optional[str]) -> None:
    """Handle a client frame and send the reply to the client."""
    live.reply(connection_id, handle_frame(live, connection_id, body))


def _parse(body: Optional[str]) -> dict[str, Any]:
    raw = (body or "").encode("utf-8", errors="replace")
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError("payload_too_large", f"a frame may be at most {MAX_FRAME_BYTES} bytes")
    try:
        request = strict_json.loads(raw)
    except strict_json.MalformedJson as error:  # nesting, duplicate keys, bad JSON: never a 1011
        raise FrameError("malformed_json", str(error).replace("the body", "the frame")) from None
    if not isinstance(request, dict):
        raise FrameError("validation_failed", "the frame must be a JSON object")
    return request


def _target(request: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """The ``application_id`` or ``topic`` a (un)subscribe names, and its topic."""
    has_app, has_topic = "application_id" in request, "topic" in request
    if has_app == has_topic:
        raise FrameError("validation_failed", "give exactly one of 'application_id' or 'topic'")
    if has_topic:
        if request["topic"] != REVIEW_QUEUE:
            raise FrameError("validation_failed", f"the only topic is '{REVIEW_QUEUE}'")
        return {"topic": REVIEW_QUEUE}, REVIEW_QUEUE
    application_id = request["application_id"]
    if not isinstance(application_id, str) or not application_id:
        raise FrameError("validation_failed", "'application_id' must be a non-empty string")
    if not _is_uuid(application_id):
        # Cannot exist; answered like any unknown id, and never stored.
        raise FrameError("not_found", "application not found", application_id=application_id[:64])
    application_id = str(uuid.UUID(application_id))
    return {"application_id": application_id}, application_topic(application_id)


def _is_uuid(value: str) -> bool:
    try:
        return len(value) <= 64 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
