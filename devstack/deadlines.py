"""How long anything local may take: the one place that scales every deadline.

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
