"""Start-up time of the local stack: spawn -> DEVSTACK_READY, against the import floor.

    python -m bench.startup [--runs 5]

Each run spawns ``python -m devstack up`` on free ports with a fresh state
directory, times spawn -> the ``DEVSTACK_READY`` line (wall clock, as a
developer waits for it), records the stack's own ``ready in X s`` (measured
inside the process from ``main()``), then stops it with SIGINT and times the
clean exit.

Baseline, measured in the same run: spawning ``python -c "import moto.server,
chalice"`` -- the interpreter plus the two heaviest imports, the floor no
local stack written in Python can go under -- sampled right before each stack
run, so both see the same machine load. Target: ready < 10 s.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, STOP_DEADLINE_S, header, median, ratio, stack_environment, start_stack

TARGET_S = 10.0
BASELINE_CODE = "import moto.server, chalice"


def spawn_time(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=stack_environment(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return time.perf_counter() - started


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--runs', '1']


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    header("startup: python -m devstack up -> DEVSTACK_READY")
    floor, bare = [], []
    walls, reported, stops, codes = [], [], [], []
    for run in range(1, args.runs + 1):
        # The floor is sampled right before each stack run, so both see the same machine load.
        bare.append(spawn_time("pass"))
        floor.append(spawn_time(BASELINE_CODE))
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as state_dir:
            stack = start_stack(Path(state_dir))
            wall = stack.ready_at - stack.spawned_at
            stack.stop()
        walls.append(wall)
        if stack.reported_ready_s is not None:
            reported.append(stack.reported_ready_s)
        stops.append(stack.stopped_in_s)
        codes.append(stack.exit_code)
        own = f"{stack.reported_ready_s:6.2f} s" if stack.reported_ready_s is not None else "   n/a"
        stop = f"{stack.stopped_in_s:5.2f} s" if stack.stopped_in_s is not None else "killed"
        print(f"run {run}: spawn->DEVSTACK_READY {wall:6.2f} s   stack's own 'ready in' {own}   "
              f"SIGINT->exit {stop} (exit code {stack.exit_code})", flush=True)
        if stack.exit_code != 0:
            tail = [line for line in stack.output if not line.startswith("DEVSTACK_READY")][-8:]
            print("       last lines of the stack's output:\n" + "\n".join(f"       | {line[:200]}" for line in tail))

    base = median(floor)
    print()
    print(f"baseline  python -c 'pass'                          median {median(bare):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in bare)})")
    print(f"baseline  python -c '{BASELINE_CODE}'   median {base:6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in floor)})")
    print(f"stack     spawn->DEVSTACK_READY                     median {median(walls):6.2f} s  "
          f"min {min(walls):.2f}  max {max(walls):.2f}   ratio to import floor {ratio(median(walls), base)}")
    if reported:
        print(f"stack     own 'ready in X s'                        median {median(reported):6.2f} s  "
              f"min {min(reported):.2f}  max {max(reported):.2f}   ratio to import floor "
              f"{ratio(median(reported), base)}")
    clean = [s for s in stops if s is not None]
    if clean:
        print(f"stack     SIGINT->exit                              median {median(clean):6.2f} s  "
              f"max {max(clean):.2f}   exit codes {codes}")
    worst = max(walls)
    verdict = "met" if worst < TARGET_S else "NOT met"
    print(f"target    ready < {TARGET_S:.0f} s (every run, wall clock): {verdict} (worst {worst:.2f} s)")
    if any(code != 0 for code in codes):
        print("PROBLEM: not every stack stopped cleanly within "
              f"{STOP_DEADLINE_S:.0f} s of SIGINT (exit codes {codes}; None = killed)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
