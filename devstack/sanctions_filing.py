"""The screening index's filing, done once per checkout instead of once per local process (issue 22).

A screening container files every listed name under its blocking keys the first time it screens
(``ScreeningIndex.file``): about 5 s of CPU for the real lists, in every process that screens. On AWS a
container does that once in its life; locally the suite pays it in each in-process moto stack, each
``python -m devstack up`` and each bench that provisions its own local AWS, for the same lists and the same
code every time. The local stack therefore keeps what the filing made in a file (a pickle under
``.cache/sanctions-filing/``, gitignored) named by what decides it:

- the index's ``version``: a hash of its content (every entry and the lists' sizes), so other lists, or a
  list refreshed to new content, make another file;
- a hash of the code that files: every module of ``chalicelib/domain/sanctions``, the version of
  ``anyascii`` (the transliteration it reads names through) and of Python (the pickle's and the hashes').

A later process that files the same index with the same code loads that file (about 0.7 s) instead. What it
keeps and loads is the index's own export of its filing (``ScreeningIndex.filed_state`` and ``load_filed``, which
refuses another version's); screening runs unchanged. Only the local stack installs this (``install``, called
where it seeds the lists, wrapping the public ``ScreeningIndex.file``), never the app: chalicelib knows nothing
of it, and a deployed container files as before. Small indexes (a test's synthetic lists) and deltas
are filed as before, uncached. ``DEVSTACK_SANCTIONS_CACHE=off`` turns the cache off; a file that cannot be
read is filed again and rewritten.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

from .files import locked, write_atomically

log = logging.getLogger("devstack")

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".cache" / "sanctions-filing"
CODE_DIR = ROOT / "chalicelib" / "domain" / "sanctions"
#: Fewer entries than this are filed as before: a test's synthetic lists file in milliseconds.
MIN_ENTRIES = 1000
#: Files of other versions kept beside the newest (a branch switched back and forth reuses its own).
KEEP = 4
_INSTALLED = "_devstack_filing_cache"


def code_version(code_dir: Path = CODE_DIR) -> str:
    """A hash of what files the index: the sanctions modules' source, anyascii's version, Python's."""
    digest = hashlib.sha256()
    for path in sorted(code_dir.rglob("*.py")):
        digest.update(path.relative_to(code_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        from importlib.metadata import version

        anyascii = version("anyascii")
    except Exception:  # noqa: BLE001 - not installed: the filing would fail on its own
        anyascii = "?"
    digest.update(f"anyascii {anyascii}; python {sys.version}; pickle {pickle.HIGHEST_PROTOCOL}".encode())
    return digest.hexdigest()[:16]


def install(cache_dir: Optional[Path] = None) -> bool:
    """Make ``ScreeningIndex.file`` of this process go through the cache (once; True when installed now)."""
    if os.environ.get("DEVSTACK_SANCTIONS_CACHE", "").lower() in ("off", "0", "no"):
        return False
    from chalicelib.domain.sanctions.index import ScreeningIndex

    if getattr(ScreeningIndex.file, _INSTALLED, False):
        return False
    cached = cached_filing(ScreeningIndex.file, cache_dir or CACHE_DIR)
    ScreeningIndex.file = cached  # type: ignore[method-assign,assignment]
    return True


def cached_filing(file: Callable[[Any], None], cache_dir: Path, min_entries: int = MIN_ENTRIES,
                  code_dir: Path = CODE_DIR) -> Callable[[Any], None]:
    """``file`` (the original ``ScreeningIndex.file``), done once per index version and code version."""
    code: dict[str, str] = {}

    def _file(index: Any) -> None:
        if len(index.entries) < min_entries or index.is_delta:
            file(index)
            return
        if "version" not in code:
            code["version"] = code_version(code_dir)
        path = cache_dir / f"{index.version}-{code['version']}.pickle"
        if _load_into(index, path):
            return
        with locked(path.with_suffix(".lock")):
            if _load_into(index, path):  # another process filed it while this one waited
                return
            started = time.process_time()
            file(index)
            _write(path, index.filed_state())
            log.info("devstack: sanctions index %s filed in %.1f s of CPU, kept in %s", index.version,
                     time.process_time() - started, path)
            _prune(cache_dir, keep=path)

    setattr(_file, _INSTALLED, True)
    _file.__doc__ = file.__doc__
    return _file


def _load_into(index: Any, path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    gc.disable()  # millions of small objects: the collector would walk them again and again while loading
    try:
        filed = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a torn or stale file: file again, and rewrite it
        log.warning("devstack: %s unreadable; filing the sanctions index again", path, exc_info=True)
        return False
    finally:
        gc.enable()
    try:
        index.load_filed(filed)
    except (TypeError, ValueError, KeyError):  # not this index's filing (a file of the old form): file again
        log.warning("devstack: %s is not this index's filing; filing it again", path)
        return False
    return True


def _write(path: Path, filed: Mapping[str, Any]) -> None:
    try:
        write_atomically(path, pickle.dumps(filed, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        log.warning("devstack: could not keep the filed sanctions index in %s", path, exc_info=True)


def _prune(cache_dir: Path, keep: Path) -> None:
    """Only the newest few versions stay (each is some 25 MB)."""
    files = sorted(cache_dir.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [f for f in files if f != keep][KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
            old.with_suffix(".lock").unlink(missing_ok=True)
