"""The stack's helper processes: moto and the REST API each run in a process of their own.

One interpreter lock for everything made the stack CPU-bound on one core
under load (moto, ``chalice local``'s HTTP handling, the SDK work of the
handlers). So the parent (``devstack up``: WebSocket gateway, pumps,
scheduler, control) starts moto and the API as children:

* a child is ready when it prints ``DEVSTACK_CHILD_READY {json}``; every
  other line it prints is passed through to the parent's stdout, so the
  app's logs appear as before;
* the parent stops a child with SIGTERM, in order (the API before moto);
  children ignore SIGINT so that Ctrl-C in a terminal, which reaches the
  whole process group, still stops things in that order;
* a child whose parent dies (even by SIGKILL) sees its stdin close and
  stops too, so no orphan keeps a port.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack")

READY = "DEVSTACK_CHILD_READY "


class ChildFailed(RuntimeError):
    """A helper process exited or did not become ready in time."""


def read_until_ready(process: subprocess.Popen, marker: str, deadline_s: float,
                     on_line: Callable[[str], None], name: str = "child") -> dict[str, Any] | None:
    """The JSON a process prints after ``marker``, or None if it exits or the deadline passes.

    Its output is read by a daemon thread for the process's whole life (so it
    never blocks on a full pipe); every line, the marker's included, goes to
    ``on_line`` without its newline.
    """
    ready: queue.Queue = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            if line.startswith(marker):
                ready.put(json.loads(line[len(marker):]))
            on_line(line)
        ready.put(None)

    threading.Thread(target=drain, name=f"devstack-{name}-output", daemon=True).start()
    try:
        return ready.get(timeout=deadline_s)
    except queue.Empty:
        return None


class ChildProcess:
    """``python -m <module> ARGS`` as a helper of the stack."""

    def __init__(self, name: str, module: str, args: list[str], env: dict[str, str],
                 cwd: Path) -> None:
        self.name = name
        self._argv = [sys.executable, "-m", module, *args]
        # devstack itself must be importable from any project directory.
        here = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        self._env = {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
        self._cwd = cwd
        self._process: subprocess.Popen | None = None
        self.stopped_with: int | None = None  # its exit status when stop() stopped it (0: a clean stop)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """None while it runs (or was never started, or was stopped by us); its exit code once it died."""
        return self._process.poll() if self._process is not None else None

    def start(self, deadline_s: float | None = None) -> dict[str, Any]:
        """Start it and return what it announced when ready (default deadline: START_S, scaled
        by $DEADLINE_FACTOR: a busy machine imports slowly)."""
        from .deadlines import START_S

        deadline_s = START_S if deadline_s is None else deadline_s
        self._process = subprocess.Popen(
            self._argv, cwd=self._cwd, env=self._env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        process = self._process

        def forward(line: str) -> None:
            if not line.startswith(READY):
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

        info = read_until_ready(process, READY, deadline_s, forward, name=self.name)
        if info is None:
            self.stop()
            raise ChildFailed(f"the {self.name} process did not start (exit code "
                              f"{process.poll()}); its output is above")
        return info

    def stop(self, timeout_s: float | None = None) -> None:
        """SIGTERM, then wait (default: 30 s x $DEADLINE_FACTOR); SIGKILL only if it does not
        stop in time."""
        from .deadlines import scaled

        timeout_s = scaled(30.0) if timeout_s is None else timeout_s
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.error("devstack: the %s process did not stop in %.0f s; killing it",
                          self.name, timeout_s)
                process.kill()
                process.wait()
            self.stopped_with = process.returncode
        if process.stdin:
            process.stdin.close()


# --- the child's side ------------------------------------------------------------------

def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_as_child(serve: Any) -> int:
    """Run ``serve(announce)`` until SIGTERM or the parent's death; 0 on a clean stop.

    ``serve`` starts its servers, calls ``announce(info)`` once they listen,
    then returns a ``stop()`` callable.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)

    def parent_gone() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
        os.kill(os.getpid(), signal.SIGTERM)

    def announce(info: dict[str, Any]) -> None:
        print(READY + json.dumps(info), flush=True)

    stop = None
    try:
        threading.Thread(target=parent_gone, name="devstack-parent-watch", daemon=True).start()
        stop = serve(announce)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
        if stop is not None:
            stop()
    # Everything is stopped (and saved, for --keep-state): leave without the interpreter's teardown. After
    # a whole test session the local AWS holds a large heap, and freeing it object by object took longer
    # than the parent's stop deadline on a loaded machine (the moto process SIGKILLed: a stack exiting 1).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
