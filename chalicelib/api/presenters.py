"""How applications, history events and review items look in API responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.checks import for_applicant
from ..domain.workflow import Application, EventType, HistoryEvent
from ..domain.workflow import for_applicant as event_for_applicant
from ..services.applications import History
from ..services.operations import Job, Workflow
from ..services.ports import QueueStatus
from ..services.review import Detail, DocumentLink


def application(app: Application, reviewer: bool = False) -> dict[str, Any]:
    """The application; the applicant's view withholds reviewer-only check details (a sanctions match)."""
    return {
        **summary(app),
        "state_since": app.state_since,
        "declared": dict(app.declared),
        "checks": {name: dict(result) if reviewer else for_applicant(result) for name, result in app.checks.items()},
        "decision_reasons": [dict(r) for r in app.decision_reasons],
        "document_received": app.document_key is not None,
        "escalated_at": app.escalated_at,
        "purged_at": app.purged_at,
    }


def created(app: Application, uploads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The create's answer: the application and its upload forms (so the client needs no second call)."""
    return {**application(app), "uploads": uploads}


def summary(app: Application) -> dict[str, Any]:
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
    }


def event(evt: HistoryEvent, reviewer: bool = False) -> dict[str, Any]:
    shown = evt.to_dict()
    if reviewer:
        return shown
    if evt.type is EventType.CHECK_COMPLETED:
        shown["details"] = for_applicant(shown["details"])  # the hash still covers what was recorded
    return event_for_applicant(shown)  # staff as their role, no sub, no internal reason


def history(found: History, reviewer: bool = False) -> dict[str, Any]:
    """The history; the applicant's view shows staff as their role, without internal reasons."""
    return {
        "items": [event(e, reviewer) for e in found.events],
        "chain_intact": found.intact,
        "next_cursor": found.next_cursor,
    }


def page(items: list[dict[str, Any]], next_cursor: Any) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def queue_item(app: Application) -> dict[str, Any]:
    """What a reviewer needs to pick an application: why it was flagged and since when."""
    name = app.declared.get("full_name") or {}
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version,
        "flagged_at": app.state_since,
        "created_at": app.created_at,
        "escalated_at": app.escalated_at,
        "applicant_name": " ".join(p for p in (name.get("given_names"), name.get("surname")) if p) or None,
        "decision_reasons": [dict(r) for r in app.decision_reasons],
    }


def review_detail(found: Detail) -> dict[str, Any]:
    """The whole application (check details included), who applied, and the full audit history."""
    app = found.application
    return {
        **application(app, reviewer=True),
        "applicant_id": app.applicant_id,
        "history": [event(e, reviewer=True) for e in found.history],
        "chain_intact": found.chain_intact,
    }


def document_link(link: DocumentLink) -> dict[str, Any]:
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
            {"name": q.name, "depth": q.depth, "in_flight": q.in_flight, "dlq_depth": q.dlq_depth} for q in found
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
