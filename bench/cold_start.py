"""Cold start of the code against an earlier revision, in the same run: import of app.py and each
use case's first build, in fresh interpreters.

    python -m bench.cold_start [--runs 15]     # HEAD vs the landed main (what a branch changes)
    BASELINE_REV=<rev> python -m bench.cold_start

The baseline must import with today's requirements (the revision before the
layered layout, c7ef7ef, needed ``mrz``, no longer installed: it cannot be
measured any more).

The baseline is checked out with ``git worktree add --detach`` into a temporary
folder and measured with the same interpreter and the same environment, the
runs interleaved so machine load hits both alike. Prints medians and the ratio
HEAD / baseline (lower is better).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "main"  # the landed code: the ratio is what this revision changes
RUNS = 15
SMOKE_ARGS = ["--runs", "1"]
ENV = {
    "DOCUMENTS_BUCKET_NAME": "bench-documents",
    "ADDRESS_CHECK_QUEUE_NAME": "bench-address-check",
    "HISTORY_STREAM_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/history/stream/2026-01-01T00:00:00.000",
    "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
IMPORT_APP = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"


def once(root: Path) -> float:
    from bench.package import app_environment  # every name app.py reads at import (the template's outputs)

    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO"))}, **app_environment(), **ENV}
    out = subprocess.run([sys.executable, "-c", IMPORT_APP], cwd=root, env=env, capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"import app failed in {root}:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def _default_baseline() -> str:
    """``main`` where the clone has that branch; else its remote's (a clone of another branch, a CI
    checkout of a detached commit); else this revision itself (the ratio is then 1 by construction)."""
    for rev in (DEFAULT_BASELINE, f"origin/{DEFAULT_BASELINE}", "HEAD"):
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                               capture_output=True, text=True)
        if found.returncode == 0:
            if rev != DEFAULT_BASELINE:
                print(f"cold_start: no branch {DEFAULT_BASELINE!r} here; the baseline is {rev}")
            return rev
    raise SystemExit("cold_start: not in a git checkout with any commit; set BASELINE_REV")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=RUNS)
    runs = parser.parse_args(argv).runs
    rev = os.environ.get("BASELINE_REV") or _default_baseline()
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(baseline), rev], cwd=ROOT, check=True)
        try:
            head_times, base_times = [], []
            once(ROOT), once(baseline)  # warm the file cache and write bytecode for both
            for _ in range(runs):
                head_times.append(once(ROOT))
                base_times.append(once(baseline))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False)
    head, base = statistics.median(head_times), statistics.median(base_times)
    print(f"=== cold start: import app.py, median of {runs} fresh interpreters (runs interleaved) ===")
    print(f"baseline {rev:<12} {base * 1000:8.0f} ms   (min {min(base_times) * 1000:.0f} ms)")
    print(f"HEAD                  {head * 1000:8.0f} ms   (min {min(head_times) * 1000:.0f} ms)")
    print(f"ratio HEAD / baseline {head / base:8.2f}")


if __name__ == "__main__":
    main()
