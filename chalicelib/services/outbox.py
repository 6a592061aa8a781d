"""The outbox relay: publishes committed history events to the application-events topic.

Nothing in a request publishes. The history table's stream carries every
committed event exactly as written; this relay turns a stream batch into one
message per application (its events of the batch, in order), ten messages to a
PublishBatch call, reporting the first record it could not publish so the
stream retries from there and no failure blocks the records before it.

The state counters (how many applications are in each state, what each day
saw) are kept by the commits themselves: each commit adds what its events
change in its own transaction (exactly once by construction) and marks them
``counted``. The relay counts only events without that mark -- committed
before the commits counted (a deploy's in-flight records) -- each once, in one
transaction per batch with a marker per event; so no report or view counts
applications, and a batch of counted events costs no DynamoDB call.

One message per application, not per event: the notifier looks the
application's watchers up once per message and pushes one frame, and the
check queues' filter policies still match, because the event types travel as
a ``String.Array`` attribute (an SNS filter matches when any element does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from ..domain.reporting import tally
from ..domain.workflow.history import HistoryEvent
from ..domain.workflow.states import SCREENING_CASE, EventType
from ..observability import logger
from .ports import Claims, EventPublisher, StateCounters

#: Details the topic carries: staff's (who decided what), and the re-screening case a read was of (which hides
#: that read from the applicant: ``disclosure.shown``).
STAFF_DETAILS = ("decision", "reviewer_email", SCREENING_CASE)
#: Events the WebSocket fan-out does not push (``pushed`` in the message: the notifier returns at once, with no
#: call, for a message of these alone; it is still invoked for it -- its subscription has no ``pushed`` filter
#: policy yet, which Chalice cannot declare: 5 of an auto-approved application's 7 messages): a check's
#: result alone changes no state the applicant watches (the
#: decision that follows it does, and carries the reasons); the applicant's own steps answer their REST
#: requests, which carry them (the submission: the create's 201 is the application; the consent, a liveness
#: session, its completion); and the face check's request is internal. What is pushed: the document
#: received (VERIFYING), the decision and everything of a case in review. Issue 23: each pushed message
#: costs the notifier a lookup and a send per watcher.
NOT_PUSHED = frozenset(
    {
        EventType.SUBMITTED.value,
        EventType.CHECK_COMPLETED.value,
        EventType.BIOMETRIC_CONSENT_GIVEN.value,
        EventType.LIVENESS_SESSION_CREATED.value,
        EventType.LIVENESS_COMPLETED.value,
        EventType.FACE_REQUESTED.value,
    }
)


def message_for(event: HistoryEvent) -> dict[str, Any]:
    """One event as the (internal, encrypted) topic carries it: the change, never the applicant's personal data.

    It is the staff view: who acted and why, and for a decision the reviewer's
    e-mail, so a reviewer's console can say who decided first. The notifier
    sends applicants ``workflow.review.for_applicant`` of it (staff as their role).
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
    if event.shown_seq is not None:  # its place among the events the applicant is shown: their frames' seq
        message["shown_seq"] = event.shown_seq
    staff_details = {key: str(details[key]) for key in STAFF_DETAILS if details.get(key) is not None}
    if staff_details:
        message["details"] = staff_details
    return message


def application_message(
    events: Sequence[HistoryEvent], applicant_id: Optional[str] = None, watched: Optional[bool] = None
) -> dict[str, Any]:
    """The message for one application's events of a stream batch (oldest first).

    ``applicant_id`` (the Cognito sub, a pseudonymous id) routes it to the applicant's watchers
    without a read; absent for events written before the history carried it. ``watched`` (issue 22):
    false when every event was committed with its application unwatched (the notifier then looks no
    watcher up, but the review queue's); absent when any may be watched.
    """
    message: dict[str, Any] = {
        "application_id": events[0].application_id,
        "events": [message_for(event) for event in events],
    }
    if applicant_id:
        message["applicant_id"] = applicant_id
    if watched is not None:
        message["watched"] = watched
    return message


def attributes_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """What the topic's subscriptions filter on: every event type in it (``String.Array``), the checks it
    completes (``String.Array``), the state it ends in, and whether it has anything the fan-out pushes."""
    events = message["events"]
    checks = [check_of(event) for event in events if check_of(event)]
    return {
        "event_type": list(dict.fromkeys(event["type"] for event in events)),
        "checks": list(dict.fromkeys(checks)),
        "state": events[-1]["state"],
        "pushed": "true" if any(event["type"] not in NOT_PUSHED for event in events) else "false",
    }


def check_of(event: Mapping[str, Any]) -> Optional[str]:
    """The check a ``check.completed`` event records (its actor is ``system:<check>-check``)."""
    if event.get("type") != EventType.CHECK_COMPLETED.value:
        return None
    kind, _, name = str(event.get("actor") or "").partition(":")
    return name.removesuffix("-check") if kind == "system" and name.endswith("-check") else None


class OutboxRelay:
    def __init__(self, publisher: EventPublisher, claims: Claims, counters: Optional[StateCounters] = None):
        self.publisher = publisher
        self.claims = claims
        self.counters = counters

    def relay_batch(self, records: Sequence[tuple[Any, ...]]) -> tuple[int, Optional[str]]:
        """Publish a stream batch's events; returns (events published, first failed sequence number).

        ``records``: ``(sequence number, event[, applicant id[, created_at[, counted[, watched]]]])`` in stream
        order; ``counted``: its commit added it to the state counters (otherwise the relay does); ``watched``:
        the application's watch mark its commit wrote (None, or a record without it: maybe watched). The events are
        grouped by application, one message each, in the order of each application's first record;
        ten messages to a PublishBatch call; no DynamoDB call: the stream delivers each committed
        event at least once and every subscriber dedupes by ``event_id`` (the notifier's claims, the
        checks' replay rules). When some messages fail, the first record of any failed message is
        returned for Lambda's ReportBatchItemFailures: the stream is retried from there (later
        records may go out twice), and never blocked by the records before it.
        """
        groups: dict[str, list[tuple[int, Any, HistoryEvent]]] = {}
        applicants: dict[str, str] = {}
        created: dict[str, str] = {}
        counted: set[str] = set()
        unwatched: dict[str, bool] = {}  # application -> every event of it committed unwatched
        for position, (sequence, event, *rest) in enumerate(records):
            if len(rest) > 2 and rest[2]:
                counted.add(str(sequence))
            alone = len(rest) > 3 and rest[3] is False
            unwatched[event.application_id] = unwatched.get(event.application_id, True) and alone
            groups.setdefault(event.application_id, []).append((position, sequence, event))
            if len(rest) > 0 and rest[0]:
                applicants[event.application_id] = str(rest[0])
            if len(rest) > 1 and rest[1]:
                created[event.application_id] = str(rest[1])
        if not groups:
            return 0, None
        entries = []
        for application_id, group in groups.items():
            message = application_message(
                [event for _, _, event in group],
                applicants.get(application_id),
                False if unwatched[application_id] else None,
            )
            entries.append((message, attributes_of(message)))
        failed = self.publisher.publish_batch(entries)
        ordered = list(groups.values())
        first = min((ordered[index][0][0] for index in failed), default=len(records))
        published = sum(len(ordered[index]) for index in range(len(ordered)) if index not in failed)
        try:
            self._count([record[1] for record in records[:first] if str(record[0]) not in counted], created)
        except Exception:  # noqa: BLE001 - counted nothing: the whole batch again (published twice, counted once)
            logger.exception("state counters not updated; the batch is retried")
            return 0, str(records[0][0])
        return published, (str(records[first][0]) if first < len(records) else None)

    def _count(self, events: Sequence[HistoryEvent], created: Mapping[str, str]) -> int:
        """The counters' share of the events relayed (those before any failure), each exactly once."""
        if self.counters is None:
            return 0
        tallies = [
            (f"{event.application_id}#{event.seq}", counted)
            for event in events
            if (counted := tally(event, created.get(event.application_id))) is not None
        ]
        return self.counters.count(tallies) if tallies else 0

    def relay(self, events: Iterable[HistoryEvent]) -> int:
        """Publish events outside a stream batch (tools, tests): raises if any could not be published."""
        published, failed_at = self.relay_batch([(str(i), e) for i, e in enumerate(events)])
        if failed_at is not None:
            raise RuntimeError(f"event {failed_at} of the batch could not be published")
        return published
