"""The Lambda package build (scripts/build_package.py), started beside the suite.

Three test modules read the lean package (``USERS``). On a fresh clone it is not built yet, and building it
(Chalice's packager installing requirements.lock, the import trace, the SBOM) is mostly other processes'
work. So when the session holds one of them, tests/conftest.py starts ``python -m scripts.build_package`` as
soon as the session is collected, and each of those modules calls :func:`wait_for_background_build` before
its own ``build(ROOT)``, which then finds the package in Chalice's cache (or, if the background build failed,
builds it and says why). In a worktree whose package is current the background run only finds it so.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile

from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S

#: The test modules that build the package (their file names).
USERS = frozenset({"test_package.py", "test_supply_chain.py", "test_deploy_rehearsal.py"})

_running: list[subprocess.Popen] = []


def start_background_build() -> None:
    output = tempfile.TemporaryFile(prefix="package-build-")
    _running.append(subprocess.Popen([sys.executable, "-m", "scripts.build_package"], cwd=ROOT,
                                     stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT))


def wait_for_background_build() -> None:
    """Let a background build finish (within COMMAND_S) before building or reading the package here."""
    while _running:
        process = _running.pop()
        try:
            process.wait(timeout=COMMAND_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_background_build() -> None:
    for process in _running:
        if process.poll() is None:
            process.kill()
            process.wait()
    _running.clear()
