"""What an applicant may be told about the checks on them: no tipping off.

Telling a person that they are being screened against sanctions lists, that a list entry may name them, or
that their face was found on another application warns exactly the people those checks look for (tipping
off, an offence under anti-money-laundering law in most regimes). Everything the applicant can read -- their
application, its history, the WebSocket frames pushed to them -- goes through this module; staff views never do,
and keep every detail.

* The sanctions check is never shown to the applicant, whatever its outcome: not in ``checks``, not as a
  ``check.completed`` event. Its absence only when it flags would itself tell, so it is always absent.
* A reason that would tell (any reason of the sanctions check; the same face on another application) is left
  out of the check it belongs to (whose outcome is then that of the reasons shown: the face comparison itself
  passed) and the decision names it as one neutral reason of the same outcome, filed under the check
  ``review``: "We need to check a few details" (REVIEW), "We cannot open an account for this application"
  (FAIL). A sanctions hit and a duplicate face therefore look the same to the applicant, and like nothing
  but "in review".
* Events that exist only because of such a review are not shown: a false-positive mark, a customer's
  re-screening case (``workflow.states.HIDDEN_FROM_APPLICANT``).
* Nor is the bank's own work on any case (``STAFF_WORK``): staff reads, claims and releases, the four-eyes
  recommendation, the SLA's escalation. Four eyes are asked for sanctions cases, so a second reviewer opening
  and claiming the case, or "awaiting a second reviewer", would tell; hiding staff work on every case, not only on
  sanctions cases, is what keeps the rule from telling by itself. The applicant is shown outcomes: what they did,
  what was asked of them, the checks' results, decisions and changes of state.

Hidden events must leave no trace either, or their absence tells: the applicant's numbering counts only the
events shown to them (``numbered``, kept at commit; counted on from a page's cursor by ``shown_event`` for a read
of the history; ``head_from_history`` recounts a record kept before, or under an older rule). Their history numbers
those events 1..n (``seq``) and leaves out ``prev_hash`` (the previous recorded event may be a hidden one); each
event keeps its recorded ``hash`` as an opaque id (staff can match it); ``chain_intact`` is computed on the recorded
events a page reads, hidden ones included. The application's ``version`` and ``updated_at`` they read are those of the
last change that showed them an event (``version``, ``updated_at``), and their WebSocket frames carry the same
numbering (``live_event``). So what they see of an application with a sanctions review is what they would see of
it had the review never happened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from . import face_workflow
from .checks import SANCTIONS, Outcome, Reason, worst
from .checks import for_applicant as check_details_for_applicant
from .face import DUPLICATE_FACE
from .workflow.application import Application, Change
from .workflow.history import Actor, HistoryEvent
from .workflow.review import for_applicant as staff_as_their_role
from .workflow.states import EventType, shown_to_applicant

#: Checks the applicant never sees at all.
WITHHELD_CHECKS = frozenset({SANCTIONS})
#: Reason codes never shown, whatever check records them, with the outcome each one carries (the summary of
#: a decision names codes without outcomes). ``domain.sanctions.screening``'s codes are repeated here, not
#: imported (the notifier would load the screening engine): tests/unit/test_disclosure.py keeps them equal.
WITHHELD_CODES: Mapping[str, Outcome] = {
    DUPLICATE_FACE: Outcome.REVIEW,
    "SANCTIONS_MATCH": Outcome.FAIL,
    "SANCTIONS_POSSIBLE_MATCH": Outcome.REVIEW,
    "SANCTIONS_INDEX_UNAVAILABLE": Outcome.REVIEW,
}
#: What the applicant reads instead, by outcome.
NEUTRAL_REASONS: Mapping[Outcome, Reason] = {
    Outcome.REVIEW: Reason("IN_REVIEW", Outcome.REVIEW, "We need to check a few details"),
    Outcome.FAIL: Reason("NOT_APPROVED", Outcome.FAIL, "We cannot open an account for this application"),
}
#: The check every neutral reason of a decision is filed under (a sanctions hit and a duplicate face alike).
NEUTRAL_CHECK = "review"
#: The bank's own work on a case, never shown to the applicant whatever the case: staff reads of their data
#: (``review.viewed``, ``document.viewed``, ``selfie.viewed``), claims and releases of the case, the four-eyes
#: recommendation and the review SLA's escalation. How much work a case took (a second reviewer opening and
#: claiming it, a longer wait past the SLA) is what a sanctions case looks like, so none of it is told; the
#: applicant is told outcomes: what they did, what was asked of them, checks' results, decisions and states.
STAFF_WORK = frozenset(
    e.value
    for e in (
        EventType.VIEWED,
        EventType.DOCUMENT_VIEWED,
        EventType.SELFIE_VIEWED,
        EventType.CLAIMED,
        EventType.RELEASED,
        EventType.RECOMMENDED,
        EventType.ESCALATED,
    )
)
#: Event types never shown to the applicant (besides the sanctions check's result).
HIDDEN_EVENTS = frozenset({*(e.value for e in EventType if not shown_to_applicant(e)), *STAFF_WORK})
#: Decisions of the consolidation: their reason is the summary ``check:code; check:code`` of their reasons.
_DECISIONS = frozenset({EventType.APPROVED.value, EventType.REJECTED.value, EventType.FLAGGED.value})
_BIOMETRIC = frozenset(e.value for e in face_workflow.BIOMETRIC_EVENTS)


def withheld(reason: Mapping[str, Any], check: Optional[str] = None) -> bool:
    """Whether this reason (of ``check``, or of the check it names) would tell the applicant of a screening."""
    code = str(reason.get("code") or "")
    return (check or reason.get("check")) in WITHHELD_CHECKS or code in WITHHELD_CODES or code.startswith("SANCTIONS")


def _outcome_of(code: object, recorded: object = None) -> Outcome:
    """A reason's outcome as recorded; else (a summary names codes only) the one its withheld code carries."""
    try:
        return Outcome(recorded)
    except ValueError:
        return WITHHELD_CODES.get(str(code), Outcome.REVIEW)


def reasons(found: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A decision's reasons (each names its check) as the applicant may read them: each telling one becomes
    the neutral reason of its outcome under the check ``review``, once."""
    shown: list[dict[str, Any]] = []
    for recorded in found:
        reason = dict(recorded)
        if withheld(reason):
            outcome = _outcome_of(reason.get("code"), reason.get("outcome"))
            if outcome not in NEUTRAL_REASONS:
                continue  # a withheld reason that passed says nothing worth saying
            reason = {"check": NEUTRAL_CHECK, **NEUTRAL_REASONS[outcome].to_dict()}
        if reason not in shown:
            shown.append(reason)
    return shown


def check(result: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded check as the applicant sees it: reviewer-only details withheld, telling reasons left out
    and its outcome that of the reasons shown (the decision's neutral reason says that more is being looked at)."""
    shown = check_details_for_applicant(result)
    name = str(result.get("check") or "")
    recorded = [dict(r) for r in result.get("reasons") or ()]
    kept = [r for r in recorded if not withheld(r, name)]
    if len(kept) < len(recorded):
        shown["reasons"] = kept
        shown["outcome"] = worst(_outcome_of(r.get("code"), r.get("outcome")) for r in kept).value
    return shown


def checks(recorded: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The application's checks, by name, as the applicant sees them (the withheld checks left out)."""
    return {name: check(result) for name, result in recorded.items() if name not in WITHHELD_CHECKS}


def decision_summary(summary: str) -> str:
    """The consolidation's ``check:code; check:code`` summary with each telling part neutral."""
    parts: list[str] = []
    for part in summary.split("; "):
        name, colon, code = part.partition(":")
        if colon and withheld({"check": name, "code": code}):
            part = f"{NEUTRAL_CHECK}:{NEUTRAL_REASONS[_outcome_of(code)].code}"
        if part not in parts:
            parts.append(part)
    return "; ".join(parts)


def _check_of(event: Mapping[str, Any]) -> Optional[str]:
    details = event.get("details")
    if isinstance(details, Mapping) and isinstance(details.get("check"), str):
        return str(details["check"])
    actor = Actor.parse(str(event.get("actor") or ""))  # "system:sanctions-check" (the topic carries no details)
    return actor.id.removesuffix("-check") if actor.kind == "system" and actor.id.endswith("-check") else None


def _kind(event: Mapping[str, Any]) -> Any:
    """The event's type as its value (recorded events carry the enum, the topic's the string)."""
    kind = event.get("type")
    return kind.value if isinstance(kind, EventType) else kind


def shown(event: Mapping[str, Any]) -> bool:
    """Whether the applicant sees this event (recorded, or as the topic carries it) at all."""
    kind = _kind(event)
    if kind in HIDDEN_EVENTS:  # a screening's own events, and staff work (a re-screening case's read among them)
        return False
    return not (kind == EventType.CHECK_COMPLETED.value and _check_of(event) in WITHHELD_CHECKS)


def event(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """An event the applicant sees (``shown``), as they see it: check results and decisions without what would
    tell, biometric events without scores or image locations, staff as their role without internal reasons."""
    told = dict(recorded)
    kind = _kind(told)
    details = told.get("details")
    if kind == EventType.CHECK_COMPLETED.value and isinstance(details, Mapping):
        told["details"] = check(details)
        if told["details"].get("outcome") != details.get("outcome"):  # "face check: REVIEW" would tell
            told["reason"] = f"{details.get('check')} check: {told['details']['outcome']}"
    elif kind == EventType.CHECK_COMPLETED.value:  # as the topic carries it: no details to tell the outcome by
        told["reason"] = f"{_check_of(told) or 'a'} check finished"
    elif kind in _BIOMETRIC and isinstance(details, Mapping):
        told["details"] = face_workflow.for_applicant(details)
    elif kind in _DECISIONS and str(told.get("actor") or "").startswith("system:"):
        told["reason"] = decision_summary(str(told.get("reason") or ""))
        if isinstance(details, Mapping):
            told["details"] = {
                **details,
                **({"reasons": reasons(details["reasons"])} if isinstance(details.get("reasons"), list) else {}),
            }
    return staff_as_their_role(told)


# --- the applicant's numbering: hidden events leave no trace ----------------------------------------------------


def shown_event(recorded: HistoryEvent) -> bool:
    """Whether the applicant sees this recorded event (``shown``)."""
    return shown({"type": recorded.type, "details": recorded.details, "actor": recorded.actor})


def version(app: Application) -> int:
    """The application's version as the applicant reads it: that of the last change that showed them an event
    (a record from before it was kept: the recorded one)."""
    return app.shown_version if app.shown_version is not None else app.version


def updated_at(app: Application) -> str:
    """When the application last changed, as the applicant reads it (as ``version``)."""
    return app.shown_at if app.shown_at is not None else app.updated_at


def seq(app: Application) -> int:
    """How many events of the application's history the applicant is shown (the subscription's ``seq``); 0 for a
    record from before it was kept (a client then reads the history over REST, which numbers it)."""
    return app.shown_seq if app.shown_seq is not None else 0


def numbered(change: Change) -> Change:
    """The change with the applicant's numbering, as ``ApplicationService.commit`` keeps it: each event shown to
    them numbered by its place among those (``shown_seq``; the others None), and the application's ``shown_seq``
    (how many they are shown), ``shown_version`` and ``shown_at`` (of the last change that showed them one). A
    change of hidden events only leaves all three as they were: to the applicant it never happened.

    An application recorded before ``shown_seq`` was kept has no count to go on (none is read here: most writers
    may not read the history): its events stay unnumbered (the notifier numbers them from the history) and
    ``version`` / ``updated_at`` go on from the recorded ones."""
    before = change.before
    count = (before.shown_seq if before is not None else 0) or 0
    known = before is None or before.shown_seq is not None
    events: list[HistoryEvent] = []
    last_at: Optional[str] = None
    for recorded in change.events:
        position: Optional[int] = None
        if shown_event(recorded):
            count += 1
            position, last_at = count, recorded.at
        events.append(dataclasses.replace(recorded, shown_seq=position if known else None))
    version_before, at_before = (version(before), updated_at(before)) if before is not None else (0, None)
    after = dataclasses.replace(
        change.after,
        shown_seq=count if known else None,
        shown_version=version_before + 1 if last_at is not None else version_before,
        shown_at=last_at or at_before or change.after.updated_at,
    )
    return Change(before, after, tuple(events))


def head_from_history(app: Application, events: Sequence[HistoryEvent]) -> Optional[Application]:
    """The application with the applicant's head (``shown_seq``, ``shown_version``, ``shown_at``) recounted from its
    recorded history under today's rule, or None when the stored head needs none: for a record from before the
    numbering was kept, or numbered under an older rule that showed events today's hides (staff work), which then
    counts more events than today's (the backfill, ``scripts/backfill_shown.py``). A head whose count is today's was
    numbered under a rule that agrees on every event: kept as it is, version and all.

    Recounted: how many events they are shown, when the last was, and as the version the number of instants at
    which they were shown events (the events of one change share their instant; two changes in one millisecond
    count once: a smaller number, and a function of the shown events alone, so a hidden review moves none of it)."""
    shown_events = [e for e in events if shown_event(e)]
    if app.shown_seq is not None and app.shown_seq == len(shown_events):
        return None
    instants = len({e.at for e in shown_events})
    return dataclasses.replace(
        app,
        shown_seq=len(shown_events),
        shown_version=instants,
        shown_at=shown_events[-1].at if shown_events else app.updated_at,
    )


def shown_history(events: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    """The events of a recorded history (in order) that the applicant is shown, each numbered by its place among
    them (``shown_seq``, counted here: events recorded before it was kept are numbered too)."""
    return [dataclasses.replace(e, shown_seq=n) for n, e in enumerate((e for e in events if shown_event(e)), start=1)]


def _renumbered(told: Mapping[str, Any], position: int) -> dict[str, Any]:
    """The applicant's numbering on an event they are shown: ``seq`` its place among those, the ``event_id`` named
    by it, and no ``prev_hash`` (the event recorded before it may be one they are not shown)."""
    renumbered = {k: v for k, v in told.items() if k not in ("prev_hash", "shown_seq")}
    renumbered["seq"] = position
    if "event_id" in renumbered:
        renumbered["event_id"] = f"{renumbered.get('application_id')}#{position}"
    return renumbered


def history_event(recorded: HistoryEvent) -> dict[str, Any]:
    """An event of ``shown_history`` as the applicant reads it in their history: ``event``, renumbered; its
    recorded ``hash`` kept as an opaque id (a reviewer can find the event by it)."""
    if recorded.shown_seq is None:
        raise ValueError("not an event of the applicant's numbering (shown_history)")
    return _renumbered(event(recorded.to_dict()), recorded.shown_seq)


def live_event(published: Mapping[str, Any], position: int) -> dict[str, Any]:
    """An event as the topic carries it (``shown``), as the applicant's WebSocket frames carry it: ``event``,
    numbered by ``position``, its place among the events shown to them (the topic's ``shown_seq``)."""
    return _renumbered(event(published), position)
