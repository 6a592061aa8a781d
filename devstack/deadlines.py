"""How long anything may take on the local stack and in the tests: the one place that scales every
deadline (tests/support/deadlines.py re-exports it for the tests).

The machines this runs on are shared: two cores and up to eight engineers'
suites at once (a load average of 10 is ordinary). So nothing here or in the
tests waits a fixed short time for something to happen. Waits are
event-driven (a marker line, a frame, a state seen by polling) and each is
bounded by a deadline that only says when to give up. Deadlines are
generous, and all of them are multiplied by one factor:

    DEADLINE_FACTOR=3 ./dev test     # a machine slower or busier than usual

The default factor is 1: the base values already allow for a load average
of about 10 on two cores. A deadline that is reached is a failure (the
thing did not happen), never a "slow is fine" pass, so raising the factor
never hides a bug; it only waits longer before saying so.

It lives here, not under tests/, because the stack's own start-up and waits use it: dev tooling does not
import the tests.
"""
from __future__ import annotations

import os

ENV = "DEADLINE_FACTOR"


def factor() -> float:
    """The multiplier from ``$DEADLINE_FACTOR`` (default 1; at least 1)."""
    raw = os.environ.get(ENV, "").strip()
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        raise SystemExit(f"{ENV}={raw!r} is not a number") from None
    return max(1.0, value)


def scaled(seconds: float) -> float:
    """``seconds`` times the factor: use it for every deadline and timeout."""
    return seconds * factor()


# The base deadlines, each already scaled. Pick the one that says what is awaited; a test that
# needs another value writes ``scaled(seconds)`` with a comment saying why.

#: One reply from something local: a WebSocket frame, an HTTP response, a thread at a barrier.
REPLY_S = scaled(30.0)
#: An asynchronous step in-process or on the stack: a pump delivering, a handler's side effect.
EVENT_S = scaled(60.0)
#: An outcome through the whole local stack: upload -> S3 event -> OCR -> checks -> decision.
OUTCOME_S = scaled(180.0)
#: A process or server becoming ready: moto, the API process, a whole local stack, a browser.
START_S = scaled(180.0)
#: A process stopping cleanly after SIGINT or SIGTERM.
STOP_S = scaled(60.0)
#: A command doing real work: a package build, mypy, a pytest in a subprocess.
COMMAND_S = scaled(900.0)
