"""Addresses the local stack listens on and tells clients to use."""
from __future__ import annotations

import errno
import socket

ANY_ADDRESS = ("", "0.0.0.0", "::")


def public_host(host: str) -> str:
    """What clients connect to: listening on all addresses still means 127.0.0.1."""
    return "127.0.0.1" if host in ANY_ADDRESS else host


def ensure_free(host: str, ports: dict[str, int]) -> None:
    """Raise EADDRINUSE naming every requested port (by its option) that is taken.

    Port 0 means "any free one" and is never checked.
    """
    taken = []
    for option, port in ports.items():
        if not port:
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                taken.append(f"{port} ({option})")
    if taken:
        raise OSError(errno.EADDRINUSE, f"port {', '.join(taken)} already in use")
