"""Health: can the service reach what it needs right now?"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


class HealthCheck:
    """Runs named probes; any exception makes the service unhealthy, and says which."""

    def __init__(self, probes: Mapping[str, Callable[[], object]]):
        self.probes = probes

    def report(self) -> tuple[bool, dict[str, Any]]:
        results: dict[str, Any] = {}
        healthy = True
        for name, probe in self.probes.items():
            started = time.perf_counter()
            try:
                probe()
                results[name] = {"status": "ok"}
            except Exception as error:  # noqa: BLE001 - any failure makes the service unhealthy; say which
                healthy = False
                results[name] = {"status": "error", "error": type(error).__name__}
            results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
        return healthy, {"status": "ok" if healthy else "degraded", "checks": results}
