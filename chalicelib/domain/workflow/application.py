"""The application as stored, and a ``Change``: the application as it was, as it becomes (version + 1),
and the history events that explain it. The repository commits a Change as one conditional transaction,
so a state without its history event cannot exist. ``ChangeBuilder`` makes every Change: it applies
events one by one through ``TRANSITIONS`` and chains their hashes (unkeyed placeholders until
``chain.seal``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..checks import CheckResult
from .errors import IllegalTransition, NothingToDo
from .history import GENESIS_HASH, Actor, HistoryEvent, LegacySeal, jsonable, personal_paths
from .states import TRANSITIONS, EventType, State


def is_application_id(value: object) -> bool:
    """Application ids are canonical lower-case UUIDs; anything else cannot exist."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@dataclass(frozen=True)
class Application:
    application_id: str
    applicant_id: str
    state: State
    version: int
    created_at: str
    updated_at: str
    state_since: str
    declared: Mapping[str, Any]
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    document_key: Optional[str] = None
    document_version: Optional[str] = None  # the object version checked (S3 VersionId)
    decision_reasons: tuple[Mapping[str, Any], ...] = ()
    escalated_at: Optional[str] = None
    purged_at: Optional[str] = None
    #: The applicant's biometric evidence: consent, liveness sessions and result, face-collection ids
    #: (domain/face_evidence.py says what each key holds).
    biometrics: Mapping[str, Any] = field(default_factory=dict)
    #: The sealed head of a version-1 (unkeyed) history (``LegacySeal``), or None.
    legacy_seal: Optional[LegacySeal] = None
    #: Four eyes: the standing recommendation on a case that needs two reviewers
    #: (``{"decision", "reviewer", "reviewer_email", "reason", "at"}``), or None.
    recommendation: Optional[Mapping[str, Any]] = None
    #: The review queue: who holds the case and until when (``{"reviewer", "reviewer_email", "until"}``).
    claim: Optional[Mapping[str, Any]] = None
    #: What the applicant is shown of the head (``disclosure.numbered``, kept at commit): how many events they
    #: are shown, and the version and time of the last change that showed them one. None on records written
    #: before these were kept (the applicant's views then fall back to ``version`` and ``updated_at``).
    shown_seq: Optional[int] = None
    shown_version: Optional[int] = None
    shown_at: Optional[str] = None
    #: Whether a WebSocket subscription ever named this application (issue 22): False, nobody watches it, so
    #: its events' notifier looks no watcher up; True once a subscribe marked it (never unset); None on records
    #: from before the mark was kept: maybe watched. Committed only from the value read (the repository's
    #: condition), so a subscribe landing between a commit's read and its write sends the commit round again.
    watched: Optional[bool] = None

    def check_results(self) -> dict[str, CheckResult]:
        return {name: CheckResult.from_dict(data) for name, data in self.checks.items()}


@dataclass(frozen=True)
class Change:
    """What one transaction writes: the application as it was, as it becomes, and why."""

    before: Optional[Application]
    after: Application
    events: tuple[HistoryEvent, ...]


def then(first: Change, second: Change) -> Change:
    """Two steps in one transaction: ``second`` was made from ``first.after``; committed from ``first.before``."""
    if second.before != first.after:
        raise ValueError("the second step must start where the first ends")
    version = first.before.version + 1 if first.before else 1
    return Change(first.before, dataclasses.replace(second.after, version=version), first.events + second.events)


def iso(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class ChangeBuilder:
    """Applies events one by one through TRANSITIONS, chaining their hashes."""

    def __init__(self, before: Optional[Application], working: Application, now: dt.datetime):
        self.before = before
        self.app = working
        self.now = iso(now)
        self.events: list[HistoryEvent] = []

    def apply(
        self,
        event_type: EventType,
        actor: Actor,
        reason: str,
        details: Optional[Mapping[str, Any]] = None,
        **fields: Any,
    ) -> ChangeBuilder:
        from_state = self.app.state if (self.before or self.events) else None
        allowed = TRANSITIONS[event_type]
        if from_state not in allowed:
            raise IllegalTransition(event_type, from_state)
        to_state = allowed[from_state]
        event = HistoryEvent(
            application_id=self.app.application_id,
            seq=self.app.last_seq + 1,
            type=event_type,
            actor=str(actor),
            at=self.now,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            details=jsonable(details or {}),
            prev_hash=self.app.last_hash,
            salt=secrets.token_hex(16) if personal_paths(event_type, details or {}) else None,
        ).sealed()
        moved = to_state != from_state
        self.app = dataclasses.replace(
            self.app,
            state=to_state,
            state_since=self.now if moved else self.app.state_since,
            updated_at=self.now,
            last_seq=event.seq,
            last_hash=event.hash,
            **fields,
        )
        self.events.append(event)
        return self

    def build(self) -> Change:
        if not self.events:
            raise NothingToDo("no event to record")
        version = self.before.version + 1 if self.before else 1
        return Change(self.before, dataclasses.replace(self.app, version=version), tuple(self.events))
