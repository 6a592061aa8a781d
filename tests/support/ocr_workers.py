"""Run in the local Textract's worker processes by tests/test_textract_local.py (importable there)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def meet(directory: str, count: int, deadline_s: float) -> int:
    """This worker's pid, once ``count`` callers have arrived: each call blocks its worker until the others
    are in theirs, so ``count`` calls that all return were run by ``count`` different processes at once."""
    here = Path(directory)
    (here / str(os.getpid())).touch()
    deadline = time.monotonic() + deadline_s
    while len(list(here.iterdir())) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(list(here.iterdir()))} of {count} workers arrived within {deadline_s} s")
        time.sleep(0.02)
    return os.getpid()
