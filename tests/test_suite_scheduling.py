"""How ``./dev test`` shares the suite between its two pytest-xdist workers (tests/conftest.py).

A file goes whole to one worker, and every end-to-end test to the same worker: two workers each
holding an end-to-end file would each start a local stack (and xdist's own ``loadgroup`` marks
silently stopped grouping under pytest 9, which is how that was found).
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import pytest_xdist_make_scheduler


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
