"""The local Rekognition over HTTP: AWS's JSON 1.1 protocol, plus the liveness stand-in.

* ``POST /`` with ``X-Amz-Target: RekognitionService.<Operation>``: what a boto3
  client sends when ``AWS_ENDPOINT_URL_REKOGNITION`` points here.
* ``GET /liveness/sessions/{id}``: the session's challenge, for the local capture.
* ``POST /liveness/sessions/{id}/frames`` ``{"Frames": ["<base64 JPEG/PNG>", ...]}``:
  the burst; answers ``{"SessionId", "Status", "Reasons"}`` (AWS's streaming
  endpoint tells its client less; the reasons are for the developer).

Errors are AWS-shaped: ``{"__type": code, "message": ...}`` with ``x-amzn-ErrorType``.
The liveness paths allow any origin (CORS): the console posts from the API's origin.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from ..webserver import BackgroundServer
from .liveness import MAX_FRAME_BYTES, MAX_FRAMES
from .service import Rekognition, RekognitionError

log = logging.getLogger("devstack.rekognition")

MAX_API_BODY = 8 * 1024 * 1024  # 5 MB of image as base64, and the rest of the request
MAX_FRAMES_BODY = MAX_FRAMES * MAX_FRAME_BYTES * 4 // 3 + 64 * 1024
_SESSION_PATH = re.compile(r"^/liveness/sessions/([^/]+)(/frames)?/?$")


class RekognitionServer(BackgroundServer):
    """The HTTP endpoint around a :class:`Rekognition`."""

    def __init__(self, service: Rekognition, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, payload: Any, error_type: Optional[str] = None,
                       cors: bool = False) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1" if not cors else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                if cors:
                    self._cors_headers()
                self.end_headers()
                self.wfile.write(data)

            def _cors_headers(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Max-Age", "600")

            def _body(self, limit: int) -> Optional[bytes]:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > limit:
                    self.close_connection = True  # do not read what we refuse
                    return None
                return self.rfile.read(length)

            def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(204)
                self._cors_headers()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                match = _SESSION_PATH.match(self.path.split("?")[0])
                if not match or match.group(2):
                    self._reply(404, {"__type": "NotFoundException", "message": "no such path"},
                                "NotFoundException", cors=True)
                    return
                status, payload, error = server.run(lambda: server.service.describe_session(match.group(1)))
                self._reply(status, payload, error, cors=True)

            def do_POST(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                match = _SESSION_PATH.match(path)
                if match and match.group(2):
                    body = self._body(MAX_FRAMES_BODY)
                    if body is None:
                        self._reply(413, {"__type": "ImageTooLargeException",
                                          "message": f"a burst is at most {MAX_FRAMES} frames of "
                                                     f"{MAX_FRAME_BYTES} bytes"}, "ImageTooLargeException", cors=True)
                        return
                    status, payload, error = server.run(lambda: server.frames(match.group(1), body))
                    self._reply(status, payload, error, cors=True)
                    return
                if path != "/":
                    self._reply(404, {"__type": "NotFoundException", "message": "no such path"}, "NotFoundException")
                    return
                body = self._body(MAX_API_BODY)
                if body is None:
                    self._reply(400, {"__type": "ImageTooLargeException", "message": "Image size is too large."},
                                "ImageTooLargeException")
                    return
                target = self.headers.get("X-Amz-Target", "")
                prefix = "RekognitionService."
                operation = target[len(prefix):] if target.startswith(prefix) else ""
                status, payload, error = server.run(lambda: server.service.call(operation, _json(body)))
                self._reply(status, payload, error)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("rekognition: " + format, *args)

        super().__init__(ThreadingHTTPServer((host, port), Handler), "devstack-rekognition")

    @staticmethod
    def run(action: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any], Optional[str]]:
        """(status, payload, error type) of one operation."""
        try:
            return 200, action(), None
        except RekognitionError as error:
            return error.status, {"__type": error.code, "message": error.message, "Message": error.message}, error.code
        except Exception as error:  # noqa: BLE001 - the engine itself failed: a 5xx, as the service would
            log.exception("rekognition: internal error")
            return 500, {"__type": "InternalServerError", "message": str(error)}, "InternalServerError"

    def frames(self, session_id: str, body: bytes) -> dict[str, Any]:
        request = _json(body)
        frames = request.get("Frames")
        if not isinstance(frames, list) or not all(isinstance(frame, str) for frame in frames):
            raise RekognitionError("ValidationException", 'the body is {"Frames": ["<base64 image>", ...]}')
        try:
            decoded = [base64.b64decode(frame, validate=True) for frame in frames]
        except (binascii.Error, ValueError):
            raise RekognitionError("ValidationException", "a frame is not base64") from None
        return self.service.post_frames(session_id, decoded)

    @property
    def liveness_url(self) -> str:
        return f"{self.url}/liveness"


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise RekognitionError("SerializationException", "the request body is not JSON") from None
    if not isinstance(value, dict):
        raise RekognitionError("SerializationException", "the request body is not a JSON object")
    return value
