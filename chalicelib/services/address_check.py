"""The address check, run for each ``application.submitted`` event on the address-check queue."""

from __future__ import annotations

from typing import Any

from ..domain.address import check_address
from ..domain.checks import ADDRESS
from ..domain.declaration import Address
from .applications import ApplicationService
from .checks import CheckRecorder
from .ports import SettingsSource


class AddressCheck:
    def __init__(self, applications: ApplicationService, settings: SettingsSource, recorder: CheckRecorder):
        self.applications = applications
        self.settings = settings
        self.recorder = recorder

    def address_requested(self, body: str) -> dict[str, Any]:
        policy = self.settings.policy
        return self.recorder.run_requested(
            body, ADDRESS, lambda app: check_address(Address.model_validate(app.declared["address"]), policy())
        )
