"""Calling the app's handlers the way Lambda does: ``handler(event, context)``.

Handlers are found in ``app.handler_map`` (Chalice's own registry), so the
same wrappers and middleware run locally as in Lambda. The context object
carries what Lambda's does -- Powertools' logger reads the function name,
ARN, memory size and request id from it.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from typing import Any

log = logging.getLogger("devstack")

ACCOUNT_ID = "123456789012"


class LambdaContext:
    """A stand-in for the Lambda context object of one invocation."""

    def __init__(self, function_name: str, region: str = "us-east-1",
                 memory_limit_in_mb: int = 128, timeout_seconds: float = 30.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}")
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"devstack/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Invoker:
    """Invokes one registered handler with a fresh context per call.

    ``function_name`` follows Chalice's naming (``<app>-<stage>-<handler>``), so
    logs and metrics look like the deployed ones.
    """

    def __init__(self, app: Any, name: str, stage: str, region: str = "us-east-1",
                 memory_limit_in_mb: int = 128, timeout_seconds: float = 30.0) -> None:
        self.name = name
        self.handler = app.handler_map[name]
        self.function_name = f"{app.app_name}-{stage}-{name}"
        self._region = region
        self._memory = memory_limit_in_mb
        self._timeout = timeout_seconds

    def __call__(self, event: dict[str, Any]) -> Any:
        """Call the handler; exceptions propagate so the caller applies retry semantics."""
        context = LambdaContext(self.function_name, self._region, self._memory, self._timeout)
        return self.handler(event, context)

    def log_failure(self, what: str, error: BaseException) -> None:
        """Handler failures are logged with their traceback, loudly, never swallowed."""
        log.error("devstack: handler %s failed on %s: %s\n%s", self.name, what, error,
                  "".join(traceback.format_exception(error)).rstrip())


ASYNC_RETRY_DELAYS = (0.5, 1.0)  # Lambda retries a failed asynchronous invocation twice


def invoke_async(invoker: Invoker, event: dict[str, Any], source: str,
                 stopping: threading.Event) -> bool:
    """Lambda's asynchronous invocation: up to 3 attempts, then log loudly and drop.

    The real retries come after about 1 and 2 minutes; locally they come after
    half a second and a second so a developer sees the outcome at once.
    """
    delays = (*ASYNC_RETRY_DELAYS, None)
    for attempt, delay in enumerate(delays, start=1):
        try:
            invoker(event)
            return True
        except Exception as error:  # noqa: BLE001 - logged, then retried or dropped
            invoker.log_failure(f"an event from {source} (attempt {attempt} of {len(delays)})",
                                error)
        if delay is None or stopping.wait(delay):
            break
    log.error("devstack: DROPPED an event from %s after %d failed attempts of %s "
              "(Lambda asynchronous invocation semantics): %s", source, len(delays),
              invoker.name, json.dumps(event, default=str)[:2000])
    return False
