"""Business settings from Parameter Store, cached per container with a short TTL.

Powertools Parameters fetches every parameter under the stage's path in one
call and caches it for ``max_age`` seconds, so a change in Parameter Store
reaches every container within a minute without a deploy.
"""

from __future__ import annotations

from typing import Any

from ..domain.policy import Policy
from ..services.ports import SettingsSource


class ParameterStoreSettings(SettingsSource):
    def __init__(self, ssm: Any, path: str, cache_seconds: int = 60):
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        self.provider = SSMProvider(boto3_client=ssm)
        self.path = path
        self.cache_seconds = cache_seconds

    def policy(self) -> Policy:
        values = self.provider.get_multiple(self.path, max_age=self.cache_seconds, recursive=False)
        return Policy.from_parameters({name: str(value) for name, value in values.items()})

    def fresh_policy(self) -> Policy:
        values = self.provider.get_multiple(self.path, max_age=self.cache_seconds, recursive=False, force_fetch=True)
        return Policy.from_parameters({name: str(value) for name, value in values.items()})

    def clear_cache(self) -> None:
        """For tests that change a parameter and want it seen at once."""
        self.provider.clear_cache()
