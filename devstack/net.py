"""Addresses the local stack listens on and tells clients to use."""
from __future__ import annotations

ANY_ADDRESS = ("", "0.0.0.0", "::")


def public_host(host: str) -> str:
    """What clients connect to: listening on all addresses still means 127.0.0.1."""
    return "127.0.0.1" if host in ANY_ADDRESS else host
