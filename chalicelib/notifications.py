"""Live updates over WebSocket: who may connect, what they may watch, and the fan-out.

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
are a hint; the REST API stays the source of truth.

Error codes: ``payload_too_large``, ``malformed_json``, ``validation_failed``,
``unknown_action``, ``not_found`` (someone else's application is
indistinguishable from a missing one, as over REST), ``forbidden``,
``too_many_subscriptions``, ``unauthorized`` (the connection is no longer
registered: reconnect), ``internal_error``.

The sender is Chalice's ``app.websocket_api`` (API Gateway's management API);
anything with ``send(connection_id, text)`` raising
``WebsocketDisconnectedError`` for a gone connection will do.
"""
from __future__ import annotations

import functools
import json
import os
import uuid
from typing import Any, Mapping, Optional

from chalice.app import WebsocketDisconnectedError

from . import dedupe
from .auth import InvalidToken, verifier
from .connections import (REVIEW_QUEUE, ConnectionGone, ConnectionInfo, ConnectionStore,
                          TooManySubscriptions, application_topic)
from .observability import count, logger

#: Client frames are small commands; API Gateway alone would allow 128 KB.
MAX_FRAME_BYTES = 4096
MAX_TOKEN_CHARS = 8192
ACTIONS = ("subscribe", "unsubscribe", "ping")
FLAGGED = "FLAGGED"
ESCALATED = "review.escalated"
DEDUPE_PREFIX = "notified#"


@functools.lru_cache(maxsize=None)
def store() -> ConnectionStore:
    return ConnectionStore()


def configure(websocket_api: Any) -> None:
    """Give Chalice's WebsocketAPI a session, and its endpoint when configured.

    In Lambda the WebSocket handlers configure the endpoint from their own
    event, but the SNS notifier is another function and learns it from
    WEBSOCKET_DOMAIN (the API's domain, custom or ``<api-id>.execute-api.<region>.amazonaws.com``)
    and WEBSOCKET_STAGE. Chalice keeps the first endpoint it is given.
    """
    import boto3

    if websocket_api.session is None:
        websocket_api.session = boto3.session.Session()
    domain = os.environ.get("WEBSOCKET_DOMAIN")
    if domain:
        websocket_api.configure(domain, os.environ.get("WEBSOCKET_STAGE", "api"))


# --- $connect / $disconnect ---------------------------------------------------

def connect(connection_id: str, query: Optional[Mapping[str, Any]]) -> bool:
    """Verify ``?token=`` like the REST API does and register the connection.

    False means refuse it (401). The token is never logged.
    """
    token = (query or {}).get("token")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        logger.info("websocket connect refused", extra={"reason": "missing token"})
        return False
    try:
        identity = verifier().verify(token)
    except InvalidToken as error:
        logger.info("websocket connect refused", extra={"reason": str(error)})
        return False
    store().register(connection_id, identity)
    logger.info("websocket connected", extra={"connection_id": connection_id, "user": identity.sub})
    return True


def disconnect(connection_id: str) -> None:
    store().forget(connection_id)
    logger.info("websocket disconnected", extra={"connection_id": connection_id})


# --- $default: client frames --------------------------------------------------

class FrameError(Exception):
    def __init__(self, code: str, message: str, **target: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.target = target

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message, **self.target}


def handle_frame(connection_id: str, body: Optional[str]) -> dict[str, Any]:
    """Answer one client frame; the reply is always a frame, never an exception."""
    try:
        return _handle(connection_id, body)
    except FrameError as error:
        return error.frame()
    except Exception:
        logger.exception("websocket frame failed", extra={"connection_id": connection_id})
        return FrameError("internal_error", "an unexpected error occurred; try again").frame()


def message(websocket_api: Any, connection_id: str, body: Optional[str]) -> None:
    """Handle a client frame and send the reply to the client."""
    reply(websocket_api, connection_id, handle_frame(connection_id, body))


def reply(websocket_api: Any, connection_id: str, frame: Mapping[str, Any]) -> bool:
    """Send one frame; a gone connection is forgotten. Returns whether it was sent."""
    try:
        websocket_api.send(connection_id, json.dumps(frame))
        return True
    except WebsocketDisconnectedError:
        store().forget(connection_id)
        return False


def _handle(connection_id: str, body: Optional[str]) -> dict[str, Any]:
    request = _parse(body)
    action = request.get("action")
    if action is None:
        raise FrameError("validation_failed", "'action' is required")
    if action not in ACTIONS:
        raise FrameError("unknown_action", f"action must be one of {', '.join(ACTIONS)}")
    if action == "ping":
        return {"type": "pong"}
    target, topic = _target(request)
    connection = store().get(connection_id)
    if connection is None:
        raise FrameError("unauthorized", "this connection is not registered; reconnect", **target)
    try:
        if action == "subscribe":
            ack = _authorize(connection, target)
            store().subscribe(connection_id, topic)
            return {"type": "subscribed", **target, **ack}
        store().unsubscribe(connection_id, topic)
        return {"type": "unsubscribed", **target}
    except ConnectionGone:
        raise FrameError("unauthorized", "this connection is not registered; reconnect", **target) from None
    except TooManySubscriptions:
        raise FrameError("too_many_subscriptions", "unsubscribe from something first", **target) from None


def _parse(body: Optional[str]) -> dict[str, Any]:
    raw = (body or "").encode("utf-8", errors="replace")
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError("payload_too_large", f"a frame may be at most {MAX_FRAME_BYTES} bytes")
    try:
        request = json.loads(raw)
    except ValueError:
        raise FrameError("malformed_json", "the frame is not valid JSON") from None
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


def _authorize(connection: ConnectionInfo, target: Mapping[str, str]) -> dict[str, Any]:
    """Refuse what the user may not watch; returns extra fields for the ack."""
    from .runtime import applications, repository
    from .service import NotFound

    identity = connection.identity
    if "topic" in target:
        if not identity.is_reviewer:
            raise FrameError("forbidden", "only reviewers may watch the review queue", **target)
        return {}
    application_id = target["application_id"]
    try:
        if identity.is_reviewer:
            application = repository().get(application_id)
            if application is None:
                raise NotFound(application_id)
        else:
            application = applications().get_own(identity, application_id)
    except NotFound:
        raise FrameError("not_found", "application not found", **target) from None
    return {"state": application.state.value, "seq": application.last_seq}


def _is_uuid(value: str) -> bool:
    try:
        return len(value) <= 64 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


# --- SNS: the fan-out ----------------------------------------------------------

def topics_for(event: Mapping[str, Any]) -> list[str]:
    """Where an application event goes: its application's watchers and, when it
    enters or leaves the review queue or escalates, the reviewers' queue."""
    topics = [application_topic(str(event["application_id"]))]
    if event.get("state") == FLAGGED or event.get("from_state") == FLAGGED or event.get("type") == ESCALATED:
        topics.append(REVIEW_QUEUE)
    return topics


def fan_out(websocket_api: Any, raw_message: str) -> int:
    """Push one application event to its subscribers; returns the frames sent.

    At-least-once SNS delivery is made at-most-one-frame per event: the
    subscribers are read first, then the event id is claimed, then frames go
    out. A replay finds the claim and sends nothing. If not a single frame
    could be sent (the management API unreachable or not configured), the
    claim is released and the error raised, so Lambda's retry delivers it.
    A gone connection is deleted with its subscriptions, never retried.
    """
    event = _event(raw_message)
    if event is None:
        return 0
    recipients: dict[str, set[str]] = {}
    for topic in topics_for(event):
        for connection_id in store().subscribers(topic):
            recipients.setdefault(connection_id, set()).add(topic)
    if not recipients:
        return 0
    claim = f"{DEDUPE_PREFIX}{event['event_id']}"
    if not dedupe.claim(claim):
        logger.info("event already notified", extra={"event_id": event["event_id"]})
        return 0
    frame = json.dumps({"type": "event", "event": event})
    sent = gone = failed = 0
    error: Optional[BaseException] = None
    for connection_id, topics in recipients.items():
        try:
            websocket_api.send(connection_id, frame)
            sent += 1
        except WebsocketDisconnectedError:
            gone += 1
            store().forget(connection_id, also_topics=topics)
        except Exception as exc:  # this recipient missed it; it can resync over REST
            failed += 1
            error = exc
            logger.warning("websocket send failed", exc_info=True,
                           extra={"connection_id": connection_id, "event_id": event["event_id"]})
    logger.info("event notified", extra={"event_id": event["event_id"], "sent": sent, "gone": gone,
                                         "failed": failed})
    if failed:
        count("NotificationSendFailed", failed)
    if error is not None and sent == 0:
        dedupe.release(claim)
        raise error
    return sent


def _event(raw_message: str) -> Optional[dict[str, Any]]:
    """The SNS message as a dict, or None (logged, not retried) when it is not one of ours."""
    try:
        event = json.loads(raw_message)
    except (TypeError, ValueError):
        event = None
    if (not isinstance(event, dict) or not isinstance(event.get("event_id"), str)
            or not isinstance(event.get("application_id"), str)):
        logger.error("unexpected application-events message dropped",
                     extra={"sns_message": str(raw_message)[:500]})
        count("NotificationMessageDropped")
        return None
    return event
