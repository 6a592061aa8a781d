"""The Chalice app as a WSGI application, for tools that speak WSGI (schemathesis).

Requests go through Chalice's own local gateway (the one the test client and
``chalice local`` use), so routing, middleware and error shaping are the
app's, unchanged.
"""
from __future__ import annotations

import http.client
import threading
from typing import Any, Callable, Iterable
from urllib.parse import quote


class ChaliceWsgi:
    """Counts what it served, so a fuzzing run can prove how many requests it made."""

    def __init__(self, http_client: Any):
        self.http = http_client  # chalice.test.Client(...).http
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace"), safe="/%:@!$&'()*+,;=-._~")
        query = environ.get("QUERY_STRING")
        if query:
            path = f"{path}?{query}"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        response = self.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        with self._lock:
            self.requests += 1
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        reason = http.client.responses.get(response.status_code, "Unknown")
        out_headers = [(k, str(v)) for k, v in response.headers.items()]
        start_response(f"{response.status_code} {reason}", out_headers)
        return [response.body if isinstance(response.body, bytes) else str(response.body or "").encode()]
