"""The registry of the local stack's provisioners: what each resource type becomes in moto.

devstack/provision.py holds the stack that runs the provisioners, and those of references, logs and
alarms, queues, topics, Rekognition and parameters; devstack/provision_storage.py those of DynamoDB, S3
and KMS; devstack/provision_identity.py those of Cognito, identity pools and IAM roles;
devstack/provision_delivery.py those of the delivery resources (issue 21). All register here, so none
imports another in a circle: provision.py imports the others (to register their provisioners), and all
import this module, which also holds the helpers they share (``tags_list``, ``flag``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .template import TemplateError

REGION = "us-east-1"


class UnsupportedResource(TemplateError):
    """A resource type, property or attribute that devstack cannot create locally."""


@dataclass
class Created:
    """What CloudFormation would know about a created resource."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] | None = None  # as resolved when created or last updated


class Context:
    """Clients and naming shared by the per-type provisioners."""

    def __init__(self, session: Any, endpoint_url: str | None, stage: str,
                 name_prefix: str, account_id: str) -> None:
        self.session = session
        self.endpoint_url = endpoint_url
        self.stage = stage
        self.name_prefix = name_prefix
        self.account_id = account_id
        self.region = session.region_name or REGION
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def physical_name(self, logical_id: str) -> str:
        """Deterministic names so a developer can find resources by eye."""
        return f"{self.name_prefix}-{self.stage}-{logical_id.lower()}"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


Provisioner = Callable[[Context, str, dict[str, Any]], Created]
PROVISIONERS: dict[str, Provisioner] = {}
#: What an update of an existing resource does, for the types that have one (the deploy rehearsal's stack
#: updates: devstack/cloudformation.py). (context, logical id, new properties, what was created) -> Created.
Updater = Callable[[Context, str, dict[str, Any], Created], Created]
UPDATERS: dict[str, Updater] = {}


def provisioner(resource_type: str, properties: set[str]) -> Callable[[Provisioner], Provisioner]:
    """Register a provisioner and the properties it knows how to reproduce."""

    def register(function: Provisioner) -> Provisioner:
        def checked(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
            unknown = sorted(set(props) - properties)
            if unknown:
                raise UnsupportedResource(
                    f"{logical_id} ({resource_type}): devstack does not support "
                    f"propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                    f"add it to its provisioner in devstack/provision*.py")
            return function(context, logical_id, props)

        PROVISIONERS[resource_type] = checked
        return function

    return register


def updater(resource_type: str) -> Callable[[Updater], Updater]:
    """Register how an existing resource of ``resource_type`` takes changed properties."""

    def register(function: Updater) -> Updater:
        UPDATERS[resource_type] = function
        return function

    return register


def tags_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, Mapping):
        return [{"Key": key, "Value": str(value)} for key, value in tags.items()]
    return list(tags or [])


def flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
