"""Injecting AWS failures at the SDK boundary, the way a bad minute in a region looks to the app.

Everything the app sends to AWS (boto3 and pynamodb alike) goes through
``botocore.client.BaseClient._make_api_call``; a fault plan decides per call
whether it fails with a throttling or 5xx error instead of reaching the
(local) service. Plans are deterministic when given a seed.
"""
from __future__ import annotations

import contextlib
import random
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import botocore.client
from botocore.exceptions import ClientError

TRANSIENT = [("ThrottlingException", 400), ("ProvisionedThroughputExceededException", 400),
             ("InternalServerError", 500), ("ServiceUnavailable", 503), ("RequestLimitExceeded", 400),
             ("SlowDown", 503)]


@dataclass
class FaultPlan:
    """Which calls fail: ``service`` names like "dynamodb", "s3", "sqs", "sns", "ssm", "textract"."""

    should_fail: Callable[[str, str], bool]
    failed: list[tuple[str, str]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def always(cls, service: str, operation: Optional[str] = None) -> "FaultPlan":
        return cls(lambda s, o: s == service and (operation is None or o == operation))

    @classmethod
    def first(cls, count: int, service: str, operation: Optional[str] = None) -> "FaultPlan":
        remaining = [count]

        def decide(s: str, o: str) -> bool:
            if s == service and (operation is None or o == operation) and remaining[0] > 0:
                remaining[0] -= 1
                return True
            return False

        return cls(decide)

    @classmethod
    def rate(cls, fraction: float, services: tuple[str, ...], seed: int = 12) -> "FaultPlan":
        rng = random.Random(seed)
        return cls(lambda s, o: s in services and rng.random() < fraction)


def _service(client: botocore.client.BaseClient) -> str:
    return client.meta.service_model.service_name


@contextlib.contextmanager
def injected(plan: FaultPlan, code: str = "ThrottlingException", status: int = 400) -> Iterator[FaultPlan]:
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        service = _service(self)
        with plan.lock:
            plan.calls.append((service, operation_name))
            fail = plan.should_fail(service, operation_name)
            if fail:
                plan.failed.append((service, operation_name))
        if fail:
            error_code, error_status = (code, status) if code else random.choice(TRANSIENT)
            raise ClientError({"Error": {"Code": error_code, "Message": "injected fault"},
                               "ResponseMetadata": {"HTTPStatusCode": error_status}}, operation_name)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = make_api_call
    try:
        yield plan
    finally:
        botocore.client.BaseClient._make_api_call = original
