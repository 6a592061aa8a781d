"""Health: can the service reach what it needs right now?"""
from __future__ import annotations

import time
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist

from . import settings
from .models import ApplicationModel, HistoryModel


def _dynamodb() -> None:
    for model in (ApplicationModel, HistoryModel):
        try:
            model.get("health-check-probe", *([0] if model is HistoryModel else []))
        except DoesNotExist:
            pass


def _parameters() -> None:
    settings.policy()


PROBES: dict[str, Callable[[], None]] = {"dynamodb": _dynamodb, "parameters": _parameters}


def report() -> tuple[bool, dict[str, Any]]:
    results: dict[str, Any] = {}
    healthy = True
    for name, probe in PROBES.items():
        started = time.perf_counter()
        try:
            probe()
            results[name] = {"status": "ok"}
        except Exception as error:  # any failure makes the service unhealthy; say which
            healthy = False
            results[name] = {"status": "error", "error": type(error).__name__}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return healthy, {"status": "ok" if healthy else "degraded", "checks": results}
