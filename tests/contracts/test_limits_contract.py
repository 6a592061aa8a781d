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
    """(directory, username, sub, email, admin): a staff-pool user in reviewers, and an administrator's hands."""
    if kind == "fake":
        from chalicelib.services.ports import DirectoryUser

        fake = memory.InMemoryUserDirectory(auto_staff=False)
        user = fake.add(DirectoryUser("someone", str(uuid.uuid4()), "someone@example.com", True, True,
                                      frozenset({"reviewers"})))
        admin = {"remove": lambda: fake.remove("someone", "reviewers"), "disable": lambda: fake.disable("someone"),
                 "delete": lambda: fake.delete("someone")}
        return fake, user.username, user.sub, user.email, admin
    import boto3

    from tests.support.identities import make_user

    user = make_user(("reviewers",))
    idp, pool = boto3.client("cognito-idp"), os.environ["STAFF_USER_POOL_ID"]
    admin = {
        "remove": lambda: idp.admin_remove_user_from_group(UserPoolId=pool, Username=user.email,
                                                           GroupName="reviewers"),
        "disable": lambda: idp.admin_disable_user(UserPoolId=pool, Username=user.email),
        "delete": lambda: idp.admin_delete_user(UserPoolId=pool, Username=user.email),
    }
    return real_services().directory, user.email, user.sub, user.email, admin


def test_a_user_is_found_with_groups_status_and_verified_email(directory):
    users, username, sub, email, _ = directory
    found = users.user(username)
    assert (found.sub, found.email, found.email_verified, found.enabled) == (sub, email, True, True)
    assert "reviewers" in found.groups
    by_sub = users.user_by_sub(sub)
    assert (by_sub.sub, by_sub.email, by_sub.email_verified) == (sub, email, True)
    assert users.user_by_sub(str(uuid.uuid4())) is None
    assert users.user(f"nobody-{uuid.uuid4().hex}@example.com") is None


def test_a_member_is_in_the_group_until_removed(directory):
    users, username, _, _, admin = directory
    admin["remove"]()
    assert "reviewers" not in users.user(username).groups


def test_a_disabled_user_is_found_disabled_and_a_deleted_one_not_at_all(directory):
    users, username, sub, _, admin = directory
    admin["disable"]()
    assert users.user(username).enabled is False
    admin["delete"]()
    assert users.user(username) is None and users.user_by_sub(sub) is None
