"""How applications and history events look in API responses."""
from __future__ import annotations

from typing import Any

from .domain.workflow import Application, HistoryEvent


def application(app: Application) -> dict[str, Any]:
    return {
        "id": app.application_id,
        "state": app.state.value,
        "version": app.version,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "state_since": app.state_since,
        "declared": dict(app.declared),
        "checks": {name: dict(result) for name, result in app.checks.items()},
        "decision_reasons": [dict(r) for r in app.decision_reasons],
        "document_received": app.document_key is not None,
        "escalated_at": app.escalated_at,
        "purged_at": app.purged_at,
    }


def summary(app: Application) -> dict[str, Any]:
    return {"id": app.application_id, "state": app.state.value, "version": app.version,
            "created_at": app.created_at, "updated_at": app.updated_at}


def event(evt: HistoryEvent) -> dict[str, Any]:
    return evt.to_dict()
