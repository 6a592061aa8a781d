"""The checks' fan-in: each check's result recorded, the FACE check asked for when its evidence is in, and
the decision (approve, flag for review, reject) made in the same Change as the check that completes the
set, or that decides early (``CONSOLIDATE_EARLY``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .. import face_evidence
from ..checks import AWAITS_APPLICANT, FACE, IDENTITY, REQUIRED_CHECKS, CheckResult, Outcome, worst
from .application import Application, Change, ChangeBuilder
from .errors import NothingToDo
from .history import Actor
from .states import EventType, State

#: When the checks recorded so far decide the application without waiting for the rest, by state: the
#: worst outcome that does. Consolidation rejects on any FAIL, so once a check has failed nothing still to
#: come can change the decision; while no document has arrived, the applicant is not left to upload one
#: that cannot save the application (a later upload is recorded, never checked). In VERIFYING the
#: document is being read: the decision waits for every check, so the reviewer and the audit see all.
CONSOLIDATE_EARLY: Mapping[State, frozenset[Outcome]] = {State.AWAITING_DOCUMENTS: frozenset({Outcome.FAIL})}


def record_check(app: Application, result: CheckResult, now: dt.datetime, **fields: Any) -> Change:
    """Record one check; the check that completes the set consolidates, in the same Change, and so does one
    that decides early (``CONSOLIDATE_EARLY``). Exactly once: the Change is committed only from the version
    it read, and a check arriving after the decision finds CHECK_COMPLETED illegal from a final state.

    In VERIFYING the decision waits for every check, FACE included: nothing is approved without a face
    check that passed. Only a FAIL of the checks that need nothing more from the applicant decides without
    the face check (nothing it could find would save the application, so no selfie is asked for). The
    identity check (the document read) asks for the face check when the liveness check is already in.
    ``fields``: more of the application changed in the same event (the face check's collection ids)."""
    if result.check in app.checks:
        raise NothingToDo(f"{result.check} check already recorded")
    checks = {**app.checks, result.check: result.to_dict()}
    builder = ChangeBuilder(app, app, now).apply(
        EventType.CHECK_COMPLETED,
        Actor("system", f"{result.check}-check"),
        f"{result.check} check: {result.outcome.value}",
        result.to_dict(),
        checks=checks,
        **fields,
    )
    if decides(builder.app.state, builder.app.check_results()):
        _consolidate(builder)
    elif result.check == IDENTITY:
        request_face_check(builder)
    return builder.build()


def decides(state: State, results: Mapping[str, CheckResult]) -> bool:
    """Whether the checks recorded so far decide the application now (see ``record_check``)."""
    outcome = worst(r.outcome for r in results.values())
    if state == State.VERIFYING:
        if all(c in results for c in REQUIRED_CHECKS):
            return True
        system_checks = [c for c in REQUIRED_CHECKS if c not in AWAITS_APPLICANT]
        return outcome == Outcome.FAIL and all(c in results for c in system_checks)
    return outcome in CONSOLIDATE_EARLY.get(state, ())


def request_face_check(builder: ChangeBuilder) -> None:
    """Ask for the FACE check, once, when the second of its two pieces of evidence comes in: the document
    read (identity recorded) and the liveness check settled. Whichever transaction brings the second asks
    (a ``face.requested`` event, which the face-check queue receives); the conditional commit makes it one."""
    app = builder.app
    if app.state != State.VERIFYING or IDENTITY not in app.checks or FACE in app.checks:
        return
    if not face_evidence.liveness_settled(app.biometrics) or face_evidence.face_requested(app.biometrics):
        return
    builder.apply(
        EventType.FACE_REQUESTED,
        Actor("system", "face-check"),
        "the document is read and the liveness check is in: face check requested",
        {"liveness_session_id": face_evidence.liveness(app.biometrics).get("session_id")},
        biometrics=face_evidence.with_face_requested(app.biometrics, builder.now),
    )


def _consolidate(builder: ChangeBuilder) -> None:
    results = builder.app.check_results()
    outcome = worst(r.outcome for r in results.values())
    reasons = tuple({"check": name, **reason.to_dict()} for name, r in sorted(results.items()) for reason in r.reasons)
    event_type = {
        Outcome.FAIL: EventType.REJECTED,
        Outcome.REVIEW: EventType.FLAGGED,
        Outcome.PASS: EventType.APPROVED,
    }[outcome]
    summary = "; ".join(f"{r['check']}:{r['code']}" for r in reasons) or "all checks passed"
    builder.apply(
        event_type,
        Actor("system", "consolidation"),
        summary,
        {"outcome": outcome.value, "reasons": list(reasons)},
        decision_reasons=reasons,
    )
