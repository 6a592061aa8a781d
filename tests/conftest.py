"""Every test runs against a moto server provisioned from resources.yaml (stage ``test``).

The environment is exported before ``app`` is imported, exactly as the local
stack does, because app.py reads resource names at import time.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings

from tests.support.aws import ROOT, provisioned_environment

sys.path.insert(0, str(ROOT))
ENV = provisioned_environment()


def _bind_models() -> None:
    """Tests that touch pynamodb models directly need them bound to the provisioned tables."""
    from chalicelib.bootstrap import services

    _ = services().dynamodb_connection


_bind_models()

hypothesis_settings.register_profile("default", deadline=None, max_examples=60,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("default")


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
def chalice_app():
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
