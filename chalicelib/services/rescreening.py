"""Customers re-screened when the sanctions lists change (issue 20).

Three steps, each at-least-once safe:

1. ``CustomerProjection`` -- on each ``application.approved`` event (its own queue on the events
   topic: the outbox publishes, nothing writes twice in a request), the approved customer's screening
   profile is written to the customers table (one small item, expiring when re-screening ends).
2. ``CustomerRescreening.start`` -- when a refresh publishes a version that adds or changes entries,
   one message per segment of a parallel Scan goes to the re-screening queue. Each worker reads its
   segment once, page by page, and screens every customer against the delta only: an index of the
   added or changed entries that weighs name parts as the whole list does. A worker near its time
   limit sends the rest of its segment on (the scan position in a continuation message).
3. A candidate at the review threshold raises a case: first the ``customer.screening_hit`` event in
   the customer's application (conditional on its version; a replay finds the case id there and
   writes nothing), then the case in the reviewers' queue (conditional on its id). A customer is
   flagged once per entry version, however often anything is replayed. ``ScreeningCaseReviews`` is the
   reviewers' side: the queue, a case (its read audited), and resolving it with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, Optional

from ..domain.sanctions import IndexFormatError, ScreeningIndex, ScreeningPolicy
from ..domain.sanctions.rescreening import (
    DECISIONS,
    CustomerProfile,
    ScreeningCase,
    profile_of,
    screen_customer,
)
from ..domain.users import Identity
from ..domain.workflow import review, screening
from ..domain.workflow.application import Application, iso, parse_iso
from ..domain.workflow.errors import CaseAlreadyResolved, IllegalTransition, SecondReviewerRequired
from ..domain.workflow.history import Actor
from ..domain.workflow.screening import CASE_OPEN, RESCREENING_CASES
from ..domain.workflow.states import EventType, State
from ..observability import logger
from .applications import ApplicationService
from .checks import application_id_from
from .errors import NotFound, PoisonMessage
from .ports import Clock, CustomerProfiles, Metrics, SanctionsIndexStore, ScreeningCases, SettingsSource, WorkQueue

#: Profiles per Scan page (about 200 bytes each: well under DynamoDB's 1 MB page).
PAGE = 500
#: Seconds a worker keeps in hand before its time limit to send the rest of its segment on.
MARGIN_S = 20.0


class CustomerProjection:
    """Keeps the customers table: an approved application becomes a profile re-screening reads."""

    def __init__(
        self, applications: ApplicationService, profiles: CustomerProfiles, settings: SettingsSource, clock: Clock
    ):
        self.applications = applications
        self.profiles = profiles
        self.settings = settings
        self.clock = clock

    def application_event(self, body: str) -> dict[str, Any]:
        """An ``application.approved`` message (raw, or in an SNS envelope; one event or a batch of them)."""
        application_id = application_id_from(body)
        app = self.applications.repo.get(application_id)
        if app is None:
            raise PoisonMessage(f"unknown application {application_id}")
        return self.project(app)

    def project(self, app: Application) -> dict[str, Any]:
        if app.state is not State.APPROVED:
            return {"projected": False, "state": app.state.value}
        approved = parse_iso(app.state_since)
        ends = approved + dt.timedelta(days=self.settings.policy().customer_rescreening_days)
        if ends <= self.clock():
            self.profiles.delete(app.application_id)
            return {"projected": False, "expired": True}
        profile = profile_of(app.application_id, app.applicant_id, app.declared, app.checks, app.state_since)
        self.profiles.put(profile, int(ends.timestamp()))
        return {"projected": True}

    def backfill(self) -> dict[str, int]:
        """Project every customer approved within re-screening retention: the ones approved before the
        projection shipped (run once, after the first deployment; ``scripts/backfill_customers.py``).

        Reads the applications the state index holds as APPROVED since retention began (never a Scan of
        the table); each is projected as ``application.approved`` would project it, so a run again, or
        beside the projection queue's own messages, rewrites the same items: idempotent."""
        now = self.clock()
        since = now - dt.timedelta(days=self.settings.policy().customer_rescreening_days)
        counts = {"approved": 0, "projected": 0, "expired": 0}
        for app in self.applications.repo.in_state_between(State.APPROVED, iso(since), iso(now)):
            counts["approved"] += 1
            result = self.project(app)
            counts["projected"] += int(bool(result.get("projected")))
            counts["expired"] += int(bool(result.get("expired")))
        logger.info("customers backfilled", extra=counts)
        return counts


class CustomerRescreening:
    """Fans a list change out to the re-screening workers, and is each worker."""

    def __init__(
        self,
        profiles: CustomerProfiles,
        cases: ScreeningCases,
        applications: ApplicationService,
        store: SanctionsIndexStore,
        queue: WorkQueue,
        settings: SettingsSource,
        metrics: Metrics,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.profiles = profiles
        self.cases = cases
        self.applications = applications
        self.store = store
        self.queue = queue
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.monotonic = monotonic
        self._deltas: dict[tuple[str, str], ScreeningIndex] = {}

    # --- the fan-out ------------------------------------------------------------------------------

    def start(self, version: str, from_version: str) -> int:
        """One message per segment of the customers' parallel scan; returns how many were sent."""
        segments = max(1, self.settings.policy().customer_rescreening_segments)
        messages = [
            {"version": version, "from_version": from_version, "segment": s, "segments": segments}
            for s in range(segments)
        ]
        self.queue.send(messages)
        logger.info("customer re-screening started", extra={"version": version, "segments": segments})
        return segments

    # --- a worker ---------------------------------------------------------------------------------

    def screen_segment(self, body: str, seconds_left: float = 900.0) -> dict[str, Any]:
        """Screen one segment (from its scan position on) against the version's delta; raise each hit's case.

        ``seconds_left``: the invocation's remaining time. Past it less ``MARGIN_S`` between two pages, the
        rest of the segment is sent on as a continuation message and this one ends."""
        task = _task(body)
        deadline = self.monotonic() + max(seconds_left - MARGIN_S, 0.0)
        delta = self.delta(task["version"], task["from_version"])
        policy = ScreeningPolicy(review_threshold=self.settings.policy().sanctions_review_threshold)
        now = self.clock()
        start: Optional[dict[str, Any]] = task.get("start")
        screened = raised = pages = 0
        continued = False
        while True:
            try:
                profiles, start = self.profiles.scan(
                    task["segment"], task["segments"], start, PAGE, int(now.timestamp())
                )
            except ValueError as error:
                raise PoisonMessage(f"bad scan position: {error}") from error
            pages += 1
            if len(delta.entries):
                for profile in profiles:
                    for case in screen_customer(delta, profile, policy, task["version"], iso(now)):
                        raised += self.raise_case(case)
            screened += len(profiles)
            if start is None:
                break
            if self.monotonic() >= deadline:
                self.queue.send([{**task, "start": start}])
                continued = True
                break
        self.metrics.count("CustomersRescreened", screened)
        summary = {
            "version": task["version"],
            "segment": task["segment"],
            "screened": screened,
            "pages": pages,
            "cases": raised,
            "continued": continued,
            "delta_entries": len(delta.entries),
        }
        logger.info("customer segment re-screened", extra=summary)
        return summary

    def delta(self, version: str, from_version: str) -> ScreeningIndex:
        """The entries ``version`` adds or changes since ``from_version``, weighed as the whole list; loaded
        once per container and pair of versions."""
        pair = (version, from_version)
        if pair not in self._deltas:
            try:
                full = ScreeningIndex.loads(self.store.load(version))
                before = ScreeningIndex.loads(self.store.load(from_version))
            except (IndexFormatError, KeyError) as error:
                raise PoisonMessage(f"index version not loadable: {error}") from error
            known = {e.fingerprint() for e in before.entries}
            changed = {(e.source, e.entry_id) for e in full.entries if e.fingerprint() not in known}
            self._deltas.clear()  # one pair at a time: a container works one refresh's segments
            self._deltas[pair] = full.subset(changed)
        return self._deltas[pair]

    def raise_case(self, case: ScreeningCase) -> int:
        """The hit in the customer's history, then the case in the queue; 1 when the case is new, else 0."""
        try:
            self.applications.apply_with_retry(
                case.application_id,
                lambda app: screening.record_screening_hit(app, case.to_dict(), self.clock()),
            )
        except NotFound:
            logger.warning("re-screening hit for an application that is gone", extra={"case_id": case.case_id})
            return 0
        except IllegalTransition as error:
            logger.warning(
                "re-screening hit for an application no longer approved",
                extra={"application_id": case.application_id, "state": str(error.state)},
            )
            return 0
        if not self.cases.open(case):
            return 0
        self.metrics.count("CustomerScreeningHit")
        logger.warning(
            "customer screening hit: a case is open for reviewers",
            extra={
                "application_id": case.application_id,
                "case_id": case.case_id,
                "list": case.candidate.get("list"),
                "entry_id": case.candidate.get("entry_id"),
                "score": case.candidate.get("score"),
            },
        )
        return 1


def _task(body: str) -> dict[str, Any]:
    try:
        task = json.loads(body)
        version, from_version = str(task["version"]), str(task["from_version"])
        segment, segments = int(task["segment"]), int(task["segments"])
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(f"not a re-screening task: {error}") from error
    if not 0 <= segment < segments:
        raise PoisonMessage(f"segment {segment} of {segments}")
    start = task.get("start")
    if start is not None and not isinstance(start, dict):
        raise PoisonMessage("bad scan position")
    return {"version": version, "from_version": from_version, "segment": segment, "segments": segments, "start": start}


class ScreeningCaseReviews:
    """The reviewers' side of re-screening: the queue of open cases, a case, its resolution."""

    def __init__(self, cases: ScreeningCases, applications: ApplicationService, metrics: Metrics):
        self.cases = cases
        self.applications = applications
        self.metrics = metrics

    def queue(self, limit: int, cursor: Optional[str]) -> tuple[list[ScreeningCase], Optional[str]]:
        return self.cases.open_cases(limit, cursor)

    def detail(self, reviewer: Identity, case_id: str) -> tuple[ScreeningCase, Application]:
        """The case and the customer's application. The read of their personal data is audited
        (``review.viewed`` in the application's history). Not the reviewer's own account (NotFound)."""
        case = self._case(case_id)
        app = self.applications.get(case.application_id)
        if reviewer.sub == app.applicant_id:
            raise NotFound(case_id)
        change = self.applications.apply_with_retry(
            app.application_id,
            lambda current: review.record_view(
                current, reviewer.sub, self.applications.clock(), screening_case=case.case_id
            ),
        )
        return case, (change.after if change else app)

    def resolve(self, reviewer: Identity, case_id: str, decision: str, reason: str) -> ScreeningCase:
        """``decision``: ``false_positive`` (not this customer) or ``confirmed``. Raises NotFound, NotAllowed
        (their own account), CaseAlreadyResolved (someone resolved it first).

        Four eyes on sanctions (``screening.sanctions_need_second_review``): the first reviewer's word is a
        recommendation kept on the case, which stays open (SecondReviewerRequired if they speak again);
        ``screening.resolve_screening_case`` says when a second reviewer's word closes it."""
        status = DECISIONS[decision]
        case = self._case(case_id)
        clock = self.applications.clock
        second_review_for = self.applications.policy().second_review_for
        try:
            change = self.applications.apply_with_retry(
                case.application_id,
                lambda app: screening.resolve_screening_case(
                    app, case_id, status, reviewer.sub, reviewer.email, reason, clock(), second_review_for
                ),
            )
        except CaseAlreadyResolved:
            # The history has the word; finish closing the case if a crash left it open, and say so.
            self._close(case, self._recorded_resolution(case), quiet=True)
            raise
        except SecondReviewerRequired:
            self._sync_recommendation(case)  # a crash may have left the case without the word the history has
            raise
        recorded = _case_record(change.after, case_id) if change is not None else {}
        if recorded.get("recommendation") and recorded.get("status") == CASE_OPEN:
            self.cases.recommend(case_id, _recommendation_for_case(recorded["recommendation"]))
            self.metrics.count("CustomerScreeningCaseRecommended")
            logger.info(
                "customer screening case recommended (four eyes)",
                extra={"case_id": case_id, "application_id": case.application_id, "status": status},
            )
            return self.cases.get(case_id) or case
        resolution = {
            "decision": decision,
            "reason": reason,
            "reviewer": reviewer.sub,
            "reviewer_email": reviewer.email,
            "at": iso(clock()),
        }
        self._close(case, resolution)
        self.metrics.count("CustomerScreeningCaseResolved")
        logger.info(
            "customer screening case resolved",
            extra={"case_id": case_id, "application_id": case.application_id, "status": status},
        )
        resolved = self.cases.get(case_id)
        return resolved or case

    def _sync_recommendation(self, case: ScreeningCase) -> None:
        recorded = _case_record(self.applications.get(case.application_id), case.case_id).get("recommendation")
        if recorded and case.recommendation is None:
            self.cases.recommend(case.case_id, _recommendation_for_case(recorded))

    def _case(self, case_id: str) -> ScreeningCase:
        case = self.cases.get(case_id) if isinstance(case_id, str) and len(case_id) <= 64 else None
        if case is None:
            raise NotFound(case_id)
        return case

    def _close(self, case: ScreeningCase, resolution: dict[str, Any], quiet: bool = False) -> None:
        status = DECISIONS.get(str(resolution.get("decision")), "")
        if status and not self.cases.resolve(case.case_id, status, resolution) and not quiet:
            logger.info("case was already closed", extra={"case_id": case.case_id})

    def _recorded_resolution(self, case: ScreeningCase) -> dict[str, Any]:
        """The resolution as the application's history has it."""
        for event in reversed(self.applications.repo.history(case.application_id)):
            details = event.details if isinstance(event.details, dict) else {}
            if event.type is EventType.CUSTOMER_SCREENING_RESOLVED and details.get("case_id") == case.case_id:
                decision = next((d for d, s in DECISIONS.items() if s == details.get("status")), "")
                return {
                    "decision": decision,
                    "reason": event.reason,
                    "reviewer": Actor.parse(event.actor).id,
                    "reviewer_email": details.get("reviewer_email"),
                    "at": event.at,
                }
        return {}


def _case_record(app: Application, case_id: str) -> dict[str, Any]:
    """The case as the customer's application records it (status, recommendation)."""
    details = (app.checks.get("sanctions") or {}).get("details") or {}
    return dict((details.get(RESCREENING_CASES) or {}).get(case_id) or {})


def _recommendation_for_case(recorded: dict[str, Any]) -> dict[str, Any]:
    """The application's recommendation as the case shows it (the decision's API name, as a resolution)."""
    decision = next((d for d, s in DECISIONS.items() if s == recorded.get("status")), "")
    return {
        "decision": decision,
        "reason": recorded.get("reason"),
        "reviewer": recorded.get("reviewer"),
        "reviewer_email": recorded.get("reviewer_email"),
        "at": recorded.get("at"),
    }


def profile_for(app: Application) -> CustomerProfile:
    """The profile an approved application projects to (tools and tests)."""
    return profile_of(app.application_id, app.applicant_id, app.declared, app.checks, app.state_since)
