"""The gateway's life: bind both servers on one event loop thread, stop them in order."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from pathlib import Path
from typing import Any, Dict, Optional

from websockets.asyncio.server import Server, serve
from websockets.frames import CloseCode

from ..deadlines import scaled
from ..net import public_host
from .connections import MAX_MESSAGE_BYTES, Connection
from .lambda_events import EventShaper
from .local_ca import server_tls_context, subject_alt_names
from .management_api import ManagementApi
from .websocket_server import WebSocketRoutes

logger = logging.getLogger("devstack.wsgateway")


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
        self._public_host = public_host(self._host)
        subject_alt_names(self._public_host)  # refuse an unsupported host now

        self._lock = threading.RLock()
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._ws_server: Optional[Server] = None
        self._management_server: Optional[asyncio.AbstractServer] = None
        self._management: Optional[ManagementApi] = None
        self._port: Optional[int] = None
        self._management_port: Optional[int] = None

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
                ).result(timeout=scaled(30.0))
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
                ).result(timeout=scaled(30.0))
            except Exception:
                logger.exception("WebSocket gateway did not stop cleanly")
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # the loop already ended
            self._thread.join(timeout=scaled(30.0))
            if self._executor is not None:
                # A handler stuck forever must not hang stop(); it is logged.
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._thread = self._loop = self._executor = None
            self._ws_server = self._management_server = self._management = None
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
        assert self._executor is not None
        tls = await asyncio.get_running_loop().run_in_executor(
            self._executor, server_tls_context, self._cert_dir, self.ca_bundle,
            self._public_host,
        )
        # Loop-thread state, shared by both sides: only touched from coroutines.
        live: Dict[str, Connection] = {}
        self._management = ManagementApi(self._stage, live)
        self._management_server = await asyncio.start_server(
            self._management.serve, self._host, self._requested_management_port, ssl=tls,
        )
        self._management_port = self._management_server.sockets[0].getsockname()[1]
        if self._configure_app:
            # Before the first client can connect and run a handler.
            self._configure_websocket_api()
        routes = WebSocketRoutes(self._app, self._stage, live, self._executor)
        self._ws_server = await serve(
            routes.handle_connection,
            self._host,
            self._requested_port,
            process_request=routes.process_request,
            # API Gateway negotiates no extensions and caps a message at 128 KB
            # (bigger ones close the connection with 1009, as here).
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
            # $connect runs inside the handshake; API Gateway gives an
            # integration 29 s, websockets' default would abort after 10 s.
            # Scaled: a loaded machine runs the handler slower than Lambda.
            open_timeout=scaled(30.0),
            # Not scaled: the peer has had our close frame (and its code) by
            # then; this only bounds waiting for its answer before dropping it.
            close_timeout=2,
        )
        self._port = self._ws_server.sockets[0].getsockname()[1]
        routes.bind(
            EventShaper(self._stage, self._api_id, self.management_domain, self._port),
            default_host=self.ws_url[len("ws://"):],
        )

    async def _stop_servers(self) -> None:
        # WebSocket side first. Closing the connections runs $disconnect, and
        # a $disconnect handler may still call the management API.
        if self._ws_server is not None:
            self._ws_server.close(code=CloseCode.GOING_AWAY)
            try:
                await asyncio.wait_for(self._ws_server.wait_closed(), timeout=scaled(15.0))
            except asyncio.TimeoutError:
                logger.error("timed out waiting for WebSocket handlers to finish")
        if self._management_server is not None:
            self._management_server.close()
            if self._management is not None:
                await self._management.abort_sessions()
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
