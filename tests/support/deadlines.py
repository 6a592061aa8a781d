"""The tests' deadlines: devstack/deadlines.py's one scale (``DEADLINE_FACTOR``), re-exported.

Use these for every wait a test writes (docs/testing.md, "Waiting for asynchronous work"). They live in
devstack/deadlines.py because the local stack's own waits use the same scale, and dev tooling does not import
the tests.
"""
from devstack.deadlines import COMMAND_S, ENV, EVENT_S, OUTCOME_S, REPLY_S, START_S, STOP_S, factor, scaled

__all__ = ["COMMAND_S", "ENV", "EVENT_S", "OUTCOME_S", "REPLY_S", "START_S", "STOP_S", "factor", "scaled"]
