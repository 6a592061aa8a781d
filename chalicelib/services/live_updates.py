"""Live updates over WebSocket: who may connect, what they may watch, and the fan-out.

The frames themselves (what clients send, what they get back, the error codes)
are the protocol in ``chalicelib/api/websocket_protocol.py``. This use case
decides: ``$connect`` verifies the token like the REST API does; an applicant
may watch only their own applications, a reviewer any application and the
review queue; each application event reaches the connections subscribed to
its application (and, for the review queue's comings and goings, the
reviewers watching it), at least once, carrying its ``event_id`` for the
client to drop a repeat.

The outbox publishes one message per application and stream batch; the
fan-out looks its watchers up once (an applicant's watchers, of one
application or of all of them, live in one partition of the connection store:
``applicant#<sub>/...``) and pushes them one ``events`` frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from ..domain import disclosure
from ..domain.limits import MAX_CONNECTIONS_PER_USER
from ..domain.users import REVIEWERS_GROUP, Identity
from ..domain.workflow.application import Application
from ..observability import logger
from .applications import ApplicationService
from .errors import NotFound
from .outbox import NOT_PUSHED
from .ports import (
    ConcurrentChange,
    ConnectionGone,
    ConnectionInfo,
    ConnectionStore,
    InvalidToken,
    Metrics,
    TokenVerifier,
    TooManyConnections,
    TooManySubscriptions,
    WatchMark,
    WebSocketSender,
)
from .review import ReviewService
from .staff import StaffAccess

MAX_TOKEN_CHARS = 8192
#: Reads and writes of a subscribe whose application kept changing between them (then an error frame: again).
SUBSCRIBE_ATTEMPTS = 4
REVIEW_QUEUE = "review-queue"
MY_APPLICATIONS = "my-applications"  # an applicant's subscription to all their applications
FLAGGED = "FLAGGED"
ESCALATED = "review.escalated"
STAFF_READS = ("review.viewed", "document.viewed")  # audit events of a reviewer's own reads
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


def applicant_topic(applicant_id: str, application_id: Optional[str] = None) -> str:
    """Where an applicant's own watching is kept: one application, or all (``*``), in the applicant's partition."""
    return f"applicant#{applicant_id}/" + (f"application#{application_id}" if application_id else "*")


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
        metrics: Metrics,
        staff: StaffAccess,
        review: ReviewService,
    ):
        self.verifier = verifier
        self.connections = connections
        self.sender = sender
        self.applications = applications
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
        """Subscribe or unsubscribe; the reply frame, or FrameError.

        A subscribe costs the connection's read, the application's read (to authorize it; none
        for the applicant's ``my-applications``) and one write, which also marks what it watches
        (``_subscribe``); an unsubscribe, a read and a write (and, leaving ``my-applications``, one more).
        """
        connection = self.connections.get(connection_id)
        if connection is None:
            raise FrameError("unauthorized", "this connection is not registered; reconnect", **target)
        identity = connection.identity
        try:
            if action == "subscribe":
                return self._subscribe(connection, target, topic)
            if "application_id" in target:
                application_id = target["application_id"]
                self.connections.unsubscribe(
                    connection_id,
                    applicant_topic(identity.sub, application_id),
                    staff_topic(application_id),
                    application_topic(application_id),  # subscribed before the applicant's partition existed
                )
            elif target.get("topic") == MY_APPLICATIONS:
                self.connections.unsubscribe(connection_id, applicant_topic(identity.sub))
            else:
                self.connections.unsubscribe(connection_id, topic)
            return {"type": "unsubscribed", **target}
        except ConnectionGone:
            raise FrameError("unauthorized", "this connection is not registered; reconnect", **target) from None
        except TooManySubscriptions:
            raise FrameError("too_many_subscriptions", "unsubscribe from something first", **target) from None

    def _subscribe(self, connection: ConnectionInfo, target: Mapping[str, str], topic: str) -> dict[str, Any]:
        """Authorize, then subscribe and mark what it watches in one write (issue 22, ``WatchMark``): an
        application at the version the ack reports (a commit landing between the read and the write sends the
        subscribe round again, so the ack's state and seq are of the last change not looked up for), or all
        the applicant's applications (``my-applications``: the client lists them after the ack). Every event
        committed after the mark is looked up for and pushed; the ack (or a read after it) holds the rest."""
        identity = connection.identity
        for _ in range(SUBSCRIBE_ATTEMPTS):
            ack, as_staff, application = self._authorize(connection, target)
            mark = None
            if application is not None:  # marked already, still at the version read: the ack is exact
                mark = WatchMark(application_id=application.application_id, version=application.version)
            elif target.get("topic") == MY_APPLICATIONS:
                mark = WatchMark(applicant_id=identity.sub)
            if as_staff and "application_id" in target:
                topic = staff_topic(target["application_id"])  # they get the staff view of its events
            elif not as_staff:
                topic = applicant_topic(identity.sub, target.get("application_id"))
            try:
                self.connections.subscribe(connection.connection_id, topic, connection, mark)
            except ConcurrentChange:
                continue  # the application moved on since the read: read it again, for the ack and the mark
            return {"type": "subscribed", **target, **ack}
        raise FrameError("internal_error", "the application kept changing; subscribe again", **target)

    def reply(self, connection_id: str, frame: Mapping[str, Any]) -> bool:
        """Send one frame; a gone connection is forgotten. Returns whether it was sent."""
        try:
            self.sender.send(connection_id, json.dumps(frame))
            return True
        except ConnectionGone:
            self.connections.forget(connection_id)
            return False

    def _authorize(
        self, connection: ConnectionInfo, target: Mapping[str, str]
    ) -> tuple[dict[str, Any], bool, Optional[Application]]:
        """Refuse what the user may not watch; returns extra fields for the ack, whether staff watch it and the
        application read (for one application)."""
        identity: Identity = connection.identity
        if target.get("topic") == MY_APPLICATIONS:
            if identity.is_staff:
                raise FrameError("wrong_user_pool", "my-applications is for applicants (the customer pool)", **target)
            return {}, False, None
        if "topic" in target:
            if not identity.is_staff:  # a customer-pool token, whatever groups it claims
                raise FrameError(
                    "wrong_user_pool", "the review queue is for staff: sign in to the staff pool", **target
                )
            if not self.staff.is_member(identity, REVIEWERS_GROUP):  # re-checked every frame
                raise FrameError("forbidden", "only reviewers may watch the review queue", **target)
            return {}, True, None
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
        # the applicant's numbering counts only the events shown to them (domain/disclosure.py: no trace of a review)
        seq = application.last_seq if as_staff else disclosure.seq(application)
        return {"state": application.state.value, "seq": seq}, as_staff, application

    # --- SNS: the fan-out ----------------------------------------------------------

    def fan_out(self, raw_message: str) -> int:
        """Push one application's events (one outbox message) to their watchers; returns the frames sent.

        A message with nothing to push (a check's result, the applicant's own steps: ``outbox.NOT_PUSHED``)
        costs no call. Otherwise the watchers are looked up once (the applicant's partition, plus staff
        topics while the application is in review) and each gets one ``events`` frame with the events meant
        for it (the staff view, or the applicant's): a lookup and a send per watcher, nothing else.

        At least once: every event carries its ``event_id`` and the client drops an id it has seen (the
        console does, ``live.js``), so SNS's at-least-once delivery and Lambda's retries cost no write here
        (issue 23: a claim per message was a third of what a watched application cost the notifier). A gone
        connection is deleted with its subscriptions, never retried. When a send fails the error is raised
        after the others are sent, so Lambda retries the message: watchers that already had it get it again
        and drop it by its ids.
        """
        parsed = self._message(raw_message)
        if parsed is None:
            return 0
        application_id, applicant_id, events, watched = parsed
        pushed = [event for event in events if event.get("type") not in NOT_PUSHED]
        if not pushed:
            return 0
        legacy = applicant_id is None  # an event from before the history carried its applicant
        if legacy:
            known = self.applications.repo.get(application_id)
            applicant_id = known.applicant_id if known is not None else None
        topics_of = {event["event_id"]: topics_for(event, applicant_id, legacy) for event in pushed}
        if watched is False:  # committed unwatched (issue 22): only the review queue can have watchers
            topics_of = {event_id: [t for t in topics if t == REVIEW_QUEUE] for event_id, topics in topics_of.items()}
            if not any(topics_of.values()):
                return 0
        recipients: dict[str, set[str]] = {}
        for connection_id, topic in self.connections.subscriptions(
            list(dict.fromkeys(t for topics in topics_of.values() for t in topics))
        ):
            recipients.setdefault(connection_id, set()).add(topic)
        if not recipients:
            return 0
        applicants = any(not any(map(is_staff_topic, topics)) for topics in recipients.values())
        places = self._places(application_id, [e for e in pushed if disclosure.shown(e)]) if applicants else {}
        frames = _frames(application_id, pushed, topics_of, recipients, places)
        sent, failed, error = self._send_all(recipients, frames, application_id)
        if error is None:
            return len(sent)
        self.metrics.count("NotificationSendFailed", failed)
        raise error

    def _places(self, application_id: str, shown: list[dict[str, Any]]) -> dict[str, int]:
        """Each event's place among those its applicant is shown (their frames' ``seq``), by event id: as the
        topic carries it (``shown_seq``); for events committed before it was kept, counted from the history (one
        read, in flight during a deploy only). An event not found there is not sent to the applicant."""
        places = {e["event_id"]: e["shown_seq"] for e in shown if isinstance(e.get("shown_seq"), int)}
        if len(places) < len(shown):
            recorded = disclosure.shown_history(self.applications.repo.history(application_id))
            by_seq = {e.seq: e.shown_seq for e in recorded if e.shown_seq is not None}
            places |= {
                e["event_id"]: by_seq[e["seq"]] for e in shown if e["event_id"] not in places and e["seq"] in by_seq
            }
        return places

    def _send_all(
        self, recipients: Mapping[str, set[str]], frames: Mapping[str, Optional[str]], application_id: str
    ) -> tuple[list[str], int, Optional[BaseException]]:
        """Send each recipient its frame; the last error (if any) is returned, after every send was tried."""
        sent: list[str] = []
        failed = gone = 0
        error: Optional[BaseException] = None
        for connection_id, topics in recipients.items():
            frame = frames.get(connection_id)
            if frame is None:
                continue  # none of the events is for what it watches
            if any(map(is_staff_topic, topics)) and not self._still_staff(connection_id, topics):
                continue  # removed, deleted or disabled since it subscribed: no staff frame, ever again
            try:
                self.sender.send(connection_id, frame)
                sent.append(connection_id)
            except ConnectionGone:
                gone += 1
                self.connections.forget(connection_id, also_topics=topics)
            except Exception as exc:  # noqa: BLE001 - Lambda retries the message; the others drop it by id
                failed += 1
                error = exc
                logger.warning(
                    "websocket send failed",
                    exc_info=True,
                    extra={"connection_id": connection_id, "application_id": application_id},
                )
        logger.info(
            "events notified",
            extra={"application_id": application_id, "sent": len(sent), "gone": gone, "failed": failed},
        )
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

    def _message(self, raw_message: str) -> Optional[tuple[str, Optional[str], list[dict[str, Any]], Optional[bool]]]:
        """(application id, applicant id, events, watched) of an outbox message, or None (logged, not retried)
        when it is not one of ours. A single event (the outbox's format before per-application
        messages, still in flight during a deploy) is taken as a message of one event. ``watched``: False
        only when the message says so (its events were committed unwatched); else None, maybe watched."""
        try:
            message = json.loads(raw_message)
        except (TypeError, ValueError):
            message = None
        if isinstance(message, dict) and "events" not in message and "event_id" in message:
            message = {"application_id": message.get("application_id"), "events": [message]}
        events = message.get("events") if isinstance(message, dict) else None
        application_id = message.get("application_id") if isinstance(message, dict) else None
        if (
            not isinstance(application_id, str)
            or not isinstance(events, list)
            or not events
            or not all(
                isinstance(event, dict)
                and isinstance(event.get("event_id"), str)
                and event.get("application_id") == application_id
                and isinstance(event.get("seq"), int)
                for event in events
            )
        ):
            logger.error("unexpected application-events message dropped", extra={"sns_message": str(raw_message)[:500]})
            self.metrics.count("NotificationMessageDropped")
            return None
        applicant_id = message.get("applicant_id")
        watched = False if message.get("watched") is False else None
        return (
            application_id,
            applicant_id if isinstance(applicant_id, str) and applicant_id else None,
            events,
            watched,
        )


def _frames(
    application_id: str,
    events: list[dict[str, Any]],
    topics_of: Mapping[str, list[str]],
    recipients: Mapping[str, set[str]],
    places: Optional[Mapping[str, int]] = None,
) -> dict[str, Optional[str]]:
    """Each recipient's frame: the events meant for what it watches, in the staff view if it watches as staff,
    else in the applicant's, numbered by ``places`` (``disclosure.live_event``: never the recorded seq)."""
    frames: dict[str, Optional[str]] = {}
    cache: dict[tuple[bool, tuple[str, ...]], str] = {}
    for connection_id, topics in recipients.items():
        mine = [event for event in events if topics & set(topics_of.get(event["event_id"], ()))]
        if not mine:
            frames[connection_id] = None
            continue
        staff = any(map(is_staff_topic, topics))
        key = (staff, tuple(event["event_id"] for event in mine))
        if key not in cache:
            if staff:
                shown = [{k: v for k, v in event.items() if k != "shown_seq"} for event in mine]
            else:
                shown = [
                    disclosure.live_event(e, (places or {})[e["event_id"]])
                    for e in mine
                    if e["event_id"] in (places or {})
                ]
            if not shown:
                frames[connection_id] = None
                continue
            cache[key] = json.dumps({"type": "events", "application_id": application_id, "events": shown})
        frames[connection_id] = cache[key]
    return frames


def is_staff_topic(topic: str) -> bool:
    return topic == REVIEW_QUEUE or topic.endswith(STAFF_TOPIC_SUFFIX)


def topics_for(event: Mapping[str, Any], applicant_id: Optional[str] = None, legacy: bool = False) -> list[str]:
    """Where an application event goes: its applicant's watchers (of it, or of all their applications), its
    staff watchers while it is in (or leaves) review, and, when it enters or leaves the review queue or
    escalates, the reviewers' queue.

    Only events of an application in review look up staff watchers: an application
    decided automatically costs one lookup per message. ``legacy``: also the watchers who
    subscribed by application before the applicant's partition existed.
    """
    application_id = str(event["application_id"])
    topics: list[str] = []
    if disclosure.shown(event):  # nothing of a screening is shown to the applicant (tipping off)
        if applicant_id:
            topics += [applicant_topic(applicant_id, application_id), applicant_topic(applicant_id)]
        if legacy or not applicant_id:
            topics.append(application_topic(application_id))
    staff_reads = event.get("type") in STAFF_READS  # a refresh on them would read, and so record, again
    if not staff_reads and (FLAGGED in (event.get("state"), event.get("from_state")) or event.get("type") == ESCALATED):
        topics.append(staff_topic(application_id))  # staff watch an application while it is in review
    moved = event.get("state") != event.get("from_state")
    if (moved and FLAGGED in (event.get("state"), event.get("from_state"))) or event.get("type") == ESCALATED:
        topics.append(REVIEW_QUEUE)
    return topics
