"""Smoke-test a deployed stage (or the local stack) through its public URLs, as a browser and a client would.

    python -m scripts.smoke --rest https://ID.execute-api.REGION.amazonaws.com/api/ \\
        --websocket wss://ID.execute-api.REGION.amazonaws.com/api [--console URL]

Checks, each printed with its result:
- GET  <rest>health          -> 200, {"status": "ok"...}: the function runs and reaches its dependencies
- GET  <rest>openapi.json    -> 200, an OpenAPI document listing /applications
- GET  <rest>applications    -> 401 without a token (the authorizer is on)
- GET  <console>             -> 200 HTML with a Content-Security-Policy (and config.json beside it)
- the WebSocket without a token is refused (no connection that stays open)
Exit 0 when every check passes, 1 otherwise. Only the standard library and ``websockets`` (dev) are used.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def get(url: str, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close", "User-Agent": "account-opening-smoke"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the operator's URL
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def checks(rest: str, websocket: str | None, console: str | None) -> list[tuple[str, Callable[[], str]]]:
    rest = rest.rstrip("/") + "/"
    console = console or rest + "console"

    def health() -> str:
        status, _, body = get(rest + "health")
        document = json.loads(body)
        assert status == 200, f"HTTP {status}: {body[:200]!r}"
        return f"200 {document.get('status', document)}"

    def openapi() -> str:
        status, _, body = get(rest + "openapi.json")
        assert status == 200, f"HTTP {status}"
        paths = json.loads(body)["paths"]
        assert "/applications" in paths, sorted(paths)[:5]
        return f"200, {len(paths)} paths"

    def refuses_anonymous() -> str:
        status, _, _ = get(rest + "applications")
        assert status == 401, f"HTTP {status} without a token"
        return "401 without a token"

    def console_page() -> str:
        status, headers, body = get(console)
        csp = {k.lower(): v for k, v in headers.items()}.get("content-security-policy", "")
        assert status == 200 and b"<html" in body.lower(), f"HTTP {status}"
        assert "script-src 'self'" in csp, f"no strict CSP: {csp!r}"
        config_status, _, config = get(console.rstrip("/") + "/config.json")
        assert config_status == 200 and "cognito" in json.loads(config), f"config.json: HTTP {config_status}"
        staff_sign_in = json.loads(config)["cognito"].get("staff_auth_url")
        assert staff_sign_in, "config.json names no managed login for staff (issue 21)"
        return "200 with its CSP and config.json (staff sign in through managed login)"

    def websocket_refuses_anonymous() -> str:
        import websockets

        async def attempt() -> str:
            try:
                async with websockets.connect(websocket, open_timeout=20, close_timeout=5) as connection:
                    try:
                        await asyncio.wait_for(connection.recv(), timeout=10)
                    except websockets.ConnectionClosed as closed:
                        return f"closed ({closed.rcvd.code if closed.rcvd else 'no code'})"
                    raise AssertionError("an anonymous WebSocket stayed open")
            except websockets.InvalidStatus as refused:
                return f"refused ({refused.response.status_code})"

        return asyncio.run(attempt())

    found: list[tuple[str, Callable[[], str]]] = [
        ("REST health", health), ("REST OpenAPI document", openapi), ("REST refuses anonymous", refuses_anonymous),
        ("console", console_page)]
    if websocket:
        found.append(("WebSocket refuses anonymous", websocket_refuses_anonymous))
    return found


def run(rest: str, websocket: str | None, console: str | None, out: Callable[[str], Any] = print) -> bool:
    ok = True
    for name, check in checks(rest, websocket, console):
        try:
            out(f"ok    {name}: {check()}")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the exit code says it
            ok = False
            out(f"FAIL  {name}: {type(error).__name__}: {error}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rest", required=True, help="the REST API's base URL (ending in /api/)")
    parser.add_argument("--websocket", help="the WebSocket URL (wss://...)")
    parser.add_argument("--console", help="the console's URL (default: <rest>console)")
    args = parser.parse_args(argv)
    return 0 if run(args.rest, args.websocket, args.console) else 1


if __name__ == "__main__":
    sys.exit(main())
