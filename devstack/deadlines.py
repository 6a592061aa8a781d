"""The local stack's deadlines: the tests' one scale (tests/support/deadlines.py), re-exported.

``DEADLINE_FACTOR`` multiplies every deadline of the tests and of the stack's own start-up, so
one variable makes a slow machine wait longer everywhere.
"""
from tests.support.deadlines import COMMAND_S, ENV, EVENT_S, OUTCOME_S, REPLY_S, START_S, STOP_S, factor, scaled

__all__ = ["COMMAND_S", "ENV", "EVENT_S", "OUTCOME_S", "REPLY_S", "START_S", "STOP_S", "factor", "scaled"]
