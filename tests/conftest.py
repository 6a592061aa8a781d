"""Shared fixtures. Tests that need AWS run against a moto server provisioned from
resources.yaml (stage ``test``); tests that do not never start it.

``tests/unit`` (use cases on the in-memory fakes, and the pure domain) needs no
stack, and neither do the ``fake`` halves of ``tests/contracts`` nor tests marked
``no_stack``. Every other test, and every test marked ``stack``, does. The session
runs every no-stack test first (``pytest_collection_modifyitems``), and starts and
provisions moto once, just before the first test that needs it, ahead of all its
fixtures (``pytest_runtest_setup``; the ``aws_stack`` fixture is its environment):
so ``pytest tests/unit`` never starts it, and a no-stack test that secretly needs
it fails in the session (tests/test_unit_needs_no_stack.py checks the record).
The environment is exported before ``app`` is imported (``chalice_app``), exactly
as the local stack does, because app.py reads resource names at import time: so
only tests that need the stack import app.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings

from tests.support.aws import ROOT
from tests.support.no_stack_probe import RECORD_KEY, NoStackRecord, needs_stack, run_order

sys.path.insert(0, str(ROOT))

# Never real AWS, whatever the developer's shell holds (the stack sets the same values).
for _name, _value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                      "AWS_REGION": "us-east-1"}.items():
    os.environ[_name] = _value

# The local liveness stand-in draws its challenge per session; the suite feeds it photos, and
# tests/data/faces has no photo with closed eyes, so its stacks ask for turns only (the blink rule is
# tested on the stand-in directly: tests/test_liveness_rules.py).
os.environ.setdefault("DEVSTACK_LIVENESS_CHALLENGES", "turn_left,turn_right")

# The suite (and so CI) runs property tests derandomized: the same examples every run, so a
# green main stays green. `HYPOTHESIS_PROFILE=explore ./dev test` searches afresh with more
# examples; whatever it finds is a real bug, to fix and then pin with @example.
hypothesis_settings.register_profile("default", deadline=None, max_examples=60, derandomize=True,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("explore", deadline=None, max_examples=500,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: needs the provisioned moto server (aws_stack), wherever it lives")
    config.addinivalue_line("markers", "no_stack: needs no moto server, wherever it lives")


def xdist_worker() -> Optional[str]:
    """This process's pytest-xdist worker id (``gw0``, ``gw1``, ...), or None when not under xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``./dev test`` (so CI) runs two pytest-xdist workers with ``--dist loadfile``: each test file goes
    whole to one worker (its module fixtures are made once, as test_faults' applicants are), and here every
    test under tests/e2e/ goes to the same worker too, so one local stack serves them all
    (tests/e2e/conftest.py); the longest scopes go out first, each on its side of the no-stack boundary
    (tests/support/scheduling.py). (xdist's own ``loadgroup`` marks do not group under pytest 9: it renames
    ``item._nodeid``, which pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.support.scheduling import make_scheduler

    return make_scheduler(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the Lambda package's build beside the suite when a test module that reads the package is selected."""
    from tests.support.package_build import USERS, start_background_build

    # Under xdist every worker collects every test: one of them builds (the build takes a file lock, and a
    # worker whose package test runs first finds it built or waits for it).
    if xdist_worker() in (None, "gw0") and any(Path(str(item.fspath)).name in USERS for item in session.items):
        start_background_build()  # tests/support/package_build.py


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs no stack runs before the first one that does (a stable sort, after pytest's own
    ordering), and the stack is started only then: a no-stack test that secretly needs it fails in the session
    (tests/support/no_stack_probe.py records how each ran; tests/test_unit_needs_no_stack.py checks it)."""
    from tests.support.package_build import USERS

    items[:] = sorted(items, key=lambda item: run_order(item, USERS))
    config.stash[RECORD_KEY] = NoStackRecord()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A package build still running when the session ends early (-x, Ctrl-C) is stopped with it."""
    from tests.support.package_build import stop_background_build

    stop_background_build()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """``DEV_TEST_TIMELINE=FILE ./dev test``: when each phase (setup, call, teardown) of each test ended, on which
    worker, and how long it took, one JSON line each, to see how the workers shared the suite (written by the
    session's own process: under xdist the controller, which hears every worker's reports)."""
    path = os.environ.get("DEV_TEST_TIMELINE")
    if path and xdist_worker() is None:
        import time

        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
        with open(path, "a", encoding="utf-8") as timeline:
            timeline.write(json.dumps({"end": round(time.time(), 2), "worker": worker, "nodeid": report.nodeid,
                                       "when": report.when, "seconds": round(report.duration, 2)}) + "\n")


_stack: dict[str, Any] = {}


def _started_stack() -> dict[str, str]:
    """moto started and provisioned on first use, once per session (a failed start fails every later user)."""
    if "error" in _stack:
        raise RuntimeError("the stack failed to start (see the first test that needed it)") from _stack["error"]
    if "env" not in _stack:
        try:
            from chalicelib.bootstrap import services
            from tests.support.aws import provisioned_environment

            env = provisioned_environment()
            _relax_request_rate_limits()
            _ = services().dynamodb_connection  # binds the pynamodb models to the provisioned tables
        except Exception as error:
            _stack["error"] = error
            raise
        _stack["env"] = env
    return _stack["env"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture of a test that needs the stack (module- and session-scoped ones included, which
    pytest sets up before function-scoped ones): start it, if not yet. A test that needs no stack may not
    reach it through its fixtures."""
    record = item.config.stash.get(RECORD_KEY, None)
    if needs_stack(item):
        if record is not None:
            record.stack_starting(item)
        _started_stack()
    elif "aws_stack" in getattr(item, "fixturenames", ()):
        pytest.fail(f"{item.nodeid} needs no stack but a fixture it uses does (aws_stack): mark it 'stack'",
                    pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Any:
    """How each no-stack test ran, for tests/test_unit_needs_no_stack.py."""
    record = item.config.stash.get(RECORD_KEY, None)
    if record is None or needs_stack(item):
        return (yield)
    record.begin(item)
    try:
        return (yield)
    finally:
        record.end(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A no-stack test whose run the record finds wrong (the stack's variables set, app or moto imported, an AWS
    call) fails itself, at its teardown: under pytest-xdist the check in tests/test_unit_needs_no_stack.py sees
    only its own worker's tests, so each test answers for itself too."""
    report = yield
    record = item.config.stash.get(RECORD_KEY, None)
    if call.when == "teardown" and record is not None and not needs_stack(item):
        record.end(item)
        run = record.runs.get(item.nodeid)
        problems = run.problems() if run is not None else []
        if problems and report.passed:
            report.outcome = "failed"
            report.longrepr = "this test needs no stack, yet:\n" + "\n".join(problems)
    return report


@pytest.fixture(scope="session")
def aws_stack() -> dict[str, str]:
    """The moto server provisioned from resources.yaml: its environment (already exported to os.environ).

    Started by ``pytest_runtest_setup`` before the first test that needs it, ahead of every fixture of that
    test (the ones that import app.py or make Cognito users included); never in a session of tests that need
    none (``pytest tests/unit``).
    """
    return _started_stack()


def _relax_request_rate_limits() -> None:
    """The suite's shared users make hundreds of requests a minute (the authorisation matrix alone); the
    per-user rate limits are raised for the session and lowered by the tests of them (test_limits.py)."""
    import boto3

    ssm = boto3.client("ssm")
    prefix = os.environ["SETTINGS_PATH"].rstrip("/")
    for name in ("applicant_requests_per_minute", "staff_requests_per_minute"):
        ssm.put_parameter(Name=f"{prefix}/{name}", Value="1000000", Type="String", Overwrite=True)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> Optional[str]:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


class Api:
    """The Chalice test client with JSON in and out."""

    def __init__(self, client: Any):
        self.client = client

    def call(self, method: str, path: str, body: Any = None, headers: Optional[dict[str, str]] = None,
             user: Any = None, raw: Optional[bytes] = None) -> Reply:
        all_headers = {"Content-Type": "application/json", **(user.auth if user else {}), **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = response.body
        return Reply(response.status_code, dict(response.headers), parsed)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body=body, **kw)


@pytest.fixture(scope="session")
def chalice_app(aws_stack):
    import app as app_module

    return app_module.app


@contextlib.contextmanager
def _stage_env_vars(self, environment_variables):
    """Chalice's test client swaps os.environ for a copy on every call, which is not
    thread-safe: concurrent calls can leave a plain dict behind for the rest of the
    session. The stage's variables are constant, so set them once on the real one."""
    for name, value in environment_variables.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    yield


def _context_with_the_configured_timeout(config):
    """Chalice's test client gives every invocation a 3 s Lambda context whatever the function's
    ``lambda_timeout``; the jobs budget their work by the remaining time, so under load a cold first
    invocation spent those 3 s before its first application. Its ``invoke`` is the only user of
    ``chalice.test.LambdaContext``: this subclass, put there, gives the context the configured timeout,
    as AWS does."""
    from chalice.local import LambdaContext

    class ConfiguredLambdaContext(LambdaContext):
        def __init__(self, function_name, memory_size, max_runtime_ms=3000, time_source=None):
            timeout = config.scope(config.chalice_stage, function_name).lambda_timeout
            super().__init__(function_name, memory_size, timeout * 1000, time_source)

    return ConfiguredLambdaContext


@pytest.fixture(scope="session")
def client(chalice_app):
    from chalice import test as chalice_test
    from chalice.test import Client

    chalice_test.BaseClient._patched_env_vars = _stage_env_vars

    with Client(chalice_app, stage_name="local", project_dir=str(ROOT)) as test_client:
        chalice_test.LambdaContext = _context_with_the_configured_timeout(test_client.lambda_._config)
        yield test_client


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def applicant():
    from tests.support.identities import make_user

    return make_user()


@pytest.fixture
def other_applicant():
    from tests.support.identities import make_user

    return make_user()


@pytest.fixture
def reviewer():
    from tests.support.identities import make_user

    return make_user(("reviewers",))
