"""The face engine's analyses, kept once per checkout instead of redone in every process (issue 22).

Every process that runs the local face engine (each local stack's Rekognition, each test worker's, each
``./dev passport --photo``) loads dlib's models (2-6 s of CPU) and analyses the same photos of
``tests/data/faces`` and the same generated pages again (0.3-1 s an image): the same bytes, the same code,
the same answer. The engine therefore keeps what it found in an image in a file under
``.cache/face-analyses/`` (gitignored), named by what decides it:

- a hash of the image itself (its decoded pixels, their shape and type) and the ``max_faces`` asked for;
- a folder per code version: a hash of ``devstack/rekognition/engine.py`` (the detector's scale, the
  landmark and descriptor calls), the model files' names and sizes, and dlib's, numpy's, Pillow's and
  Python's versions. Other code or models make another folder; only the newest few stay.

A later process asking about the same image loads that file (milliseconds) and never loads dlib's models
when every image it is asked about was analysed before: :class:`~.engine.Engine` loads them at its first
miss. What it loads is what the engine found: the same boxes, scores, landmarks and descriptors (the grey
image each face carries for the pixel estimates is made again from the image, not kept). Only the local
stack and the dev tools install this (``engine.install_analyses``: the local Rekognition, the tests'
portraits and ``./dev passport``); the bench that times the engine turns it off for its engine; chalicelib knows nothing of
it. ``DEVSTACK_FACE_CACHE=off`` turns it off; a file that cannot be read is analysed again and rewritten.
Two processes asking about one image at once: one analyses it, the other waits for its file.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

from ..files import locked, write_atomically

log = logging.getLogger("devstack")

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".cache" / "face-analyses"
ENGINE_SOURCE = Path(__file__).resolve().parent / "engine.py"
#: Folders of other code versions kept beside the current one (a branch switched back and forth reuses its own).
KEEP = 3
#: Analyses kept per code version: past this, the oldest half goes (generated pages are new in every run).
MAX_FILES = 4000
FIELDS = ("width", "height", "rect", "score", "points", "descriptor")


def code_version(models: dict[str, Path]) -> str:
    """A hash of what decides an analysis: the engine's source, its model files, the libraries' versions."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(ENGINE_SOURCE.read_bytes())
    for role, path in sorted(models.items()):
        digest.update(f"\0{role} {path.name} {path.stat().st_size}".encode())
    for package in ("dlib-bin", "dlib", "numpy", "Pillow"):
        with contextlib.suppress(PackageNotFoundError):
            digest.update(f"\0{package} {version(package)}".encode())
    digest.update(f"\0python {sys.version}; pickle {pickle.HIGHEST_PROTOCOL}".encode())
    return digest.hexdigest()[:16]


def image_key(image: Any, max_faces: int) -> str:
    """The image's pixels, shape and type, and how many faces were asked for."""
    import numpy as np

    pixels = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{pixels.shape} {pixels.dtype} {max_faces}\0".encode())
    digest.update(memoryview(pixels).cast("B"))
    return digest.hexdigest()


class Analyses:
    """The files of one code version: ``load`` a key's faces (as field dicts), ``store`` them, ``lock`` a key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, key: str) -> Optional[list[dict[str, Any]]]:
        try:
            data = (self.folder / f"{key}.pickle").read_bytes()
        except OSError:
            return None
        try:
            faces = pickle.loads(data)
        except Exception:  # noqa: BLE001 - a torn or foreign file: analyse again, and rewrite it
            log.warning("devstack: face analysis %s unreadable; analysing the image again", key, exc_info=True)
            return None
        if not isinstance(faces, list) or not all(isinstance(f, dict) and set(f) == set(FIELDS) for f in faces):
            return None
        return faces

    def store(self, key: str, faces: list[dict[str, Any]]) -> None:
        path = self.folder / f"{key}.pickle"
        try:
            write_atomically(path, pickle.dumps(faces, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            log.warning("devstack: could not keep the face analysis in %s", path, exc_info=True)

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """One process analyses an image at a time; the others wait for its file instead of analysing it too."""
        # one of 256 lock files, by the key's first byte: bounded, never removed (no unlink race)
        return locked(self.folder / "locks" / f"{key[:2]}.lock")


def enabled() -> bool:
    return os.environ.get("DEVSTACK_FACE_CACHE", "").lower() not in ("off", "0", "no")


def open_folder(models: dict[str, Path], cache_dir: Optional[Path] = None) -> Analyses:
    """The analyses of this code version (``engine.install_analyses`` installs them), older versions pruned."""
    base = cache_dir or CACHE_DIR
    folder = base / code_version(models)
    with contextlib.suppress(OSError):
        os.utime(folder)  # the newest in use, for _prune
    _prune(base, keep=folder)
    return Analyses(folder)


def _prune(base: Path, keep: Path) -> None:
    """Only the newest few code versions stay, and at most MAX_FILES analyses in the current one."""
    try:
        folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in [f for f in folders if f != keep][KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
        files = list(keep.glob("*.pickle")) if keep.is_dir() else []
        if len(files) > MAX_FILES:
            files.sort(key=lambda p: p.stat().st_mtime)
            for old in files[: len(files) // 2]:
                old.unlink(missing_ok=True)
    except OSError:
        return
