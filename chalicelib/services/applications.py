"""Use cases: what the handlers ask for, in the words of the workflow.

Each use case loads what it needs through the repository, asks the domain
for a Change, and commits it. Concurrency is settled by the repository's
conditional transaction: a reviewer who lost a race to another decision gets a 409;
system steps, and applicant actions that name no version (withdraw), re-read and retry.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ..domain import disclosure
from ..domain.declaration import ApplicationRequest
from ..domain.limits import day_window
from ..domain.policy import Policy, settled_by_declaration
from ..domain.users import Identity
from ..domain.workflow import intake
from ..domain.workflow.application import Application, Change, is_application_id
from ..domain.workflow.chain import chain_intact, event_verifies, seal, seal_legacy_head
from ..domain.workflow.errors import NothingToDo
from ..domain.workflow.history import GENESIS_HASH, HistoryEvent
from .errors import DeclarationRefused, IdempotencyKeyReused, NotFound, QuotaExceeded
from .ports import (
    ApplicationRepository,
    ChainKey,
    Clock,
    ConcurrentChange,
    IdempotentReplay,
    IdGenerator,
    InvalidCursor,
    QuotaFull,
    Quotas,
    QuotaUse,
    SettingsSource,
    new_uuid,
    utc_now,
)
from .rate_limits import DeferredUses

SYSTEM_RETRIES = 8
#: Events per page of the history when the client names no limit (the most a page may hold).
HISTORY_PAGE = 100


@dataclass(frozen=True)
class History:
    """A page of an application's audit history as the applicant is shown it, whether the chain verifies, and
    where the next page starts.

    ``events``: the page's events shown to the applicant, each numbered by its place among those (``shown_seq``).
    ``intact``: the recorded events the page read (hidden ones included) MACed under the chain key and chained,
    from the genesis or the cursor's event, and to the stored head when the read reached the end
    (``ApplicationService.history``).
    """

    events: list[HistoryEvent]
    intact: bool
    next_cursor: Optional[str] = None


#: What the chain key MACs to derive the history cursor's key: a cursor is never MACed under the chain key itself, so
#: no cursor tag can stand for a chain MAC or the other way round (a new label voids the cursors handed out).
CURSOR_KEY_LABEL = b"account-opening/history-cursor/v1"


class ChainKeyMissing(RuntimeError):
    """The history chain key is missing or empty: the service refuses to seal, verify or page rather than run
    unkeyed (a server fault, never the caller's: a 500, not a 4xx)."""


def cursor_key(chain_key: bytes) -> bytes:
    """The key the history cursor is MACed and its seq padded with: derived from the chain key for that purpose."""
    if not chain_key:
        raise ChainKeyMissing("the history chain key is empty: no cursor is issued or accepted unkeyed")
    return hmac.new(chain_key, CURSOR_KEY_LABEL, hashlib.sha256).digest()


def _keyed(key: bytes, label: str, application_id: str, place: int, event_hash: str) -> bytes:
    message = json.dumps([label, application_id, place, event_hash], separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def _history_cursor(key: bytes, event: HistoryEvent) -> str:
    """Names the page's last event by its place among the shown and its hash, with its recorded seq encrypted
    (``r``: XOR a pad keyed by the cursor key, the application, the place and the hash; the recorded seq minus the
    place is the count of hidden events before it, so it must not be readable) and all three MACed (``t``)."""
    assert event.shown_seq is not None
    args = (event.application_id, event.shown_seq, event.hash)
    sealed = int.from_bytes(_keyed(key, "history-cursor-seq", *args), "big") ^ event.seq
    raw = {"n": event.shown_seq, "h": event.hash, "r": f"{sealed:064x}"}
    raw["t"] = _tag(key, event.application_id, raw)
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def _tag(key: bytes, application_id: str, fields: dict[str, Any]) -> str:
    return _keyed(key, "history-cursor", application_id, fields["n"], f"{fields['h']}:{fields['r']}").hex()


def _after(key: bytes, application_id: str, cursor: Optional[str]) -> tuple[int, Optional[str], int]:
    """(place among the shown, hash, recorded seq) of the last event of the previous page; (0, None, 0) for the
    first page. A cursor this API did not hand out for this application is refused (InvalidCursor)."""
    if not cursor:
        return 0, None, 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, RecursionError) as error:
        raise InvalidCursor("cursor is not valid") from error
    if not (
        isinstance(data, dict)
        and set(data) == {"n", "h", "r", "t"}
        and isinstance(data["n"], int)
        and not isinstance(data["n"], bool)
        and data["n"] >= 1
        and all(isinstance(data[k], str) for k in "hrt")
        and hmac.compare_digest(data["t"], _tag(key, application_id, data))
    ):
        raise InvalidCursor("cursor is not valid")
    pad = int.from_bytes(_keyed(key, "history-cursor-seq", application_id, data["n"], data["h"]), "big")
    return data["n"], data["h"], int(data["r"], 16) ^ pad


class ApplicationService:
    def __init__(
        self,
        repository: ApplicationRepository,
        clock: Clock = utc_now,
        new_id: IdGenerator = new_uuid,
        quotas: Optional[Quotas] = None,
        settings: Optional[SettingsSource] = None,
        *,
        chain: ChainKey,
        deferred_uses: Optional[DeferredUses] = None,
    ):
        if chain is None:  # an untyped caller: fail closed, never an unkeyed chain or cursor
            raise ChainKeyMissing("ApplicationService needs the history chain key (ChainKey)")
        self.repo = repository
        #: The request's rate-limit use, carried by its first commit (``services.rate_limits``).
        self.deferred_uses = deferred_uses
        self.clock = clock
        self.new_id = new_id
        self.quotas = quotas
        self.settings = settings  # None: the defaults of resources.yaml (Policy())
        self.chain = chain  # use-case tests give the fakes' StaticChainKey

    # --- the audit history's chain ---------------------------------------------

    def _key(self) -> bytes:
        """The chain key; an empty one is refused (ChainKeyMissing), never used."""
        key = self.chain.secret()
        if not key:
            raise ChainKeyMissing("the history chain key is empty: the history is not sealed or verified unkeyed")
        return key

    def commit(
        self,
        change: Change,
        idempotency_key: Optional[str] = None,
        fingerprint: Optional[str] = None,
        quota: Optional[QuotaUse] = None,
    ) -> Change:
        """Seal the change's events into the keyed chain, then commit it (with the daily quota's use, in
        the same transaction, when given); returns the sealed change.

        Every write of the history goes through here, so every event carries the keyed MAC. A request's
        deferred rate-limit use (``rate_limits.DeferredUses``) is one more item of the first commit that
        writes: past the limit nothing is written and the request is refused (``RateLimited``).
        """
        change = disclosure.numbered(change)  # the applicant's numbering, kept with every change (tipping off)
        sealed = seal(change, self._key())
        held = self.deferred_uses.pending() if self.deferred_uses is not None else None
        uses = [held.use] if held is not None else []  # the rate limit first: it is what the middleware checked
        if quota is not None:
            uses.append(quota)
        try:
            sealed = self._commit_marked(sealed, idempotency_key, fingerprint, uses or None)
        except QuotaFull as full:
            if held is not None and self.deferred_uses is not None and full.key == held.use.key:
                self.deferred_uses.carried()  # refused by it: the window is full, nothing more to count
                raise held.refusal from None
            raise
        if held is not None and self.deferred_uses is not None:
            self.deferred_uses.carried()
        return sealed

    def _commit_marked(
        self, change: Change, idempotency_key: Optional[str], fingerprint: Optional[str], uses: Optional[list[QuotaUse]]
    ) -> Change:
        """Commit; when the commit lost only to a subscribe's watch mark (issue 22: the application is at the
        version and state it was read at, now marked watched), the same change again from the marked
        application -- so its events are pushed -- for a person's request as for a system step (no 409, no
        decision made again). Any other conflict is the caller's (``apply_with_retry`` re-reads and decides).
        The applicant's mark (watching all their applications) is no conflict here: no field of the
        application shows it, so the repository writes such a commit watched itself, fake and real alike."""
        for _ in range(SYSTEM_RETRIES):
            try:
                self.repo.commit(change, idempotency_key=idempotency_key, fingerprint=fingerprint, quota=uses)
                return change
            except ConcurrentChange as conflict:
                now, before = conflict.current, change.before
                if (
                    now is None
                    or before is None
                    or (now.version, now.state, now.watched) == (before.version, before.state, before.watched)
                    or now.version != before.version
                    or now.state != before.state
                ):
                    raise
                change = dataclasses.replace(
                    change,
                    before=dataclasses.replace(before, watched=now.watched),
                    after=dataclasses.replace(change.after, watched=now.watched),
                )
        raise ConcurrentChange(self.repo.get(change.after.application_id))

    def chain_intact(self, app: Application, events: Sequence[HistoryEvent]) -> bool:
        """Every event MACed under the chain key, in sequence, and the chain ending at the application's
        stored head (``last_seq``, ``last_hash``): edits, insertions and truncation all show."""
        return chain_intact(events, self._key(), head=(app.last_seq, app.last_hash), seal=app.legacy_seal)

    def seal_legacy_history(self, application_id: str) -> bool:
        """Seal the head of an application's version-1 (unkeyed) history under the chain key, once: run
        for every application when the keyed chain is first deployed (``scripts/seal_legacy_history.py``),
        before anyone could turn a keyed history into an unkeyed one. True when it sealed one; an
        application keyed throughout, sealed already, or whose unkeyed chain does not verify, is left."""
        for attempt in range(1, 4):
            app = self.get(application_id)
            seal = seal_legacy_head(app, self.repo.history(application_id), self._key())
            if seal is None:
                return False
            after = dataclasses.replace(app, legacy_seal=seal, version=app.version + 1)
            try:
                self.repo.commit(Change(app, after, ()))
                return True
            except ConcurrentChange:
                backoff(attempt)
        raise ConcurrentChange(None)

    def renumber_shown(self, application_id: str, dry_run: bool = False) -> bool:
        """Set the application's shown head from its history (``disclosure.head_from_history``) when the stored
        one is not today's: a record from before the numbering was kept, or numbered under an older rule
        (``scripts/backfill_shown.py``). True when it changed (or, ``dry_run``, would). Committed as a change of
        no event that moves the recorded version (so a concurrent commit made from the old item loses and reads
        this one again); a conflict re-reads and decides again. Idempotent: a second run changes nothing."""
        for attempt in range(1, 4):
            app = self.get(application_id)
            after = disclosure.head_from_history(app, self.repo.history(application_id))
            if after is None:
                return False
            if dry_run:
                return True
            try:
                self.repo.commit(Change(app, dataclasses.replace(after, version=app.version + 1), ()))
                return True
            except ConcurrentChange:
                backoff(attempt)
        raise ConcurrentChange(None)

    def policy(self) -> Policy:
        return self.settings.policy() if self.settings is not None else Policy()

    # --- applicant ---------------------------------------------------------

    def create(
        self, who: Identity, request: ApplicationRequest, idempotency_key: Optional[str]
    ) -> tuple[Application, bool]:
        """Returns the application and whether this call created it.

        A retry with the same Idempotency-Key returns what the first call created, even if a rule
        changed since; a new application that breaks a rule the declaration settles (age, expiry,
        served nationality and country) is refused with every rule it breaks, and nothing is stored.
        """
        declared = request.model_dump(mode="json")
        fingerprint = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()
        claim_key = f"create#{who.sub}#{idempotency_key}" if idempotency_key else None
        if claim_key:
            record = self.repo.find_idempotency_record(claim_key)
            if record is not None:
                return self._replayed(who, record.result, record.fingerprint, fingerprint), False
        now = self.clock()
        broken = settled_by_declaration(request, self.policy(), now.date())
        if broken:
            raise DeclarationRefused(broken)  # before the quota: a refused declaration costs none of it
        quota = self._daily_quota(who)
        change = intake.submit(self.new_id(), who.sub, declared, now)
        try:
            change = self.commit(change, idempotency_key=claim_key, fingerprint=fingerprint, quota=quota)
        except IdempotentReplay as replay:  # free: the quota is taken only by the commit that creates
            return self._replayed(who, replay.application_id, replay.fingerprint, fingerprint), False
        except QuotaFull:
            raise QuotaExceeded("the daily limit of new applications is reached", day_window(now)[1]) from None
        return change.after, True

    def _daily_quota(self, who: Identity) -> Optional[QuotaUse]:
        """One of the applicant's applications for today, taken in the create's own transaction (one call,
        and nothing to give back when the create fails); None without settings (tests on bare fakes)."""
        if self.quotas is None or self.settings is None:
            return None
        day, retry_after = day_window(self.clock())
        return QuotaUse(
            f"quota#applications#{who.sub}#{day}", self.settings.policy().max_applications_per_day, retry_after + 3600
        )

    def _replayed(self, who: Identity, application_id: str, stored: Optional[str], offered: str) -> Application:
        if stored != offered:
            raise IdempotencyKeyReused()
        return self.get_own(who, application_id)

    def get(self, application_id: str) -> Application:
        """Any application by id (for reviewers and system steps); malformed ids never reach DynamoDB."""
        app = self.repo.get(application_id) if is_application_id(application_id) else None
        if app is None:
            raise NotFound(application_id)
        return app

    def get_own(self, who: Identity, application_id: str) -> Application:
        """Someone else's application is indistinguishable from a missing one."""
        app = self.get(application_id)
        if app.applicant_id != who.sub:
            raise NotFound(application_id)
        return app

    def list_own(self, who: Identity, limit: int, cursor: Optional[str]) -> tuple[list[Application], Optional[str]]:
        return self.repo.list_for_applicant(who.sub, limit, cursor)

    def history(
        self, who: Identity, application_id: str, limit: int = HISTORY_PAGE, cursor: Optional[str] = None
    ) -> History:
        """A page of the applicant's own application's history: ``limit`` of the events they are shown, after
        the cursor's. A page reads the recorded history from the cursor's event on (``history_after``, Queries of
        ``limit + 2`` events; the cursor carries its recorded seq, encrypted), not the whole of it: the cursor's
        event, the page and the next shown event (is there more). Its cost is the page and the hidden events among
        it, whatever the history's length.

        ``intact``: every event read verifies under the chain key and links to the one before it (the first page
        from the genesis), the page continues from the cursor's event, and a read that reaches the end ends at the
        application's stored head. A client that reads every page has so verified the whole recorded chain, hidden
        events included; one page vouches for the span it read."""
        app = self.get_own(who, application_id)
        key, batch = self._key(), max(limit, 1) + 2  # the cursor's event, the page, the next shown
        after, after_hash, after_seq = _after(cursor_key(key), application_id, cursor)
        page: list[HistoryEvent] = []
        found, intact, more, at_end = after == 0, True, False, False
        prev: Optional[str] = GENESIS_HASH if after == 0 else None
        last_seq = max(after_seq - 1, 0)
        position = after
        while not more and not at_end:
            read = self.repo.history_after(application_id, last_seq, batch)
            at_end = len(read) < batch
            for event in read:
                linked = prev is None or event.prev_hash == prev
                if event.seq != last_seq + 1 or not linked or not event_verifies(event, key, app.legacy_seal):
                    intact = False
                last_seq, prev = event.seq, event.hash
                if not found:  # the first event read is the cursor's, as the server named it
                    if (event.seq, event.hash) != (after_seq, after_hash) or not disclosure.shown_event(event):
                        return History([], False, None)  # not where it was: the history changed under it
                    found = True
                elif not disclosure.shown_event(event):
                    continue
                elif len(page) == limit:
                    more = True
                    break
                else:
                    position += 1
                    page.append(dataclasses.replace(event, shown_seq=position))
            if not found:
                return History([], False, None)  # the cursor's event is gone: the history was cut
        if at_end and not more:
            if last_seq > app.last_seq:  # a change committed since the read: its head as of now
                app = self.get_own(who, application_id)
            intact = intact and (last_seq, prev) == (app.last_seq, app.last_hash or GENESIS_HASH)
        return History(page, intact, _history_cursor(cursor_key(key), page[-1]) if more and page else None)

    def withdraw(self, who: Identity, application_id: str, reason: str) -> Application:
        """The applicant sends no version: a system step (a check result, the sweeper) committing
        between our read and our write is re-read and the withdrawal decided again. Only a state
        that can no longer be withdrawn (another withdrawal won, or it was decided) is refused."""
        app = self.get_own(who, application_id)
        change = self.apply_with_retry(
            application_id, lambda current: intake.withdraw(current, who.sub, reason, self.clock()), app
        )
        assert change is not None  # a withdrawal is never a replay: it commits or raises
        return change.after

    # --- system steps -----------------------------------------------------

    def apply_with_retry(
        self,
        application_id: str,
        decide: Callable[[Application], Change],
        current: Optional[Application] = None,
    ) -> Optional[Change]:
        """Apply a system step, re-reading on conflict; a replay (NothingToDo) is a success.

        ``current``: the application as the caller just read it, so the first
        attempt costs no read (one read per handler). A conflict carries what
        won; attempts back off with jitter so racing steps do not collide again.
        Returns the committed Change, or None when there was nothing to do.
        """
        app = current
        for attempt in range(SYSTEM_RETRIES):
            if app is None or app.application_id != application_id:
                app = self.repo.get(application_id)
                if app is None:
                    raise NotFound(application_id)
            try:
                change = decide(app)
            except NothingToDo:
                return None
            try:
                return self.commit(change)
            except ConcurrentChange as conflict:
                app = conflict.current
                backoff(attempt)
        raise ConcurrentChange(self.repo.get(application_id))


def backoff(attempt: int, base_seconds: float = 0.01, cap_seconds: float = 1.0) -> None:
    """Full jitter: a random wait up to base x 2^attempt (capped), so retries spread out instead of colliding."""
    time.sleep(random.uniform(0, min(cap_seconds, base_seconds * 2**attempt)))


def describe(change: Optional[Change]) -> dict[str, Any]:
    if change is None:
        return {"changed": False}
    return {"changed": True, "state": change.after.state.value, "events": [e.type.value for e in change.events]}
