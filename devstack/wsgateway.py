"""A local stand-in for API Gateway's WebSocket API (developer tooling only).

`chalice local` serves the REST API and nothing else, so the app's
``@app.on_ws_connect`` / ``@app.on_ws_message`` / ``@app.on_ws_disconnect``
handlers would never run on a laptop. :class:`WebSocketGateway` plays API
Gateway's part for them:

* a real ``ws://`` server that clients connect to. Every connection gets an
  AWS-style connection id, and each step of its life is passed to the app's
  handlers as an API Gateway-shaped Lambda event: ``$connect`` can refuse the
  handshake, each text frame goes to ``$default``, and ``$disconnect`` runs
  however the connection ends;
* the API Gateway Management API (``POST``/``GET``/``DELETE
  /<stage>/@connections/{id}``) that the app's ``app.websocket_api`` talks to
  through boto3. It is served over HTTPS because Chalice always builds the
  endpoint as ``https://{domain_name}/{stage}`` and the app must not change
  for local use. The certificate comes from a local CA under ``state_dir``.
  Point ``AWS_CA_BUNDLE`` at :attr:`WebSocketGateway.ca_bundle` in every
  process that sends.

The handlers are called the way Lambda would call them, through
``app.handler_map``, so Chalice's own ``WebsocketEventSourceHandler`` and any
websocket middleware run as they do in AWS. They run in a thread pool,
because a handler that calls ``app.websocket_api.send`` makes a blocking
HTTPS request back to this same event loop.

This module lives in ``devstack/``, outside ``chalicelib/`` and
``requirements.txt``, so it is never part of the Lambda package.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import http
import ipaddress
import json
import logging
import os
import re
import secrets
import ssl
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from chalice.local import LambdaContext
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

logger = logging.getLogger(__name__)

#: API Gateway's hard limit for one WebSocket message and for
#: PostToConnection data (128 KB).
MAX_MESSAGE_BYTES = 128 * 1024
#: Largest management request body read before the connection is dropped.
#: Bigger than MAX_MESSAGE_BYTES so an oversized post is answered with
#: PayloadTooLargeException, as AWS does, rather than a reset.
_MAX_MANAGEMENT_BODY = 4 * MAX_MESSAGE_BYTES
#: The fake Lambda context's limits (Chalice's defaults).
LAMBDA_TIMEOUT_MS = 60_000
LAMBDA_MEMORY_MB = 128
_CA_VALIDITY = dt.timedelta(days=5 * 365)
_SERVER_CERT_VALIDITY = dt.timedelta(days=365)
_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def _new_id() -> str:
    """Return an id that looks like API Gateway's (``L0SM9cOFvHcCIhw=``).

    It uses the standard base64 alphabet, as real ids appear to, so ``+``,
    ``/`` and ``=`` occur. An app that forgets to URL-encode ids then tends to
    fail here, on a laptop, rather than first in AWS.
    """
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso8601(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class _Connection:
    """What the gateway knows about one client connection."""

    connection_id: str
    source_ip: str
    user_agent: Optional[str]
    host_header: str
    connected_at: dt.datetime
    last_active_at: dt.datetime
    websocket: Optional[ServerConnection] = None
    #: Set by DELETE @connections/{id}. From then on the connection counts as
    #: gone (410), even before the close handshake has finished.
    deleted: bool = False
    close_tasks: set = field(default_factory=set)


class WebSocketGateway:
    """API Gateway's WebSocket API and Management API for one Chalice app.

    Usage::

        gateway = WebSocketGateway(app, state_dir=Path(".devstack"))
        gateway.start()
        os.environ["AWS_CA_BUNDLE"] = str(gateway.ca_bundle)
        ...  # clients connect to gateway.ws_url
        gateway.stop()

    ``app`` must have the ``WEBSOCKETS`` experimental feature flag. Its
    handlers are looked up in ``app.websocket_handlers`` on every event, so
    nothing about them is copied or wired here.

    With ``configure_app=True`` (the default), :meth:`start` calls
    ``app.websocket_api.configure(management_domain, stage)``. Without it,
    the first handler call would run Chalice's
    ``configure_from_api_id(apiId, stage)``. That call fixes the endpoint for
    good to ``https://{apiId}.execute-api.{region}.amazonaws.com`` (or
    raises if no region is set), which is right in Lambda and never right
    here. ``configure`` only takes effect the first time it is called, so an
    app that configured its own endpoint keeps it. A different endpoint is
    logged as a warning.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        management_port: int = 0,
        stage: str = "local",
        api_id: str = "local",
        state_dir: Path = Path(".devstack"),
        *,
        configure_app: bool = True,
    ) -> None:
        self._app = app
        # "localhost" may resolve to both ::1 and 127.0.0.1, and with port 0
        # each would get its own port; bind the one address that is advertised.
        self._host = "127.0.0.1" if host == "localhost" else host
        self._requested_port = port
        self._requested_management_port = management_port
        self._stage = stage
        self._api_id = api_id
        self._cert_dir = Path(state_dir) / "wsgateway"
        self._configure_app = configure_app
        # Clients are told to use a concrete address even if we listen on all.
        self._public_host = "127.0.0.1" if self._host in _ANY_ADDRESS else self._host
        _subject_alt_names(self._public_host)  # refuse an unsupported host now

        self._lock = threading.RLock()
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._ws_server: Optional[Server] = None
        self._management_server: Optional[asyncio.AbstractServer] = None
        self._port: Optional[int] = None
        self._management_port: Optional[int] = None
        # Loop-thread state: only touched from coroutines on self._loop.
        self._connections: Dict[str, _Connection] = {}
        self._handshakes: "weakref.WeakKeyDictionary[ServerConnection, _Connection]" = (
            weakref.WeakKeyDictionary()
        )
        self._management_sessions: Dict[asyncio.Task, asyncio.StreamWriter] = {}

    # ------------------------------------------------------------------ API

    @property
    def stage(self) -> str:
        return self._stage

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT`` for clients; the stage path is optional."""
        return f"ws://{self._public_host}:{self._bound(self._port)}"

    @property
    def management_domain(self) -> str:
        """``HOST:PORT`` to pass to ``app.websocket_api.configure``."""
        return f"{self._public_host}:{self._bound(self._management_port)}"

    @property
    def ca_bundle(self) -> Path:
        """The PEM file to put in ``AWS_CA_BUNDLE``.

        The path does not change between starts, and the CA behind it is
        reused while it is valid, so a process that read the bundle before a
        gateway restart still trusts the new server certificate.
        """
        return self._cert_dir / "ca.pem"

    def start(self) -> None:
        """Bind both servers and serve them from a background thread.

        Returns once the servers are listening, so the URLs are usable at
        once. Calling it again while running does nothing.
        """
        with self._lock:
            if self._thread is not None:
                return
            self._loop = asyncio.new_event_loop()
            self._executor = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="wsgateway-handler"
            )
            self._thread = threading.Thread(
                target=self._run_loop, name="wsgateway", daemon=True
            )
            self._thread.start()
            try:
                asyncio.run_coroutine_threadsafe(
                    self._start_servers(), self._loop
                ).result(timeout=30)
            except BaseException:
                self.stop()
                raise
            logger.info(
                "WebSocket gateway on %s, management API on https://%s/%s",
                self.ws_url, self.management_domain, self.stage,
            )

    def stop(self) -> None:
        """Close every connection (running ``$disconnect``), both servers and
        the thread. Calling it when stopped does nothing."""
        with self._lock:
            if self._thread is None:
                return
            loop = self._loop
            assert loop is not None
            try:
                asyncio.run_coroutine_threadsafe(
                    self._stop_servers(), loop
                ).result(timeout=30)
            except Exception:
                logger.exception("WebSocket gateway did not stop cleanly")
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # the loop already ended
            self._thread.join(timeout=30)
            if self._executor is not None:
                # A handler stuck forever must not hang stop(); it is logged.
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._thread = self._loop = self._executor = None
            self._ws_server = self._management_server = None
            self._port = self._management_port = None

    def __enter__(self) -> "WebSocketGateway":
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------- loop lifecycle

    def _bound(self, port: Optional[int]) -> int:
        if port is None:
            raise RuntimeError("WebSocketGateway is not started")
        return port

    def _run_loop(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start_servers(self) -> None:
        tls = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._server_tls_context
        )
        self._management_server = await asyncio.start_server(
            self._serve_management, self._host, self._requested_management_port,
            ssl=tls,
        )
        self._management_port = self._management_server.sockets[0].getsockname()[1]
        if self._configure_app:
            # Before the first client can connect and run a handler.
            self._configure_websocket_api()
        self._ws_server = await serve(
            self._handle_connection,
            self._host,
            self._requested_port,
            process_request=self._process_request,
            # API Gateway negotiates no extensions and caps a message at 128 KB
            # (bigger ones close the connection with 1009, as here).
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
            # $connect runs inside the handshake; API Gateway gives an
            # integration 29 s, websockets' default would abort after 10 s.
            open_timeout=30,
            close_timeout=2,
        )
        self._port = self._ws_server.sockets[0].getsockname()[1]

    async def _stop_servers(self) -> None:
        # WebSocket side first. Closing the connections runs $disconnect, and
        # a $disconnect handler may still call the management API.
        if self._ws_server is not None:
            self._ws_server.close(code=CloseCode.GOING_AWAY)
            try:
                await asyncio.wait_for(self._ws_server.wait_closed(), timeout=15)
            except asyncio.TimeoutError:
                logger.error("timed out waiting for WebSocket handlers to finish")
        if self._management_server is not None:
            self._management_server.close()
            # Idle keep-alive connections from boto3 pools would otherwise
            # stay open (and Python 3.12+ waits for them in wait_closed()).
            # abort(), not close(): a graceful TLS shutdown waits for the
            # idle client's close_notify, which never comes.
            sessions = dict(self._management_sessions)
            for writer in sessions.values():
                writer.transport.abort()
            if sessions:
                await asyncio.wait(sessions.keys(), timeout=5)
            await self._management_server.wait_closed()

    def _configure_websocket_api(self) -> None:
        api = self._app.websocket_api
        wanted = f"https://{self.management_domain}/{self.stage}"
        api.configure(self.management_domain, self.stage)
        actual = getattr(api, "_endpoint", wanted)
        if actual != wanted:
            logger.warning(
                "app.websocket_api already sends to %s, not to this gateway "
                "(%s): sends from this app will not reach these clients",
                actual, wanted,
            )

    # ------------------------------------------------------ WebSocket side

    async def _process_request(
        self, websocket: ServerConnection, request: Request
    ) -> Optional[Response]:
        """Run ``$connect`` during the opening handshake, like API Gateway.

        A 2xx from the handler accepts the connection. Any other status
        refuses it with that status. A handler that raises is a failed
        integration and refuses with 500. Note that a raised Chalice
        ``UnauthorizedError`` also gives 500 here, as it does in AWS, where
        the exception escapes the Lambda function. Return
        ``Response(status_code=401)`` to refuse a client.
        """
        url = urlsplit(request.path)
        if url.path.rstrip("/") not in ("", f"/{self.stage}"):
            return websocket.respond(http.HTTPStatus.FORBIDDEN, "Forbidden\n")
        now = _utcnow()
        source_ip = websocket.remote_address[0] if websocket.remote_address else ""
        connection = _Connection(
            connection_id=_new_id(),
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent"),
            host_header=request.headers.get("Host", self.ws_url[len("ws://"):]),
            connected_at=now,
            last_active_at=now,
        )
        event = self._connect_event(connection, request.headers, url.query)
        try:
            result = await self._call_handler("$connect", event)
        except Exception:
            logger.exception(
                "$connect handler failed for %s; refusing with 500",
                connection.connection_id,
            )
            return websocket.respond(
                http.HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n"
            )
        status = _status_of(result)
        if not 200 <= status < 300:
            body = (result or {}).get("body") or _reason(status)
            return websocket.respond(status, f"{body}\n")
        self._handshakes[websocket] = connection
        return None

    async def _handle_connection(self, websocket: ServerConnection) -> None:
        """Pass one accepted connection's frames to ``$default``, then run
        ``$disconnect`` however the connection ended."""
        connection = self._handshakes.pop(websocket)
        connection.websocket = websocket
        self._connections[connection.connection_id] = connection
        try:
            async for message in websocket:
                connection.last_active_at = _utcnow()
                if isinstance(message, bytes):
                    # API Gateway refuses binary frames from clients and
                    # closes with 1003 (unsupported data).
                    await websocket.close(
                        CloseCode.UNSUPPORTED_DATA, "Binary frames are not supported"
                    )
                    break
                await self._dispatch_message(connection, message)
        except ConnectionClosed:
            pass
        except Exception:  # a bug here, not in the app: don't leave it open
            logger.exception("gateway error on %s", connection.connection_id)
            await websocket.close(CloseCode.INTERNAL_ERROR)
        finally:
            if self._connections.get(connection.connection_id) is connection:
                del self._connections[connection.connection_id]
            await websocket.wait_closed()
            await self._run_disconnect(connection, websocket)

    async def _dispatch_message(self, connection: _Connection, body: str) -> None:
        request_id = _new_id()
        route_key = self._select_route(body)
        if route_key is None:
            await self._send_error_frame(connection, "Forbidden", request_id)
            return
        event = self._message_event(connection, route_key, body, request_id)
        try:
            await self._call_handler(route_key, event)
        except Exception:
            logger.exception(
                "%s handler failed for connection %s",
                route_key, connection.connection_id,
            )
            await self._send_error_frame(
                connection, "Internal server error", request_id
            )

    def _select_route(self, body: str) -> Optional[str]:
        """Apply Chalice's route selection expression, ``$request.body.action``.

        Chalice only registers ``$default`` for messages, so in practice
        every frame goes there. A custom route key is honoured anyway, as API
        Gateway would honour it. ``None`` means no route matches, which API
        Gateway answers with a "Forbidden" frame.
        """
        handlers = self._app.websocket_handlers
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        if isinstance(action, str) and not action.startswith("$") and action in handlers:
            return action
        return "$default" if "$default" in handlers else None

    async def _send_error_frame(
        self, connection: _Connection, message: str, request_id: str
    ) -> None:
        """Send the frame API Gateway sends when a route fails: the client
        stays connected and is told, and nothing is silently dropped."""
        frame = json.dumps({
            "message": message,
            "connectionId": connection.connection_id,
            "requestId": request_id,
        })
        if connection.websocket is not None:
            try:
                await connection.websocket.send(frame)
            except ConnectionClosed:
                pass

    async def _run_disconnect(
        self, connection: _Connection, websocket: ServerConnection
    ) -> None:
        code = websocket.close_code or CloseCode.ABNORMAL_CLOSURE
        if connection.deleted:
            reason = "Connection deleted via the management API"
        else:
            reason = (
                f"Client-side close frame status code '{int(code)}' and reason "
                f"'{websocket.close_reason or ''}'"
            )
        event = self._disconnect_event(connection, int(code), reason)
        try:
            await self._call_handler("$disconnect", event)
        except Exception:
            logger.exception(
                "$disconnect handler failed for %s", connection.connection_id
            )

    # --------------------------------------------------- handler invocation

    async def _call_handler(
        self, route_key: str, event: Dict[str, Any]
    ) -> Optional[Dict[str, Any]]:
        """Invoke the handler for ``route_key`` off the event loop.

        Returns its API Gateway-style response, or ``None`` when the app has
        no handler for the route. API Gateway then lets the step pass, for
        example a connect with no ``$connect`` route.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._invoke, route_key, event
        )

    def _invoke(self, route_key: str, event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        config = self._app.websocket_handlers.get(route_key)
        if config is None:
            return None
        # handler_map holds what Lambda would call: Chalice's
        # WebsocketEventSourceHandler, with websocket middleware.
        handler = self._app.handler_map[config.name]
        context = LambdaContext(
            function_name=f"{self._app.app_name}-{self._stage}-{config.name}",
            memory_size=LAMBDA_MEMORY_MB,
            max_runtime_ms=LAMBDA_TIMEOUT_MS,
        )
        return handler(event, context)

    # ---------------------------------------------------------- event shapes

    def _request_context(
        self, connection: _Connection, route_key: str, event_type: str,
        request_id: str,
    ) -> Dict[str, Any]:
        now = _utcnow()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self._stage,
            "connectedAt": _epoch_ms(connection.connected_at),
            "requestTimeEpoch": _epoch_ms(now),
            "identity": {
                "sourceIp": connection.source_ip,
                "userAgent": connection.user_agent,
            },
            "requestId": request_id,
            "domainName": self.management_domain,
            "connectionId": connection.connection_id,
            "apiId": self._api_id,
        }

    def _connect_event(
        self, connection: _Connection, headers: Headers, query: str
    ) -> Dict[str, Any]:
        multi_headers: Dict[str, list] = {}
        for name, value in headers.raw_items():
            multi_headers.setdefault(name, []).append(value)
        multi_headers.setdefault("X-Forwarded-For", [connection.source_ip])
        multi_headers.setdefault("X-Forwarded-Port", [str(self._bound(self._port))])
        multi_headers.setdefault("X-Forwarded-Proto", ["http"])
        event: Dict[str, Any] = {
            "headers": {name: values[-1] for name, values in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "requestContext": self._request_context(
                connection, "$connect", "CONNECT", _new_id()
            ),
            "isBase64Encoded": False,
        }
        # Like API Gateway, the query keys are left out when there is no query.
        multi_query = parse_qs(query, keep_blank_values=True)
        if multi_query:
            event["queryStringParameters"] = {
                name: values[-1] for name, values in multi_query.items()
            }
            event["multiValueQueryStringParameters"] = multi_query
        return event

    def _message_event(
        self, connection: _Connection, route_key: str, body: str, request_id: str
    ) -> Dict[str, Any]:
        context = self._request_context(connection, route_key, "MESSAGE", request_id)
        context["messageId"] = _new_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def _disconnect_event(
        self, connection: _Connection, code: int, reason: str
    ) -> Dict[str, Any]:
        context = self._request_context(
            connection, "$disconnect", "DISCONNECT", _new_id()
        )
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        headers = {"Host": connection.host_header, "X-Forwarded-For": connection.source_ip}
        return {
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    # ------------------------------------------------------- management API

    async def _serve_management(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """A minimal HTTP/1.1 server, with keep-alive, for the three calls.

        boto3 (urllib3) reuses connections, so several requests may arrive on
        one connection. Request bodies come with Content-Length, because
        botocore sends ``Data`` as bytes.
        """
        session = asyncio.current_task()
        assert session is not None
        self._management_sessions[session] = writer
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
                    await self._write_response(writer, *_error(
                        411, "BadRequestException", "Send a Content-Length body"
                    ), close=True)
                    break
                length = int(headers.get("content-length") or 0)
                if length > _MAX_MANAGEMENT_BODY:
                    await self._write_response(writer, *_error(
                        413, "PayloadTooLargeException", "Payload too large"
                    ), close=True)
                    break
                body = await reader.readexactly(length) if length else b""
                status, response_headers, response_body = await self._management_call(
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
            self._management_sessions.pop(session, None)
            writer.close()

    async def _write_response(
        self, writer: asyncio.StreamWriter, status: int,
        headers: Dict[str, str], body: bytes, close: bool = False,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
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

    async def _management_call(
        self, method: str, target: str, headers: Dict[str, str], body: bytes
    ) -> Tuple[int, Dict[str, str], bytes]:
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
            return _error(403, "ForbiddenException", "Forbidden")
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return _error(403, "ForbiddenException", "Missing Authentication Token")
        connection_id = unquote(path[len(prefix):])
        connection = self._connections.get(connection_id)
        if connection is None or connection.deleted or connection.websocket is None:
            return _error(410, "GoneException", None)
        websocket = connection.websocket

        if method == "POST":
            if len(body) > MAX_MESSAGE_BYTES:
                return _error(413, "PayloadTooLargeException", "Message too long")
            try:
                data: Any = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
            try:
                await websocket.send(data)
            except ConnectionClosed:
                return _error(410, "GoneException", None)
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

        return _error(403, "ForbiddenException", "Forbidden")

    # ------------------------------------------------------------------ TLS

    def _server_tls_context(self) -> ssl.SSLContext:
        """Issue this run's server certificate from the local CA and load it."""
        ca_cert, ca_key = _load_or_create_ca(self._cert_dir, self.ca_bundle)
        server_pem = _issue_server_certificate(
            ca_cert, ca_key, _subject_alt_names(self._public_host)
        )
        server_file = self._cert_dir / "server.pem"
        _write_atomically(server_file, server_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(server_file)
        return context


# ---------------------------------------------------------------- helpers


def _status_of(result: Optional[Dict[str, Any]]) -> int:
    if not result:
        return 200
    try:
        return int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        return 502  # API Gateway's answer to a malformed integration response


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _error(
    status: int, error_type: str, message: Optional[str]
) -> Tuple[int, Dict[str, str], bytes]:
    """Build an error in the form botocore's rest-json parser reads.

    ``x-amzn-ErrorType`` is what ``RestJSONParser._inject_error_code`` takes
    the error code from, and botocore turns a code that names a modelled
    error shape (GoneException, ForbiddenException, ...) into
    ``client.exceptions.<Code>``. With the status alone, the code would be
    ``"410"`` and the caller would get a bare ClientError.
    """
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
    return status, headers, json.dumps({"message": message}).encode()


#: The only names the local CA may vouch for: this machine and private
#: networks. Its key is a file on disk, so even a developer who adds the CA
#: to a system trust store must not let it impersonate a real host.
_CA_PERMITTED_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                          "192.168.0.0/16", "fc00::/7")


def _subject_alt_names(host: str) -> list:
    """SANs for the server certificate: ``localhost``, ``127.0.0.1``, and the
    listening address when it is another loopback or private IP."""
    names: list = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host in ("localhost", "127.0.0.1"):
        return names
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not any(
        address in ipaddress.ip_network(net) for net in _CA_PERMITTED_NETWORKS
    ):
        raise ValueError(
            f"host {host!r}: the gateway listens on loopback, a private IP or "
            "all addresses, because its CA may only vouch for those"
        )
    names.append(x509.IPAddress(address))
    return names


def _name_constraints() -> x509.NameConstraints:
    permitted: list = [x509.DNSName("localhost")]
    permitted += [x509.IPAddress(ipaddress.ip_network(n)) for n in _CA_PERMITTED_NETWORKS]
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename it into place, so a concurrent
    reader never sees half a PEM. The file is private (0600) because it may
    hold a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\r?\n?", re.S)


def _load_or_create_ca(directory: Path, bundle: Path):
    """Return the local CA's certificate and key, creating them if needed.

    The CA is kept (in ``ca-key-and-cert.pem``, one file so the key and the
    certificate always match) and reused while it has more than 30 days of
    validity left. Gateways that start at the same time then agree on one CA:
    the first creator's file is linked into place, and a loser reads the
    winner's file.
    """
    combined = directory / "ca-key-and-cert.pem"
    directory.mkdir(parents=True, exist_ok=True)
    loaded = _read_ca(combined)
    if loaded is None or loaded[0].not_valid_after_utc - _utcnow() < dt.timedelta(days=30):
        pem = _new_ca_pem()
        if loaded is None:
            tmp = directory / f".ca.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            try:
                os.link(tmp, combined)
            except FileExistsError:
                pass  # another gateway won the race; use its CA
            finally:
                tmp.unlink()
        else:
            _write_atomically(combined, pem)  # expiring: replace it
        loaded = _read_ca(combined)
        if loaded is None:
            raise RuntimeError(f"could not read the local CA at {combined}")
    ca_cert, ca_key = loaded
    certificate_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    if not bundle.exists() or bundle.read_bytes() != certificate_pem:
        _write_atomically(bundle, certificate_pem)
        bundle.chmod(0o644)
    return ca_cert, ca_key


def _read_ca(path: Path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    blocks = {m.group(1).decode(): m.group(0) for m in _PEM_BLOCK.finditer(data)}
    if "CERTIFICATE" not in blocks or "PRIVATE KEY" not in blocks:
        return None
    certificate = x509.load_pem_x509_certificate(blocks["CERTIFICATE"])
    key = serialization.load_pem_private_key(blocks["PRIVATE KEY"], password=None)
    return certificate, key


def _new_ca_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "account-opening devstack"),
        x509.NameAttribute(NameOID.COMMON_NAME, "devstack local CA"),
    ])
    now = _utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_name_constraints(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue_server_certificate(ca_cert: x509.Certificate, ca_key: Any, names: list) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + _SERVER_CERT_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=False, crl_sign=False,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + certificate.public_bytes(serialization.Encoding.PEM)
