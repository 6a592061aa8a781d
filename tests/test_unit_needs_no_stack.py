"""The tests that need no stack run without one: no moto, no app.py, no AWS environment.

``tests/unit`` and the fake half of ``tests/contracts`` are run in a fresh
interpreter whose environment holds none of the stack's variables; they must
pass, and must not have imported moto, boto3, pynamodb or the app (botocore comes with
Powertools' metrics, and is only a library).

The probe is a whole second pytest run, so when the session holds other tests too it is started as
soon as the session is collected (tests/conftest.py, ``pytest_collection_finish``) and runs beside
them -- the suite's own process keeps one core busy at most (the in-process moto shares its GIL), so
on two cores the probe costs next to nothing -- and this test only collects its verdict.
"""
from __future__ import annotations

import pytest

from tests.support.no_stack_probe import PROBE_KEY, start_probe, verdict


@pytest.mark.no_stack
def test_unit_tests_and_fake_contracts_run_without_the_stack(request: pytest.FixtureRequest):
    process = request.config.stash.get(PROBE_KEY, None) or start_probe()
    probe, output = verdict(process)
    assert probe == {"exit": 0, "loaded": []}, output
