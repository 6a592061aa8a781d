"""Reviewers' word on sanctions matches: a candidate cleared as a false positive, and the cases a
customer's re-screening opens (cleared or confirmed), each under four eyes when the setting asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from ..emails import may_be_same_mailbox
from .application import Application, Change, ChangeBuilder, iso
from .errors import (
    AlreadyCleared,
    CaseAlreadyResolved,
    NoSuchCandidate,
    NotAllowed,
    NothingToDo,
    SecondReviewerRequired,
)
from .history import Actor
from .states import EventType


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
            ChangeBuilder(app, app, now)
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
        ChangeBuilder(app, app, now)
        .apply(EventType.SCREENING_FALSE_POSITIVE, Actor("reviewer", reviewer_id), reason, record, checks=checks)
        .build()
    )


#: A re-screening case's statuses: open, cleared (not this customer), confirmed (the listed person).
CASE_OPEN, CASE_CLEARED, CASE_CONFIRMED = "OPEN", "CLEARED", "CONFIRMED"

#: Where a re-screening hit is recorded in the application, so a replay finds it (inside the sanctions
#: check's details, beside ``false_positives``): case id -> {"status", "entry"}.
RESCREENING_CASES = "rescreening_cases"


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
        ChangeBuilder(app, app, now)
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
                ChangeBuilder(app, app, now)
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
        ChangeBuilder(app, app, now)
        .apply(EventType.CUSTOMER_SCREENING_RESOLVED, Actor("reviewer", reviewer_id), reason, record, checks=checks)
        .build()
    )
