"""The API Gateway-shaped Lambda events for ``$connect``, messages and ``$disconnect``.

Kept apart from the servers so the shapes can be read (and compared with
AWS's documentation) in one place.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict
from urllib.parse import parse_qs

from websockets.datastructures import Headers

from . import connections
from .connections import Connection


def _epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class EventShaper:
    """Builds events for one bound gateway: its stage, API id, domain and port."""

    stage: str
    api_id: str
    domain_name: str
    port: int

    def _request_context(
        self, connection: Connection, route_key: str, event_type: str, request_id: str
    ) -> Dict[str, Any]:
        now = connections.utcnow()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": _epoch_ms(connection.connected_at),
            "requestTimeEpoch": _epoch_ms(now),
            "identity": {
                "sourceIp": connection.source_ip,
                "userAgent": connection.user_agent,
            },
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.api_id,
        }

    def connect(self, connection: Connection, headers: Headers, query: str) -> Dict[str, Any]:
        multi_headers: Dict[str, list] = {}
        for name, value in headers.raw_items():
            multi_headers.setdefault(name, []).append(value)
        multi_headers.setdefault("X-Forwarded-For", [connection.source_ip])
        multi_headers.setdefault("X-Forwarded-Port", [str(self.port)])
        multi_headers.setdefault("X-Forwarded-Proto", ["http"])
        event: Dict[str, Any] = {
            "headers": {name: values[-1] for name, values in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "requestContext": self._request_context(
                connection, "$connect", "CONNECT", connections.new_id()
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

    def message(
        self, connection: Connection, route_key: str, body: str, request_id: str
    ) -> Dict[str, Any]:
        context = self._request_context(connection, route_key, "MESSAGE", request_id)
        context["messageId"] = connections.new_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def disconnect(self, connection: Connection, code: int, reason: str) -> Dict[str, Any]:
        context = self._request_context(
            connection, "$disconnect", "DISCONNECT", connections.new_id()
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
