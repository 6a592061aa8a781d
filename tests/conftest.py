"""Shared fixtures. Tests that need AWS run against a moto server provisioned from
resources.yaml (stage ``test``); tests that do not never start it.

``tests/unit`` (use cases on the in-memory fakes, and the pure domain) needs no
stack, and neither do the ``fake`` halves of ``tests/contracts`` nor tests marked
``no_stack``. Every other test, and every test marked ``stack``, does: the session fixture ``aws_stack``
starts moto and provisions it once, before any other fixture, as soon as the
session holds one such test -- so ``pytest tests/unit`` never starts it. The
environment is exported before ``app`` is imported (``chalice_app``), exactly as
the local stack does, because app.py reads resource names at import time: so
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

TESTS = Path(__file__).resolve().parent
NO_STACK_DIRS = (TESTS / "unit", TESTS / "contracts")

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
    (tests/e2e/conftest.py). (xdist's own ``loadgroup`` marks do not group under pytest 9: it renames
    ``item._nodeid``, which pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesWithTheEndToEndTestsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/e2e/" if path.startswith("tests/e2e/") else path

    return FilesWithTheEndToEndTestsTogether(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start now, beside the session, the no-stack probe (a second pytest run of tests/unit and the fake
    contracts) when the session holds it and other tests -- test_unit_needs_no_stack.py collects its verdict --
    and the Lambda package's build when a test module that reads the package is selected."""
    probe = [item for item in session.items
             if item.name == "test_unit_tests_and_fake_contracts_run_without_the_stack"]
    if probe and len(session.items) > 1 and xdist_worker() is None:  # under xdist the worker given it runs it
        from tests.support.no_stack_probe import PROBE_KEY, start_probe

        session.config.stash[PROBE_KEY] = start_probe()
    from tests.support.package_build import USERS, start_background_build

    # Under xdist every worker collects every test: one of them builds (the build takes a file lock, and a
    # worker whose package test runs first finds it built or waits for it).
    if xdist_worker() in (None, "gw0") and any(Path(str(item.fspath)).name in USERS for item in session.items):
        start_background_build()  # tests/support/package_build.py


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A probe or package build still running when the session ends early (-x, Ctrl-C) is stopped with it."""
    from tests.support.no_stack_probe import PROBE_KEY

    process = session.config.stash.get(PROBE_KEY, None)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
    from tests.support.package_build import stop_background_build

    stop_background_build()


def needs_stack(item: pytest.Item) -> bool:
    if item.get_closest_marker("stack") is not None:
        return True
    if item.get_closest_marker("no_stack") is not None:
        return False
    path = Path(str(item.fspath)).resolve()
    return not any(path.is_relative_to(folder) for folder in NO_STACK_DIRS)


@pytest.fixture(scope="session", autouse=True)
def aws_stack(request: pytest.FixtureRequest) -> Optional[dict[str, str]]:
    """moto started and provisioned once per session, only if a selected test needs it.

    Autouse and session-scoped, so it is set up before any other fixture (the
    ones that import app.py or make Cognito users included).
    """
    if not any(needs_stack(item) for item in request.session.items):
        return None
    from chalicelib.bootstrap import services
    from tests.support.aws import provisioned_environment

    env = provisioned_environment()
    _relax_request_rate_limits()
    _ = services().dynamodb_connection  # binds the pynamodb models to the provisioned tables
    return env


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
    assert aws_stack is not None, "app.py needs the provisioned stack: mark the test 'stack'"
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


@pytest.fixture(scope="session")
def client(chalice_app):
    from chalice import test as chalice_test
    from chalice.test import Client

    chalice_test.BaseClient._patched_env_vars = _stage_env_vars

    with Client(chalice_app, stage_name="local", project_dir=str(ROOT)) as test_client:
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
