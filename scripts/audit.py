"""Scan what ships (requirements.lock) for known vulnerabilities: pip-audit against PyPI's advisories or OSV.

    python -m scripts.audit                 # PyPI's vulnerability data (the default service)
    python -m scripts.audit --service osv   # OSV.dev

Exit 0: every locked package was looked up and none has a known vulnerability.
Exit 1: vulnerabilities found (pip-audit's report says which and the fixed versions).
Exit 2: the scan could not be made -- a package could not be looked up (no route to the
vulnerability service: this machine reaches only the package index). That is never a pass:
the pipeline (.github/workflows/delivery.yml) runs this where the service is reachable.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_LOOKED_UP = ("could not be audited", "Connection", "Max retries exceeded", "Failed to resolve",
                 "Temporary failure in name resolution", "timed out")


def audit(lock: Path, service: str = "pypi") -> tuple[int, str]:
    """(exit code as documented above, pip-audit's output)."""
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--require-hashes", "--disable-pip",
               "--strict", "--progress-spinner", "off", "--vulnerability-service", service]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    if any(marker in output for marker in NOT_LOOKED_UP):
        return 2, output
    if done.returncode == 0:
        return 0, output
    return (1 if "Found" in output and "vulnerabilit" in output else 2), output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    args = parser.parse_args(argv)
    code, output = audit(args.lock, args.service)
    print(output.strip())
    if code == 2:
        print(f"\naudit: NOT SCANNED -- the {args.service} vulnerability service could not be reached for every "
              "package, so nothing was checked. This is not a pass. Run it where the service is reachable "
              "(the pipeline's build job does).", file=sys.stderr)
    elif code == 0:
        print(f"\naudit: every package of {args.lock.name} was looked up; no known vulnerability")
    return code


if __name__ == "__main__":
    sys.exit(main())
