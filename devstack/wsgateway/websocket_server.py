"""The ``ws://`` side: each step of a connection's life passed to the app's handlers.

``$connect`` runs inside the opening handshake and can refuse it, each text
frame goes to the route Chalice's selection expression picks (``$default``),
and ``$disconnect`` runs however the connection ends. Handlers run in a
thread pool, because a handler that calls ``app.websocket_api.send`` makes a
blocking HTTPS request back to the gateway's own event loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import http
import json
import logging
import weakref
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from ..runtime import Invoker
from . import connections
from .connections import Connection
from .lambda_events import EventShaper
from .management_api import reason_phrase

logger = logging.getLogger("devstack.wsgateway")

#: The Lambda limits the handlers are invoked with (Chalice's defaults).
LAMBDA_TIMEOUT_SECONDS = 60
LAMBDA_MEMORY_MB = 128


def _status_of(result: Optional[Dict[str, Any]]) -> int:
    if not result:
        return 200
    try:
        return int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        return 502  # API Gateway's answer to a malformed integration response


class WebSocketRoutes:
    """The callbacks the ``websockets`` server runs, for one app and stage.

    :meth:`bind` must be called once the servers are listening: the events
    name the management domain and the port the client connected to.
    """

    def __init__(
        self, app: Any, stage: str, live: Dict[str, Connection],
        executor: concurrent.futures.Executor,
    ) -> None:
        self._app = app
        self._stage = stage
        self._connections = live
        self._executor = executor
        self._handshakes: "weakref.WeakKeyDictionary[ServerConnection, Connection]" = (
            weakref.WeakKeyDictionary()
        )
        self._events: Optional[EventShaper] = None
        self._default_host = ""

    def bind(self, events: EventShaper, default_host: str) -> None:
        self._events = events
        self._default_host = default_host

    @property
    def events(self) -> EventShaper:
        if self._events is None:
            raise RuntimeError("WebSocketGateway is not started")
        return self._events

    async def process_request(
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
        if url.path.rstrip("/") not in ("", f"/{self._stage}"):
            return websocket.respond(http.HTTPStatus.FORBIDDEN, "Forbidden\n")
        now = connections.utcnow()
        source_ip = websocket.remote_address[0] if websocket.remote_address else ""
        connection = Connection(
            connection_id=connections.new_id(),
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent"),
            host_header=request.headers.get("Host", self._default_host),
            connected_at=now,
            last_active_at=now,
        )
        event = self.events.connect(connection, request.headers, url.query)
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
            body = (result or {}).get("body") or reason_phrase(status)
            return websocket.respond(status, f"{body}\n")
        self._handshakes[websocket] = connection
        return None

    async def handle_connection(self, websocket: ServerConnection) -> None:
        """Pass one accepted connection's frames to ``$default``, then run
        ``$disconnect`` however the connection ended."""
        connection = self._handshakes.pop(websocket)
        connection.websocket = websocket
        self._connections[connection.connection_id] = connection
        try:
            async for message in websocket:
                connection.last_active_at = connections.utcnow()
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

    async def _dispatch_message(self, connection: Connection, body: str) -> None:
        request_id = connections.new_id()
        route_key = self._select_route(body)
        if route_key is None:
            await self._send_error_frame(connection, "Forbidden", request_id)
            return
        event = self.events.message(connection, route_key, body, request_id)
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
        except (ValueError, AttributeError, RecursionError):
            action = None
        if isinstance(action, str) and not action.startswith("$") and action in handlers:
            return action
        return "$default" if "$default" in handlers else None

    async def _send_error_frame(
        self, connection: Connection, message: str, request_id: str
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
        self, connection: Connection, websocket: ServerConnection
    ) -> None:
        code = websocket.close_code or CloseCode.ABNORMAL_CLOSURE
        if connection.deleted:
            reason = "Connection deleted via the management API"
        else:
            reason = (
                f"Client-side close frame status code '{int(code)}' and reason "
                f"'{websocket.close_reason or ''}'"
            )
        event = self.events.disconnect(connection, int(code), reason)
        try:
            await self._call_handler("$disconnect", event)
        except Exception:
            logger.exception(
                "$disconnect handler failed for %s", connection.connection_id
            )

    async def _call_handler(
        self, route_key: str, event: Dict[str, Any]
    ) -> Optional[Dict[str, Any]]:
        """Invoke the handler for ``route_key`` off the event loop.

        Returns its API Gateway-style response, or ``None`` when the app has
        no handler for the route. API Gateway then lets the step pass, for
        example a connect with no ``$connect`` route.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._invoke, route_key, event)

    def _invoke(self, route_key: str, event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        config = self._app.websocket_handlers.get(route_key)
        if config is None:
            return None
        # handler_map holds what Lambda would call: Chalice's
        # WebsocketEventSourceHandler, with websocket middleware.
        invoke = Invoker(self._app, config.name, self._stage,
                         memory_limit_in_mb=LAMBDA_MEMORY_MB,
                         timeout_seconds=LAMBDA_TIMEOUT_SECONDS)
        return invoke(event)
