"""The code gates, run with the suite so CI runs them: lint, format, types, layering.

- ruff: lint and format on the shipped code (chalicelib/, app.py); pyflakes-level
  lint (real errors: undefined or unused names) on the dev tooling and tests.
- mypy: strict on the pure core and the use cases, the defaults on the rest.
- import-linter: the contracts in .importlinter (the domain imports no AWS or
  Chalice; use cases reach adapters only through their ports; nothing shipped
  imports devstack, tests, bench or scripts).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deadlines import COMMAND_S

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

GATES = {
    "ruff lint (shipped code)": [str(BIN / "ruff"), "check", "chalicelib", "app.py"],
    "ruff format (shipped code)": [str(BIN / "ruff"), "format", "--check", "chalicelib", "app.py"],
    "ruff lint (tooling and tests)": [str(BIN / "ruff"), "check", "--select", "F", "tests", "devstack", "bench",
                                      "scripts"],
    "mypy strict (domain, services)": [str(BIN / "mypy"), "--strict", "chalicelib/domain", "chalicelib/services"],
    "mypy (chalicelib, app.py)": [str(BIN / "mypy"), "chalicelib", "app.py"],
    "import-linter": [str(BIN / "lint-imports")],
}


@pytest.mark.parametrize("command", list(GATES.values()), ids=list(GATES))
def test_gate(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_S)
    assert result.returncode == 0, f"{' '.join(command[:3])} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
