"""A process that was told to stop: which children it had, whether a port still listens."""
from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.deadlines import REPLY_S


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    children = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            children.add(int(status.parent.name))
    return children


def listening(url: str) -> bool:
    """Whether something accepts connections at ``url``'s host and port."""
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(REPLY_S)  # refused at once when closed, accepted at once when open
        return sock.connect_ex((parts.hostname, parts.port)) == 0

