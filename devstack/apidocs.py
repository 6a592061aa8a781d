"""The local stack's API docs page: Swagger UI from an installed package, no CDN.

    GET  /docs                      Swagger UI over the app's OpenAPI document
    GET  /docs/<asset>              Swagger UI's own files (an allow-list), and init.js
    GET  /docs/openapi.json         the app's /openapi.json, with ``servers`` pointing at /api
    GET  /docs/asyncapi.json        the app's /asyncapi.json (the WebSocket protocol)
    ANY  /api/<path>                passed to the app, so "Try it out" stays same-origin

Dev only: it never ships in the Lambda package. Swagger UI's files come from the
``swagger-ui-py`` package (Swagger UI 5, Apache-2.0). Every answer carries a strict
Content-Security-Policy: scripts, styles and calls only from this server, no inline
script, no eval, no framing.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .deadlines import scaled
from .webserver import BackgroundServer

log = logging.getLogger("devstack")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INDEX = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Account Opening API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="stylesheet" href="/docs/page.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <nav class="documents">
    <a href="/docs/openapi.json">openapi.json</a>
    <a href="/docs/asyncapi.json">asyncapi.json (the WebSocket protocol)</a>
  </nav>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""
INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""
PAGE_CSS = """nav.documents { font-family: sans-serif; padding: 8px 20px; background: #f0f0f0; }
nav.documents a { margin-right: 1.5em; }
"""
#: Request headers passed on to the app by the /api proxy.
FORWARDED = ("authorization", "content-type", "idempotency-key", "accept", "if-none-match")
MAX_BODY = 1024 * 1024


def static_dir() -> Path:
    """Swagger UI's files, from the installed swagger-ui-py package."""
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


class DocsServer(BackgroundServer):
    """A small HTTP server in a daemon thread, bound before it reports its port."""

    def __init__(self, api_url: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ThreadingHTTPServer((host, port), _handler_class(api_url.rstrip("/"), static_dir())),
                         "devstack-apidocs")

    @property
    def url(self) -> str:
        return f"{super().url}/docs"


def _handler_class(api_url: str, static: Path) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path.startswith("/api/"):
                self._proxy()
            elif path in ("/", "/docs", "/docs/"):
                if path == "/":
                    self._send(302, b"", "text/plain", {"Location": "/docs"})
                else:
                    self._send(200, INDEX.encode(), "text/html; charset=utf-8")
            elif path == "/docs/page.css":
                self._send(200, PAGE_CSS.encode(), "text/css; charset=utf-8")
            elif path == "/docs/init.js":
                self._send(200, INIT_JS.encode(), "text/javascript; charset=utf-8")
            elif path == "/docs/openapi.json":
                self._document("/openapi.json", servers=True)
            elif path == "/docs/asyncapi.json":
                self._document("/asyncapi.json", servers=False)
            elif path.startswith("/docs/") and path[len("/docs/"):] in ASSETS:
                name = path[len("/docs/"):]
                self._send(200, (static / name).read_bytes(), ASSETS[name], {"Cache-Control": "max-age=3600"})
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            self._proxy_or_404()

        def do_PUT(self) -> None:  # noqa: N802
            self._proxy_or_404()

        def do_PATCH(self) -> None:  # noqa: N802
            self._proxy_or_404()

        def do_DELETE(self) -> None:  # noqa: N802
            self._proxy_or_404()

        def _proxy_or_404(self) -> None:
            if self.path.startswith("/api/"):
                self._proxy()
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _document(self, path: str, servers: bool) -> None:
            status, headers, body = _call(api_url + path, "GET", {}, None)
            if status == 200 and servers:
                document = json.loads(body)
                document["servers"] = [{"url": "/api", "description": "the local stack (through this page's proxy)"}]
                body = json.dumps(document).encode()
            self._send(status, body, headers.get("Content-Type", "application/json"))

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"too large\n", "text/plain; charset=utf-8")
                return
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED}
            status, reply_headers, data = _call(api_url + self.path[len("/api"):], self.command, headers, body)
            extra = {k: v for k, v in reply_headers.items()
                     if k.lower() in ("location", "retry-after", "x-request-id", "allow", "etag")}
            self._send(status, data, reply_headers.get("Content-Type", "application/json"), extra)

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            for name, value in {"Cache-Control": "no-store", **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("devstack apidocs: " + format, *args)

    return Handler


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy


def _call(url: str, method: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with _DIRECT.open(request, timeout=scaled(30.0)) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except OSError as error:
        return 502, {}, json.dumps({"error": f"the local API is unreachable: {error}"}).encode()
