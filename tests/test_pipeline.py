"""The delivery pipeline kept in the repo (.github/workflows/delivery.yml): valid, and the shape issue 21 asks for."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S

pytestmark = pytest.mark.no_stack
WORKFLOW = ROOT / ".github" / "workflows" / "delivery.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_is_valid_against_githubs_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=COMMAND_S)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_push_to_main_runs_test_build_deploy_test_then_approved_production(workflow):
    triggers = workflow[True]  # YAML reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["build"]["needs"] == "test"
    assert jobs["deploy-test"]["needs"] == "build" and jobs["deploy-test"]["environment"] == "test"
    assert set(jobs["deploy-production"]["needs"]) == {"build", "deploy-test"}
    assert jobs["deploy-production"]["environment"] == "production"
    steps = {name: " ".join(str(step.get("run", "")) for step in job["steps"]) for name, job in jobs.items()}
    assert "./dev test" in steps["test"]
    assert "scripts.build_package" in steps["build"] and "scripts.audit" in steps["build"]
    assert steps["build"].count("scripts.build_package") == 1  # built once
    for stage, job in (("test", "deploy-test"), ("prod", "deploy-production")):
        assert f"--stage {stage} --package artifact/package.zip" in steps[job]  # the same artifact, promoted
        assert "scripts.build_package" not in steps[job]
        assert "scripts.smoke" in steps[job]
        assert "sha256sum --check" in steps[job]


def test_only_the_deploy_jobs_get_an_oidc_token_and_no_aws_key_is_stored(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        writes_token = job.get("permissions", {}).get("id-token") == "write"
        assert writes_token == name.startswith("deploy-"), name
    text = WORKFLOW.read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_every_action_is_pinned_by_commit():
    uses = re.findall(r"uses:\s*([^\s#]+)", WORKFLOW.read_text())
    assert uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses
