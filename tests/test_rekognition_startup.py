"""`./dev up` without the face models stops at once, saying which file is missing and how to fix it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S

pytestmark = pytest.mark.no_stack


def test_the_stack_refuses_to_start_without_the_face_models(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DEVSTACK_FACE_MODELS": str(tmp_path / "no-models")}
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "up", "--api-port", "0", "--ws-port", "0", "--state-dir",
         str(tmp_path / "state")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_S)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "devstack: error: the local Rekognition's landmarks model file is missing" in result.stderr
    assert "requirements-dev.txt" in result.stderr and "Traceback" not in result.stderr
    assert "DEVSTACK_READY" not in result.stdout
