"""Business settings from Parameter Store, cached per container with a short TTL.

Powertools Parameters fetches every parameter under the stage's path in one
call and caches it for ``max_age`` seconds, so a change in Parameter Store
reaches every container within a minute without a deploy.
"""
from __future__ import annotations

import os

from .domain.policy import Policy

CACHE_SECONDS = int(os.environ.get("SETTINGS_CACHE_SECONDS", "60"))


def settings_path() -> str:
    return os.environ["SETTINGS_PATH"]


def policy() -> Policy:
    from aws_lambda_powertools.utilities import parameters

    values = parameters.get_parameters(settings_path(), max_age=CACHE_SECONDS, recursive=False)
    return Policy.from_parameters(values)


def clear_cache() -> None:
    """For tests that change a parameter and want it seen at once."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
