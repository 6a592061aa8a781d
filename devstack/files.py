"""Writing the local stack's files so that no reader ever sees half of one."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_temp_file(directory: Path, name: str, data: bytes) -> Path:
    """A new 0600 file next to where ``data`` will live, for a rename or a link.

    Private because the local stack's files hold keys and demo passwords.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return tmp


def write_atomically(path: Path, data: bytes, mtime: float | None = None) -> None:
    """Write a private file and rename it into place, so a concurrent reader
    sees the old content or the new, never a mix (a kill -9 half-way leaves
    the old one); ``mtime``: the time it is as of, set before it appears."""
    tmp = private_temp_file(path.parent, path.name, data)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)
