"""API Gateway's Management API: ``POST``/``GET``/``DELETE /<stage>/@connections/{id}``.

This is what ``app.websocket_api.send`` talks to through boto3. It is a
minimal HTTP/1.1 server on the gateway's event loop (served over TLS by the
gateway), answering in the form botocore's rest-json parser expects, so the
app sees the same exceptions (``GoneException`` ...) as in AWS.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import http
import json
import ssl
import uuid
from typing import Any, Dict, Optional, Tuple
from urllib.parse import unquote

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from ..deadlines import scaled
from .connections import MAX_MESSAGE_BYTES, Connection

#: Largest management request body read before the connection is dropped.
#: Bigger than MAX_MESSAGE_BYTES so an oversized post is answered with
#: PayloadTooLargeException, as AWS does, rather than a reset.
MAX_MANAGEMENT_BODY = 4 * MAX_MESSAGE_BYTES

Reply = Tuple[int, Dict[str, str], bytes]


def _iso8601(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def error_reply(status: int, error_type: str, message: Optional[str]) -> Reply:
    """Build an error in the form botocore's rest-json parser reads.

    ``x-amzn-ErrorType`` is what ``RestJSONParser._inject_error_code`` takes
    the error code from, and botocore turns a code that names a modelled
    error shape (GoneException, ForbiddenException, ...) into
    ``client.exceptions.<Code>``. With the status alone, the code would be
    ``"410"`` and the caller would get a bare ClientError.
    """
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
    return status, headers, json.dumps({"message": message}).encode()


class ManagementApi:
    """Serves the three calls for the connections the WebSocket side registers.

    ``connections`` is shared with the WebSocket server and, like everything
    here, only touched from coroutines on the gateway's event loop.
    """

    def __init__(self, stage: str, connections: Dict[str, Connection]) -> None:
        self._stage = stage
        self._connections = connections
        self._sessions: Dict[asyncio.Task, asyncio.StreamWriter] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A minimal HTTP/1.1 server, with keep-alive, for the three calls.

        boto3 (urllib3) reuses connections, so several requests may arrive on
        one connection. Request bodies come with Content-Length, because
        botocore sends ``Data`` as bytes.
        """
        session = asyncio.current_task()
        assert session is not None
        self._sessions[session] = writer
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, target, _version = request_line.decode("latin-1").split(" ", 2)
                headers: Dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    await self._write_response(writer, *error_reply(
                        411, "BadRequestException", "Send a Content-Length body"
                    ), close=True)
                    break
                length = int(headers.get("content-length") or 0)
                if length > MAX_MANAGEMENT_BODY:
                    await self._write_response(writer, *error_reply(
                        413, "PayloadTooLargeException", "Payload too large"
                    ), close=True)
                    break
                body = await reader.readexactly(length) if length else b""
                status, response_headers, response_body = await self.call(
                    method, target, headers, body
                )
                close = headers.get("connection", "").lower() == "close"
                await self._write_response(
                    writer, status, response_headers, response_body, close=close
                )
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, ValueError):
            pass  # the client went away or spoke something other than HTTP
        finally:
            self._sessions.pop(session, None)
            writer.close()

    async def abort_sessions(self) -> None:
        """Drop idle keep-alive connections, which boto3 pools would keep open.

        abort(), not close(): a graceful TLS shutdown waits for the idle
        client's close_notify, which never comes (and Python 3.12+ waits for
        open sessions in ``Server.wait_closed()``).
        """
        sessions = dict(self._sessions)
        for writer in sessions.values():
            writer.transport.abort()
        if sessions:
            await asyncio.wait(sessions.keys(), timeout=scaled(5.0))

    async def _write_response(
        self, writer: asyncio.StreamWriter, status: int,
        headers: Dict[str, str], body: bytes, close: bool = False,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
        headers = {
            "x-amzn-RequestId": str(uuid.uuid4()),
            "Date": dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            **headers,
        }
        if status != 204:  # RFC 9110: no Content-Length on 204
            headers["Content-Length"] = str(len(body))
        headers["Connection"] = "close" if close else "keep-alive"
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def call(
        self, method: str, target: str, headers: Dict[str, str], body: bytes
    ) -> Reply:
        """Answer one ``/<stage>/@connections/{id}`` call as API Gateway does.

        The id is taken from the raw path and then percent-decoded. botocore
        encodes ``/``, ``+`` and ``=`` in ids (``%2F`` ...), so decoding
        before splitting the path would break ids that contain a ``/``.
        SigV4 signatures are not verified, but an unsigned request is refused
        as AWS refuses it, so a client that bypasses boto3 is noticed.
        """
        path = target.split("?", 1)[0]
        prefix = f"/{self._stage}/@connections/"
        if not path.startswith(prefix) or len(path) == len(prefix):
            return error_reply(403, "ForbiddenException", "Forbidden")
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return error_reply(403, "ForbiddenException", "Missing Authentication Token")
        connection_id = unquote(path[len(prefix):])
        connection = self._connections.get(connection_id)
        if connection is None or connection.deleted or connection.websocket is None:
            return error_reply(410, "GoneException", None)
        websocket = connection.websocket

        if method == "POST":
            if len(body) > MAX_MESSAGE_BYTES:
                return error_reply(413, "PayloadTooLargeException", "Message too long")
            try:
                data: Any = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
            try:
                await websocket.send(data)
            except ConnectionClosed:
                return error_reply(410, "GoneException", None)
            return 200, {"Content-Type": "application/json"}, b"{}"

        if method == "GET":
            info = {
                "connectedAt": _iso8601(connection.connected_at),
                "identity": {
                    "sourceIp": connection.source_ip,
                    "userAgent": connection.user_agent,
                },
                "lastActiveAt": _iso8601(connection.last_active_at),
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()

        if method == "DELETE":
            # Gone from now on. The close handshake and $disconnect finish in
            # the background, as they do in AWS.
            connection.deleted = True
            del self._connections[connection_id]
            task = asyncio.create_task(websocket.close(CloseCode.NORMAL_CLOSURE))
            connection.close_tasks.add(task)
            task.add_done_callback(connection.close_tasks.discard)
            return 204, {}, b""

        return error_reply(403, "ForbiddenException", "Forbidden")
