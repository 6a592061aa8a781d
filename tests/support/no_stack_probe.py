"""The proof, in the suite's own session, that the tests that need no stack run without one.

tests/conftest.py orders the session so that every test that needs no stack runs before the first one that
does (``run_order``), and starts the moto stack lazily, just before the first test that needs it
(``pytest_runtest_setup``). While the no-stack tests run, :class:`NoStackRecord` notes for each of them what it
ran with and what it did; tests/test_unit_needs_no_stack.py runs last of them and asserts the record:

- every no-stack test of the session ran before it, and the stack had not been started;
- none of them ran with the stack's variables set (``MOTO_SERVER``, ``AWS_ENDPOINT_URL*``, ``APP_STAGE``), so
  one that reads a table name, a queue URL or the moto endpoint fails there and then;
- none left ``app`` imported (app.py reads the stack's resource names at import time);
- and the strict ones -- ``tests/unit`` and the fake half of ``tests/contracts`` -- made no AWS API call (the
  call is refused: a ``NoStackViolation`` is raised in the test) and imported none of moto, boto3, pynamodb,
  app or devstack (beyond what the fake federation contract's identity provider uses) that was not imported
  already when the session was collected.

It costs nothing beyond the tests themselves: each runs once, in the session, reported as itself. Run alone (no
other no-stack test in the session), the check runs ``tests/unit`` and the fake contracts in a pytest of its own
(:func:`run_alone`).
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S

TESTS = ROOT / "tests"
#: Tests in these folders need no stack unless marked ``stack`` (the ``real`` half of the contracts is).
NO_STACK_DIRS = (TESTS / "unit", TESTS / "contracts")
#: The check that reads the record; ordered after every other no-stack test.
CHECK_TEST = "test_the_tests_that_need_no_stack_ran_first_and_without_it"
#: Modules a strict no-stack test may not import (top-level packages), and the part of devstack it may: the
#: stand-in corporate identity provider the federation contract's fake half signs in with (a server in a
#: thread, no stack, on devstack.webserver), and the deadlines' one scale (tests/support/deadlines.py re-exports it).
WATCHED = frozenset({"moto", "boto3", "pynamodb", "app", "devstack"})
ALLOWED = frozenset({"devstack", "devstack.oidc_provider", "devstack.webserver", "devstack.net", "devstack.deadlines"})


def needs_stack(item: pytest.Item) -> bool:
    if item.get_closest_marker("stack") is not None:
        return True
    if item.get_closest_marker("no_stack") is not None:
        return False
    return not _in_no_stack_dirs(item)


def _in_no_stack_dirs(item: pytest.Item) -> bool:
    path = Path(str(item.fspath)).resolve()
    return any(path.is_relative_to(folder) for folder in NO_STACK_DIRS)


def is_strict(item: pytest.Item) -> bool:
    """tests/unit and the fake contracts: no AWS SDK at all, not only no stack."""
    return not needs_stack(item) and _in_no_stack_dirs(item)


def run_order(item: pytest.Item, package_users: frozenset[str] = frozenset()) -> int:
    """Strict no-stack tests first, then the other no-stack ones (those reading the Lambda package, which is
    built beside the suite from collection, last of them), then the check, then every test that needs the
    stack. Used as a stable sort key: the order within each group is pytest's."""
    if item.name == CHECK_TEST:
        return 3
    if needs_stack(item):
        return 4
    if is_strict(item):
        return 0
    return 2 if Path(str(item.fspath)).name in package_users else 1


def stack_variables() -> list[str]:
    """The variables only a started stack sets (tests/support/aws.py, devstack/provision.py)."""
    return sorted(name for name in os.environ
                  if name in ("MOTO_SERVER", "APP_STAGE") or name.startswith("AWS_ENDPOINT_URL"))


class NoStackViolation(RuntimeError):
    """A strict no-stack test called an AWS API."""


@dataclass
class Run:
    nodeid: str
    strict: bool
    stack_variables: list[str]
    app_loaded: bool = False
    loaded: list[str] = field(default_factory=list)
    aws_calls: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = []
        if self.stack_variables:
            found.append(f"ran with the stack's variables set: {', '.join(self.stack_variables)}")
        if self.app_loaded:
            found.append("app was imported when it ended")
        if self.loaded:
            found.append(f"imported {', '.join(self.loaded)}")
        if self.aws_calls:
            found.append(f"called AWS: {', '.join(self.aws_calls)}")
        return [f"{self.nodeid}: {problem}" for problem in found]


class NoStackRecord:
    """What each no-stack test ran with and did (tests/conftest.py drives it from its run hooks)."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.stack_started_for: Optional[str] = None  # the test the stack was started for
        self._before: set[str] = set()
        self._current: Optional[Run] = None
        self._make_api_call: Any = None

    def stack_starting(self, item: pytest.Item) -> None:
        if self.stack_started_for is None:
            self.stack_started_for = item.nodeid

    def begin(self, item: pytest.Item) -> None:
        run = self._current = self.runs[item.nodeid] = Run(item.nodeid, is_strict(item), stack_variables())
        if run.strict:
            self._before = set(sys.modules)
            self.refuse_aws_calls(run)

    def end(self, item: pytest.Item) -> None:
        run = self._current
        if run is None or run.nodeid != item.nodeid:
            return
        self._current = None
        run.app_loaded = "app" in sys.modules
        if run.strict:
            self.allow_aws_calls()
            run.loaded = sorted({name if name.startswith("devstack.") else name.split(".")[0]
                                 for name in set(sys.modules) - self._before
                                 if name.split(".")[0] in WATCHED and name not in ALLOWED})

    def refuse_aws_calls(self, run: Run) -> None:
        client = sys.modules.get("botocore.client")  # not loaded: nothing can call AWS without importing boto3
        if client is None or self._make_api_call is not None:
            return
        original = self._make_api_call = client.BaseClient._make_api_call

        def refused(this: Any, operation_name: str, api_params: Any) -> Any:
            call = f"{this.meta.service_model.service_name}.{operation_name}"
            run.aws_calls.append(call)
            raise NoStackViolation(f"a test that needs no stack called AWS ({call}); mark it 'stack' or use a fake")

        refused.original = original  # type: ignore[attr-defined]
        client.BaseClient._make_api_call = refused

    def allow_aws_calls(self) -> None:
        if self._make_api_call is not None:
            sys.modules["botocore.client"].BaseClient._make_api_call = self._make_api_call
            self._make_api_call = None


#: Where tests/conftest.py keeps the session's record.
RECORD_KEY = pytest.StashKey[NoStackRecord]()


def run_alone() -> tuple[int, str]:
    """The check with the strict no-stack tests in a pytest of their own, for when it runs alone: without the
    stack's variables; its exit code and the end of what it printed."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("MOTO_SERVER", "APP_STAGE") and not name.startswith("AWS_ENDPOINT_URL")}
    command = [sys.executable, "-m", "pytest", "tests/unit", "tests/contracts", "tests/test_unit_needs_no_stack.py",
               "-m", "not stack", "-q", "-x", "-p", "no:cacheprovider"]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=COMMAND_S)
    except subprocess.TimeoutExpired as timed_out:
        return -1, f"no verdict within {COMMAND_S:.0f} s: {str(timed_out.stdout)[-5000:]}"
    return done.returncode, (done.stdout + done.stderr)[-5000:]
