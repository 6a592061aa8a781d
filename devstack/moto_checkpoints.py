"""``--keep-state`` through a kill -9: the local AWS written to its state file a second after it changes.

A clean stop saves the local AWS (devstack/moto_process.py). A kill -9 of the whole stack (its process group)
gives moto no chance to, so without checkpoints the next ``--keep-state`` start came back to the last clean stop
and whatever the killed run wrote was gone. Here every request that may change moto's state is counted; about a
second after the count moved, the state is pickled while no such request is under way (each waits a moment, a
checkpoint holding them off while it pickles), and written beside the old file and renamed over it
(devstack/files.write_atomically): a kill -9 at any moment leaves the previous checkpoint or the new one, never
half of one. The file's modification time is the time the state is of.

Read-only requests (GET and HEAD, JSON-protocol actions named Get*, List*, Describe*, Query, Scan, BatchGet*,
TransactGet*) pass without waiting, and so does SQS ReceiveMessage: a long poll would hold every checkpoint off
for up to 20 s. A receive changes only a message's visibility; one caught half-way is delivered again, as SQS
may anyway (the handlers are idempotent). A pickle that meets a structure changing under it is simply tried
again at the next tick.

Dev only.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack")

INTERVAL_S = 1.0
_READ_ACTIONS = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet")


class Gate:
    """Requests in parallel with each other; a checkpoint alone (and first, once it waits)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._exclusive = False
        self._waiting = False

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not (self._exclusive or self._waiting))
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._waiting = True
            self._condition.wait_for(lambda: not (self._active or self._exclusive))
            self._exclusive, self._waiting = True, False
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


def passes_freely(environ: dict[str, Any]) -> bool:
    """A request that changes nothing kept (or only an SQS message's visibility: a long poll)."""
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS"):
        return True
    action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    return action == "ReceiveMessage" or action.startswith(_READ_ACTIONS)


class Checkpoints:
    """Wraps moto's WSGI app (``wrap``) and writes ``state_file`` from a thread of its own (``start``/``stop``)."""

    def __init__(self, state_file: Path, snapshot: Callable[[], tuple[bytes, int]],
                 write: Callable[[Path, bytes, float], Any], interval_s: float = INTERVAL_S) -> None:
        self.state_file = state_file
        self._snapshot, self._write, self._interval_s = snapshot, write, interval_s
        self._gate = Gate()
        self._changes = 0  # requests that may have changed the state, counted once they are answered
        self._saved = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devstack-moto-checkpoints", daemon=True)
        self.written = 0

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if passes_freely(environ):
                return app(environ, start_response)
            with self._gate.request():
                answer = app(environ, start_response)
                try:
                    body = list(answer)  # moto answers from memory: the whole reply, inside the gate
                finally:
                    close = getattr(answer, "close", None)
                    if close is not None:
                        close()
                self._changes += 1  # under the gate: a checkpoint sees the count and the change together
            return body

        return gated

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No checkpoint after this returns (the clean stop's save comes next, and is the last word)."""
        self._stopping.set()
        self._thread.join()

    def checkpoint(self) -> bool:
        """Write the state now if it changed since the last checkpoint; whether it wrote."""
        if self._changes == self._saved:  # idle: requests are not held off for nothing
            return False
        with self._gate.exclusive():
            changes = self._changes
            if changes == self._saved:
                return False
            as_of = time.time()
            data, _ = self._snapshot()
        self._write(self.state_file, data, as_of)
        self._saved = changes
        self.written += 1
        return True

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self.checkpoint()
            except RuntimeError as error:  # a structure changed under the pickler (an SQS receive): next tick
                log.debug("devstack: checkpoint of the local AWS tried again: %s", error)
            except Exception:  # noqa: BLE001 - a checkpoint must never stop the local AWS
                log.exception("devstack: could not write a checkpoint of the local AWS to %s", self.state_file)
