"""The local stack's API docs page (devstack/apidocs.py): Swagger UI from the installed package, strict CSP,
the app's documents, and a same-origin proxy for "Try it out"."""
from __future__ import annotations

import json
import shutil
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from tests.support.deadlines import EVENT_S, REPLY_S


class FakeApi:
    """Stands in for chalice local: serves a document and echoes what reaches it."""

    def __init__(self, document: dict[str, Any], protocol: dict[str, Any]):
        seen: list[dict[str, Any]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/openapi.json":
                    self._reply(200, document)
                elif self.path == "/asyncapi.json":
                    self._reply(200, protocol)
                else:
                    self._echo()

            def do_POST(self) -> None:  # noqa: N802
                self._echo()

            def _echo(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                self._reply(201 if self.command == "POST" else 404, {"path": self.path}, {"Location": "/x"})

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def docs(chalice_app) -> Iterator[tuple[str, FakeApi]]:
    from chalicelib.api import asyncapi, openapi
    from devstack.apidocs import DocsServer

    upstream = FakeApi(openapi.document(chalice_app.routes), asyncapi.document())
    server = DocsServer(upstream.url)
    server.start()
    yield server.url, upstream
    server.stop()
    upstream.stop()


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=REPLY_S) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_page_loads_swagger_ui_from_this_server_only_under_a_strict_csp(docs):
    url, _ = docs
    status, headers, body = fetch(url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    page = body.decode()
    assert "<script>" not in page and "http" not in page.replace("<!doctype html>", "")  # nothing inline, no CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "init.js", "page.css"):
        status, headers, body = fetch(f"{url}/{asset}")
        assert status == 200 and len(body) > 100, asset
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_only_listed_files_are_served(docs):
    url, _ = docs
    for name in ("../apidocs.py", "%2e%2e/apidocs.py", "swagger-editor-bundle.js", "LICENSE", "nope.js"):
        assert fetch(f"{url}/{name}")[0] == 404, name


def test_the_document_is_the_apps_with_servers_pointing_at_the_proxy(docs, chalice_app):
    from chalicelib.api import openapi

    url, _ = docs
    status, _, body = fetch(f"{url}/openapi.json")
    document = json.loads(body)
    assert status == 200
    assert document["servers"] == [{"url": "/api", "description": document["servers"][0]["description"]}]
    assert document["paths"] == openapi.document(chalice_app.routes)["paths"]


def test_the_websocket_protocols_document_is_served_beside_it(docs):
    from chalicelib.api import asyncapi

    url, _ = docs
    status, _, body = fetch(f"{url}/asyncapi.json")
    assert status == 200 and json.loads(body) == json.loads(json.dumps(asyncapi.document()))
    assert 'href="/docs/asyncapi.json"' in fetch(url)[2].decode()


def test_try_it_out_reaches_the_api_through_the_proxy(docs):
    url, upstream = docs
    base = url.removesuffix("/docs")
    status, headers, body = fetch(f"{base}/api/applications?limit=1", "POST", b'{"a": 1}',
                                  {"Authorization": "Bearer t", "Content-Type": "application/json",
                                   "Idempotency-Key": "k", "Cookie": "not-forwarded"})
    assert status == 201 and headers["Location"] == "/x"
    seen = upstream.seen[-1]
    assert seen["path"] == "/applications?limit=1" and seen["body"] == '{"a": 1}'
    assert seen["headers"]["Authorization"] == "Bearer t" and seen["headers"]["Idempotency-Key"] == "k"
    assert "Cookie" not in seen["headers"]
    assert fetch(f"{base}/api/nothing")[0] == 404


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                    reason="needs chromium and chromium-driver (./dev test installs them as root)")
def test_swagger_ui_renders_every_operation_with_no_csp_violation(docs, chalice_app):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = docs
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or ""
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(url)
        operations = sum(len(ops) for ops in json.loads(fetch(f"{url}/openapi.json")[2])["paths"].values())
        WebDriverWait(driver, EVENT_S).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= operations)
        assert "Account Opening API" in driver.find_element(By.CSS_SELECTOR, ".info .title").text
        problems = [entry["message"] for entry in driver.get_log("browser")
                    if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]]
        assert problems == []
    finally:
        driver.quit()
