"""boto3 clients, created on first use and kept for the life of the container.

Endpoints come from the standard AWS configuration (AWS_ENDPOINT_URL and
friends), so the same code talks to AWS or to the local stack.
"""
from __future__ import annotations

import functools
from typing import Any

from botocore.config import Config

RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=2, read_timeout=10)


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, config=RETRIES)
