"""The address check, run for each ``application.submitted`` event on the address-check queue."""

from __future__ import annotations

import json
from typing import Any

from ..domain.address import check_address
from ..domain.checks import ADDRESS
from ..domain.declaration import Address
from ..domain.workflow import State
from .applications import ApplicationService, describe
from .checks import CheckRecorder
from .errors import PoisonMessage
from .ports import SettingsSource


class AddressCheck:
    def __init__(self, applications: ApplicationService, settings: SettingsSource, recorder: CheckRecorder):
        self.applications = applications
        self.settings = settings
        self.recorder = recorder

    def address_requested(self, body: str) -> dict[str, Any]:
        application_id = application_id_from(body)
        app = self.applications.repo.get(application_id)
        if app is None:
            raise PoisonMessage(f"unknown application {application_id}")
        if ADDRESS in app.checks or app.state not in (State.AWAITING_DOCUMENTS, State.VERIFYING):
            return {"changed": False}
        result = check_address(Address.model_validate(app.declared["address"]), self.settings.policy())
        return describe(self.recorder.record(application_id, result, app))


def application_id_from(body: str) -> str:
    """The application id of an application event, raw or in an SNS envelope."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and "Message" in message and "TopicArn" in message:
            message = json.loads(message["Message"])  # an SNS envelope (non-raw delivery)
        application_id = message["application_id"]
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(f"not an application event: {error}") from error
    if not isinstance(application_id, str):
        raise PoisonMessage("application_id is not a string")
    return application_id
