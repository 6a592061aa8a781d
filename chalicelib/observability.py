"""Structured JSON logs and CloudWatch metrics (EMF) through Powertools.

The service name must differ from the Chalice app name: Chalice configures a
logger named after the app, and a Powertools logger of the same name would
print every line twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .services.ports import Metrics as MetricsPort

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "account-opening-svc")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AccountOpening"), service=SERVICE)

__all__ = ["logger", "metrics", "MetricUnit", "count", "EmfMetrics"]


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    """Emit the metrics collected by one invocation (a no-op when there are none)."""
    if metrics.metric_set:
        metrics.flush_metrics()


def middleware(event: object, get_response: Callable[[object], object]) -> object:
    """Around every handler (REST, WebSocket, events, schedules): emit its metrics once."""
    try:
        return get_response(event)
    finally:
        flush()


class EmfMetrics(MetricsPort):
    """The Metrics port over Powertools' EMF metrics (flushed once per invocation)."""

    def count(self, name: str, value: int = 1) -> None:
        count(name, value)
