"""Human review: the queue of FLAGGED applications and reviewers' decisions.

The queue is a Query on the sparse ``review_queue`` index (only FLAGGED items
carry its key), oldest flag first, so a page costs the same however large the
table grows. A decision is one conditional transaction from the version the
reviewer's request read: of two reviewers deciding at once exactly one
commits, the other gets a 409 carrying the state that won.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Optional

from ..domain.document_file import sniff_mime_type
from ..domain.policy import Policy
from ..domain.users import Identity
from ..domain.workflow import review
from ..domain.workflow.application import Application, Change, iso, parse_iso
from ..domain.workflow.errors import IllegalTransition, NoDocument
from ..domain.workflow.history import HistoryEvent
from ..domain.workflow.states import REVIEWABLE_STATES, EventType, State
from ..observability import logger
from .applications import ApplicationService, backoff
from .errors import DocumentNotDisplayable, NotFound
from .ports import ConcurrentChange, DocumentMissing, DocumentStore, Metrics, Page, Readings, UserDirectory
from .readings import with_reading
from .staff import StaffAccess, StaffEmailUnknown

#: How long a reviewer's link to a document works: long enough to load it, short enough not to be shared.
DOCUMENT_LINK_SECONDS = 300
DISPLAYABLE = frozenset({"image/jpeg", "image/png", "application/pdf"})

# A decision that loses only to a system step (an escalation bumping the
# version of a still-FLAGGED application) is retried this many times.
DECISION_ATTEMPTS = 3
#: A read records its audit event; concurrent reads (a console's parallel requests) retry with jitter.
READ_ATTEMPTS = 8


#: Index reads one filtered queue page may make (see ``ReviewService.queue``).
QUEUE_QUERIES = 20
#: The queue's views (``status``): every case, nobody's, someone's, mine, awaiting a second reviewer
#: (four eyes), past the review SLA.
QUEUE_STATUSES = ("all", "unclaimed", "claimed", "mine", "second_review", "overdue")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def applicant_name(app: Application) -> str:
    name = app.declared.get("full_name") or {}
    return " ".join(p for p in (name.get("given_names"), name.get("surname")) if p)


def age_hours(app: Application, now: dt.datetime) -> float:
    return (now - parse_iso(app.state_since)).total_seconds() / 3600


@dataclass(frozen=True)
class QueueFilter:
    """What a reviewer narrows the queue to; every given criterion must hold."""

    status: str = "all"
    reason: Optional[str] = None  # a check (``sanctions``) or a reason code (``SANCTIONS_POSSIBLE_MATCH``)
    older_than_hours: Optional[int] = None
    search: Optional[str] = None  # part of the applicant's name, or the start of the application id
    newest_first: bool = False

    @property
    def active(self) -> bool:
        return self.status != "all" or bool(self.reason) or self.older_than_hours is not None or bool(self.search)

    def matches(self, app: Application, reviewer_sub: str, now: dt.datetime, policy: Policy) -> bool:
        holder = review.claim_holder(app, now)
        age = age_hours(app, now)
        status_holds = {
            "all": True,
            "unclaimed": holder is None,
            "claimed": holder is not None,
            "mine": holder is not None and holder.get("reviewer") == reviewer_sub,
            "second_review": app.recommendation is not None
            and review.needs_second_review(app, policy.second_review_for),
            "overdue": age >= policy.review_sla_hours,
        }[self.status]
        if not status_holds:
            return False
        if self.reason and not any(
            self.reason.upper() in (str(r.get("check", "")).upper(), str(r.get("code", "")).upper())
            for r in app.decision_reasons
        ):
            return False
        if self.older_than_hours is not None and age < self.older_than_hours:
            return False
        if self.search:
            needle = _folded(self.search.strip())
            if needle not in _folded(applicant_name(app)) and not app.application_id.startswith(needle):
                return False
        return True


@dataclass(frozen=True)
class Detail:
    application: Application
    history: list[HistoryEvent]
    chain_intact: bool


@dataclass(frozen=True)
class DocumentLink:
    url: str
    content_type: str
    expires_at: str


class ReviewService:
    def __init__(
        self,
        applications: ApplicationService,
        metrics: Metrics,
        documents: Optional[DocumentStore] = None,
        staff: Optional[StaffAccess] = None,
        customers: Optional[UserDirectory] = None,
        readings: Optional[Readings] = None,
    ):
        self.applications = applications
        self.repo = applications.repo
        self.metrics = metrics
        self.documents = documents
        self.readings = readings  # the page's OCR text, kept out of the item (services/readings.py)
        self.staff = staff  # the staff pool: a reviewer's verified e-mail
        self.customers = customers  # the customer pool: the applicant's own account

    def _staff_email(self, reviewer: Identity) -> str:
        """Verified in the staff pool, or StaffEmailUnknown: never the token's claim."""
        if self.staff is None:
            raise StaffEmailUnknown("no staff directory to establish the reviewer's e-mail")
        return self.staff.verified_email(reviewer)

    def _applicant_emails(self, app: Application) -> list[str]:
        """The e-mail of the applicant's own customer-pool account, found by the sub that applied."""
        account = self.customers.user_by_sub(app.applicant_id) if self.customers is not None else None
        return [account.email] if account is not None and account.email else []

    def view_document(self, reviewer: Identity, application_id: str) -> DocumentLink:
        """A short-lived link to the identity document, with the view recorded first.

        The audit event is committed before the link exists, so nobody sees a
        document without the history saying who and when. The content type is
        the one sniffed from the bytes, never the uploader's claim. Raises
        NotFound, NoDocument (never uploaded, or purged) or DocumentNotDisplayable.
        """
        assert self.documents is not None, "ReviewService needs a DocumentStore to show documents"
        app = self.visible(reviewer, application_id)  # outside review: 404 as an unknown id, nothing else said
        if app.document_key is None:
            raise NoDocument("purged" if app.purged_at else "not uploaded")
        identity = app.checks.get("identity") or {}
        mime = (identity.get("details") or {}).get("mime_type")
        if mime is None:
            try:
                mime = sniff_mime_type(self.documents.sample(app.document_key, app.document_version).head)
            except DocumentMissing:
                raise NoDocument("the recorded document is not in the store") from None
        if mime not in DISPLAYABLE:
            raise DocumentNotDisplayable(str(mime))
        clock = self.applications.clock
        staff_user = self.staff.current(reviewer) if self.staff is not None else None
        email = staff_user.email if staff_user is not None else reviewer.email  # who saw it, in words

        def record_view(current: Application) -> Change:
            if current.version != app.version and not self._may_review(current, reviewer):
                raise NotFound(application_id)  # it left review (decided by another) since it was read
            return review.view_document(current, reviewer.sub, email, clock())

        change = self.applications.apply_with_retry(application_id, record_view, app)
        shown = change.after if change else app
        assert shown.document_key is not None
        self.metrics.count("DocumentViewed")
        expires = clock() + dt.timedelta(seconds=DOCUMENT_LINK_SECONDS)
        # the version checked, never whatever was posted to the key since (evidence pinned)
        url = self.documents.presigned_view(shown.document_key, mime, DOCUMENT_LINK_SECONDS, shown.document_version)
        return DocumentLink(url, mime, iso(expires))

    def visible(self, reviewer: Identity, application_id: str) -> Application:
        """The application, if this reviewer may see it at all: in review (FLAGGED), or decided by them.

        The one rule of every reviewer route (detail, document, decision, watching): anything else is
        NotFound, exactly as an unknown id, so a reviewer learns neither existence nor state.
        """
        app = self.applications.get(application_id)
        if not self._may_review(app, reviewer):
            raise NotFound(application_id)
        return app

    def _may_review(self, app: Application, reviewer: Identity) -> bool:
        """``review.may_review``; the history is read only when it matters (a decided application)."""
        if app.state == State.FLAGGED:
            return True
        if app.state not in REVIEWABLE_STATES:
            return False
        return review.may_review(app, self.repo.history(app.application_id), reviewer.sub)

    def queue(
        self, reviewer: Identity, limit: int, cursor: Optional[str], filters: Optional[QueueFilter] = None
    ) -> Page:
        """A page of the cases in review, oldest flag first (``newest_first``: the reverse), those matching
        ``filters`` only. Filtered pages read the index in steps of exactly the rows still wanted (so the
        cursor is always the index's own) and stop after ``QUEUE_QUERIES`` steps: a page may then hold
        fewer rows than ``limit`` and a ``next_cursor`` to go on from (never a row skipped)."""
        filters = filters or QueueFilter()
        if not filters.active:
            return self.repo.review_queue(limit, cursor, filters.newest_first)
        now = self.applications.clock()
        policy = self.applications.policy()
        found: list[Application] = []
        for _step in range(QUEUE_QUERIES):
            page, cursor = self.repo.review_queue(limit - len(found), cursor, filters.newest_first)
            found += [app for app in page if filters.matches(app, reviewer.sub, now, policy)]
            if len(found) >= limit or cursor is None:
                break
        return found, cursor

    def detail(self, reviewer: Identity, application_id: str) -> Detail:
        """The application's personal data, checks and history, for a reviewer who may see them.

        Only while it is in review, or when this reviewer decided it; anything
        else is NotFound (as an unknown id). Each read is recorded as a
        ``review.viewed`` history event in the same chain: the audit trace.
        """
        staff_user = self.staff.current(reviewer) if self.staff is not None else None
        email = staff_user.email if staff_user is not None else None  # who read it, in words
        for attempt in range(1, READ_ATTEMPTS + 1):
            app = self.applications.get(application_id)
            history = self.repo.history(application_id)
            if not review.may_review(app, history, reviewer.sub):
                raise NotFound(application_id)
            change = review.record_view(app, reviewer.sub, self.applications.clock(), email)
            try:
                change = self.applications.commit(change)
            except ConcurrentChange:
                if attempt < READ_ATTEMPTS:
                    backoff(attempt)  # another read or a step committed first: read again
                    continue
                raise
            self.metrics.count("ReviewerRead")
            events = [*history, *change.events]
            return Detail(
                with_reading(self.readings, change.after), events, self.applications.chain_intact(change.after, events)
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def may_watch(self, reviewer: Identity, application_id: str) -> Application:
        """A reviewer may watch what they may read (no personal data goes out, so no trace)."""
        return self.visible(reviewer, application_id)

    def decide(self, reviewer: Identity, application_id: str, approve: bool, reason: str) -> Application:
        """Approve or reject a FLAGGED application.

        Raises NotFound (outside review: as an unknown id), NotAllowed (own
        application), IllegalTransition (decided by this reviewer already) or
        ConcurrentChange (lost the race).
        """
        email: Optional[str] = None
        applicant_emails: list[str] = []
        for attempt in range(1, DECISION_ATTEMPTS + 1):
            app = self.visible(reviewer, application_id)
            if email is None:  # refuse to decide when who decides cannot be established
                email = self._staff_email(reviewer)
                applicant_emails = self._applicant_emails(app)
            change = review.decide(
                app,
                approve,
                reviewer.sub,
                reason,
                self.applications.clock(),
                email,
                applicant_emails,
                second_review_for=self.applications.policy().second_review_for,
            )
            try:
                change = self.applications.commit(change)
            except ConcurrentChange as conflict:
                current = conflict.current
                if attempt < DECISION_ATTEMPTS and current is not None and current.state == State.FLAGGED:
                    continue  # a system step (escalation) moved the version, not another decision
                self.metrics.count("ReviewDecisionConflict")
                raise
            recommended = change.events[-1].type is EventType.RECOMMENDED
            self.metrics.count(
                "ReviewRecommended" if recommended else "ReviewApproved" if approve else "ReviewRejected"
            )
            logger.info(
                "review decision",
                extra={
                    "application_id": application_id,
                    "reviewer": reviewer.sub,
                    "decision": "approve" if approve else "reject",
                    "recommendation": recommended,
                },
            )
            return change.after
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the queue: claims ----------------------------------------------------

    def claim(self, reviewer: Identity, application_id: str) -> Application:
        """Claim a case in review for ``review_claim_minutes`` (again: extended). Others see it claimed and
        cannot decide it meanwhile; ClaimedByAnother (409) while someone else's claim lives."""
        app = self.visible(reviewer, application_id)
        if app.state != State.FLAGGED:
            raise IllegalTransition(EventType.CLAIMED, app.state)
        email = self._staff_email(reviewer)
        minutes = self.applications.policy().review_claim_minutes
        clock = self.applications.clock

        def take(current: Application) -> Change:
            if current.state != State.FLAGGED:
                raise NotFound(application_id)  # decided by another since it was read
            return review.claim(current, reviewer.sub, email, clock(), minutes)

        change = self.applications.apply_with_retry(application_id, take, app)
        self.metrics.count("ReviewClaimed")
        return change.after if change else app

    def release(self, reviewer: Identity, application_id: str) -> Application:
        """Let one's claim go (idempotent: no claim of one's own is nothing to do)."""
        app = self.visible(reviewer, application_id)
        if app.state != State.FLAGGED:
            return app
        clock = self.applications.clock
        change = self.applications.apply_with_retry(
            application_id, lambda current: review.release(current, reviewer.sub, clock()), app
        )
        return change.after if change else app
