"""Writing the local stack's files so that no reader ever sees half of one."""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
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


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created, with its folder, if missing) for the block, so one
    process makes a cached file while the others wait for it instead of making it too. Where there is no
    ``fcntl`` or the lock file cannot be opened, the block runs unlocked (the cache's writes are atomic)."""
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - held for the block
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()
