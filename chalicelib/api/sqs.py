"""SQS batches with partial failure: one bad message never costs the good ones.

Powertools' BatchProcessor runs the record handler per message and builds the
``batchItemFailures`` response; the deployment enables ReportBatchItemFailures
on the event source mapping (at deploy time), and a failed message returns
to the queue until maxReceiveCount moves it to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..observability import logger, message_context


def partial_batch_response(event: Any, handle_body: Callable[[str], Any]) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def record_handler(record: Any) -> Any:
        with message_context(record.message_id, record.body):  # its id and application on every line
            try:
                return handle_body(record.body)
            except Exception:
                logger.exception(
                    "message failed",
                    extra={
                        "message_id": record.message_id,
                        "receive_count": record.attributes.approximate_receive_count,
                    },
                )
                raise

    return process_partial_response(  # type: ignore[return-value]  # a TypedDict, which is a dict
        event=event.to_dict(), record_handler=record_handler, processor=BatchProcessor(event_type=EventType.SQS)
    )


def seconds_left(event: Any, default: float = 900.0) -> float:
    """The invocation's remaining time (Lambda's context), or ``default`` where there is none (the local stack)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        return float(remaining()) / 1000 if callable(remaining) else default
    except (TypeError, ValueError):
        return default
