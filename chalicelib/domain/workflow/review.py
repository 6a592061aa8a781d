"""The reviewer's desk: decide a flagged case (four eyes where the setting asks for it), claim and release
it in the review queue, view the document; and staff access: who may read an application's personal
data, the audit of each read, and what the applicant sees of staff's events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from ..emails import may_be_same_mailbox
from .application import Application, Change, ChangeBuilder, iso, parse_iso
from .errors import ClaimedByAnother, IllegalTransition, NoDocument, NotAllowed, NothingToDo, SecondReviewerRequired
from .history import Actor, HistoryEvent
from .states import REVIEWABLE_STATES, SCREENING_CASE, EventType, State


def needs_second_review(app: Application, second_review_for: Iterable[str]) -> bool:
    """Four eyes: a case flagged for a reason whose check or code the setting names (``SANCTIONS``: any
    sanctions REVIEW) needs two different reviewers to approve it."""
    names = {n.upper() for n in second_review_for}
    return any(
        str(r.get("check", "")).upper() in names or str(r.get("code", "")).upper() in names
        for r in app.decision_reasons
    )


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
    builder = ChangeBuilder(app, app, now)
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
        ChangeBuilder(app, app, now)
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
        ChangeBuilder(app, app, now)
        .apply(EventType.RELEASED, Actor("reviewer", reviewer_id), "claim released", {}, claim=None)
        .build()
    )


def view_document(app: Application, reviewer_id: str, reviewer_email: Optional[str], now: dt.datetime) -> Change:
    """Record that a reviewer is shown the identity document (before the link is handed out)."""
    if app.document_key is None:
        raise NoDocument("purged" if app.purged_at else "not uploaded")
    details = {"document_key": app.document_key, "reviewer_email": reviewer_email}
    return (
        ChangeBuilder(app, app, now)
        .apply(EventType.DOCUMENT_VIEWED, Actor("reviewer", reviewer_id), "identity document viewed", details)
        .build()
    )


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


def record_view(
    app: Application,
    reviewer_id: str,
    now: dt.datetime,
    reviewer_email: Optional[str] = None,
    screening_case: Optional[str] = None,
) -> Change:
    """The audit event of one read of the application's personal data by a reviewer (named in words); for the
    read of a customer's re-screening case (``screening_case``), the case's id, which hides it from the applicant
    (a reviewer reading a customer's approved application would tell them of the case: tipping off)."""
    details: dict[str, Any] = {"reviewer_email": reviewer_email} if reviewer_email else {}
    if screening_case:
        details[SCREENING_CASE] = screening_case
    return (
        ChangeBuilder(app, app, now)
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
