"""Quotas and GroupDirectory (issue 12): the same behaviour from fake and real."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from chalicelib.adapters import memory
from tests.contracts.conftest import real_services


@pytest.fixture
def quotas(kind: str) -> Any:
    return memory.InMemoryQuotas() if kind == "fake" else real_services().quotas


def test_a_quota_counts_up_to_its_limit_and_gives_back(quotas):
    key = f"contract-quota#{uuid.uuid4()}"
    assert [quotas.take(key, 2, 3600) for _ in range(3)] == [True, True, False]
    quotas.give_back(key)
    assert quotas.take(key, 2, 3600) is True
    assert quotas.take(key, 2, 3600) is False
    assert quotas.take(f"{key}-other", 2, 3600) is True  # per key


@pytest.fixture
def directory(kind: str) -> Any:
    """The directory and a user in the reviewers group who can be removed from it."""
    if kind == "fake":
        fake = memory.InMemoryGroupDirectory()
        return fake, "someone", lambda: fake.remove("someone", "reviewers")
    from tests.support.identities import make_user

    user = make_user(("reviewers",))

    def remove() -> None:
        import boto3

        boto3.client("cognito-idp").admin_remove_user_from_group(
            UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username=user.email, GroupName="reviewers")

    return real_services().directory, user.email, remove


def test_a_member_is_in_the_group_until_removed(directory):
    groups, username, remove = directory
    assert "reviewers" in groups.groups_of(username)
    remove()
    assert "reviewers" not in groups.groups_of(username)
