"""The tests that need no stack run without one: no moto, no app.py, no AWS environment, no AWS call.

They run in the suite's own session, each once and reported as itself, before the first test that needs the
stack, which is started only then (tests/conftest.py). Meanwhile tests/support/no_stack_probe.py records how
each ran; this test runs last of them and asserts the record: so a test in ``tests/unit`` or the fake half of
``tests/contracts`` (or one marked ``no_stack``) that secretly needs the stack fails in the session itself, and
this one fails if the ordering or the stack's laziness breaks. botocore may be loaded (it comes with
Powertools' metrics, and is only a library); calling AWS is not.
"""
from __future__ import annotations

import os
import sys

import pytest

from tests.support.no_stack_probe import (
    CHECK_TEST,
    RECORD_KEY,
    NoStackRecord,
    NoStackViolation,
    Run,
    is_strict,
    needs_stack,
    run_alone,
    stack_variables,
)


@pytest.mark.no_stack
def test_the_tests_that_need_no_stack_ran_first_and_without_it(request: pytest.FixtureRequest):
    assert request.node.name == CHECK_TEST
    others = [item for item in request.session.items if item is not request.node and not needs_stack(item)]
    if not any(is_strict(item) for item in others):  # run alone: the strict ones in a pytest of their own
        code, output = run_alone()
        assert code == 0, output
        return
    record = request.config.stash[RECORD_KEY]
    assert record.stack_started_for is None, f"the stack was started before the no-stack tests ended, for " \
                                             f"{record.stack_started_for}"
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # under xdist this worker ran only its share of them
        not_run = [item.nodeid for item in others if item.nodeid not in record.runs]
        assert not not_run, f"{len(not_run)} no-stack tests had not run before this one: {not_run[:10]}"
        strict = [run for run in record.runs.values() if run.strict]
        assert len(strict) == sum(is_strict(item) for item in others) > 0
    problems = [problem for run in record.runs.values() for problem in run.problems()]
    problems += [f"{request.node.nodeid}: ran with the stack's variables set: {name}" for name in stack_variables()]
    problems += [f"{request.node.nodeid}: app was imported"] if "app" in sys.modules else []
    assert not problems, "\n".join(problems[:20])


@pytest.mark.no_stack
def test_an_aws_call_from_a_strict_no_stack_test_is_refused_and_recorded():
    """What the check above reads: a strict no-stack test that calls AWS gets an error there and then, and the
    call is named (whatever the test did with the error)."""
    import boto3

    record = NoStackRecord()
    run = Run("tests/unit/test_x.py::test_calls_aws", strict=True, stack_variables=[])
    record.refuse_aws_calls(run)
    try:
        with pytest.raises(NoStackViolation):
            boto3.client("sqs", region_name="us-east-1", endpoint_url="http://127.0.0.1:9").list_queues()
    finally:
        record.allow_aws_calls()
    assert run.problems() == ["tests/unit/test_x.py::test_calls_aws: called AWS: sqs.ListQueues"]
    assert Run("tests/unit/test_x.py::test_y", strict=True, stack_variables=["MOTO_SERVER"], app_loaded=True,
               loaded=["moto"]).problems() == [
        "tests/unit/test_x.py::test_y: ran with the stack's variables set: MOTO_SERVER",
        "tests/unit/test_x.py::test_y: app was imported when it ended",
        "tests/unit/test_x.py::test_y: imported moto",
    ]
