"""The shipped package: lean, with bytecode, importable with the runtime's SDK alone; every stage packages.

One build per session (scripts/build_package.py, reusing Chalice's cached
dependency build), shared with the deploy rehearsal.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from scripts import iam
from scripts.build_package import DROPPED, NEVER_IMPORTED, build, top_level
from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S
from tests.support.package_build import wait_for_background_build

# the lean package's ceiling: test_the_package_is_less_than_half_of_chalices says why
CEILING_MB = 9.2


@pytest.fixture(scope="session")
def lean():
    wait_for_background_build()  # tests/support/package_build.py
    package, sizes, trace = build(ROOT)
    return {"zip": package, "sizes": sizes, "trace": trace,
            "chalice": package.with_name(package.stem + ".chalice.zip")}


def test_the_runtime_sdk_and_never_imported_packages_are_gone(lean):
    with zipfile.ZipFile(lean["zip"]) as archive:
        tops = {top_level(name) for name in archive.namelist()}
    assert not tops & DROPPED
    with zipfile.ZipFile(lean["chalice"]) as archive:
        shipped_by_chalice = {top_level(name) for name in archive.namelist()}
    assert {"botocore", "urllib3", "dateutil"} <= shipped_by_chalice


def test_the_build_keeps_a_copy_of_the_lean_package_to_put_back_over_chalices(lean):
    """``chalice package``/``chalice deploy`` run by hand write Chalice's own zip where the lean one was: the
    next build puts the kept copy back (tests/test_deploy_rehearsal.py deploys from a cache in that state)."""
    import hashlib

    kept = lean["zip"].with_name(lean["zip"].stem + ".lean.zip")
    record = json.loads(lean["zip"].with_name(lean["zip"].stem + ".lean.json").read_text())
    assert kept.read_bytes() == lean["zip"].read_bytes()
    assert record["sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()


def test_no_sdk_and_no_cryptography_ships(lean):
    """boto3/botocore come with the runtime; RS256 is verified by chalicelib/adapters/rs256.py."""
    with zipfile.ZipFile(lean["zip"]) as archive:
        tops = {top_level(name) for name in archive.namelist()}
    assert not tops & {"boto3", "botocore", "s3transfer", "cryptography", "cffi", "_cffi_backend"}


HANDLERS = r"""
import json, sys
sys.path[:0] = sys.argv[1:]
import app
chalice = app.app
# A route is dispatched by the app object (one REST function); every other handler is a module attribute
# Lambda finds by its handler string ("app.<name>").
routes = {route.view_name: route.view_function for routes in chalice.routes.values() for route in routes.values()}
functions = {source.handler_string.split(".")[-1] for source in chalice.event_sources}
functions |= {config.handler_string.split(".")[-1] for config in chalice.websocket_handlers.values()}
functions |= {function.handler_string.split(".")[-1] for function in chalice.pure_lambda_functions}
names = set(routes) | functions
missing = sorted([name for name, view in routes.items() if not callable(view)]
                 + [name for name in functions if not callable(getattr(app, name, None))])
scans = sys.modules["chalicelib.domain.text"].printable_pattern.cache_info().misses
print(json.dumps({"handlers": sorted(names), "missing": missing, "pattern_scans": scans,
                  "screening_only": [name for name in ("rapidfuzz", "jellyfish") if name in sys.modules],
                  "sdk": {m: sys.modules[m].__file__.startswith(sys.argv[2]) for m in ("boto3", "botocore")
                          if m in sys.modules}}))
"""


def decorated_handlers() -> set[str]:
    """Every function app.py registers with an ``@app.<...>`` decorator, and every route a blueprint of
    chalicelib/routes/ registers with ``@blueprint.<...>`` (app.py registers the blueprints)."""
    import ast

    def decorated(path, owner):
        tree = ast.parse(path.read_text())
        return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and isinstance(d.func.value, ast.Name)
            and d.func.value.id == owner for d in node.decorator_list)}

    found = decorated(ROOT / "app.py", "app")
    for module in sorted((ROOT / "chalicelib" / "routes").glob("*.py")):
        found |= decorated(module, "blueprint")
    return found


def test_every_handler_is_registered_from_the_package_with_only_the_runtime_sdk(lean, tmp_path):
    from bench.package import app_environment, runtime_sdk

    task, runtime = tmp_path / "task", tmp_path / "runtime"
    task.mkdir(), runtime.mkdir()
    with zipfile.ZipFile(lean["zip"]) as archive:
        archive.extractall(task)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", HANDLERS, str(task), str(runtime_sdk(runtime))],
                            cwd=task, env=app_environment(), capture_output=True, text=True, timeout=COMMAND_S)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert not found["missing"]
    assert set(found["handlers"]) == decorated_handlers()
    assert found["sdk"] and all(found["sdk"].values())  # the SDK came from the runtime's copy
    assert found["pattern_scans"] == 0  # the OpenAPI pattern of printable text is built lazily (0.3 s)
    assert found["screening_only"] == []  # imported when screening runs, not at every handler's cold start


def test_the_import_trace_saw_none_of_the_dropped_packages(lean):
    imported = set(lean["trace"]["imported"])
    assert not imported & NEVER_IMPORTED
    assert {"chalice", "chalicelib", "pydantic", "pynamodb", "aws_lambda_powertools", "jwt"} <= imported


def test_the_package_carries_bytecode_for_what_is_imported(lean):
    with zipfile.ZipFile(lean["zip"]) as archive:
        names = set(archive.namelist())
    assert "__pycache__/app.cpython-311.pyc" in names
    assert "chalicelib/__pycache__/bootstrap.cpython-311.pyc" in names
    assert any(name.startswith("pydantic/__pycache__/") for name in names)


def test_the_package_is_less_than_half_of_chalices(lean):
    """The ceiling: issue 11's target was 8 MB (bench/package.py still prints it); the lead's decision for issue 20
    (sanctions p99) adds rapidfuzz, only the compiled modules screening calls (scripts/build_package.py,
    NATIVE_KEPT): 1.38 MB zipped. Measured 8.93 MB zipped (``python -m bench.package --runs 3`` or
    ``python -m scripts.build_package``; 10.8 MB with all of rapidfuzz, 7.6 MB without it); the ceiling is that
    plus 0.27 MB (3 %), so growth shows here. The 8 MB target is not met while rapidfuzz ships."""
    size, original = lean["zip"].stat().st_size, lean["chalice"].stat().st_size
    print(f"\nlean package {size / 1e6:.1f} MB zipped (Chalice's {original / 1e6:.1f} MB); top: "
          + ", ".join(f"{name} {value / 1e6:.1f}" for name, value in sorted(
              lean["sizes"].items(), key=lambda item: -item[1])[:5]))
    assert size < original / 2
    assert size <= CEILING_MB * 1e6


def test_the_app_imports_from_the_package_with_only_the_runtime_sdk(lean, tmp_path):
    from bench.package import app_environment, import_time, runtime_sdk

    task, runtime = tmp_path / "task", tmp_path / "runtime"
    task.mkdir(), runtime.mkdir()
    with zipfile.ZipFile(lean["zip"]) as archive:
        archive.extractall(task)
    assert import_time(task, task, runtime_sdk(runtime), app_environment()) > 0


SCREENS = r"""
import json, sys
sys.path[:0] = sys.argv[1:]
from chalicelib.domain.sanctions import similarity as screening
near = screening.near_pairs(["abdul", "mohamed", "j"], ["abdal", "muhammad", "jalil", "zhou"], 0.7)
similar = screening.token_similarity("hussein", "husayn"), screening.token_similarity("abdurrahmanov", "abdurrahmnaov")
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein
used = {"extract": process.extract, "damerau_levenshtein": DamerauLevenshtein.normalized_similarity,
        "damerau_levenshtein_distance": screening._damerau_levenshtein(), "levenshtein": Levenshtein.distance}
print(json.dumps({"near": {word: sorted(at) for word, at in near.items()}, "similar": similar,
                  "modules": {name: sys.modules[f.__module__].__file__ for name, f in used.items()}}))
"""


def test_screening_runs_from_the_package_on_rapidfuzz_compiled_modules(lean, tmp_path):
    """The build keeps only the rapidfuzz modules screening calls (NATIVE_KEPT); rapidfuzz would fall back to
    its pure-Python *_py modules, silently and some 100 times slower (issue 20's p99), for a missing one."""
    from bench.package import app_environment, runtime_sdk

    with zipfile.ZipFile(lean["zip"]) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "task")
    assert not any(name.startswith(("rapidfuzz/fuzz_cpp", "rapidfuzz/distance/metrics_cpp_avx2")) for name in names)
    (tmp_path / "runtime").mkdir()
    result = subprocess.run([sys.executable, "-I", "-S", "-c", SCREENS, str(tmp_path / "task"),
                             str(runtime_sdk(tmp_path / "runtime"))], cwd=tmp_path / "task", env=app_environment(),
                            capture_output=True, text=True, timeout=COMMAND_S)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["near"] == {"abdal": [0], "muhammad": [1], "jalil": [2]}
    assert found["similar"] == [0.9, 1 - 1 / 13]  # one transposition: a Damerau-Levenshtein distance of 1
    for name, file in found["modules"].items():  # compiled, and from the package, not the venv
        assert file.startswith(str(tmp_path / "task" / "rapidfuzz")) and file.endswith(".so"), (name, file)


@pytest.fixture(scope="session")
def packaging_project(tmp_path_factory, lean):
    """A copy of the project with a recorded overlay for each stage (placeholder values) and its policies."""
    from bench.package import app_environment
    from scripts.chalice_stage import write_overlay

    project = tmp_path_factory.mktemp("packaging")
    for name in ("app.py", "chalicelib", "requirements.txt", "requirements.lock", ".chalice/config.json",
                 ".chalice/deployments"):
        source, target = ROOT / name, project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, target)
    env = {k: v for k, v in app_environment().items() if not k.startswith("AWS_") and k != "PATH"}
    shutil.copytree(ROOT / iam.TEMPLATES, project / iam.TEMPLATES)
    for stage in json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]:
        # each function's own policy, rendered as the deploy does (scripts/iam.py)
        functions = iam.write_stage_policies(project, stage, env, "us-east-1", "123456789012")
        write_overlay(project, stage, {"environment_variables": env, "autogen_policy": False,
                                       "lambda_functions": functions})
    return project


@pytest.mark.parametrize("stage", sorted(json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]))
def test_every_stage_packages_for_terraform_with_the_lean_package(packaging_project, lean, stage, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "scripts.chalice_stage", "package", "--stage", stage,
                             "--pkg-format", "terraform", str(out)], cwd=packaging_project,
                            capture_output=True, text=True, timeout=COMMAND_S,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    template = json.loads((out / "chalice.tf.json").read_text())
    functions = template["resource"]["aws_lambda_function"]
    assert {"verify_identity_document", "check_address", "publish_history", "api_handler"} <= set(functions)
    assert (out / "deployment.zip").read_bytes() == lean["zip"].read_bytes()
    assert "aws_s3_bucket_notification" not in template["resource"]  # uploads reach it through its queue
    # one role per function, each with its own policy (scripts/iam.py), none shared
    policies = template["resource"]["aws_iam_role_policy"]
    assert set(template["resource"]["aws_iam_role"]) == {f"{name}_role" for name in functions}
    assert len({json.dumps(p["policy"], sort_keys=True) for p in policies.values()}) == len(functions)
    # event sources that cannot stall, in the package itself (issue 11), as the deploy sets them
    mappings = template["resource"]["aws_lambda_event_source_mapping"]
    sqs = [m for name, m in mappings.items() if name.endswith("-sqs-event-source")]
    assert sqs and all(m["function_response_types"] == ["ReportBatchItemFailures"] for m in sqs)
    [stream] = [m for name, m in mappings.items() if name.endswith("-dynamodb-event-source")]
    assert stream["bisect_batch_on_function_error"] is True and stream["maximum_retry_attempts"] == 10
    assert stream["function_response_types"] == ["ReportBatchItemFailures"]
    assert stream["destination_config"]["on_failure"]["destination_arn"].endswith("history_stream_dlq_arn")
    [identity] = [m for name, m in mappings.items() if name.startswith("verify_identity_document")]
    assert identity["scaling_config"]["maximum_concurrency"] >= 2  # at the rate Textract's quota allows
    invoke_configs = template["resource"].get("aws_lambda_function_event_invoke_config", {})
    assert "verify_identity_document" not in invoke_configs  # no longer invoked asynchronously (by S3)
    assert invoke_configs["notify_subscribers"]["maximum_retry_attempts"] == 2  # SNS still invokes it so


def test_the_whole_app_packages_to_cloudformation(packaging_project, lean, tmp_path):
    """Chalice cannot package on_s3_event on an existing bucket to CloudFormation; uploads now reach the
    identity check through an SQS queue (S3 -> SQS, resources.yaml), so every function packages."""
    out = tmp_path / "cfn"
    result = subprocess.run([sys.executable, "-m", "scripts.chalice_stage", "package", "--stage", "dev",
                             str(out)], cwd=packaging_project, capture_output=True, text=True,
                            timeout=COMMAND_S, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, (result.stderr + result.stdout)[-2000:]
    template = json.loads((out / "sam.json").read_text())
    functions = {name: resource for name, resource in template["Resources"].items()
                 if resource["Type"] == "AWS::Serverless::Function"}
    assert {"VerifyIdentityDocument", "CheckAddress", "PublishHistory", "APIHandler"} <= set(functions)
    assert (out / "deployment.zip").read_bytes() == lean["zip"].read_bytes()
    events = [(name, event) for name, function in functions.items()
              for event in (function["Properties"].get("Events") or {}).values()]
    assert "S3" not in {event["Type"] for _, event in events}
    sqs = [event for _, event in events if event["Type"] == "SQS"]
    assert sqs and all(e["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for e in sqs)
    [identity] = [e for name, e in events if name == "VerifyIdentityDocument"]
    assert identity["Type"] == "SQS" and identity["Properties"]["ScalingConfig"]["MaximumConcurrency"] >= 2
    [stream] = [event for _, event in events if event["Type"] == "DynamoDB"]
    assert stream["Properties"]["BisectBatchOnFunctionError"] is True
    assert stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"].endswith("history_stream_dlq_arn")
