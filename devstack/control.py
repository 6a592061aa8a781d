"""The local stack's control endpoint: fire a schedule now, see what is running.

    GET  /                          the stack's description (URLs, users, schedules, pumps)
    GET  /schedules                 {name: expression}
    POST /schedules/<name>/fire     run that schedule's handler once, now; 200 with
                                    {"result": ...} or 500 with the error and traceback

``python -m devstack fire <name>`` and the e2e fixture use it, so a test can
run "expire abandoned applications" without waiting for its cron.
"""
from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .net import public_host
from .scheduler import Scheduler

log = logging.getLogger("devstack")


class ControlServer:
    """A tiny JSON HTTP server in a daemon thread, bound before it reports its port."""

    def __init__(self, scheduler: Scheduler, describe: Callable[[], dict[str, Any]],
                 host: str = "127.0.0.1", port: int = 0) -> None:
        handler = _handler_class(scheduler, describe)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name="devstack-control", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{public_host(host)}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)


def _handler_class(scheduler: Scheduler, describe: Callable[[], dict[str, Any]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/") == "":
                self._reply(200, describe())
            elif self.path.rstrip("/") == "/schedules":
                self._reply(200, scheduler.describe())
            else:
                self._reply(404, {"error": f"no such resource {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "schedules" or parts[2] != "fire":
                self._reply(404, {"error": f"no such resource {self.path}"})
                return
            name = parts[1]
            if name not in scheduler.jobs:
                self._reply(404, {"error": f"no schedule named {name!r}",
                                  "schedules": sorted(scheduler.jobs)})
                return
            log.info("devstack: firing schedule %s now (control endpoint)", name)
            try:
                result = scheduler.fire(name)
            except Exception as error:  # noqa: BLE001 - reported to the caller
                scheduler.jobs[name].invoker.log_failure("a fire-now request", error)
                self._reply(500, {"error": f"{type(error).__name__}: {error}",
                                  "traceback": traceback.format_exc()})
                return
            self._reply(200, {"result": result})

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("devstack control: " + format, *args)

    return Handler
