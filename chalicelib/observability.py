"""Structured JSON logs, CloudWatch metrics (EMF) and X-Ray traces through Powertools.

The service name must differ from the Chalice app name: Chalice configures a
logger named after the app, and a Powertools logger of the same name would
print every line twice.

Every invocation of every handler (REST, WebSocket, events, schedules) passes
through :func:`middleware` (Chalice middleware: Powertools' decorators cannot
wrap Chalice handlers). It gives the invocation its own log keys, held per
thread (``chalice local`` serves requests from threads) and dropped when it
ends, so no line ever carries another invocation's ids:

- ``correlation_id``: the API Gateway request id (REST, WebSocket; REST lines
  also keep ``request_id``, the id the client gets back), the SQS message id
  (of each message, while it is handled), the SNS message id, the S3 event's
  request id (else its sequencer), the schedule event's id; for a stream batch
  the Lambda request id;
- ``function_name``, ``function_request_id``, ``cold_start``, ``handler``;
- ``application_id`` when the invocation (or the SQS message) is about one
  application: the path parameter, the document's key, the message's body.

Tracing: a Powertools ``Tracer`` (X-Ray, botocore patched) opens one
subsegment per invocation named after the handler, annotated with the cold
start, the correlation id and the application id. It is built on the first
invocation, and not at all while ``POWERTOOLS_TRACE_DISABLED`` is true (the
local stage's configuration): the X-Ray SDK costs nothing where it is off.
"""

from __future__ import annotations

import functools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "account-opening-svc")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AccountOpening"), service=SERVICE)

__all__ = ["logger", "metrics", "MetricUnit", "count", "about_application", "message_context"]

#: An application's documents live under ``applications/<application_id>/`` (adapters/s3_documents.py).
DOCUMENT_KEY = re.compile(r"^applications/(?P<application_id>[^/]+)/")
#: Ids are short tokens (uuid, ULID, ...); anything else is not taken as an application id.
APPLICATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
INVOCATION_KEYS = (
    "correlation_id",
    "request_id",
    "function_name",
    "function_request_id",
    "cold_start",
    "handler",
    "application_id",
)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    """Emit the metrics collected by one invocation (a no-op when there are none)."""
    if metrics.metric_set:
        metrics.flush_metrics()


# --- tracing ------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y")


@functools.cache
def tracer() -> Tracer | None:
    """The Powertools Tracer, built once on first use; None while POWERTOOLS_TRACE_DISABLED is true."""
    if _truthy(os.environ.get("POWERTOOLS_TRACE_DISABLED")):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=["botocore"])


@contextmanager
def _traced(name: str, annotations: dict[str, Any]) -> Iterator[None]:
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(name=f"## {name}") as subsegment:
        for key, value in annotations.items():
            if isinstance(value, (str, bool)):
                subsegment.put_annotation(key=key, value=value)
        yield


# --- log keys of one invocation ------------------------------------------------------

_cold_start = True


def _lambda_context(event: Any) -> Any:
    return getattr(event, "lambda_context", None) if hasattr(event, "uri_params") else getattr(event, "context", None)


def _handler_name(event: Any, get_response: Callable[[Any], Any]) -> str:
    if hasattr(event, "uri_params"):  # a REST request: its method and resource
        context = event.context or {}
        return f"{event.method} {context.get('resourcePath', event.path)}"
    inner: Any = get_response
    while hasattr(inner, "next_handler"):  # Chalice's middleware chain, down to the user's function
        inner = inner.next_handler
    return str(getattr(inner, "__name__", type(event).__name__))


def _first_record(raw: dict[str, Any]) -> dict[str, Any]:
    records = raw.get("Records")
    return records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}


def _application_in(message: object) -> str | None:
    """``application_id`` of a JSON object (an SQS or SNS message body), if it holds one."""
    if not isinstance(message, str) or not message.startswith("{"):
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    found = data.get("application_id") if isinstance(data, dict) else None
    return found if isinstance(found, str) and APPLICATION_ID.match(found) else None


def invocation_keys(event: Any, get_response: Callable[[Any], Any]) -> dict[str, Any]:
    """The log keys of one invocation (see the module's docstring)."""
    context = _lambda_context(event)
    lambda_request_id = getattr(context, "aws_request_id", None)
    keys: dict[str, Any] = {
        "handler": _handler_name(event, get_response),
        "function_name": getattr(context, "function_name", None),
        "function_request_id": lambda_request_id,
    }
    correlation: str | None = None
    application: str | None = None
    if hasattr(event, "uri_params"):  # REST
        request_context = event.context if isinstance(event.context, dict) else {}
        correlation = keys["request_id"] = request_context.setdefault("requestId", str(uuid.uuid4()))
        application = (event.uri_params or {}).get("application_id")
    else:
        raw = event.to_dict() if hasattr(event, "to_dict") else {}
        raw = raw if isinstance(raw, dict) else {}
        record = _first_record(raw)
        listed = raw.get("Records")
        records: list[Any] = listed if isinstance(listed, list) else []
        if isinstance(raw.get("requestContext"), dict):  # WebSocket
            correlation = raw["requestContext"].get("requestId")
        elif "s3" in record:
            s3 = record["s3"]
            correlation = (record.get("responseElements") or {}).get("x-amz-request-id") or (
                s3.get("object") or {}
            ).get("sequencer")
            match = DOCUMENT_KEY.match(str((s3.get("object") or {}).get("key", "")))
            application = match.group("application_id") if match else None
        elif "Sns" in record:
            correlation = record["Sns"].get("MessageId")
            application = _application_in(record["Sns"].get("Message"))
        elif "messageId" in record and len(records) == 1:  # one SQS message; a batch: per message_context
            correlation = record["messageId"]
            application = _application_in(record.get("body"))
        elif raw.get("detail-type") == "Scheduled Event":
            correlation = raw.get("id")
    keys["correlation_id"] = correlation or lambda_request_id or str(uuid.uuid4())
    if application and APPLICATION_ID.match(application):
        keys["application_id"] = application
    return {key: value for key, value in keys.items() if value is not None}


def about_application(application_id: str) -> None:
    """From here to the end of the invocation, every line carries ``application_id``."""
    logger.thread_safe_append_keys(application_id=application_id)


@contextmanager
def message_context(message_id: str, body: object) -> Iterator[None]:
    """While one message of a batch is handled: its id is the correlation id, its application on every line."""
    before = {
        k: v for k, v in logger.thread_safe_get_current_keys().items() if k in ("correlation_id", "application_id")
    }
    keys: dict[str, Any] = {"correlation_id": message_id}
    application = _application_in(body)
    if application:
        keys["application_id"] = application
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["correlation_id", "application_id"])
        if before:
            logger.thread_safe_append_keys(**before)


def middleware(event: object, get_response: Callable[[object], object]) -> object:
    """Around every handler: the invocation's log keys and subsegment; its metrics emitted once."""
    global _cold_start
    keys = invocation_keys(event, get_response)
    keys["cold_start"], _cold_start = _cold_start, False
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(**keys)
    annotations: dict[str, Any] = {k: keys[k] for k in ("cold_start", "correlation_id", "application_id") if k in keys}
    try:
        with _traced(keys["handler"], annotations):
            return get_response(event)
    finally:
        flush()
        logger.thread_safe_clear_keys()
