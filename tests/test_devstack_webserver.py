"""The local stack's shared HTTP server helper (devstack/webserver.py): bound before it serves, answered by
``respond`` (a response or a WSGI app to hand the request to), stopped cleanly -- even when never started."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devstack.webserver import BackgroundServer, WsgiServer, html_response, json_response, redirect
from tests.support.deadlines import COMMAND_S

pytestmark = pytest.mark.no_stack


class Echo(WsgiServer):
    def respond(self, request: Any) -> Any:
        if request.path == "/json":
            return json_response({"path": request.path, "form": request.form.to_dict()}, 201)
        if request.path == "/page":
            return html_response("<p>hi</p>", 401, {"Cache-Control": "no-store"})
        if request.path == "/away":
            return redirect("http://example.invalid/next")

        def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:  # any WSGI app
            start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
            return [b"inner " + environ["PATH_INFO"].encode()]

        return inner


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirects, urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, data=data, timeout=COMMAND_S) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_wsgi_server_answers_with_json_html_redirects_and_hands_requests_to_an_app():
    with Echo("127.0.0.1", 0, "test-echo") as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
        status, headers, body = fetch(f"{server.url}/json", b"a=1&b=two")
        assert (status, headers["Content-Type"], json.loads(body)) == (
            201, "application/json", {"path": "/json", "form": {"a": "1", "b": "two"}})
        status, headers, body = fetch(f"{server.url}/page")
        assert (status, headers["Content-Type"], headers["Cache-Control"], body) == (
            401, "text/html; charset=utf-8", "no-store", b"<p>hi</p>")
        status, headers, _ = fetch(f"{server.url}/away")
        assert (status, headers["Location"]) == (302, "http://example.invalid/next")
        assert fetch(f"{server.url}/elsewhere")[::2] == (418, b"inner /elsewhere")
    with pytest.raises(urllib.error.URLError):  # stopped: the port is closed
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{server.url}/json", timeout=COMMAND_S)


def test_any_http_server_is_served_from_a_daemon_thread_and_stops_even_if_never_started():
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: Any) -> None:
            pass

    never = BackgroundServer(ThreadingHTTPServer(("127.0.0.1", 0), Hello), "test-never")
    stopping = threading.Thread(target=never.stop, daemon=True)
    stopping.start()
    stopping.join(COMMAND_S)
    assert not stopping.is_alive()  # shutdown() alone would wait forever for a loop that never ran

    server = BackgroundServer(ThreadingHTTPServer(("0.0.0.0", 0), Hello), "test-any-address").start()
    try:
        assert server.url.startswith("http://127.0.0.1:")  # all addresses: clients use the loopback
        assert any(t.name == "test-any-address" and t.daemon for t in threading.enumerate())
        assert fetch(server.url)[::2] == (200, b"hello")
    finally:
        server.stop()
