"""Frames to WebSocket clients through API Gateway's management API (Chalice's WebsocketAPI)."""

from __future__ import annotations

from typing import Any, Optional

from chalice.app import WebsocketDisconnectedError

from ..services.ports import ConnectionGone, WebSocketSender


def configure(websocket_api: Any, session: Any, domain: Optional[str], stage: str) -> None:
    """Give Chalice's WebsocketAPI a session, and its endpoint when configured.

    In Lambda the WebSocket handlers configure the endpoint from their own
    event, but the SNS notifier is another function and learns it from
    configuration (the API's domain, custom or
    ``<api-id>.execute-api.<region>.amazonaws.com``, and the stage).
    Chalice keeps the first endpoint it is given.
    """
    if websocket_api.session is None:
        websocket_api.session = session
    if domain:
        websocket_api.configure(domain, stage)


class ChaliceWebSocketSender(WebSocketSender):
    def __init__(self, websocket_api: Any):
        self.websocket_api = websocket_api

    def send(self, connection_id: str, text: str) -> None:
        try:
            self.websocket_api.send(connection_id, text)
        except WebsocketDisconnectedError as error:
            raise ConnectionGone(connection_id) from error
