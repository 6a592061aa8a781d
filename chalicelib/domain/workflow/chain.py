"""The history chain: a Change's events sealed under the chain key (``seal``), a chain verified event by
event to its stored head (``verify_chain``), and the one-time seal of a version-1 (unkeyed) history
(``seal_legacy_head``). docs/security.md says what the chain proves and what it cannot."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Optional

from .application import Application, Change
from .history import CHAIN_KEYED, CHAIN_UNKEYED, GENESIS_HASH, HistoryEvent, LegacySeal, same_mac


def seal_legacy_head(app: Application, events: Sequence[HistoryEvent], key: bytes) -> Optional[LegacySeal]:
    """The seal of an application whose history is version 1 (unkeyed) up to its head, or None when there
    is nothing to seal (already sealed, keyed throughout, or not a chain that verifies unkeyed: then it is
    left to show as broken)."""
    if app.legacy_seal is not None or not events:
        return None
    if all(event.chain == CHAIN_KEYED or same_mac(event.compute_hash(key), event.hash) for event in events):
        return None  # keyed throughout
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        legacy = dataclasses.replace(event, chain=CHAIN_UNKEYED)
        if event.seq != expected_seq or event.prev_hash != prev or not same_mac(legacy.unkeyed_hash(), event.hash):
            return None
        prev = event.hash
    if len(events) != app.last_seq or prev != app.last_hash:
        return None
    return LegacySeal(app.last_seq, app.last_hash, LegacySeal.mac_of(key, app.application_id, app.last_seq, prev))


def event_verifies(event: HistoryEvent, key: bytes, seal: Optional[LegacySeal] = None) -> bool:
    """The event's hash is what its version makes of its content: a MAC under ``key`` (version 2, or an
    event stored before versions were), or, inside the application's sealed legacy prefix only, the
    plain SHA-256 of version 1. (Links between events are ``verify_chain``'s.)"""
    if event.chain != CHAIN_UNKEYED and same_mac(
        dataclasses.replace(event, chain=CHAIN_KEYED).compute_hash(key), event.hash
    ):
        return True
    if event.chain == CHAIN_KEYED or seal is None or event.seq > seal.seq:
        return False
    if not seal.verifies(key, event.application_id) or not same_mac(event.unkeyed_hash(), event.hash):
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
