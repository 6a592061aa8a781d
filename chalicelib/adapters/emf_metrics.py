"""The Metrics port over Powertools' EMF metrics (chalicelib/observability.py flushes them once per invocation)."""

from __future__ import annotations

from ..observability import count
from ..services.ports import Metrics


class EmfMetrics(Metrics):
    """Counts go to the invocation's EMF metric set; the middleware flushes it when the invocation ends."""

    def count(self, name: str, value: int = 1) -> None:
        count(name, value)
