"""Live updates over WebSocket: who may connect, what they may watch, and the fan-out.

The frames themselves (what clients send, what they get back, the error codes)
are the protocol in ``chalicelib/api/websocket_protocol.py``. This use case
decides: ``$connect`` verifies the token like the REST API does; an applicant
may watch only their own applications, a reviewer any application and the
review queue; each application event reaches the connections subscribed to
its application (and, for the review queue's comings and goings, the
reviewers watching it), at most one frame per event and connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from ..domain.users import Identity
from ..observability import logger
from .applications import ApplicationService
from .errors import NotFound
from .ports import (
    Claims,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    InvalidToken,
    Metrics,
    TokenVerifier,
    TooManySubscriptions,
    WebSocketSender,
)

MAX_TOKEN_CHARS = 8192
REVIEW_QUEUE = "review-queue"
FLAGGED = "FLAGGED"
ESCALATED = "review.escalated"
DEDUPE_PREFIX = "notified#"


def application_topic(application_id: str) -> str:
    return f"application#{application_id}"


class FrameError(Exception):
    """A refused client frame: answered with an error frame, never an exception to API Gateway."""

    def __init__(self, code: str, message: str, **target: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.target = target

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message, **self.target}


class LiveUpdates:
    def __init__(
        self,
        verifier: TokenVerifier,
        connections: ConnectionStore,
        sender: WebSocketSender,
        applications: ApplicationService,
        claims: Claims,
        metrics: Metrics,
    ):
        self.verifier = verifier
        self.connections = connections
        self.sender = sender
        self.applications = applications
        self.claims = claims
        self.metrics = metrics

    # --- $connect / $disconnect ---------------------------------------------------

    def connect(self, connection_id: str, query: Optional[Mapping[str, Any]]) -> bool:
        """Verify ``?token=`` like the REST API does and register the connection.

        False means refuse it (401). The token is never logged.
        """
        token = (query or {}).get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            logger.info("websocket connect refused", extra={"reason": "missing token"})
            return False
        try:
            identity = self.verifier.verify(token)
        except InvalidToken as error:
            logger.info("websocket connect refused", extra={"reason": str(error)})
            return False
        self.connections.register(connection_id, identity)
        logger.info("websocket connected", extra={"connection_id": connection_id, "user": identity.sub})
        return True

    def disconnect(self, connection_id: str) -> None:
        self.connections.forget(connection_id)
        logger.info("websocket disconnected", extra={"connection_id": connection_id})

    # --- $default: client commands -------------------------------------------------

    def command(self, connection_id: str, action: str, target: Mapping[str, str], topic: str) -> dict[str, Any]:
        """Subscribe or unsubscribe; the reply frame, or FrameError."""
        connection = self.connections.get(connection_id)
        if connection is None:
            raise FrameError("unauthorized", "this connection is not registered; reconnect", **target)
        try:
            if action == "subscribe":
                ack = self._authorize(connection, target)
                self.connections.subscribe(connection_id, topic)
                return {"type": "subscribed", **target, **ack}
            self.connections.unsubscribe(connection_id, topic)
            return {"type": "unsubscribed", **target}
        except ConnectionGone:
            raise FrameError("unauthorized", "this connection is not registered; reconnect", **target) from None
        except TooManySubscriptions:
            raise FrameError("too_many_subscriptions", "unsubscribe from something first", **target) from None

    def reply(self, connection_id: str, frame: Mapping[str, Any]) -> bool:
        """Send one frame; a gone connection is forgotten. Returns whether it was sent."""
        try:
            self.sender.send(connection_id, json.dumps(frame))
            return True
        except ConnectionGone:
            self.connections.forget(connection_id)
            return False

    def _authorize(self, connection: ConnectionInfo, target: Mapping[str, str]) -> dict[str, Any]:
        """Refuse what the user may not watch; returns extra fields for the ack."""
        identity: Identity = connection.identity
        if "topic" in target:
            if not identity.is_reviewer:
                raise FrameError("forbidden", "only reviewers may watch the review queue", **target)
            return {}
        application_id = target["application_id"]
        try:
            if identity.is_reviewer:
                application = self.applications.get(application_id)
            else:
                application = self.applications.get_own(identity, application_id)
        except NotFound:
            raise FrameError("not_found", "application not found", **target) from None
        return {"state": application.state.value, "seq": application.last_seq}

    # --- SNS: the fan-out ----------------------------------------------------------

    def fan_out(self, raw_message: str) -> int:
        """Push one application event to its subscribers; returns the frames sent.

        At-least-once SNS delivery is made at-most-one-frame per event: the
        subscribers are read first, then the event id is claimed, then frames go
        out. A replay finds the claim and sends nothing. If not a single frame
        could be sent (the management API unreachable or not configured), the
        claim is released and the error raised, so Lambda's retry delivers it.
        A gone connection is deleted with its subscriptions, never retried.
        """
        event = self._event(raw_message)
        if event is None:
            return 0
        recipients: dict[str, set[str]] = {}
        for topic in topics_for(event):
            for connection_id in self.connections.subscribers(topic):
                recipients.setdefault(connection_id, set()).add(topic)
        if not recipients:
            return 0
        claim = f"{DEDUPE_PREFIX}{event['event_id']}"
        if not self.claims.claim(claim):
            logger.info("event already notified", extra={"event_id": event["event_id"]})
            return 0
        frame = json.dumps({"type": "event", "event": event})
        sent = gone = failed = 0
        error: Optional[BaseException] = None
        for connection_id, topics in recipients.items():
            try:
                self.sender.send(connection_id, frame)
                sent += 1
            except ConnectionGone:
                gone += 1
                self.connections.forget(connection_id, also_topics=topics)
            except Exception as exc:  # noqa: BLE001 - this recipient missed it; it can resync over REST
                failed += 1
                error = exc
                logger.warning(
                    "websocket send failed",
                    exc_info=True,
                    extra={"connection_id": connection_id, "event_id": event["event_id"]},
                )
        logger.info(
            "event notified", extra={"event_id": event["event_id"], "sent": sent, "gone": gone, "failed": failed}
        )
        if failed:
            self.metrics.count("NotificationSendFailed", failed)
        if error is not None and sent == 0:
            self.claims.release(claim)
            raise error
        return sent

    def _event(self, raw_message: str) -> Optional[dict[str, Any]]:
        """The SNS message as a dict, or None (logged, not retried) when it is not one of ours."""
        try:
            event = json.loads(raw_message)
        except (TypeError, ValueError):
            event = None
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("event_id"), str)
            or not isinstance(event.get("application_id"), str)
        ):
            logger.error("unexpected application-events message dropped", extra={"sns_message": str(raw_message)[:500]})
            self.metrics.count("NotificationMessageDropped")
            return None
        return event


def topics_for(event: Mapping[str, Any]) -> list[str]:
    """Where an application event goes: its application's watchers and, when it
    enters or leaves the review queue or escalates, the reviewers' queue."""
    topics = [application_topic(str(event["application_id"]))]
    if event.get("state") == FLAGGED or event.get("from_state") == FLAGGED or event.get("type") == ESCALATED:
        topics.append(REVIEW_QUEUE)
    return topics
