"""How ``./dev test`` shares the suite between its pytest-xdist workers (``-n 2 --dist loadfile``).

A scope (the unit a worker gets) is a run of consecutive tests of one file in the collection's order; every test
under tests/e2e/ counts as one file, so one worker runs them all on one local stack (tests/e2e/conftest.py).
The collection's order puts every test that needs no stack first (tests/conftest.py), and a worker that has
started its stack may run no more of them (they would run with the stack's variables set, and fail).

Longest first (issue 22): a worker that is given a long scope last keeps the run going alone after the other has
finished. So, when the session holds the end-to-end tests, the no-stack check and at least two workers:

- the first worker (``gw0``) starts with the end-to-end tests (the longest scope: a local stack, a browser and
  real OCR), and then takes only scopes that need the stack;
- every other worker takes the scopes that need no stack first (the no-stack check last of them), then those
  that need it;
- within each side, the scopes named in ``LONGEST_FIRST`` go out first, then the rest in the collection's order.

Which side a scope is on is read from its place in the order: before the no-stack check (tests/
test_unit_needs_no_stack.py) or after it. A partial run without that check keeps the plain collection order.
"""
from __future__ import annotations

from typing import Any, Optional

END_TO_END = "tests/e2e/"

#: The longest scopes of each side, longest first (a fresh-clone CI run, --durations / junit times, docs/testing.md).
#: A name here that no longer exists only stops counting; tests/test_suite_scheduling.py checks they do.
LONGEST_FIRST = (
    # need no stack
    "tests/test_benches.py",
    "tests/test_devstack_stack.py",
    "tests/test_rekognition_startup.py",
    "tests/test_pipeline.py",
    # need the stack
    "tests/test_deploy_rehearsal.py",
    "tests/test_faults.py",
    "tests/test_api_fuzzing.py",
    "tests/test_authorization_matrix.py",
    "tests/test_iam_policies.py",
    "tests/test_textract_local.py",
    "tests/test_verification.py",
    "tests/test_devstack_pumps.py",
)


def file_of(nodeid: str) -> str:
    """The scheduling unit's file: the test's file, or ``tests/e2e/`` for every end-to-end test."""
    path = nodeid.split("::", 1)[0]
    return END_TO_END if path.startswith(END_TO_END) else path


def scopes_in_order(nodeids: list[str]) -> dict[str, str]:
    """Each test's scope: its file, numbered by the runs of that file's tests in this order."""
    scopes: dict[str, str] = {}
    runs: dict[str, int] = {}
    previous = None
    for nodeid in nodeids:
        unit = file_of(nodeid)
        if unit != previous:
            runs[unit] = runs.get(unit, 0) + 1
            previous = unit
        scopes[nodeid] = unit if runs[unit] == 1 else f"{unit}#{runs[unit]}"
    return scopes


class Plan:
    """Which scope a worker takes next, given the scopes still queued (in the collection's order)."""

    def __init__(self, order: list[str], check_scope: Optional[str], workers: int) -> None:
        self.order = {scope: index for index, scope in enumerate(order)}
        self.check_scope = check_scope
        self.active = check_scope is not None and END_TO_END in self.order and workers >= 2
        boundary = self.order[check_scope] if check_scope is not None else len(order)
        self.needs_stack = {scope for scope, index in self.order.items() if index > boundary}
        self.e2e_worker: Optional[str] = None
        self.stack_started: set[str] = set()

    def _ranked(self, scopes: list[str]) -> list[str]:
        """Those named in LONGEST_FIRST first (in its order), then the rest in the collection's order."""
        def rank(scope: str) -> tuple[int, int]:
            name = scope if scope in LONGEST_FIRST else None
            return (LONGEST_FIRST.index(name) if name else len(LONGEST_FIRST), self.order[scope])
        return sorted(scopes, key=rank)

    def next_scope(self, worker: str, queued: list[str], alive: list[str]) -> Optional[str]:
        if not queued:
            return None
        if not self.active:
            return queued[0]
        if self.e2e_worker is None and END_TO_END in queued and worker == min(alive):
            chosen: Optional[str] = END_TO_END
        else:
            no_stack = [scope for scope in queued if scope not in self.needs_stack]
            stack = [scope for scope in queued if scope in self.needs_stack]
            if worker in self.stack_started:
                chosen = (self._ranked(stack) or [None])[0]
                if chosen is None and all(other in self.stack_started for other in alive):
                    chosen = no_stack[0]  # nobody else can run them (a worker died): they run, and say so
            elif no_stack:
                rest = [scope for scope in no_stack if scope != self.check_scope]
                chosen = self._ranked(rest)[0] if rest else no_stack[0]
            else:
                chosen = self._ranked(stack)[0]
        if chosen == END_TO_END:
            self.e2e_worker = worker
        if chosen in self.needs_stack or chosen == END_TO_END:
            self.stack_started.add(worker)
        return chosen


def make_scheduler(config: Any, log: Any) -> Any:
    """The ``--dist loadfile`` scheduler of ``./dev test`` (tests/conftest.py's pytest_xdist_make_scheduler)."""
    from xdist.scheduler import LoadFileScheduling

    from tests.support.no_stack_probe import CHECK_TEST

    # Files in the collection's order (pytest_collection_modifyitems puts every no-stack test first), not xdist's
    # default of the files with the most tests first; Plan moves the longest ones ahead within each side.
    config.option.loadscopereorder = False

    class LongestFirstBySide(LoadFileScheduling):
        """A scope is a run of consecutive tests of one file in the collection's order (every test under
        tests/e2e/ counts as one file): a file whose no-stack tests were sorted ahead of its stack tests (the
        fake and real halves of a contract) is two scopes, each on its side. Which worker takes which: Plan."""

        _scopes: Optional[dict[str, str]] = None
        _plan: Optional[Plan] = None

        def _split_scope(self, nodeid: str) -> str:
            if self._scopes is None and self.collection:
                self._scopes = scopes_in_order(self.collection)
            return (self._scopes or {}).get(nodeid) or file_of(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if self._plan is None:
                check = next((self._split_scope(nodeid) for nodeid in self.collection or []
                              if nodeid.endswith(f"::{CHECK_TEST}")), None)
                self._plan = Plan(list(self.workqueue), check, len(self.nodes))
            scope = self._plan.next_scope(node.gateway.id, list(self.workqueue),
                                          [other.gateway.id for other in self.nodes])
            if scope is None:
                return  # only scopes this worker may not run are left: the others take them
            work_unit = self.workqueue.pop(scope)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            worker_collection = self.registered_collections[node]
            node.send_runtest_some([worker_collection.index(nodeid)
                                    for nodeid, completed in work_unit.items() if not completed])

    return LongestFirstBySide(config, log)
