"""How applications, history events and review items look in API responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ..domain import disclosure, face_evidence
from ..domain.checks import FACE
from ..domain.face import similarity_band
from ..domain.policy import Policy
from ..domain.sanctions.rescreening import ScreeningCase
from ..domain.workflow import review
from ..domain.workflow.application import Application, iso, parse_iso
from ..domain.workflow.history import HistoryEvent
from ..domain.workflow.states import State
from ..services.applications import History
from ..services.face import Completion, ConsentStatus, SessionView
from ..services.face_review import SelfieLink
from ..services.operations import Job, Workflow
from ..services.ports import QueueStatus
from ..services.review import Detail, DocumentLink, applicant_name


def application(app: Application, reviewer: bool = False) -> dict[str, Any]:
    """The application; the applicant's view tells nothing of a screening (``domain.disclosure``: no sanctions
    check, no list entry, no other application with the same face, neutral reasons instead)."""
    return {
        **summary(app, reviewer),
        "state_since": app.state_since,
        "declared": dict(app.declared),
        "checks": {name: dict(result) for name, result in app.checks.items()}
        if reviewer
        else disclosure.checks(app.checks),
        "decision_reasons": [dict(r) for r in app.decision_reasons]
        if reviewer
        else disclosure.reasons(app.decision_reasons),
        "document_received": app.document_key is not None,
        "escalated_at": app.escalated_at,
        "purged_at": app.purged_at,
        "face": face(app, reviewer),
    }


def created(app: Application, uploads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The create's answer: the application and its upload forms (so the client needs no second call)."""
    return {**application(app), "uploads": uploads}


def face(app: Application, reviewer: bool = False) -> dict[str, Any]:
    """Where the face check stands (issue 17): consent, the liveness check, the check itself; for reviewers
    also what it found (the figures of ``checks.face.details``, by name) and whether a selfie can be shown."""
    record = app.biometrics
    given = face_evidence.consent(record)
    if face_evidence.liveness_settled(record):
        state = "completed"
    elif face_evidence.open_session(record) is not None:
        state = "in_progress"
    else:
        state = "retry" if face_evidence.sessions(record) else "not_started"
    shown: dict[str, Any] = {
        "consent": {"text_version": given["text_version"], "given_at": given["at"]} if given else None,
        "consent_given": given is not None,
        "liveness_state": state,
        "liveness_completed": state == "completed",
        "attempts": face_evidence.attempts_used(record),
        "check_requested": face_evidence.face_requested(record),
        "purged_at": record.get("purged_at"),
    }
    if not reviewer:
        return shown
    details = (app.checks.get(FACE) or {}).get("details") or {}
    recorded = face_evidence.liveness(record)
    liveness = details.get("liveness") or (
        {k: recorded.get(k) for k in ("status", "confidence", "passed")}
        | {"attempts": len(record.get("attempts") or ())}
        if recorded
        else None
    )
    selfie = details.get("selfie") or {}
    document_face = (details.get("document") or {}).get("face") or {}
    shown.update(
        {
            "selfie_available": face_evidence.reference(record) is not None,
            "attempt_results": [
                {
                    "session_id": str(a.get("session_id")),
                    "status": str(a.get("status")),
                    "confidence": a.get("confidence"),
                    "passed": bool(a.get("passed")),
                }
                for a in record.get("attempts") or ()
            ],
            "liveness": liveness,
            "similarity": details.get("similarity"),
            "similarity_band": _band(details),
            "thresholds": details.get("thresholds"),
            "quality_findings": list(selfie.get("findings") or ()),
            "selfie_face_count": selfie.get("faces"),
            "document_face_box": document_face.get("bounding_box"),
            "duplicates": list(details.get("duplicates") or ()),
            "earlier_applications": list(details.get("earlier_applications") or ()),
        }
    )
    return shown


def _band(details: Mapping[str, Any]) -> Optional[str]:
    thresholds = details.get("thresholds") or {}
    if "match" not in thresholds or "review" not in thresholds:
        return None
    return similarity_band(details.get("similarity"), float(thresholds["review"]), float(thresholds["match"]))


def summary(app: Application, reviewer: bool = False) -> dict[str, Any]:
    """Staff read the recorded ``version`` and ``updated_at``; the applicant those of the last change that showed
    them an event (``disclosure.version``: a sanctions review of them moves neither)."""
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version if reviewer else disclosure.version(app),
        "created_at": app.created_at,
        "updated_at": app.updated_at if reviewer else disclosure.updated_at(app),
    }


def event(evt: HistoryEvent) -> dict[str, Any]:
    """An event as recorded: the staff view (the applicant's is ``disclosure.history_event``)."""
    return evt.to_dict()


def history(found: History) -> dict[str, Any]:
    """A page of the applicant's history (``ApplicationService.history``): only the events shown to them, numbered
    1..n among those, without ``prev_hash`` (``disclosure.history_event``: no gap, no link to a hidden event; staff
    as their role, without internal reasons; nothing of a screening, no staff work); ``chain_intact`` covers the
    recorded events the page read, hidden ones included (``ApplicationService.history``)."""
    return {
        "items": [disclosure.history_event(e) for e in found.events],
        "chain_intact": found.intact,
        "next_cursor": found.next_cursor,
    }


def page(items: list[dict[str, Any]], next_cursor: Any) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def review_state(app: Application, viewer: str, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    """Where a case in review stands, for reviewer ``viewer`` (a sub): claim, four eyes, SLA."""
    holder = review.claim_holder(app, now)
    rec = app.recommendation
    needs = review.needs_second_review(app, policy.second_review_for)
    flagged = parse_iso(app.state_since)
    age = (now - flagged).total_seconds() / 3600
    return {
        "claim": None
        if holder is None
        else {"by": holder.get("reviewer_email"), "until": holder["until"], "mine": holder.get("reviewer") == viewer},
        "recommendation": None
        if rec is None
        else {
            "decision": rec["decision"],
            "by": rec.get("reviewer_email"),
            "at": rec["at"],
            "reason": rec.get("reason", ""),
            "mine": rec.get("reviewer") == viewer,
        },
        "needs_second_review": needs,
        "awaiting_second_review": needs and rec is not None and app.state is State.FLAGGED,
        "age_hours": round(age, 1),
        "sla_due_at": iso(flagged + dt.timedelta(hours=policy.review_sla_hours)),
        "overdue": age >= policy.review_sla_hours,
    }


def queue_item(app: Application, viewer: str, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    """What a reviewer needs to pick a case: who (name, birth date, nationality), why it was flagged,
    since when and against which SLA, who holds it, and whether it awaits a second reviewer."""
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version,
        "flagged_at": app.state_since,
        "created_at": app.created_at,
        "escalated_at": app.escalated_at,
        "applicant_name": applicant_name(app) or None,
        "date_of_birth": app.declared.get("date_of_birth"),
        "nationality": app.declared.get("nationality"),
        "decision_reasons": [dict(r) for r in app.decision_reasons],
        **review_state(app, viewer, now, policy),
    }


def actor_names(events: Sequence[HistoryEvent]) -> dict[str, str]:
    """Staff actors in words: each reviewer's verified e-mail, as the history itself records it."""
    names: dict[str, str] = {}
    for evt in events:
        email = evt.details.get("reviewer_email") if isinstance(evt.details, Mapping) else None
        if evt.actor.startswith("reviewer:") and isinstance(email, str) and email:
            names[evt.actor] = email
    return names


def review_detail(found: Detail, viewer: str, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    """The whole application (check details included), who applied, the full audit history with
    reviewers named, and where the case stands in review."""
    app = found.application
    names = actor_names(found.history)
    return {
        **application(app, reviewer=True),
        "applicant_id": app.applicant_id,
        "history": [{**event(e), "actor_name": names.get(e.actor)} for e in found.history],
        "chain_intact": found.chain_intact,
        "review": review_state(app, viewer, now, policy) if app.state is State.FLAGGED else None,
    }


def decision(app: Application, viewer: str, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    """The application after a reviewer's decision (four eyes: perhaps a recommendation, still FLAGGED)."""
    return {
        **application(app, reviewer=True),
        "review": review_state(app, viewer, now, policy) if app.state is State.FLAGGED else None,
    }


def document_link(link: DocumentLink) -> dict[str, Any]:
    return {"url": link.url, "content_type": link.content_type, "expires_at": link.expires_at}


# --- the face check (issue 17) ------------------------------------------------------------------


def consent(given: Mapping[str, Any]) -> dict[str, Any]:
    return {"text_version": given["text_version"], "given_at": given["at"]}


def consent_text(status: ConsentStatus, text: str) -> dict[str, Any]:
    return {
        "text_version": status.text_version,
        "text": text,
        "media_type": "text/plain",
        "given": consent(status.given) if status.given else None,
    }


def liveness_session(session: SessionView, region: str) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "expires_at": session.expires_at,
        "region": region,
        "attempt": session.attempt,
        "attempts_left": session.attempts_left,
    }


def liveness_completion(done: Completion) -> dict[str, Any]:
    return {
        "session_id": done.session_id,
        "status": done.status,
        "retry_allowed": done.retry_allowed,
        "attempts_left": done.attempts_left,
    }


def selfie_link(link: SelfieLink) -> dict[str, Any]:
    return {"url": link.url, "content_type": link.content_type, "expires_at": link.expires_at}


def workflow(found: Workflow) -> dict[str, Any]:
    """The state machine as data: states with live counts, and every transition of the table."""
    return {
        "states": [
            {"state": s.state.value, "final": s.final, "count": s.count, "oldest_since": s.oldest_since}
            for s in found.states
        ],
        "transitions": [
            {"event": m.event, "from": m.source.value if m.source else None, "to": m.target.value}
            for m in found.transitions
        ],
        "as_of": found.as_of,
    }


def queues(found: Sequence[QueueStatus]) -> dict[str, Any]:
    return {
        "queues": [
            {
                "name": q.name,
                "depth": q.depth,
                "in_flight": q.in_flight,
                "dlq_depth": q.dlq_depth,
                "queue": q.queue,
                "dead_letter_queue": q.dead_letter_queue,
                "redrivable": q.redrivable,
            }
            for q in found
        ]
    }


def jobs(found: Sequence[Job]) -> dict[str, Any]:
    return {
        "jobs": [
            {
                "name": j.name,
                "schedule": j.schedule,
                "description": j.description,
                "last_run": None
                if j.last_run is None
                else {
                    "started_at": j.last_run.started_at,
                    "finished_at": j.last_run.finished_at,
                    "ok": j.last_run.ok,
                    "summary": dict(j.last_run.summary),
                },
            }
            for j in found
        ]
    }


def screening_case(case: ScreeningCase) -> dict[str, Any]:
    """A customer screening case as reviewers see it (the customer's profile, the entry, the resolution)."""
    body = case.to_dict()
    body.pop("applicant_id", None)  # the Cognito sub: not a reviewer's business
    for word in ("resolution", "recommendation"):
        if body.get(word):
            body[word] = {k: v for k, v in body[word].items() if k != "reviewer"}
    return body


def screening_case_detail(case: ScreeningCase, app: Application) -> dict[str, Any]:
    return {**screening_case(case), "application": summary(app, reviewer=True)}
