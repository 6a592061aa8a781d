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

from ..domain.limits import MAX_CONNECTIONS_PER_USER
from ..domain.users import REVIEWERS_GROUP, Identity
from ..domain.workflow import for_applicant, shown_to_applicant
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
    TooManyConnections,
    TooManySubscriptions,
    WebSocketSender,
)
from .review import ReviewService
from .staff import StaffAccess

MAX_TOKEN_CHARS = 8192
REVIEW_QUEUE = "review-queue"
FLAGGED = "FLAGGED"
ESCALATED = "review.escalated"
STAFF_READS = ("review.viewed", "document.viewed")  # audit events of a reviewer's own reads
DEDUPE_PREFIX = "notified#"
#: Connection identities kept per container for the fan-out's staff re-check (cleared whole when full).
MAX_REMEMBERED_CONNECTIONS = 5000
#: The last frame a staff connection gets when its user's staff rights have ended.
STAFF_RIGHTS_ENDED = {
    "type": "error",
    "code": "forbidden",
    "message": "your staff rights have ended (removed from the group, deleted or disabled): this connection is closed",
}


def application_topic(application_id: str) -> str:
    return f"application#{application_id}"


def staff_topic(application_id: str) -> str:
    """Where staff watching someone else's application subscribe: they get the staff view of its events."""
    return f"{application_topic(application_id)}#staff"


STAFF_TOPIC_SUFFIX = "#staff"


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
        staff: StaffAccess,
        review: ReviewService,
    ):
        self.verifier = verifier
        self.connections = connections
        self.sender = sender
        self.applications = applications
        self.claims = claims
        self.metrics = metrics
        self.staff = staff
        self.review = review
        self._identities: dict[str, Identity] = {}

    # --- $connect / $disconnect ---------------------------------------------------

    def connect(self, connection_id: str, query: Optional[Mapping[str, Any]]) -> int:
        """Verify ``?token=`` like the REST API does and register the connection.

        Returns the status API Gateway answers the handshake with: 200, 401 (no
        valid token; the token is never logged) or 429 (the user already holds
        ``MAX_CONNECTIONS_PER_USER`` connections). The connection lives no
        longer than the token: every later frame finds it gone once the token expired.
        """
        token = (query or {}).get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            logger.info("websocket connect refused", extra={"reason": "missing token"})
            return 401
        try:
            identity = self.verifier.verify(token)
        except InvalidToken as error:
            logger.info("websocket connect refused", extra={"reason": str(error)})
            return 401
        if identity.is_staff and self.staff.current(identity) is None:  # deleted or disabled since the token
            logger.info("websocket connect refused", extra={"reason": "staff user gone or disabled"})
            return 401
        try:
            self.connections.register(connection_id, identity, MAX_CONNECTIONS_PER_USER)
        except TooManyConnections:
            logger.info("websocket connect refused", extra={"reason": "too many connections", "user": identity.sub})
            self.metrics.count("WebSocketConnectionsRefused")
            return 429
        logger.info("websocket connected", extra={"connection_id": connection_id, "user": identity.sub})
        return 200

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
                ack, as_staff = self._authorize(connection, target)
                if as_staff and "application_id" in target:
                    topic = staff_topic(target["application_id"])  # they get the staff view of its events
                self.connections.subscribe(connection_id, topic)
                return {"type": "subscribed", **target, **ack}
            self.connections.unsubscribe(connection_id, topic)
            if "application_id" in target:
                self.connections.unsubscribe(connection_id, staff_topic(target["application_id"]))
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

    def _authorize(self, connection: ConnectionInfo, target: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
        """Refuse what the user may not watch; returns extra fields for the ack and whether staff watch it."""
        identity: Identity = connection.identity
        if "topic" in target:
            if not identity.is_staff:  # a customer-pool token, whatever groups it claims
                raise FrameError(
                    "wrong_user_pool", "the review queue is for staff: sign in to the staff pool", **target
                )
            if not self.staff.is_member(identity, REVIEWERS_GROUP):  # re-checked every frame
                raise FrameError("forbidden", "only reviewers may watch the review queue", **target)
            return {}, True
        application_id = target["application_id"]
        as_staff = identity.is_staff
        try:
            if not as_staff:  # applicants (customer pool) watch their own
                application = self.applications.get_own(identity, application_id)
            elif self.staff.is_member(identity, REVIEWERS_GROUP):  # re-checked every frame
                # reviewers watch what they may read: in review, or decided by them
                application = self.review.may_watch(identity, application_id)
            else:
                raise NotFound(application_id)
        except NotFound:
            raise FrameError("not_found", "application not found", **target) from None
        return {"state": application.state.value, "seq": application.last_seq}, as_staff

    # --- SNS: the fan-out ----------------------------------------------------------

    def fan_out(self, raw_message: str) -> int:
        """Push one application event to its subscribers; returns the frames sent.

        At-least-once SNS delivery is made at-most-one-frame per event and
        recipient: the subscribers are read first, then the event id is
        claimed, then frames go out. A replay finds the claim and sends nothing.
        A gone connection is deleted with its subscriptions, never retried.

        When some sends fail, the event is not lost for them: the recipients
        that got it are claimed one by one (``...#to#<connection>``), a
        ``...#pending`` claim marks the event unfinished, and the error is
        raised so Lambda retries; the retry sends only to those not yet
        claimed. If not a single frame could be sent, the claim is released
        instead. The happy path costs one claim, as before.
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
        pending = f"{claim}#pending"
        retry = not self.claims.claim(claim)
        if retry and not self.claims.is_claimed(pending):
            logger.info("event already notified", extra={"event_id": event["event_id"]})
            return 0
        frames = {
            True: json.dumps({"type": "event", "event": event}),  # staff: who acted and why
            False: json.dumps({"type": "event", "event": for_applicant(event)}),  # staff as their role
        }
        sent, failed, error = self._send_all(recipients, frames, event["event_id"], claim if retry else None)
        if error is None:
            if retry:
                self.claims.release(pending)
            return len(sent)
        self.metrics.count("NotificationSendFailed", failed)
        if not retry and not sent:
            self.claims.release(claim)
        elif not retry:
            self.claims.claim(pending)  # first: a crash after it resends (duplicates), never loses
            for connection_id in sent:
                self.claims.claim(f"{claim}#to#{connection_id}")
        raise error

    def _send_all(
        self, recipients: Mapping[str, set[str]], frames: Mapping[bool, str], event_id: str, claim: Optional[str]
    ) -> tuple[list[str], int, Optional[BaseException]]:
        """Send to each recipient (on a retry: only to those whose per-recipient claim is won)."""
        sent: list[str] = []
        failed = gone = 0
        error: Optional[BaseException] = None
        for connection_id, topics in recipients.items():
            mine = f"{claim}#to#{connection_id}" if claim else None
            if mine is not None and not self.claims.claim(mine):
                continue  # got it before the failure
            if any(map(is_staff_topic, topics)) and not self._still_staff(connection_id, topics):
                continue  # removed, deleted or disabled since it subscribed: no staff frame, ever again
            try:
                self.sender.send(connection_id, frames[any(map(is_staff_topic, topics))])
                sent.append(connection_id)
            except ConnectionGone:
                gone += 1
                self.connections.forget(connection_id, also_topics=topics)
            except Exception as exc:  # noqa: BLE001 - retried by Lambda for this recipient only
                failed += 1
                error = exc
                if mine is not None:
                    self.claims.release(mine)
                logger.warning(
                    "websocket send failed", exc_info=True, extra={"connection_id": connection_id, "event_id": event_id}
                )
        logger.info("event notified", extra={"event_id": event_id, "sent": len(sent), "gone": gone, "failed": failed})
        return sent, failed, error

    def _still_staff(self, connection_id: str, topics: set[str]) -> bool:
        """Whether the staff connection's user may still receive staff frames (the staff pool, as of at
        most ``staff.ttl_seconds`` ago). If not, the connection is told once and forgotten with its
        subscriptions. A connection's identity never changes, so it is read once per container."""
        identity = self._identities.get(connection_id)
        if identity is None:
            info = self.connections.get(connection_id)
            if info is None:
                return False
            identity = info.identity
            if len(self._identities) >= MAX_REMEMBERED_CONNECTIONS:
                self._identities.clear()
            self._identities[connection_id] = identity
        if self.staff.is_member(identity, REVIEWERS_GROUP):
            return True
        self.metrics.count("StaffFramesWithheld")
        logger.info("staff rights ended: connection forgotten", extra={"connection_id": connection_id})
        try:
            self.sender.send(connection_id, json.dumps(STAFF_RIGHTS_ENDED))
        except Exception:  # noqa: BLE001 - best effort: the connection is forgotten either way
            pass
        self.connections.forget(connection_id, also_topics=topics)
        self._identities.pop(connection_id, None)
        return False

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


def is_staff_topic(topic: str) -> bool:
    return topic == REVIEW_QUEUE or topic.endswith(STAFF_TOPIC_SUFFIX)


def topics_for(event: Mapping[str, Any]) -> list[str]:
    """Where an application event goes: its applicant's watchers, its staff watchers while it is
    in (or leaves) review, and, when it enters or leaves the review queue or escalates, the reviewers' queue.

    Only events of an application in review look up staff watchers: an application
    decided automatically costs no more queries than before.
    """
    application_id = str(event["application_id"])
    # A sanctions review of the applicant is never shown to them (tipping off): staff topics only.
    topics = [application_topic(application_id)] if shown_to_applicant(event.get("type")) else []
    staff_reads = event.get("type") in STAFF_READS  # a refresh on them would read, and so record, again
    if not staff_reads and (FLAGGED in (event.get("state"), event.get("from_state")) or event.get("type") == ESCALATED):
        topics.append(staff_topic(application_id))  # staff watch an application while it is in review
    moved = event.get("state") != event.get("from_state")
    if (moved and FLAGGED in (event.get("state"), event.get("from_state"))) or event.get("type") == ESCALATED:
        topics.append(REVIEW_QUEUE)
    return topics
