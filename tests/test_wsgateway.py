"""The local WebSocket gateway against real clients and a real boto3 client.

A throwaway Chalice app is defined here, so these tests pin the gateway's
contract with Chalice and botocore rather than the project's app. Its
``app.websocket_api`` sends through the gateway's HTTPS management endpoint
exactly as it would in AWS. Waiting is done by polling against a deadline,
never by fixed sleeps.
"""
from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List

import boto3
import pytest
from chalice import Chalice, Response
from chalice.app import WebsocketDisconnectedError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from devstack.wsgateway import WebSocketGateway
from devstack.wsgateway import connections as gateway_connections
from tests.support.deadlines import REPLY_S

DEADLINE_S = REPLY_S  # generous for a loaded machine (tests/support/deadlines.py)


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE_S) -> Any:
    """Poll ``predicate`` until it returns something truthy or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


class Recorder:
    """Thread-safe log of the events the app's handlers received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: List[Dict[str, Any]] = []

    def add(self, event: Dict[str, Any]) -> None:
        with self._lock:
            self._events.append(event)

    def of(self, event_type: str, connection_id: str | None = None) -> List[Dict[str, Any]]:
        with self._lock:
            return [
                e for e in self._events
                if e["requestContext"]["eventType"] == event_type
                and connection_id in (None, e["requestContext"]["connectionId"])
            ]


def make_app(recorder: Recorder) -> Chalice:
    """A minimal app in the shape the project uses: token check on connect,
    replies through ``app.websocket_api``."""
    app = Chalice(app_name="wsgateway-test")
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    app.websocket_api.session = boto3.session.Session(region_name="us-east-1")

    @app.on_ws_connect()
    def connect_handler(event):
        recorder.add(event.to_dict())
        token = (event.to_dict().get("queryStringParameters") or {}).get("token")
        if token == "good":
            return Response(body="", status_code=200)
        if token == "boom":
            raise RuntimeError("connect handler crashed")
        if token == "forbidden":
            return Response(body="Forbidden", status_code=403)
        return Response(body="Unauthorized", status_code=401)

    @app.on_ws_message()
    def message_handler(event):
        recorder.add(event.to_dict())
        if event.body == "whoami":
            app.websocket_api.send(event.connection_id, event.connection_id)
        elif event.body == "crash":
            raise RuntimeError("message handler crashed")
        else:
            app.websocket_api.send(event.connection_id, "echo:" + event.body)

    @app.on_ws_disconnect()
    def disconnect_handler(event):
        recorder.add(event.to_dict())

    return app


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory):
    """Fake credentials and no shared config, so nothing can reach real AWS."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", str(empty))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        yield mp


@pytest.fixture(scope="module")
def stack(aws_env, tmp_path_factory):
    recorder = Recorder()
    app = make_app(recorder)
    gateway = WebSocketGateway(app, state_dir=tmp_path_factory.mktemp("devstack"))
    gateway.start()
    aws_env.setenv("AWS_CA_BUNDLE", str(gateway.ca_bundle))
    app.websocket_api.configure(gateway.management_domain, gateway.stage)
    yield app, gateway, recorder
    gateway.stop()


@pytest.fixture
def app(stack):
    return stack[0]


@pytest.fixture
def gateway(stack):
    return stack[1]


@pytest.fixture
def recorder(stack):
    return stack[2]


@pytest.fixture
def management(gateway):
    """A plain boto3 client for the management API, as the app builds it."""
    client = boto3.session.Session(region_name="us-east-1").client(
        "apigatewaymanagementapi",
        endpoint_url=f"https://{gateway.management_domain}/{gateway.stage}",
    )
    yield client
    client.close()


def https_status(url: str, ca_bundle: Path) -> tuple[int, str | None]:
    """GET ``url`` without signing it; return the status and error type."""
    tls = ssl.create_default_context(cafile=str(ca_bundle))
    try:
        with urllib.request.urlopen(url, context=tls, timeout=DEADLINE_S) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["x-amzn-ErrorType"]


def open_client(gateway: WebSocketGateway, token: str = "good", path: str = "/"):
    return connect(f"{gateway.ws_url}{path}?token={token}", open_timeout=DEADLINE_S)


def whoami(client) -> str:
    client.send("whoami")
    return client.recv(timeout=DEADLINE_S)


# ---------------------------------------------------------------- connect


def test_good_token_is_accepted_with_an_api_gateway_shaped_event(gateway, recorder):
    with open_client(gateway, "good") as client:
        connection_id = whoami(client)

    [event] = recorder.of("CONNECT", connection_id)
    context = event["requestContext"]
    assert context["routeKey"] == "$connect"
    assert context["domainName"] == gateway.management_domain
    assert context["stage"] == gateway.stage == "local"
    assert context["apiId"] == "local"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["connectedAt"], int) and context["requestId"]
    assert event["queryStringParameters"] == {"token": "good"}
    assert event["multiValueQueryStringParameters"] == {"token": ["good"]}
    assert event["headers"]["Upgrade"] == "websocket"
    assert event["multiValueHeaders"]["Upgrade"] == ["websocket"]
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("token, status", [("bad", 401), ("forbidden", 403)])
def test_connect_handler_status_refuses_the_handshake(gateway, recorder, token, status):
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway, token)
    assert refused.value.response.status_code == status


def test_connect_handler_that_raises_refuses_with_500_and_gateway_survives(gateway):
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway, "boom")
    assert refused.value.response.status_code == 500
    with open_client(gateway, "good") as client:
        assert whoami(client)


def test_stage_path_is_accepted_and_other_paths_are_forbidden(gateway):
    with open_client(gateway, "good", path=f"/{gateway.stage}") as client:
        assert whoami(client)
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway, "good", path="/elsewhere")
    assert refused.value.response.status_code == 403


# --------------------------------------------------------------- messages


def test_echo_goes_back_through_the_https_management_endpoint(gateway, recorder):
    with open_client(gateway) as client:
        client.send("hello")
        assert client.recv(timeout=DEADLINE_S) == "echo:hello"
        connection_id = whoami(client)

    [message] = [
        e for e in recorder.of("MESSAGE", connection_id) if e["body"] == "hello"
    ]
    assert message["requestContext"]["routeKey"] == "$default"
    assert message["requestContext"]["messageId"]
    assert message["isBase64Encoded"] is False


def test_handler_exception_sends_api_gateway_error_frame_and_keeps_connection(gateway):
    with open_client(gateway) as client:
        client.send("crash")
        error = json.loads(client.recv(timeout=DEADLINE_S))
        connection_id = whoami(client)  # still connected

    assert error["message"] == "Internal server error"
    assert error["connectionId"] == connection_id
    assert error["requestId"]


def test_deeply_nested_json_frame_reaches_the_handler_and_keeps_the_connection(gateway):
    """Route selection parses the frame; a parser's RecursionError used to close with 1011."""
    body = "[" * 5000 + "]" * 5000
    with open_client(gateway) as client:
        client.send(body)
        assert client.recv(timeout=DEADLINE_S) == "echo:" + body
        assert whoami(client)


def test_binary_frame_from_client_is_closed_with_1003(gateway):
    with open_client(gateway) as client:
        client.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=DEADLINE_S)
    assert client.close_code == 1003


def test_non_utf8_post_is_delivered_as_a_binary_frame(gateway, management):
    with open_client(gateway) as client:
        connection_id = whoami(client)
        management.post_to_connection(ConnectionId=connection_id, Data=b"\xff\x00")
        assert client.recv(timeout=DEADLINE_S) == b"\xff\x00"


def test_ids_with_url_encoded_characters_round_trip(gateway, management, monkeypatch):
    """botocore percent-encodes ``/ + =`` in the path, as real ids have them."""
    monkeypatch.setattr(gateway_connections, "new_id", lambda: "ab/c+d=")
    with open_client(gateway) as client:
        assert whoami(client) == "ab/c+d="
        management.post_to_connection(ConnectionId="ab/c+d=", Data=b"direct")
        assert client.recv(timeout=DEADLINE_S) == "direct"


# -------------------------------------------------------- management API


def test_send_to_closed_connection_raises_websocket_disconnected(
    app, gateway, recorder, management
):
    with open_client(gateway) as client:
        connection_id = whoami(client)
    wait_until(lambda: recorder.of("DISCONNECT", connection_id))

    with pytest.raises(WebsocketDisconnectedError) as gone:
        app.websocket_api.send(connection_id, "anyone there?")
    assert gone.value.connection_id == connection_id
    with pytest.raises(management.exceptions.GoneException) as raw:
        management.get_connection(ConnectionId=connection_id)
    assert raw.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    with pytest.raises(management.exceptions.GoneException):
        management.delete_connection(ConnectionId="never/existed+=")


def test_delete_connection_closes_the_client_and_runs_disconnect(gateway, recorder, management):
    with open_client(gateway) as client:
        connection_id = whoami(client)
        management.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=DEADLINE_S)

    [event] = wait_until(lambda: recorder.of("DISCONNECT", connection_id))
    assert event["requestContext"]["routeKey"] == "$disconnect"
    assert event["requestContext"]["disconnectStatusCode"] == 1000
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")


def test_client_close_runs_disconnect_with_its_close_code(gateway, recorder):
    with open_client(gateway) as client:
        connection_id = whoami(client)
        client.close(code=4000, reason="bye")
    [event] = wait_until(lambda: recorder.of("DISCONNECT", connection_id))
    assert event["requestContext"]["disconnectStatusCode"] == 4000
    assert "bye" in event["requestContext"]["disconnectReason"]


def test_get_connection_returns_connection_info(app, gateway):
    with open_client(gateway) as client:
        connection_id = whoami(client)
        info = app.websocket_api.info(connection_id)

    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert info["Identity"]["UserAgent"].startswith("Python/")  # websockets' UA
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    assert info["ConnectedAt"].tzinfo is not None


def test_unsigned_or_misrouted_management_requests_are_forbidden(gateway):
    for path in (f"/{gateway.stage}/@connections/abc", "/otherstage/@connections/abc"):
        url = f"https://{gateway.management_domain}{path}"
        assert https_status(url, gateway.ca_bundle) == (403, "ForbiddenException")


def test_oversized_post_is_payload_too_large(gateway, management):
    with open_client(gateway) as client:
        connection_id = whoami(client)
        with pytest.raises(management.exceptions.PayloadTooLargeException):
            management.post_to_connection(
                ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
            )


# -------------------------------------------------------------- lifecycle


def test_start_stop_are_idempotent_and_stop_disconnects_clients(
    aws_env, tmp_path, monkeypatch
):
    recorder = Recorder()
    gateway = WebSocketGateway(make_app(recorder), state_dir=tmp_path)
    with pytest.raises(RuntimeError):
        gateway.ws_url  # not bound yet
    gateway.start()
    gateway.start()
    monkeypatch.setenv("AWS_CA_BUNDLE", str(gateway.ca_bundle))
    try:
        assert gateway.ws_url.startswith("ws://127.0.0.1:")
        assert not gateway.ws_url.endswith(":0")
        assert gateway.ca_bundle == tmp_path / "wsgateway" / "ca.pem"
        with open_client(gateway) as client:
            # start() pointed the app's (unconfigured) websocket_api here.
            assert whoami(client)
            gateway.stop()
            assert recorder.of("DISCONNECT")  # ran before stop() returned
            with pytest.raises(ConnectionClosed):
                client.recv(timeout=DEADLINE_S)
            assert client.close_code == 1001
    finally:
        gateway.stop()
    gateway.stop()


def test_restart_reuses_the_ca_so_existing_bundles_stay_valid(aws_env, tmp_path):
    gateway = WebSocketGateway(make_app(Recorder()), state_dir=tmp_path)
    with gateway:
        first = gateway.ca_bundle.read_bytes()
    first_bundle = tmp_path / "bundle-from-first-run.pem"
    first_bundle.write_bytes(first)
    with gateway:
        assert gateway.ca_bundle.read_bytes() == first
        # The new server certificate verifies against the old bundle, by
        # both names it carries.
        port = gateway.management_domain.rsplit(":", 1)[1]
        for host in ("127.0.0.1", "localhost"):
            url = f"https://{host}:{port}/local/@connections/x"
            assert https_status(url, first_bundle) == (403, "ForbiddenException")


def test_app_configured_elsewhere_is_left_alone_with_a_warning(aws_env, tmp_path, caplog):
    app = make_app(Recorder())
    app.websocket_api.configure("example.invalid", "prod")
    with WebSocketGateway(app, state_dir=tmp_path):
        pass
    assert "already sends to https://example.invalid/prod" in caplog.text


def test_ca_key_is_private(stack):
    gateway = stack[1]
    key_file = Path(gateway.ca_bundle).with_name("ca-key-and-cert.pem")
    assert key_file.stat().st_mode & 0o077 == 0
