"""Plain HTTP against the running local stack (fresh connection per request)."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import requests

from tests.support.deadlines import OUTCOME_S, REPLY_S


def call(stack: Any, method: str, path: str, token: Optional[str] = None, **kwargs: Any) -> requests.Response:
    headers = {"Connection": "close", **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, stack.api_url + path, headers=headers, timeout=REPLY_S, **kwargs)


def upload(upload: dict[str, Any], data: bytes, content_type: str) -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"],
                         files={"file": ("document", data, content_type)},
                         headers={"Connection": "close"}, timeout=REPLY_S)


def poll(fetch: Callable[[], Any], until: Callable[[Any], bool], timeout: float = OUTCOME_S) -> Any:
    """Poll with a deadline, never a fixed sleep standing in for the wait."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if until(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout}s; last value: {last}")
