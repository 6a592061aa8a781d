"""Every benchmark runs as shipped, in its smoke mode (``SMOKE_ARGS``: small counts, every step).

A bench is a program a reader runs by hand (``./dev bench``); nothing else would notice when a change
breaks one (four of ten had broken unnoticed: issue 23). Each runs here as ``python -m bench.<name>
<SMOKE_ARGS>`` in a fresh interpreter with its own local AWS, exactly as ``python -m bench --smoke``
runs it, and must exit 0. The AWS-calls bench's figures are also the targets of issue 23: a client
watching over WebSocket costs at most 25 calls per application, and the checks' normal race takes no
more transaction attempts than commits.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bench.__main__ import ROOT, benchmarks, child_environment, smoke_args
from tests.support.deadlines import COMMAND_S

WATCHED_CALLS_TARGET = 25


def run_bench(name: str) -> str:
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *smoke_args(name)], cwd=ROOT,
                          env=child_environment(), capture_output=True, text=True, timeout=COMMAND_S)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"bench {name} {smoke_args(name)} exited {done.returncode}:\n{output[-4000:]}"
    return output


def test_every_bench_has_a_smoke_mode():
    missing = []
    for name in benchmarks():
        try:
            smoke_args(name)
        except LookupError as error:
            missing.append(str(error))
    assert missing == []


@pytest.mark.parametrize("name", [b for b in benchmarks() if b != "aws_calls"])
def test_the_bench_runs_as_shipped(name):
    output = run_bench(name)
    assert output.strip(), f"bench {name} printed nothing"


def test_aws_calls_a_watching_client_costs_at_most_25_calls_and_commits_take_one_attempt_each():
    output = run_bench("aws_calls")
    summary = re.search(r"SUMMARY warm (\d+) calls per auto-approved application \(cold (\d+)\); "
                        r"watched by a WebSocket client (\d+); delivered at once (\d+)", output)
    assert summary, output[-3000:]
    warm, _, watched, at_once = (int(n) for n in summary.groups())
    assert watched <= WATCHED_CALLS_TARGET and warm <= watched and at_once <= WATCHED_CALLS_TARGET, summary.group(0)
    races = re.findall(r"^(warm|watched|at once): (\d+) commit attempts for (\d+) commits", output, re.M)
    assert {scenario for scenario, _, _ in races} == {"warm", "watched", "at once"}, output[-3000:]
    assert all(attempts == commits for _, attempts, commits in races), races
