"""The no-stack probe of tests/test_unit_needs_no_stack.py: a second pytest run, in a fresh interpreter with none
of the stack's variables, of ``tests/unit`` and the fake half of ``tests/contracts``; it reports whether they passed
and which of moto, boto3, pynamodb, app and devstack they loaded.

Kept here (not in the test module) so that tests/conftest.py, which starts it when the session is collected, and
the test, which collects its verdict, share one :data:`PROBE_KEY`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

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
# in with (a server in a thread, no stack, on devstack.webserver): the one part of devstack a fake may use.
ALLOWED = {"devstack", "devstack.oidc_provider", "devstack.webserver", "devstack.net"}
names = {name for name in sys.modules if name not in ALLOWED}
loaded = sorted({name.split(".")[0] for name in names} & {"moto", "boto3", "pynamodb", "app", "devstack"})
print("PROBE " + json.dumps({"exit": int(code), "loaded": loaded}))
"""

#: Where tests/conftest.py keeps the probe it started when the session was collected.
PROBE_KEY = pytest.StashKey[subprocess.Popen]()

STACK_VARIABLES = ("MOTO_SERVER", "AWS_ENDPOINT_URL", "APPLICATIONS_TABLE_NAME", "HISTORY_TABLE_NAME",
                   "DOCUMENTS_BUCKET_NAME", "EVENTS_TOPIC_ARN", "USER_POOL_ID", "COGNITO_ISSUER")


def start_probe() -> subprocess.Popen:
    """The probe in a fresh interpreter without the stack's variables; its output goes to a temporary file
    (not a pipe, which a run nobody reads yet could fill)."""
    env = {name: value for name, value in os.environ.items()
           if name not in STACK_VARIABLES and not name.endswith(("_TABLE_NAME", "_BUCKET_NAME", "_QUEUE_NAME"))}
    output = tempfile.TemporaryFile(mode="w+", prefix="no-stack-probe-")
    process = subprocess.Popen([sys.executable, "-c", PROBE], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=output, stderr=subprocess.STDOUT, text=True)
    process.output = output  # type: ignore[attr-defined]
    return process


def verdict(process: subprocess.Popen) -> tuple[dict | None, str]:
    """Wait for the probe (within COMMAND_S); its PROBE line, parsed, and the end of what it printed."""
    try:
        process.wait(timeout=COMMAND_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    output = process.output  # type: ignore[attr-defined]
    output.seek(0)
    text = output.read()
    output.close()
    lines = [line for line in text.splitlines() if line.startswith("PROBE ")]
    return (json.loads(lines[-1][len("PROBE "):]) if lines else None), text[-5000:]
