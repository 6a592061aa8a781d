"""The shipped package: zipped size, and import time of app.py against a bare Chalice app.

    python -m bench.package [--runs 7]

Builds (or reuses) the lean package (scripts/build_package.py), unpacks it as
Lambda does, then times ``import app`` in fresh interpreters that see only the
package and the runtime's SDK (boto3, botocore ...), as /var/task and the
python3.11 runtime do. Baseline, in the same run and alternating with it: a
bare Chalice app that imports boto3 and makes one client, from the same
unpacked package. Targets: <= 8 MB zipped, import <= 1.15x the baseline.
Each handler's first invocation needs a running Lambda and is not measured here.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bench._common import header, median, ratio

TARGET_MB = 8.0
TARGET_RATIO = 1.15
BASELINE_APP = ("from chalice import Chalice\nimport boto3\napp = Chalice(app_name='baseline')\n"
                "client = boto3.client('s3', region_name='us-east-1')\n")
TIMED = "import sys, time; sys.path[:0] = {paths!r}; started = time.perf_counter(); import app; " \
        "print(time.perf_counter() - started)"


def runtime_sdk(into: Path) -> Path:
    """The runtime's SDK packages (from this environment), alone on a path, as Lambda provides them."""
    import boto3

    from scripts.build_package import RUNTIME_PROVIDED

    site = Path(boto3.__file__).parents[1]
    for name in RUNTIME_PROVIDED:
        for candidate in (site / name, site / f"{name}.py"):
            if candidate.exists():
                os.symlink(candidate, into / candidate.name)
    return into


def import_time(app_dir: Path, package_dir: Path, runtime: Path, env: dict[str, str]) -> float:
    code = TIMED.format(paths=[str(app_dir), str(package_dir), str(runtime)])
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=app_dir, env=env, check=True,
                            capture_output=True, text=True, timeout=120)
    return float(result.stdout.strip().splitlines()[-1])


def app_environment() -> dict[str, str]:
    """What app.py reads at import: the template's outputs (placeholder values) and a region."""
    from devstack.template import env_name, load_template
    from scripts.build_package import ROOT

    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "APP_STAGE": "bench", "PATH": os.environ.get("PATH", "")}
    for key in load_template(ROOT / "resources.yaml")["Outputs"]:
        env[env_name(key)] = f"arn:aws:sns:us-east-1:123456789012:{env_name(key).lower()}"
    return env


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--runs', '1']


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from scripts.build_package import build, top_packages

    header("package: zipped size and import time of app.py in the built package")
    package, sizes, _ = build()
    original = package.with_name(package.stem + ".chalice.zip")
    size_mb = package.stat().st_size / 1e6
    print(f"zipped: {size_mb:.1f} MB (Chalice's own: {original.stat().st_size / 1e6:.1f} MB); "
          f"target <= {TARGET_MB} MB: {'met' if size_mb <= TARGET_MB else 'NOT met'} "
          f"({size_mb / TARGET_MB:.2f} of the target)")
    print("by top-level package (zipped):")
    print(top_packages(sizes, 12))
    env = app_environment()
    with tempfile.TemporaryDirectory() as scratch:
        unpacked, baseline, runtime = Path(scratch, "task"), Path(scratch, "baseline"), Path(scratch, "runtime")
        for directory in (unpacked, baseline, runtime):
            directory.mkdir()
        with zipfile.ZipFile(package) as archive:
            archive.extractall(unpacked)
        (baseline / "app.py").write_text(BASELINE_APP)
        runtime_sdk(runtime)
        apps, bases = [], []
        for _ in range(args.runs):  # alternate, so both see the same machine load
            bases.append(import_time(baseline, unpacked, runtime, env))
            apps.append(import_time(unpacked, unpacked, runtime, env))
    app_s, base_s = median(apps), median(bases)
    print(f"import app.py: {app_s * 1000:.0f} ms median of {args.runs}; bare Chalice + boto3 + one client: "
          f"{base_s * 1000:.0f} ms; {ratio(app_s, base_s)} (target <= {TARGET_RATIO}x: "
          f"{'met' if app_s / base_s <= TARGET_RATIO else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
