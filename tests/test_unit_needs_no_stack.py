"""The tests that need no stack run without one: no moto, no app.py, no AWS environment.

``tests/unit`` and the fake half of ``tests/contracts`` are run in a fresh
interpreter whose environment holds none of the stack's variables; they must
pass, and must not have imported moto, boto3, pynamodb or the app (botocore comes with
Powertools' metrics, and is only a library).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S

# The probe is about what runs, not about finding new examples: hypothesis runs
# derandomized, few examples, no example database (the suite itself explores). A test that
# only measures a rate over thousands of inputs of code the other tests already drive is left
# out (its module is still collected, so what it imports still counts): it costs the probe a
# quarter of its time and shows nothing about imports.
PROBE = """
import json, sys
DESELECTED = ["--deselect", "tests/unit/test_sanctions_screening.py::"
              "test_non_listed_applicants_from_other_name_pools_are_rarely_flagged"]
import pytest
from hypothesis import HealthCheck, settings
settings.register_profile("probe", max_examples=10, derandomize=True, database=None, deadline=None,
                          suppress_health_check=list(HealthCheck))
code = pytest.main(["tests/unit", "tests/contracts", "-k", "not real", "-q", "-x", "-p", "no:cacheprovider",
                    "--hypothesis-profile=probe", *DESELECTED])
# devstack.oidc_provider is the stand-in corporate identity provider the federation contract's fake half signs
# in with (a server in a thread, no stack): the one part of devstack a fake may use.
ALLOWED = {"devstack", "devstack.oidc_provider"}
names = {name for name in sys.modules if name not in ALLOWED}
loaded = sorted({name.split(".")[0] for name in names} & {"moto", "boto3", "pynamodb", "app", "devstack"})
print("PROBE " + json.dumps({"exit": int(code), "loaded": loaded}))
"""

STACK_VARIABLES = ("MOTO_SERVER", "AWS_ENDPOINT_URL", "APPLICATIONS_TABLE_NAME", "HISTORY_TABLE_NAME",
                   "DOCUMENTS_BUCKET_NAME", "EVENTS_TOPIC_ARN", "USER_POOL_ID", "COGNITO_ISSUER")


@pytest.mark.no_stack
def test_unit_tests_and_fake_contracts_run_without_the_stack():
    env = {name: value for name, value in os.environ.items()
           if name not in STACK_VARIABLES and not name.endswith(("_TABLE_NAME", "_BUCKET_NAME", "_QUEUE_NAME"))}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=COMMAND_S)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stdout[-3000:] + result.stderr[-2000:]
    probe = json.loads(lines[-1][len("PROBE "):])
    assert probe == {"exit": 0, "loaded": []}, result.stdout[-3000:]
