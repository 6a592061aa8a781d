"""The account-opening state machine and its audit history.

One explicit table says which event may move an application from which state
to which state. Every change to an application is a ``Change``: the new
application (version + 1) and the history events that explain it, each
chained to the previous one by hash. The repository commits a Change as one
conditional transaction, so a state without its history event cannot exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from . import face_evidence
from .checks import AWAITS_APPLICANT, FACE, IDENTITY, REQUIRED_CHECKS, CheckResult, Outcome, worst
from .emails import may_be_same_mailbox
from .policy import Policy

GENESIS_HASH = "0" * 64


class State(str, enum.Enum):
    AWAITING_DOCUMENTS = "AWAITING_DOCUMENTS"
    VERIFYING = "VERIFYING"
    FLAGGED = "FLAGGED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN, State.EXPIRED})
#: Where a reviewer may read an application: in review, or decided (by them, see ``may_review``).
REVIEWABLE_STATES = frozenset({State.FLAGGED, State.APPROVED, State.REJECTED})
OPEN_STATES = frozenset(State) - FINAL_STATES
#: Where the applicant may still give evidence (a document, consent, a liveness check).
TAKES_EVIDENCE = frozenset({State.AWAITING_DOCUMENTS, State.VERIFYING})


class EventType(str, enum.Enum):
    SUBMITTED = "application.submitted"
    DOCUMENT_RECEIVED = "document.received"
    CHECK_COMPLETED = "check.completed"
    APPROVED = "application.approved"
    REJECTED = "application.rejected"
    FLAGGED = "application.flagged"
    WITHDRAWN = "application.withdrawn"
    EXPIRED = "application.expired"
    ESCALATED = "review.escalated"
    VIEWED = "review.viewed"
    DOCUMENTS_PURGED = "documents.purged"
    DOCUMENT_UNEXPECTED = "document.unexpected"
    DOCUMENT_REPLACED = "document.replaced"
    DOCUMENT_VIEWED = "document.viewed"
    SCREENING_FALSE_POSITIVE = "screening.false_positive"
    CUSTOMER_SCREENING_HIT = "customer.screening_hit"
    CUSTOMER_SCREENING_RESOLVED = "customer.screening_resolved"
    #: Four eyes on a re-screening case: the first reviewer's word, for a second, different reviewer.
    CUSTOMER_SCREENING_RECOMMENDED = "customer.screening_recommended"
    # The face check (issue 17): the applicant's biometric evidence and its audit (domain/face_workflow.py).
    BIOMETRIC_CONSENT_GIVEN = "biometric.consent_given"
    LIVENESS_SESSION_CREATED = "liveness.session_created"
    LIVENESS_COMPLETED = "liveness.completed"
    FACE_REQUESTED = "face.requested"
    SELFIE_VIEWED = "selfie.viewed"
    BIOMETRICS_PURGED = "biometrics.purged"
    #: Four eyes: the first reviewer of a case that needs two records a recommendation, not a decision.
    RECOMMENDED = "review.recommended"
    #: The review queue: a reviewer claims a case for a while (others see it claimed), or lets it go.
    CLAIMED = "review.claimed"
    RELEASED = "review.released"


def _same(states: Iterable[State]) -> dict[Optional[State], State]:
    return {s: s for s in states}


# THE table: event type -> {from state: to state}. Nothing else moves an
# application, so an illegal transition cannot be written by construction.
TRANSITIONS: Mapping[EventType, Mapping[Optional[State], State]] = {
    EventType.SUBMITTED: {None: State.AWAITING_DOCUMENTS},
    EventType.DOCUMENT_RECEIVED: {State.AWAITING_DOCUMENTS: State.VERIFYING},
    EventType.CHECK_COMPLETED: _same([State.AWAITING_DOCUMENTS, State.VERIFYING]),
    EventType.APPROVED: {State.VERIFYING: State.APPROVED, State.FLAGGED: State.APPROVED},
    # From AWAITING_DOCUMENTS: a check failed before any document came (CONSOLIDATE_EARLY).
    EventType.REJECTED: {
        State.AWAITING_DOCUMENTS: State.REJECTED,
        State.VERIFYING: State.REJECTED,
        State.FLAGGED: State.REJECTED,
    },
    EventType.FLAGGED: {State.VERIFYING: State.FLAGGED},
    EventType.WITHDRAWN: {s: State.WITHDRAWN for s in OPEN_STATES},
    # From VERIFYING only while it waits for the applicant's liveness check (see ``expire``).
    EventType.EXPIRED: {State.AWAITING_DOCUMENTS: State.EXPIRED, State.VERIFYING: State.EXPIRED},
    EventType.ESCALATED: {State.FLAGGED: State.FLAGGED},
    # A reviewer read the personal data: the audit trace, no change of state.
    EventType.VIEWED: _same(REVIEWABLE_STATES),
    EventType.DOCUMENTS_PURGED: _same(FINAL_STATES),
    # A further object after the document being checked or decided: recorded, it changes nothing.
    EventType.DOCUMENT_UNEXPECTED: _same(s for s in State if s != State.AWAITING_DOCUMENTS),
    # A later version posted to the very key of the document checked (the upload form re-used): the
    # evidence is pinned to the version checked; the later one is recorded, never read nor shown.
    EventType.DOCUMENT_REPLACED: _same(s for s in State if s != State.AWAITING_DOCUMENTS),
    # Audit only: a reviewer looked at the identity document. It changes no state,
    # but the bank must be able to say who saw whose document, and when.
    EventType.DOCUMENT_VIEWED: _same(State),
    # Issue 20: a reviewer cleared a sanctions candidate as not this applicant (kept, with the reason, so
    # the next screening of the same applicant does not flag the same unchanged entry again).
    EventType.SCREENING_FALSE_POSITIVE: _same(REVIEWABLE_STATES),
    # Issue 20: a customer (an approved application) re-screened against a changed list entry: a case is
    # opened for reviewers, and later cleared or confirmed by one. No change of state.
    EventType.CUSTOMER_SCREENING_HIT: _same([State.APPROVED]),
    EventType.CUSTOMER_SCREENING_RESOLVED: _same([State.APPROVED]),
    EventType.CUSTOMER_SCREENING_RECOMMENDED: _same([State.APPROVED]),
    # Biometric evidence, while the application still takes evidence; none of it moves the state.
    EventType.BIOMETRIC_CONSENT_GIVEN: _same(TAKES_EVIDENCE),
    EventType.LIVENESS_SESSION_CREATED: _same(TAKES_EVIDENCE),
    EventType.LIVENESS_COMPLETED: _same(TAKES_EVIDENCE),
    # Both pieces of evidence are in (the document read, the liveness settled): the FACE check is asked for.
    EventType.FACE_REQUESTED: _same([State.VERIFYING]),
    # Audit only: a reviewer looked at the selfie (special-category data), like DOCUMENT_VIEWED.
    EventType.SELFIE_VIEWED: _same(State),
    EventType.BIOMETRICS_PURGED: _same(FINAL_STATES),
    EventType.RECOMMENDED: {State.FLAGGED: State.FLAGGED},
    EventType.CLAIMED: {State.FLAGGED: State.FLAGGED},
    EventType.RELEASED: {State.FLAGGED: State.FLAGGED},
}

#: Events the applicant never sees, in the history or live: a sanctions review of them. Telling a customer
#: that they are, or were, being checked against a sanctions list is tipping off. The chain still covers
#: them (the applicant's view shows the gap in ``seq``; ``chain_intact`` is computed on every event).
HIDDEN_FROM_APPLICANT = frozenset(
    {
        EventType.SCREENING_FALSE_POSITIVE,
        EventType.CUSTOMER_SCREENING_HIT,
        EventType.CUSTOMER_SCREENING_RECOMMENDED,
        EventType.CUSTOMER_SCREENING_RESOLVED,
    }
)


def shown_to_applicant(event_type: object) -> bool:
    """False for the event types in ``HIDDEN_FROM_APPLICANT`` (given as EventType or its value)."""
    value = event_type.value if isinstance(event_type, EventType) else event_type
    return value not in {e.value for e in HIDDEN_FROM_APPLICANT}


#: When the checks recorded so far decide the application without waiting for the rest, by state: the
#: worst outcome that does. Consolidation rejects on any FAIL, so once a check has failed nothing still to
#: come can change the decision; while no document has arrived, the applicant is not left to upload one
#: that cannot save the application (a later upload is recorded, never checked). In VERIFYING the
#: document is being read: the decision waits for every check, so the reviewer and the audit see all.
CONSOLIDATE_EARLY: Mapping[State, frozenset[Outcome]] = {State.AWAITING_DOCUMENTS: frozenset({Outcome.FAIL})}


class DomainError(Exception):
    """Base of the rule violations the API turns into 4xx answers."""

    code = "domain_error"


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, event_type: EventType, state: Optional[State]):
        self.event_type = event_type
        self.state = state
        super().__init__(f"{event_type.value} is not allowed from state {state.value if state else None}")


class NothingToDo(DomainError):
    """The change was already made (a replayed event): callers treat it as success."""

    code = "nothing_to_do"


class NoDocument(DomainError):
    """There is no identity document to show: never uploaded, or purged after retention."""

    code = "no_document"

    @property
    def purged(self) -> bool:
        return str(self) == "purged"


class NotAllowed(DomainError):
    code = "forbidden"


class SecondReviewerRequired(DomainError):
    """Four eyes: the reviewer who recommended cannot also confirm (nor anyone who may be them)."""

    code = "second_reviewer_required"


class ClaimedByAnother(DomainError):
    """The case is claimed by another reviewer until ``until``: they decide it, or the claim lapses."""

    code = "claimed_by_another"

    def __init__(self, until: str):
        super().__init__(f"claimed by another reviewer until {until}")
        self.until = until


@dataclass(frozen=True)
class Actor:
    kind: str  # applicant | reviewer | system
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Actor:
        kind, _, ident = text.partition(":")
        return cls(kind, ident)


@dataclass(frozen=True)
class HistoryEvent:
    application_id: str
    seq: int
    type: EventType
    actor: str
    at: str
    from_state: Optional[State]
    to_state: State
    reason: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str = ""
    #: Random per event that holds personal data; never shown, never hashed. It makes the commitments to
    #: that data (``committed_details``) unguessable; the retention purge deletes it with the data.
    salt: Optional[str] = None
    #: How ``hash`` was made: CHAIN_KEYED (HMAC under the chain key: every event written now),
    #: CHAIN_UNKEYED (plain SHA-256: histories written before the chain was keyed), or None (stored
    #: before the version was recorded: either; see ``event_verifies``).
    chain: Optional[int] = 2

    def content(self) -> dict[str, Any]:
        """The hashed fields: everything except the hash (and the salt), with the personal data in
        ``details`` as its salted commitment. So the chain verifies the same before and after the
        retention purge replaces that data by its commitment (``redacted``)."""
        return {
            "application_id": self.application_id,
            "seq": self.seq,
            "type": self.type.value,
            "actor": self.actor,
            "at": self.at,
            "from_state": self.from_state.value if self.from_state else None,
            "to_state": self.to_state.value,
            "reason": self.reason,
            "details": committed_details(self.type, _jsonable(self.details), self.salt),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self, key: bytes = b"") -> str:
        """HMAC-SHA-256 of the canonical content under the chain key (``seal``): only a holder of the key
        can make a hash that verifies; ``b""`` (the domain's own tests, before sealing) is a plain MAC.
        A legacy event (``CHAIN_UNKEYED``) is the plain SHA-256 its writer made."""
        if self.chain == CHAIN_UNKEYED:
            return self.unkeyed_hash()
        return hmac.new(key, self._canonical(), hashlib.sha256).hexdigest()

    def unkeyed_hash(self) -> str:
        """Version 1 of the chain: SHA-256 of the canonical content, no key (anyone can recompute it)."""
        return hashlib.sha256(self._canonical()).hexdigest()

    def _canonical(self) -> bytes:
        return json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def sealed(self, key: bytes = b"") -> HistoryEvent:
        return dataclasses.replace(self, hash=self.compute_hash(key))

    def redacted(self) -> HistoryEvent:
        """The event with its personal data replaced by the salted commitments, and no salt: the same hash."""
        if self.salt is None:
            return self
        return dataclasses.replace(
            self, details=committed_details(self.type, _jsonable(self.details), self.salt), salt=None
        )

    @property
    def holds_personal_data(self) -> bool:
        return self.salt is not None and bool(personal_paths(self.type, self.details))

    def to_dict(self) -> dict[str, Any]:
        """What readers of the history see: the details as recorded (or as redacted), and the hash."""
        return {**self.content(), "details": _jsonable(self.details), "hash": self.hash}


#: What a check's details may keep once its personal data is purged: facts about the file, the
#: sanctions index and the screening settings. Everything else in a check's details (what was read from
#: the document, the normalised address, candidate matches, and any key a later version adds) is
#: personal data: an allow-list, so a new field is purged unless someone decides it is not personal.
NON_PERSONAL_CHECK_DETAILS = frozenset(
    {"mime_type", "declared_content_type", "size", "document_version", "index_version", "lists", "review_threshold"}
)
#: A purged value in the history: its salted SHA-256 commitment.
REDACTED = "redacted_sha256"


def personal_paths(event_type: EventType, details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Where an event's details hold personal data: the check result's own details (see above)."""
    if event_type is not EventType.CHECK_COMPLETED:
        return []
    inner = details.get("details")
    if not isinstance(inner, Mapping):
        return []
    return [("details", key) for key in sorted(inner) if key not in NON_PERSONAL_CHECK_DETAILS]


def committed_details(event_type: EventType, details: dict[str, Any], salt: Optional[str]) -> dict[str, Any]:
    """``details`` with each personal value replaced by ``{REDACTED: sha256(salt, path, value)}``.

    Without a salt the event was redacted already (its values are those commitments) or holds no
    personal data: the details are their own committed form."""
    if salt is None:
        return details
    paths = personal_paths(event_type, details)
    if not paths:
        return details
    committed: dict[str, Any] = json.loads(json.dumps(details))
    for outer, key in paths:
        value = committed[outer][key]
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(f"{salt}\x00{outer}.{key}\x00{canonical}".encode()).hexdigest()
        committed[outer][key] = {REDACTED: digest}
    return committed


def is_application_id(value: object) -> bool:
    """Application ids are canonical lower-case UUIDs; anything else cannot exist."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


#: The chain's versions (``HistoryEvent.chain``). Version 1 hashed each event with plain SHA-256, so
#: anyone who could write the table could recompute it; version 2 MACs it under the KMS-derived key.
CHAIN_UNKEYED = 1
CHAIN_KEYED = 2


@dataclass(frozen=True)
class LegacySeal:
    """The head of an application's version-1 (unkeyed) history, MACed under the chain key once, when the
    keyed chain was deployed (``seal_legacy_history``). Unkeyed events verify only up to this head: a
    writer to the tables without the key can neither make an unkeyed event count past it, nor turn a
    keyed history into an unkeyed one (it would have no seal), nor edit the sealed prefix (its head hash
    is under the seal's MAC, and every later keyed event names it)."""

    seq: int
    hash: str
    mac: str

    def encode(self) -> str:
        return f"{self.seq}:{self.hash}:{self.mac}"

    @classmethod
    def parse(cls, text: Optional[str]) -> Optional[LegacySeal]:
        if not text:
            return None
        seq, _, rest = text.partition(":")
        head, _, mac = rest.partition(":")
        return cls(int(seq), head, mac) if seq.isdigit() and head and mac else None

    @staticmethod
    def mac_of(key: bytes, application_id: str, seq: int, head: str) -> str:
        message = f"legacy-chain-head\x00{application_id}\x00{seq}\x00{head}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def verifies(self, key: bytes, application_id: str) -> bool:
        return _same_mac(self.mac_of(key, application_id, self.seq, self.hash), self.mac)


def seal_legacy_head(app: Application, events: Sequence[HistoryEvent], key: bytes) -> Optional[LegacySeal]:
    """The seal of an application whose history is version 1 (unkeyed) up to its head, or None when there
    is nothing to seal (already sealed, keyed throughout, or not a chain that verifies unkeyed: then it is
    left to show as broken)."""
    if app.legacy_seal is not None or not events:
        return None
    if all(event.chain == CHAIN_KEYED or _same_mac(event.compute_hash(key), event.hash) for event in events):
        return None  # keyed throughout
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        legacy = dataclasses.replace(event, chain=CHAIN_UNKEYED)
        if event.seq != expected_seq or event.prev_hash != prev or not _same_mac(legacy.unkeyed_hash(), event.hash):
            return None
        prev = event.hash
    if len(events) != app.last_seq or prev != app.last_hash:
        return None
    return LegacySeal(app.last_seq, app.last_hash, LegacySeal.mac_of(key, app.application_id, app.last_seq, prev))


def event_verifies(event: HistoryEvent, key: bytes, seal: Optional[LegacySeal] = None) -> bool:
    """The event's hash is what its version makes of its content: a MAC under ``key`` (version 2, or an
    event stored before versions were), or, inside the application's sealed legacy prefix only, the
    plain SHA-256 of version 1. (Links between events are ``verify_chain``'s.)"""
    if event.chain != CHAIN_UNKEYED and _same_mac(
        dataclasses.replace(event, chain=CHAIN_KEYED).compute_hash(key), event.hash
    ):
        return True
    if event.chain == CHAIN_KEYED or seal is None or event.seq > seal.seq:
        return False
    if not seal.verifies(key, event.application_id) or not _same_mac(event.unkeyed_hash(), event.hash):
        return False
    return event.seq != seal.seq or event.hash == seal.hash


def chain_intact(
    events: Sequence[HistoryEvent],
    key: bytes = b"",
    head: Optional[tuple[int, str]] = None,
    seal: Optional[LegacySeal] = None,
) -> bool:
    return verify_chain(events, key, head, seal) is None


def verify_chain(
    events: Sequence[HistoryEvent],
    key: bytes = b"",
    head: Optional[tuple[int, str]] = None,
    seal: Optional[LegacySeal] = None,
) -> Optional[int]:
    """The seq of the first tampered, missing or extra event, or None if the chain is intact.

    Each event's hash is the keyed MAC of its content, which names the previous event's hash: an edited,
    deleted, inserted or reordered event breaks the chain. ``head``: the application's stored
    ``(last_seq, last_hash)``; the chain must end exactly there, so deleting the last events (truncation)
    is detected too, unless the application item is rolled back with them (see docs/security.md).
    """
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq or event.prev_hash != prev or not event_verifies(event, key, seal):
            return event.seq
        prev = event.hash
    if head is not None:
        last_seq, last_hash = head
        if len(events) != last_seq or prev != last_hash:
            return min(len(events), last_seq) + 1
    return None


def _same_mac(computed: str, stored: str) -> bool:
    return hmac.compare_digest(computed.encode(), str(stored).encode())


def seal(change: Change, key: bytes) -> Change:
    """The change's events chained again under ``key`` (the builder's hashes are unkeyed placeholders):
    each event MACed over its content and the previous event's hash, from the head the change starts at."""
    prev = change.before.last_hash if change.before else GENESIS_HASH
    events = []
    for event in change.events:
        event = dataclasses.replace(event, prev_hash=prev).sealed(key)
        events.append(event)
        prev = event.hash
    return Change(change.before, dataclasses.replace(change.after, last_hash=prev), tuple(events))


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


class _ChangeBuilder:
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
    ) -> _ChangeBuilder:
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
            details=_jsonable(details or {}),
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


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --- commands ---------------------------------------------------------------


def submit(application_id: str, applicant_id: str, declared: Mapping[str, Any], now: dt.datetime) -> Change:
    stamp = iso(now)
    blank = Application(
        application_id=application_id,
        applicant_id=applicant_id,
        state=State.AWAITING_DOCUMENTS,
        version=0,
        created_at=stamp,
        updated_at=stamp,
        state_since=stamp,
        declared=_jsonable(declared),
    )
    return (
        _ChangeBuilder(None, blank, now)
        .apply(EventType.SUBMITTED, Actor("applicant", applicant_id), "application submitted")
        .build()
    )


def receive_document(app: Application, key: str, size: int, now: dt.datetime, version: Optional[str] = None) -> Change:
    """The one document of the application: its key and version are what the identity check reads."""
    if app.state != State.AWAITING_DOCUMENTS:
        if app.document_key == key and (version is None or app.document_version in (None, version)):
            raise NothingToDo("document already received")
        raise IllegalTransition(EventType.DOCUMENT_RECEIVED, app.state)
    return (
        _ChangeBuilder(app, app, now)
        .apply(
            EventType.DOCUMENT_RECEIVED,
            Actor("system", "documents"),
            "identity document uploaded",
            {"key": key, "size": size, "version": version},
            document_key=key,
            document_version=version,
        )
        .build()
    )


def record_unexpected_document(app: Application, key: str, version: Optional[str], now: dt.datetime) -> Change:
    """Another object under the application once its document is being checked or decided: kept in the
    history for the reviewer and the audit, never checked, never changing the state. A later version of
    the checked document's own key is ``document.replaced``: every read stays pinned to the checked one."""
    kind, reason = (
        (EventType.DOCUMENT_REPLACED, "the checked document's key was written again; the new version was not used")
        if key == app.document_key
        else (EventType.DOCUMENT_UNEXPECTED, "a further document was uploaded after the one checked; it was not used")
    )
    return (
        _ChangeBuilder(app, app, now)
        .apply(
            kind,
            Actor("system", "documents"),
            reason,
            {"key": key, "version": version, "checked_key": app.document_key, "checked_version": app.document_version},
        )
        .build()
    )


def record_check(app: Application, result: CheckResult, now: dt.datetime, **fields: Any) -> Change:
    """Record one check; the check that completes the set consolidates, in the same Change, and so does one
    that decides early (``CONSOLIDATE_EARLY``). Exactly once: the Change is committed only from the version
    it read, and a check arriving after the decision finds CHECK_COMPLETED illegal from a final state.

    In VERIFYING the decision waits for every check, FACE included: nothing is approved without a face
    check that passed. Only a FAIL of the checks that need nothing more from the applicant decides without
    the face check (nothing it could find would save the application, so no selfie is asked for). The
    identity check (the document read) asks for the face check when the liveness check is already in.
    ``fields``: more of the application changed in the same event (the face check's collection ids)."""
    if result.check in app.checks:
        raise NothingToDo(f"{result.check} check already recorded")
    checks = {**app.checks, result.check: result.to_dict()}
    builder = _ChangeBuilder(app, app, now).apply(
        EventType.CHECK_COMPLETED,
        Actor("system", f"{result.check}-check"),
        f"{result.check} check: {result.outcome.value}",
        result.to_dict(),
        checks=checks,
        **fields,
    )
    if decides(builder.app.state, builder.app.check_results()):
        _consolidate(builder)
    elif result.check == IDENTITY:
        request_face_check(builder)
    return builder.build()


def decides(state: State, results: Mapping[str, CheckResult]) -> bool:
    """Whether the checks recorded so far decide the application now (see ``record_check``)."""
    outcome = worst(r.outcome for r in results.values())
    if state == State.VERIFYING:
        if all(c in results for c in REQUIRED_CHECKS):
            return True
        system_checks = [c for c in REQUIRED_CHECKS if c not in AWAITS_APPLICANT]
        return outcome == Outcome.FAIL and all(c in results for c in system_checks)
    return outcome in CONSOLIDATE_EARLY.get(state, ())


def request_face_check(builder: _ChangeBuilder) -> None:
    """Ask for the FACE check, once, when the second of its two pieces of evidence comes in: the document
    read (identity recorded) and the liveness check settled. Whichever transaction brings the second asks
    (a ``face.requested`` event, which the face-check queue receives); the conditional commit makes it one."""
    app = builder.app
    if app.state != State.VERIFYING or IDENTITY not in app.checks or FACE in app.checks:
        return
    if not face_evidence.liveness_settled(app.biometrics) or face_evidence.face_requested(app.biometrics):
        return
    builder.apply(
        EventType.FACE_REQUESTED,
        Actor("system", "face-check"),
        "the document is read and the liveness check is in: face check requested",
        {"liveness_session_id": face_evidence.liveness(app.biometrics).get("session_id")},
        biometrics=face_evidence.with_face_requested(app.biometrics, builder.now),
    )


def _consolidate(builder: _ChangeBuilder) -> None:
    results = builder.app.check_results()
    outcome = worst(r.outcome for r in results.values())
    reasons = tuple({"check": name, **reason.to_dict()} for name, r in sorted(results.items()) for reason in r.reasons)
    event_type = {
        Outcome.FAIL: EventType.REJECTED,
        Outcome.REVIEW: EventType.FLAGGED,
        Outcome.PASS: EventType.APPROVED,
    }[outcome]
    summary = "; ".join(f"{r['check']}:{r['code']}" for r in reasons) or "all checks passed"
    builder.apply(
        event_type,
        Actor("system", "consolidation"),
        summary,
        {"outcome": outcome.value, "reasons": list(reasons)},
        decision_reasons=reasons,
    )


def needs_second_review(app: Application, second_review_for: Iterable[str]) -> bool:
    """Four eyes: a case flagged for a reason whose check or code the setting names (``SANCTIONS``: any
    sanctions REVIEW) needs two different reviewers to approve it."""
    names = {n.upper() for n in second_review_for}
    return any(
        str(r.get("check", "")).upper() in names or str(r.get("code", "")).upper() in names
        for r in app.decision_reasons
    )


def sanctions_need_second_review(second_review_for: Iterable[str]) -> bool:
    """Four eyes on sanctions matches (``second_review_for`` names SANCTIONS, or the possible-match code):
    then a reviewer's word that a candidate is not this person (a false positive, a re-screening case
    cleared) stands only once a second, different reviewer gave the same word."""
    names = {n.upper() for n in second_review_for}
    return "SANCTIONS" in names or "SANCTIONS_POSSIBLE_MATCH" in names


def false_positive_stands(record: Mapping[str, Any], second_review_for: Iterable[str]) -> bool:
    """Whether a false-positive record may leave its entry out of a later screening: always without four
    eyes on sanctions; with them, only once a second reviewer confirmed it (``confirmed_by``)."""
    return not sanctions_need_second_review(second_review_for) or bool(record.get("confirmed_by"))


def claim_holder(app: Application, now: dt.datetime) -> Optional[Mapping[str, Any]]:
    """The live claim on the case, or None (none, or lapsed)."""
    if app.claim is None or parse_iso(str(app.claim.get("until"))) <= now:
        return None
    return app.claim


def decide(
    app: Application,
    approve: bool,
    reviewer_id: str,
    reason: str,
    now: dt.datetime,
    reviewer_email: Optional[str] = None,
    applicant_emails: Sequence[Optional[str]] = (),
    second_review_for: Iterable[str] = (),
) -> Change:
    """A reviewer's decision. Never about their own application: the same sub, or an e-mail that may be
    the same mailbox (``emails.may_be_same_mailbox``) as the applicant's own account's (``applicant_emails``,
    from the customer pool: facts the applicant cannot type) or the declared one. Staff sign in to a pool of
    their own, so as an applicant the same person has another sub: the mailbox is what connects them.

    Four eyes (``needs_second_review``): the first reviewer's word is a recommendation (the case stays
    FLAGGED); a second, different reviewer confirms or overturns it. An approval needs two reviewers
    who approved: a second reviewer approving against a recommendation to reject makes theirs the
    standing recommendation, for a third. A rejection by the second is final. A case claimed by another
    reviewer is theirs to decide until the claim lapses."""
    if reviewer_id == app.applicant_id or may_be_same_mailbox(
        reviewer_email, [*applicant_emails, app.declared.get("email")]
    ):
        raise NotAllowed("a reviewer cannot decide their own application")
    event_type = EventType.APPROVED if approve else EventType.REJECTED
    if app.state != State.FLAGGED:  # the table also lets consolidation decide from VERIFYING
        raise IllegalTransition(event_type, app.state)
    holder = claim_holder(app, now)
    if holder is not None and holder.get("reviewer") != reviewer_id:
        raise ClaimedByAnother(str(holder["until"]))
    decision = "approve" if approve else "reject"
    details: dict[str, Any] = {"decision": decision, "reviewer_email": reviewer_email}
    builder = _ChangeBuilder(app, app, now)
    if needs_second_review(app, second_review_for):
        standing = app.recommendation
        if standing is not None and (
            standing.get("reviewer") == reviewer_id
            or may_be_same_mailbox(reviewer_email, [standing.get("reviewer_email")])
        ):
            raise SecondReviewerRequired("four eyes: a second, different reviewer must confirm or overturn")
        if standing is None or (approve and standing.get("decision") != "approve"):
            recommendation = {
                "decision": decision,
                "reviewer": reviewer_id,
                "reviewer_email": reviewer_email,
                "reason": reason,
                "at": iso(now),
            }
            overturns = {"overturns": dict(standing)} if standing is not None else {}
            builder.apply(
                EventType.RECOMMENDED,
                Actor("reviewer", reviewer_id),
                reason,
                {**details, "four_eyes": True, **overturns},
                recommendation=recommendation,
                claim=None,
            )
            return builder.build()
        details.update(
            four_eyes=True,
            recommendation=standing.get("decision"),
            recommended_by=standing.get("reviewer_email"),
            recommended_by_reviewer=standing.get("reviewer"),
            confirms=standing.get("decision") == decision,
        )
    builder.apply(event_type, Actor("reviewer", reviewer_id), reason, details, claim=None)
    return builder.build()


def claim(app: Application, reviewer_id: str, reviewer_email: Optional[str], now: dt.datetime, minutes: int) -> Change:
    """Claim a FLAGGED case for ``minutes`` (again by its holder: extended). ClaimedByAnother while
    another reviewer's claim lives."""
    holder = claim_holder(app, now)
    if holder is not None and holder.get("reviewer") != reviewer_id:
        raise ClaimedByAnother(str(holder["until"]))
    until = iso(now + dt.timedelta(minutes=minutes))
    held = {"reviewer": reviewer_id, "reviewer_email": reviewer_email, "until": until}
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.CLAIMED, Actor("reviewer", reviewer_id), f"claimed until {until}", dict(held), claim=held)
        .build()
    )


def release(app: Application, reviewer_id: str, now: dt.datetime) -> Change:
    """Let one's claim go. NothingToDo when there is none of one's own (another's: ClaimedByAnother)."""
    holder = claim_holder(app, now)
    if holder is None:
        raise NothingToDo("not claimed")
    if holder.get("reviewer") != reviewer_id:
        raise ClaimedByAnother(str(holder["until"]))
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.RELEASED, Actor("reviewer", reviewer_id), "claim released", {}, claim=None)
        .build()
    )


def view_document(app: Application, reviewer_id: str, reviewer_email: Optional[str], now: dt.datetime) -> Change:
    """Record that a reviewer is shown the identity document (before the link is handed out)."""
    if app.document_key is None:
        raise NoDocument("purged" if app.purged_at else "not uploaded")
    details = {"document_key": app.document_key, "reviewer_email": reviewer_email}
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.DOCUMENT_VIEWED, Actor("reviewer", reviewer_id), "identity document viewed", details)
        .build()
    )


class NoSuchCandidate(DomainError):
    """The sanctions check of this application names no such list entry."""

    code = "no_such_candidate"


class AlreadyCleared(DomainError):
    """Four eyes: this candidate was already cleared by two reviewers."""

    code = "already_cleared"


def clear_false_positive(
    app: Application,
    reviewer_id: str,
    reviewer_email: Optional[str],
    source: str,
    entry_id: str,
    reason: str,
    now: dt.datetime,
    second_review_for: Iterable[str] = (),
) -> Change:
    """A reviewer's word that a sanctions candidate is not this applicant, with the reason, in the history and
    in the check's details (``false_positives``), where the applicant's next screening finds it.

    Four eyes on sanctions (``sanctions_need_second_review``): the first reviewer's word is recorded but does
    not yet stand (``false_positive_stands``); a second, different reviewer's word on the same candidate
    confirms it (``confirmed_by``...). The first reviewer again: SecondReviewerRequired; a third word:
    AlreadyCleared. Without four eyes a reviewer's word stands at once (a second word replaces it)."""
    if reviewer_id == app.applicant_id or may_be_same_mailbox(reviewer_email, [app.declared.get("email")]):
        raise NotAllowed("a reviewer cannot clear their own application")
    sanctions = dict(app.checks.get("sanctions") or {})
    details = dict(sanctions.get("details") or {})
    candidate = next(
        (c for c in details.get("candidates") or () if (c.get("list"), c.get("entry_id")) == (source, entry_id)),
        None,
    )
    if candidate is None:
        raise NoSuchCandidate(f"{source} {entry_id} is not a candidate of this application")
    cleared = [c for c in details.get("false_positives") or () if (c["list"], c["entry_id"]) != (source, entry_id)]
    standing = next(
        (c for c in details.get("false_positives") or () if (c["list"], c["entry_id"]) == (source, entry_id)),
        None,
    )
    if sanctions_need_second_review(second_review_for) and standing is not None:
        if standing.get("confirmed_by"):
            raise AlreadyCleared(f"{source} {entry_id} was already cleared by two reviewers")
        if standing.get("reviewer") == reviewer_id or may_be_same_mailbox(
            reviewer_email, [standing.get("reviewer_email")]
        ):
            raise SecondReviewerRequired("four eyes: a second, different reviewer must confirm the false positive")
        confirmed = {
            **standing,
            "confirmed_by": reviewer_id,
            "confirmed_by_email": reviewer_email,
            "confirmed_at": iso(now),
            "confirm_reason": reason,
        }
        details["false_positives"] = [*cleared, confirmed]
        checks = {**app.checks, "sanctions": {**sanctions, "details": details}}
        event = {**confirmed, "four_eyes": True, "confirms": standing.get("reviewer_email")}
        return (
            _ChangeBuilder(app, app, now)
            .apply(EventType.SCREENING_FALSE_POSITIVE, Actor("reviewer", reviewer_id), reason, event, checks=checks)
            .build()
        )
    record = {
        "list": source,
        "entry_id": entry_id,
        "entry_hash": candidate.get("entry_hash"),
        "listed_name": candidate.get("listed_name"),
        "reason": reason,
        "reviewer": reviewer_id,
        "reviewer_email": reviewer_email,
        "at": iso(now),
        # whether it awaits a second reviewer's word to stand (as the console says); later screenings decide
        # by the policy they run under (``false_positive_stands``)
        "four_eyes": sanctions_need_second_review(second_review_for),
    }
    details["false_positives"] = [*cleared, record]
    checks = {**app.checks, "sanctions": {**sanctions, "details": details}}
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.SCREENING_FALSE_POSITIVE, Actor("reviewer", reviewer_id), reason, record, checks=checks)
        .build()
    )


#: A re-screening case's statuses: open, cleared (not this customer), confirmed (the listed person).
CASE_OPEN, CASE_CLEARED, CASE_CONFIRMED = "OPEN", "CLEARED", "CONFIRMED"

#: Where a re-screening hit is recorded in the application, so a replay finds it (inside the sanctions
#: check's details, beside ``false_positives``): case id -> {"status", "entry"}.
RESCREENING_CASES = "rescreening_cases"


class CaseAlreadyResolved(DomainError):
    code = "case_already_resolved"


def _rescreening_cases(app: Application) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    sanctions = dict(app.checks.get("sanctions") or {})
    details = dict(sanctions.get("details") or {})
    return sanctions, details, dict(details.get(RESCREENING_CASES) or {})


def record_screening_hit(app: Application, case: Mapping[str, Any], now: dt.datetime) -> Change:
    """A customer's re-screening named a changed list entry: the case opened, in the history (the entry,
    its version, the score) and in the application, where a replay of the same hit finds it (NothingToDo)."""
    sanctions, details, cases = _rescreening_cases(app)
    case_id = str(case["case_id"])
    if case_id in cases:
        raise NothingToDo("screening hit already recorded")
    candidate = case.get("candidate") or {}
    record = {
        "case_id": case_id,
        "list": candidate.get("list"),
        "entry_id": candidate.get("entry_id"),
        "entry_hash": candidate.get("entry_hash"),
        "listed_name": candidate.get("listed_name"),
        "score": candidate.get("score"),
        "index_version": case.get("index_version"),
    }
    cases[case_id] = {"status": "OPEN", "opened_at": iso(now)}
    details[RESCREENING_CASES] = cases
    checks = {**app.checks, "sanctions": {**sanctions, "details": details}}
    reason = f"re-screening: {record['list']} {record['entry_id']} changed and may name this customer"
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.CUSTOMER_SCREENING_HIT, Actor("system", "rescreening"), reason, record, checks=checks)
        .build()
    )


def resolve_screening_case(
    app: Application,
    case_id: str,
    status: str,
    reviewer_id: str,
    reviewer_email: Optional[str],
    reason: str,
    now: dt.datetime,
    second_review_for: Iterable[str] = (),
) -> Change:
    """A reviewer's word on a re-screening case (CLEARED: not this customer; CONFIRMED: the listed person),
    never on their own account. Once: a second word raises CaseAlreadyResolved.

    Four eyes on sanctions (``sanctions_need_second_review``), as ``decide``: the first reviewer's word is a
    recommendation (``customer.screening_recommended``; the case stays OPEN); a second, different reviewer
    confirms or overturns it. Clearing needs two reviewers who cleared: a second reviewer clearing against a
    recommendation to confirm makes theirs the standing recommendation, for a third. A confirmation by the
    second is final."""
    if reviewer_id == app.applicant_id or may_be_same_mailbox(reviewer_email, [app.declared.get("email")]):
        raise NotAllowed("a reviewer cannot resolve a case about their own account")
    sanctions, details, cases = _rescreening_cases(app)
    if case_id not in cases:
        raise NoSuchCandidate(f"no re-screening case {case_id} on this application")
    if cases[case_id].get("status") != "OPEN":
        raise CaseAlreadyResolved(f"case {case_id} is already {cases[case_id].get('status')}")
    record: dict[str, Any] = {"case_id": case_id, "status": status, "reviewer_email": reviewer_email}
    if sanctions_need_second_review(second_review_for):
        standing = cases[case_id].get("recommendation")
        if standing is not None and (
            standing.get("reviewer") == reviewer_id
            or may_be_same_mailbox(reviewer_email, [standing.get("reviewer_email")])
        ):
            raise SecondReviewerRequired("four eyes: a second, different reviewer must confirm or overturn")
        if standing is None or (status == CASE_CLEARED and standing.get("status") != CASE_CLEARED):
            recommendation = {
                "status": status,
                "reviewer": reviewer_id,
                "reviewer_email": reviewer_email,
                "reason": reason,
                "at": iso(now),
            }
            cases[case_id] = {**cases[case_id], "recommendation": recommendation}
            details[RESCREENING_CASES] = cases
            checks = {**app.checks, "sanctions": {**sanctions, "details": details}}
            overturns = {"overturns": dict(standing)} if standing is not None else {}
            event = {**record, "four_eyes": True, **overturns}
            return (
                _ChangeBuilder(app, app, now)
                .apply(
                    EventType.CUSTOMER_SCREENING_RECOMMENDED,
                    Actor("reviewer", reviewer_id),
                    reason,
                    event,
                    checks=checks,
                )
                .build()
            )
        record.update(
            four_eyes=True,
            recommendation=standing.get("status"),
            recommended_by=standing.get("reviewer_email"),
            confirms=standing.get("status") == status,
        )
    cases[case_id] = {**cases[case_id], "status": status, "resolved_at": iso(now), "reviewer": reviewer_id}
    details[RESCREENING_CASES] = cases
    checks = {**app.checks, "sanctions": {**sanctions, "details": details}}
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.CUSTOMER_SCREENING_RESOLVED, Actor("reviewer", reviewer_id), reason, record, checks=checks)
        .build()
    )


def withdraw(app: Application, applicant_id: str, reason: str, now: dt.datetime) -> Change:
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.WITHDRAWN, Actor("applicant", applicant_id), reason or "withdrawn by applicant")
        .build()
    )


def expire(app: Application, policy: Policy, now: dt.datetime) -> Change:
    """An application the applicant abandoned: no document (AWAITING_DOCUMENTS), or a document but no
    liveness check (VERIFYING with only the face check missing and no liveness result to run it on)."""
    if now - parse_iso(app.state_since) < dt.timedelta(days=policy.awaiting_documents_expiry_days):
        raise NothingToDo("not old enough to expire")
    if app.state == State.VERIFYING and not face_evidence.awaits_liveness(app.checks, app.biometrics):
        raise NothingToDo("waiting for a check, not for the applicant")  # the sweeper's business
    missing = "documents" if app.state == State.AWAITING_DOCUMENTS else "liveness check"
    return (
        _ChangeBuilder(app, app, now)
        .apply(
            EventType.EXPIRED,
            Actor("system", "expiry-job"),
            f"no {missing} within {policy.awaiting_documents_expiry_days} days",
        )
        .build()
    )


def escalate(app: Application, policy: Policy, now: dt.datetime) -> Change:
    if app.escalated_at is not None:
        raise NothingToDo("already escalated")
    if now - parse_iso(app.state_since) < dt.timedelta(hours=policy.review_sla_hours):
        raise NothingToDo("still within the review SLA")
    return (
        _ChangeBuilder(app, app, now)
        .apply(
            EventType.ESCALATED,
            Actor("system", "escalation-job"),
            f"flagged for more than {policy.review_sla_hours} hours",
            escalated_at=iso(now),
        )
        .build()
    )


MINIMISED_FIELDS = ("email", "phone", "address", "identity_document")


def _without_personal_details(result: Mapping[str, Any]) -> dict[str, Any]:
    details = {k: v for k, v in (result.get("details") or {}).items() if k in NON_PERSONAL_CHECK_DETAILS}
    return {**result, "details": details}


def retention_days(app: Application, policy: Policy) -> int:
    """How long a closed application's documents and personal data are kept, from when it closed.

    APPROVED: the anti-money-laundering record-keeping period (``approved_document_retention_days``,
    five years by default; docs/security.md says why and from when). Anything else (rejected,
    withdrawn, expired: no relationship began): ``document_retention_days``.
    """
    if app.state == State.APPROVED:
        return policy.approved_document_retention_days
    return policy.document_retention_days


def purge(app: Application, policy: Policy, now: dt.datetime) -> Change:
    """Drop the document and the personal data a closed application no longer needs.

    Name and birth date stay: the bank must be able to say whom it decided about. The history's
    copies of the same data go too (``redact_history``, written before this change commits).
    """
    if app.purged_at is not None:
        raise NothingToDo("already purged")
    days = retention_days(app, policy)
    if now - parse_iso(app.state_since) < dt.timedelta(days=days):
        raise NothingToDo("still within retention")
    declared = {k: v for k, v in app.declared.items() if k not in MINIMISED_FIELDS}
    checks = {name: _without_personal_details(result) for name, result in app.checks.items()}
    return (
        _ChangeBuilder(app, app, now)
        .apply(
            EventType.DOCUMENTS_PURGED,
            Actor("system", "retention-job"),
            f"retention of {days} days passed",
            {"document_key": app.document_key, "removed_fields": list(MINIMISED_FIELDS), "history_redacted": True},
            declared=declared,
            checks=checks,
            purged_at=iso(now),
            document_key=None,
            document_version=None,
        )
        .build()
    )


def redact_history(events: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    """The events that hold personal data, each as it must be stored once purged: the data replaced by
    its salted commitment, the salt gone. Their hashes do not change, so the chain still verifies; the
    data cannot be recovered or guessed (without the salt a commitment to a birth date is not a lookup)."""
    return [event.redacted() for event in events if event.holds_personal_data]


# --- staff access ----------------------------------------------------------------

STAFF_ACTORS = frozenset({"reviewer", "operator"})
#: What an applicant reads instead of a staff member's internal free text.
PUBLIC_STAFF_REASONS = {
    EventType.APPROVED: "decided by a reviewer",
    EventType.REJECTED: "decided by a reviewer",
    EventType.VIEWED: "viewed by a reviewer",
    EventType.SCREENING_FALSE_POSITIVE: "reviewed by a reviewer",
    EventType.CUSTOMER_SCREENING_RESOLVED: "reviewed by a reviewer",
    EventType.CUSTOMER_SCREENING_RECOMMENDED: "reviewed by a reviewer",
    EventType.RECOMMENDED: "reviewed; awaiting a second reviewer",
    EventType.CLAIMED: "taken up by a reviewer",
    EventType.RELEASED: "returned to the review queue",
}


#: The events by which a reviewer took part in deciding (four eyes: the recommendation too).
DECIDING_EVENTS = frozenset({EventType.APPROVED, EventType.REJECTED, EventType.RECOMMENDED})


def may_review(app: Application, history: Sequence[HistoryEvent], reviewer_id: str) -> bool:
    """A reviewer reads personal data only while it is in review, or if they decided it."""
    if app.state == State.FLAGGED:
        return True
    if app.state not in REVIEWABLE_STATES:
        return False
    decider = str(Actor("reviewer", reviewer_id))
    return any(e.type in DECIDING_EVENTS and e.actor == decider for e in history)


def record_view(app: Application, reviewer_id: str, now: dt.datetime, reviewer_email: Optional[str] = None) -> Change:
    """The audit event of one read of the application's personal data by a reviewer (named in words)."""
    details = {"reviewer_email": reviewer_email} if reviewer_email else {}
    return (
        _ChangeBuilder(app, app, now)
        .apply(EventType.VIEWED, Actor("reviewer", reviewer_id), "personal data viewed for review", details)
        .build()
    )


def for_applicant(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as the applicant (and anything they can subscribe to) sees it.

    Staff act as their role: no Cognito sub, no internal free-text reason.
    """
    shown = dict(event)
    actor = Actor.parse(str(event.get("actor") or ""))
    if actor.kind in STAFF_ACTORS:
        shown["actor"] = actor.kind
        try:
            event_type = EventType(event.get("type"))
        except ValueError:
            event_type = None
        shown["reason"] = PUBLIC_STAFF_REASONS.get(event_type, "") if event_type else ""
        if isinstance(event.get("details"), Mapping):
            # a recommendation is not a decision: the applicant learns of it only as "in review"
            keep = () if event_type is EventType.RECOMMENDED else ("decision",)
            shown["details"] = {k: v for k, v in event["details"].items() if k in keep}
    return shown
