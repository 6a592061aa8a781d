"""What one history event is: who did what, from which state to which, and why; its hash over its content
and the previous event's hash (the chain); the personal data in it, committed to by a salted hash so the
retention purge can drop the data and the chain still verifies; the chain's versions and the seal of a
version-1 (unkeyed) history. How a chain of events is sealed and verified: ``chain.py``."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from .states import EventType, State

GENESIS_HASH = "0" * 64


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
    #: Its place among the events the applicant is shown (1, 2, ...; ``disclosure.numbered``), set at commit;
    #: None for an event they are not shown (or one stored before it was recorded). Not hashed, like ``chain``.
    shown_seq: Optional[int] = None

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
            "details": committed_details(self.type, jsonable(self.details), self.salt),
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
            self, details=committed_details(self.type, jsonable(self.details), self.salt), salt=None
        )

    @property
    def holds_personal_data(self) -> bool:
        return self.salt is not None and bool(personal_paths(self.type, self.details))

    def to_dict(self) -> dict[str, Any]:
        """What readers of the history see: the details as recorded (or as redacted), and the hash."""
        return {**self.content(), "details": jsonable(self.details), "hash": self.hash}


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
        return same_mac(self.mac_of(key, application_id, self.seq, self.hash), self.mac)


def same_mac(computed: str, stored: str) -> bool:
    return hmac.compare_digest(computed.encode(), str(stored).encode())


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
