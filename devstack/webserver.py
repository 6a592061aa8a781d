"""What the local stack's small HTTP servers share: bound when made, served from a daemon thread.

``BackgroundServer`` wraps any bound ``socketserver`` HTTP server (``http.server``'s
or werkzeug's): its URL is known before it serves (port 0 picks a free one),
``start()`` serves it from a daemon thread, ``stop()`` shuts it down and closes
its socket; it is also a context manager. ``WsgiServer`` is the werkzeug kind:
each request is answered by ``respond(request)`` -- a response, or any WSGI
application to hand the request to. ``json_response`` and ``html_response`` are
the answers those servers give.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, Self

from .net import public_host

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class BackgroundServer:
    """``server`` (bound already) served from a daemon thread named ``name`` between start() and stop()."""

    def __init__(self, server: Any, name: str) -> None:
        server.daemon_threads = True  # a browser's kept-alive connection never holds up stop()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name,
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{public_host(host)}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever(): never started, it would wait forever
            self._server.shutdown()
        self._server.server_close()
        if self._thread.ident is not None:
            self._thread.join(2.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WsgiServer(BackgroundServer):
    """A threaded werkzeug server on ``host:port`` (0: a free one) answering with ``respond``."""

    def __init__(self, host: str, port: int, name: str) -> None:
        import werkzeug.serving

        super().__init__(werkzeug.serving.make_server(host, port, self._wsgi, threaded=True), name)

    def respond(self, request: Any) -> WsgiApp:
        """The answer to ``request`` (a werkzeug Request): a Response, or a WSGI application to pass it to."""
        raise NotImplementedError

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        from werkzeug.wrappers import Request

        return self.respond(Request(environ))(environ, start_response)


def json_response(payload: Any, status: int = 200) -> Any:
    """``payload`` as a JSON answer."""
    from werkzeug.wrappers import Response

    return Response(json.dumps(payload), status=status, content_type="application/json")


def html_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """An HTML page (UTF-8)."""
    from werkzeug.wrappers import Response

    return Response(body, status=status, content_type="text/html; charset=utf-8", headers=headers)


def redirect(location: str) -> Any:
    """A 302 to ``location``."""
    from werkzeug.wrappers import Response

    return Response(status=302, headers={"Location": location})
