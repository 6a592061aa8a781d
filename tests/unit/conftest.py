"""Use cases on the in-memory fakes: no moto, no network, no environment.

Nothing here may need the stack (tests/conftest.py starts it only for tests
outside tests/unit): the fixtures give plain identities, not Cognito users.
"""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeClock, fake_services, identity, sanctions_lists


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def svc(clock):
    return sanctions_lists(fake_services(clock))  # the sanctions index published, as the job would


@pytest.fixture
def applicant():
    return identity()


@pytest.fixture
def other_applicant():
    return identity()


@pytest.fixture
def reviewer():
    return identity(None, "reviewers")
