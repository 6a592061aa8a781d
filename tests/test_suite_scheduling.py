"""How ``./dev test`` shares the suite between its two pytest-xdist workers (tests/conftest.py).

A file goes whole to one worker, and every end-to-end test to the same worker: two workers each
holding an end-to-end file would each start a local stack (and xdist's own ``loadgroup`` marks
silently stopped grouping under pytest 9, which is how that was found).
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import pytest_xdist_make_scheduler
from tests.support.no_stack_probe import CHECK_TEST
from tests.support.scheduling import END_TO_END, LONGEST_FIRST, Plan


class _Config(SimpleNamespace):
    def getvalue(self, name: str):
        return getattr(self, name)


def _scheduler(dist: str, config: _Config | None = None):
    config = config or _Config(dist=dist, tx=["2*popen"], maxschedchunk=None, option=SimpleNamespace())
    return pytest_xdist_make_scheduler(config, None)


@pytest.mark.no_stack
def test_a_file_is_one_scope_and_every_end_to_end_test_shares_one():
    scheduler = _scheduler("loadfile")
    scope = scheduler._split_scope
    assert scope("tests/test_faults.py::test_thirty[1]") == scope("tests/test_faults.py::test_crash") \
        == "tests/test_faults.py"
    assert scope("tests/unit/test_mrz.py::test_x") != scope("tests/unit/test_workflow.py::test_x")
    end_to_end = {scope("tests/e2e/test_applications_e2e.py::test_a"),
                  scope("tests/e2e/browser/test_console.py::TestX::test_b[phone]"),
                  scope("tests/e2e/test_doc_commands.py::test_c[docs/README.md]")}
    assert end_to_end == {"tests/e2e/"}


@pytest.mark.no_stack
def test_files_go_out_in_the_collections_order_no_stack_tests_first_not_the_largest_first():
    config = _Config(dist="loadfile", tx=["2*popen"], maxschedchunk=None,
                     option=SimpleNamespace(loadscopereorder=True))
    _scheduler("loadfile", config)
    assert config.option.loadscopereorder is False


@pytest.mark.no_stack
def test_a_file_whose_tests_were_sorted_apart_is_one_scope_per_run():
    """The fake half of a contract runs with the no-stack tests, its real half with the stack tests: each half
    goes out in its place, so no worker starts the stack before its no-stack tests are done."""
    scheduler = _scheduler("loadfile")
    scheduler.collection = ["tests/contracts/test_x.py::test_a[fake]", "tests/unit/test_y.py::test_b",
                            "tests/contracts/test_x.py::test_a[real]", "tests/contracts/test_x.py::test_c[real]",
                            "tests/e2e/test_z.py::test_d", "tests/e2e/browser/test_w.py::test_e"]
    scopes = [scheduler._split_scope(nodeid) for nodeid in scheduler.collection]
    assert scopes == ["tests/contracts/test_x.py", "tests/unit/test_y.py", "tests/contracts/test_x.py#2",
                      "tests/contracts/test_x.py#2", "tests/e2e/", "tests/e2e/"]


@pytest.mark.no_stack
def test_other_distribution_modes_keep_xdists_own_scheduler():
    assert _scheduler("load") is None and _scheduler("worksteal") is None


# Longest first (issue 22): the order of a whole suite's scopes, as the collection sorts them (no-stack first).
CHECK = "tests/test_unit_needs_no_stack.py#2"
ORDER = ["tests/unit/test_a.py", "tests/test_benches.py", "tests/test_gates_x.py", "tests/test_devstack_stack.py",
         "tests/test_unit_needs_no_stack.py", "tests/test_supply_chain.py", CHECK, "tests/contracts/test_x.py#2",
         END_TO_END, "tests/test_api.py", "tests/test_deploy_rehearsal.py", "tests/test_faults.py", "tests/test_z.py"]
NO_STACK, STACK = ORDER[:7], ORDER[7:]


def _drain(plan: Plan, takes: list[str], alive: tuple[str, ...] = ("gw0", "gw1")) -> dict[str, list[str]]:
    """Hand out every scope, each to the worker whose turn ``takes`` says; what each worker got, in order."""
    queued, got = list(ORDER), {worker: [] for worker in alive}
    for worker in takes:
        scope = plan.next_scope(worker, queued, list(alive))
        if scope is not None:
            queued.remove(scope)
            got[worker].append(scope)
    assert queued == [], queued
    return got


@pytest.mark.no_stack
def test_the_first_worker_starts_with_the_end_to_end_tests_and_then_runs_only_tests_that_need_the_stack():
    got = _drain(Plan(ORDER, CHECK, workers=2), ["gw1", "gw0"] + ["gw0", "gw1"] * 12)
    assert got["gw0"][0] == END_TO_END
    assert set(got["gw0"]) <= set(STACK)


@pytest.mark.no_stack
def test_the_other_worker_runs_the_longest_no_stack_files_first_the_check_last_of_them_then_the_stack_tests():
    got = _drain(Plan(ORDER, CHECK, workers=2), ["gw1", "gw0"] + ["gw1"] * 8 + ["gw0", "gw1"] * 4)
    gw1 = got["gw1"]
    assert gw1[:2] == ["tests/test_benches.py", "tests/test_devstack_stack.py"]
    assert sorted(gw1[:7]) == sorted(NO_STACK) and gw1[6] == CHECK
    assert set(gw1[7:]) <= set(STACK)


@pytest.mark.no_stack
def test_the_longest_stack_files_go_out_first_then_the_rest_in_order():
    plan = Plan(ORDER, CHECK, workers=2)
    assert plan.next_scope("gw0", ORDER, ["gw0", "gw1"]) == END_TO_END
    queued = [scope for scope in ORDER if scope != END_TO_END]
    taken = []
    for _ in STACK[1:]:
        taken.append(plan.next_scope("gw0", [scope for scope in queued if scope not in taken], ["gw0", "gw1"]))
    assert taken == ["tests/test_deploy_rehearsal.py", "tests/test_faults.py", "tests/contracts/test_x.py#2",
                     "tests/test_api.py", "tests/test_z.py"]
    assert plan.next_scope("gw0", NO_STACK, ["gw0", "gw1"]) is None  # those are gw1's, however long it takes


@pytest.mark.no_stack
def test_no_stack_scopes_left_to_a_worker_whose_stack_runs_only_when_no_other_worker_could_take_them():
    plan = Plan(ORDER, CHECK, workers=2)
    assert plan.next_scope("gw0", ORDER, ["gw0", "gw1"]) == END_TO_END
    assert plan.next_scope("gw0", NO_STACK, ["gw0"]) == NO_STACK[0]  # gw1 died: run them (they will say so)


@pytest.mark.no_stack
def test_a_partial_run_without_the_check_or_one_worker_keeps_the_collections_order():
    without_check = [scope for scope in ORDER if scope != CHECK]
    plan = Plan(without_check, None, workers=2)
    assert [plan.next_scope("gw0", without_check[i:], ["gw0", "gw1"]) for i in range(3)] == without_check[:3]
    alone = Plan(ORDER, CHECK, workers=1)
    assert alone.next_scope("gw0", ORDER, ["gw0"]) == ORDER[0]


@pytest.mark.no_stack
def test_every_file_named_longest_first_exists():
    from tests.support.aws import ROOT

    assert [name for name in LONGEST_FIRST if not (ROOT / name).is_file()] == []
    assert CHECK_TEST  # the boundary the plan reads is the no-stack check's scope
