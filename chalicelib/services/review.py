"""Human review: the queue of FLAGGED applications and reviewers' decisions.

The queue is a Query on the sparse ``review_queue`` index (only FLAGGED items
carry its key), oldest flag first, so a page costs the same however large the
table grows. A decision is one conditional transaction from the version the
reviewer's request read: of two reviewers deciding at once exactly one
commits, the other gets a 409 carrying the state that won.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from ..domain import workflow
from ..domain.identity import sniff_mime_type
from ..domain.users import Identity
from ..domain.workflow import Application, HistoryEvent, State, chain_intact, iso
from ..observability import logger
from .applications import ApplicationService, backoff
from .errors import DocumentNotDisplayable, NotFound
from .ports import ConcurrentChange, DocumentMissing, DocumentStore, Metrics, Page, Readings
from .readings import with_reading

#: How long a reviewer's link to a document works: long enough to load it, short enough not to be shared.
DOCUMENT_LINK_SECONDS = 300
DISPLAYABLE = frozenset({"image/jpeg", "image/png", "application/pdf"})

# A decision that loses only to a system step (an escalation bumping the
# version of a still-FLAGGED application) is retried this many times.
DECISION_ATTEMPTS = 3
#: A read records its audit event; concurrent reads (a console's parallel requests) retry with jitter.
READ_ATTEMPTS = 8


@dataclass(frozen=True)
class Detail:
    application: Application
    history: list[HistoryEvent]

    @property
    def chain_intact(self) -> bool:
        return chain_intact(self.history)


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
        readings: Optional[Readings] = None,
    ):
        self.applications = applications
        self.repo = applications.repo
        self.metrics = metrics
        self.documents = documents
        self.readings = readings  # the page's OCR text, kept out of the item (services/readings.py)

    def view_document(self, reviewer: Identity, application_id: str) -> DocumentLink:
        """A short-lived link to the identity document, with the view recorded first.

        The audit event is committed before the link exists, so nobody sees a
        document without the history saying who and when. The content type is
        the one sniffed from the bytes, never the uploader's claim. Raises
        NotFound, NoDocument (never uploaded, or purged) or DocumentNotDisplayable.
        """
        assert self.documents is not None, "ReviewService needs a DocumentStore to show documents"
        app = self.applications.get(application_id)
        if app.document_key is None:
            raise workflow.NoDocument("purged" if app.purged_at else "not uploaded")
        identity = app.checks.get("identity") or {}
        mime = (identity.get("details") or {}).get("mime_type")
        if mime is None:
            try:
                mime = sniff_mime_type(self.documents.sample(app.document_key).head)
            except DocumentMissing:
                raise workflow.NoDocument("the recorded document is not in the store") from None
        if mime not in DISPLAYABLE:
            raise DocumentNotDisplayable(str(mime))
        clock = self.applications.clock
        change = self.applications.apply_with_retry(
            application_id, lambda current: workflow.view_document(current, reviewer.sub, reviewer.email, clock())
        )
        key = change.after.document_key if change else app.document_key
        assert key is not None
        self.metrics.count("DocumentViewed")
        expires = clock() + dt.timedelta(seconds=DOCUMENT_LINK_SECONDS)
        return DocumentLink(self.documents.presigned_view(key, mime, DOCUMENT_LINK_SECONDS), mime, iso(expires))

    def queue(self, limit: int, cursor: Optional[str]) -> Page:
        return self.repo.review_queue(limit, cursor)

    def detail(self, reviewer: Identity, application_id: str) -> Detail:
        """The application's personal data, checks and history, for a reviewer who may see them.

        Only while it is in review, or when this reviewer decided it; anything
        else is NotFound (as an unknown id). Each read is recorded as a
        ``review.viewed`` history event in the same chain: the audit trace.
        """
        for attempt in range(1, READ_ATTEMPTS + 1):
            app = self.applications.get(application_id)
            history = self.repo.history(application_id)
            if not workflow.may_review(app, history, reviewer.sub):
                raise NotFound(application_id)
            change = workflow.record_view(app, reviewer.sub, self.applications.clock())
            try:
                self.repo.commit(change)
            except ConcurrentChange:
                if attempt < READ_ATTEMPTS:
                    backoff(attempt)  # another read or a step committed first: read again
                    continue
                raise
            self.metrics.count("ReviewerRead")
            return Detail(with_reading(self.readings, change.after), [*history, *change.events])
        raise AssertionError("unreachable")  # pragma: no cover

    def may_watch(self, reviewer: Identity, application_id: str) -> Application:
        """A reviewer may watch what they may read (no personal data goes out, so no trace)."""
        app = self.applications.get(application_id)
        if app.state != State.FLAGGED and not workflow.may_review(app, self.repo.history(application_id), reviewer.sub):
            raise NotFound(application_id)
        return app

    def decide(self, reviewer: Identity, application_id: str, approve: bool, reason: str) -> Application:
        """Approve or reject a FLAGGED application.

        Raises NotFound, NotAllowed (own application), IllegalTransition (not
        FLAGGED, e.g. already decided) or ConcurrentChange (lost the race).
        """
        for attempt in range(1, DECISION_ATTEMPTS + 1):
            app = self.applications.get(application_id)
            change = workflow.decide(app, approve, reviewer.sub, reason, self.applications.clock(), reviewer.email)
            try:
                self.repo.commit(change)
            except ConcurrentChange as conflict:
                current = conflict.current
                if attempt < DECISION_ATTEMPTS and current is not None and current.state == State.FLAGGED:
                    continue  # a system step (escalation) moved the version, not another decision
                self.metrics.count("ReviewDecisionConflict")
                raise
            self.metrics.count("ReviewApproved" if approve else "ReviewRejected")
            logger.info(
                "review decision",
                extra={
                    "application_id": application_id,
                    "reviewer": reviewer.sub,
                    "decision": "approve" if approve else "reject",
                },
            )
            return change.after
        raise AssertionError("unreachable")  # pragma: no cover
