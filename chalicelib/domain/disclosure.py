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
  re-screening case (``workflow.states.HIDDEN_FROM_APPLICANT``), and the four-eyes recommendation (four eyes are
  asked for sanctions cases, so "awaiting a second reviewer" would tell).

The hashes the applicant sees still cover what was recorded; ``chain_intact`` is computed on the whole history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional

from . import face_workflow
from .checks import SANCTIONS, Outcome, Reason, worst
from .checks import for_applicant as check_details_for_applicant
from .face import DUPLICATE_FACE
from .workflow.history import Actor
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
#: Event types never shown to the applicant (besides the sanctions check's result).
HIDDEN_EVENTS = frozenset({*(e.value for e in EventType if not shown_to_applicant(e)), EventType.RECOMMENDED.value})
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
    if kind in HIDDEN_EVENTS:
        return False
    return not (kind == EventType.CHECK_COMPLETED.value and _check_of(event) in WITHHELD_CHECKS)


def event(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """An event the applicant sees (``shown``), as they see it: check results and decisions without what would
    tell, biometric events without scores or image locations, staff as their role without internal reasons."""
    shown_event = dict(recorded)
    kind = _kind(shown_event)
    details = shown_event.get("details")
    if kind == EventType.CHECK_COMPLETED.value and isinstance(details, Mapping):
        shown_event["details"] = check(details)
        if shown_event["details"].get("outcome") != details.get("outcome"):  # "face check: REVIEW" would tell
            shown_event["reason"] = f"{details.get('check')} check: {shown_event['details']['outcome']}"
    elif kind == EventType.CHECK_COMPLETED.value:  # as the topic carries it: no details to tell the outcome by
        shown_event["reason"] = f"{_check_of(shown_event) or 'a'} check finished"
    elif kind in _BIOMETRIC and isinstance(details, Mapping):
        shown_event["details"] = face_workflow.for_applicant(details)
    elif kind in _DECISIONS and str(shown_event.get("actor") or "").startswith("system:"):
        shown_event["reason"] = decision_summary(str(shown_event.get("reason") or ""))
        if isinstance(details, Mapping):
            shown_event["details"] = {
                **details,
                **({"reasons": reasons(details["reasons"])} if isinstance(details.get("reasons"), list) else {}),
            }
    return staff_as_their_role(shown_event)
