"""What the gateway knows about one client connection, and how ids look."""
from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Optional

from websockets.asyncio.server import ServerConnection

#: API Gateway's hard limit for one WebSocket message and for
#: PostToConnection data (128 KB).
MAX_MESSAGE_BYTES = 128 * 1024


def new_id() -> str:
    """Return an id that looks like API Gateway's (``L0SM9cOFvHcCIhw=``).

    It uses the standard base64 alphabet, as real ids appear to, so ``+``,
    ``/`` and ``=`` occur. An app that forgets to URL-encode ids then tends to
    fail here, on a laptop, rather than first in AWS.
    """
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Connection:
    """One client connection, from its handshake until it is gone."""

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
