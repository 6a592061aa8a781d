"""Run the benchmarks: ``python -m bench`` (all of them) or ``python -m bench <name> [<name> ...]``.

Every module in bench/ whose name does not start with an underscore is a
benchmark; each runs as its own ``python -m bench.<name>`` process (a fresh
interpreter: some import the app against their own local AWS), one after the
other, with its output passed through. Each prints its numbers as ratios
against a baseline measured in the same run, talks only to 127.0.0.1 and
stops by itself; a benchmark still running after --timeout seconds is
stopped. ``./dev bench`` runs this.

    python -m bench                  every benchmark, in name order
    python -m bench startup          one (or several) by name
    python -m bench --list           the names
    python -m bench --smoke          each with its SMOKE_ARGS: the smallest run through every step
                                     (tests/test_benches.py runs them so none breaks unnoticed)
"""
from __future__ import annotations

import argparse
import os
import pkgutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_TIMEOUT_S = 900


#: Modules of bench/ that are a benchmark's helper, not a benchmark (no numbers of their own).
HELPERS = frozenset({"ocr_names"})  # names for ocr_read_rate, and the --extract tool that made its data


def benchmarks() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(HERE)])
                  if not info.name.startswith("_") and not info.ispkg and info.name not in HELPERS)


def smoke_args(name: str) -> list[str]:
    """The bench's ``SMOKE_ARGS`` (a literal list at module level), read without importing it."""
    import ast

    tree = ast.parse((HERE / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "SMOKE_ARGS" and getattr(node, "value", None) is not None:
            value = ast.literal_eval(node.value)
            if isinstance(value, list) and all(isinstance(a, str) for a in value):
                return value
    raise LookupError(f"bench/{name}.py has no SMOKE_ARGS = [...] (the arguments of its smallest complete run)")


def child_environment() -> dict[str, str]:
    """Benchmarks bring their own local AWS: never inherit a shell's AWS or moto settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(name: str, timeout: float, args: list[str] | None = None) -> tuple[int | None, float]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", f"bench.{name}", *(args or [])], cwd=ROOT,
                               env=child_environment(), start_new_session=True)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"bench: {name} still running after {timeout:.0f} s; stopping it", flush=True)
        os.killpg(process.pid, signal.SIGINT)  # its own session: the benchmark and the stack it started
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        code = None
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        raise
    return code, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds one benchmark may take (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--smoke", action="store_true", help="run each with its SMOKE_ARGS (small counts)")
    args = parser.parse_args(argv)
    available = benchmarks()
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}")
    results = [(name, *run(name, args.timeout, smoke_args(name) if args.smoke else None))
               for name in (args.names or available)]
    print("\n=== bench summary ===")
    for name, code, seconds in results:
        status = "ok" if code == 0 else ("timed out" if code is None else f"exit code {code}")
        print(f"{name:<24} {status:<12} {seconds:7.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
