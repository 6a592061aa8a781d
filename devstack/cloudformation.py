"""A CloudFormation control plane for the deploy rehearsal, answering inside moto (dev tooling).

moto's own CloudFormation cannot take ``resources.yaml``: it skips Cognito,
subscriptions, notifications and TTL, fails on ``Fn::ForEach`` and has no
``UpdateTerminationProtection``. The deploy must still run its real code path
(``scripts/deploy.py`` calls CloudFormation exactly as on AWS), so this module
replaces moto's handlers of the calls the deploy makes with a stand-in whose
resources are created by devstack's provisioner (:mod:`devstack.provision`,
the same code the local stack provisions with) and whose control plane keeps
CloudFormation's rules:

- ``CreateStack``: the stack is created resource by resource; a resource that
  fails rolls the stack back -- what was created is deleted (``DeletionPolicy:
  Retain`` ones are kept, ``DELETE_SKIPPED``) and the stack stays in
  ``ROLLBACK_COMPLETE``, which can only be deleted;
- ``UpdateStack``: parameters not given need ``UsePreviousValue`` or fall back
  to the template default; nothing to change is ``No updates are to be
  performed``; resources new to the template are created (existing ones are
  changed unless their type has an updater in devstack -- distributions, response headers
  policies, user pools and app clients do; any other is left as created, and says so);
- ``DeleteStack`` is refused while termination protection is on;
  ``UpdateTerminationProtection`` switches it;
- ``DescribeStacks``, ``GetTemplate``, ``DescribeStackEvents``,
  ``ListStackResources`` answer from that state.

Operations complete before the call returns (the waiters then see the final
status at once). Installed by :func:`devstack.motodeploy.apply` into the moto
server the rehearsal runs in-process.
"""
from __future__ import annotations

import datetime
import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("devstack")

_LOCK = threading.RLock()
_COUNTER = itertools.count(1)
RESOURCE_UPDATES_NOT_REHEARSED = ("devstack has no updater for its type: left as created (the rehearsal updates "
                                  "distributions, headers policies, user pools and clients)")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class StandInStack:
    stack_id: str
    name: str
    template_body: str
    parameters: dict[str, Any]
    tags: dict[str, str]
    termination_protection: bool
    capabilities: list[str]
    status: str = "CREATE_IN_PROGRESS"
    reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, dict[str, str]] = field(default_factory=dict)  # logical id -> status, type, physical
    created: datetime.datetime = field(default_factory=_now)
    updated: datetime.datetime | None = None
    provisioned: Any = None  # devstack.provision.Stack: what the resources' refs and attributes resolve to

    def event(self, status: str, reason: str | None = None, logical_id: str | None = None,
              kind: str = "AWS::CloudFormation::Stack", physical: str | None = None) -> None:
        self.events.insert(0, {
            "StackId": self.stack_id, "EventId": uuid.uuid4().hex, "StackName": self.name,
            "LogicalResourceId": logical_id or self.name, "PhysicalResourceId": physical or self.stack_id,
            "ResourceType": kind, "Timestamp": _now(), "ResourceStatus": status,
            **({"ResourceStatusReason": reason} if reason else {})})

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "StackId": self.stack_id, "StackName": self.name, "CreationTime": self.created,
            "StackStatus": self.status, "EnableTerminationProtection": self.termination_protection,
            "Parameters": [{"ParameterKey": k, "ParameterValue": ",".join(v) if isinstance(v, list) else v}
                           for k, v in self.parameters.items()],
            "Tags": dict(self.tags), "Capabilities": list(self.capabilities),
        }
        if self.reason:
            described["StackStatusReason"] = self.reason
        if self.updated:
            described["LastUpdatedTime"] = self.updated
        if self.outputs:
            described["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return described


class StandInCloudFormation:
    """The stacks of one moto server, by account and region; resources created through ``session``."""

    def __init__(self, endpoint_url: str, session_factory: Callable[[], Any]) -> None:
        self.endpoint_url = endpoint_url
        self.session_factory = session_factory
        self.stacks: dict[tuple[str, str], dict[str, StandInStack]] = {}
        self.fail_next: list[tuple[str, str]] = []  # (logical id, reason): a test makes a resource fail

    # --- what the handlers call ---------------------------------------------------------------

    def find(self, account: str, region: str, name_or_id: str, *, live_only: bool = True) -> StandInStack:
        for stack in self.stacks.get((account, region), {}).values():
            if name_or_id in (stack.name, stack.stack_id) and (not live_only or stack.status != "DELETE_COMPLETE"):
                return stack
        raise _validation(f"Stack with id {name_or_id} does not exist")

    def create(self, account: str, region: str, request: dict[str, Any]) -> StandInStack:
        from .template import load_template_text, resolve_parameters

        name = request["StackName"]
        try:
            self.find(account, region, name)
        except _ValidationErrorType():
            pass
        else:
            raise _error("AlreadyExistsException", f"Stack [{name}] already exists")
        template = load_template_text(request["TemplateBody"])
        self._check_capabilities(template, request.get("Capabilities") or [])
        given = {p["ParameterKey"]: p["ParameterValue"] for p in request.get("Parameters") or []}
        parameters = self._parameters(resolve_parameters, template, given)
        stack = StandInStack(
            stack_id=f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}", name=name,
            template_body=request["TemplateBody"], parameters=parameters,
            tags={t["Key"]: t["Value"] for t in request.get("Tags") or []},
            termination_protection=bool(request.get("EnableTerminationProtection")),
            capabilities=list(request.get("Capabilities") or []))
        self.stacks.setdefault((account, region), {})[stack.stack_id] = stack
        stack.event("CREATE_IN_PROGRESS", "User Initiated")
        try:
            self._provision(stack, template, stage=str(parameters.get("Stage", name)))
        except Exception as error:  # noqa: BLE001 - any resource failure rolls the stack back, as AWS does
            log.info("stand-in CloudFormation: %s failed (%s); rolling back", name, error)
            stack.reason = f"The following resource(s) failed to create: {error}"
            stack.event("ROLLBACK_IN_PROGRESS", stack.reason)
            self._delete_resources(stack)
            stack.status = "ROLLBACK_COMPLETE"
            stack.event("ROLLBACK_COMPLETE")
            return stack
        stack.status = "CREATE_COMPLETE"
        stack.event("CREATE_COMPLETE")
        return stack

    def update(self, account: str, region: str, request: dict[str, Any]) -> StandInStack:
        from .template import load_template_text, resolve_parameters

        stack = self.find(account, region, request["StackName"])
        if stack.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"):
            raise _validation(f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        if stack.status.endswith("_IN_PROGRESS"):
            raise _validation(f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        body = stack.template_body if request.get("UsePreviousTemplate") else request["TemplateBody"]
        template = load_template_text(body)
        self._check_capabilities(template, request.get("Capabilities") or [])
        given: dict[str, Any] = {}
        for parameter in request.get("Parameters") or []:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue"):
                if parameter.get("ParameterValue") is not None:
                    raise _validation(f"Invalid input for parameter key {key}. Cannot specify usePreviousValue "
                                      "as true and non empty value for a parameter")
                if key not in stack.parameters:
                    raise _validation(f"Invalid input for parameter key {key}. Cannot specify usePreviousValue "
                                      "as true for a parameter key not in the previous template")
                given[key] = stack.parameters[key]
            else:
                given[key] = parameter["ParameterValue"]
        parameters = self._parameters(resolve_parameters, template, given)
        tags = {t["Key"]: t["Value"] for t in request.get("Tags") or []} or stack.tags
        if body == stack.template_body and parameters == stack.parameters and tags == stack.tags:
            raise _validation("No updates are to be performed.")
        stack.status = "UPDATE_IN_PROGRESS"
        stack.event("UPDATE_IN_PROGRESS", "User Initiated")
        previous = (stack.template_body, stack.parameters, stack.tags)
        stack.template_body, stack.parameters, stack.tags = body, parameters, tags
        try:
            self._provision(stack, template, stage=str(parameters.get("Stage", stack.name)))
        except Exception as error:  # noqa: BLE001
            stack.template_body, stack.parameters, stack.tags = previous
            stack.reason = f"The following resource(s) failed to update: {error}"
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack.event("UPDATE_ROLLBACK_COMPLETE", stack.reason)
            return stack
        stack.updated = _now()
        stack.status = "UPDATE_COMPLETE"
        stack.reason = None
        stack.event("UPDATE_COMPLETE")
        return stack

    def delete(self, account: str, region: str, name_or_id: str) -> None:
        try:
            stack = self.find(account, region, name_or_id)
        except _ValidationErrorType():
            return  # deleting a stack that is not there succeeds, as on AWS
        if stack.termination_protection:
            raise _validation(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        stack.status = "DELETE_IN_PROGRESS"
        stack.event("DELETE_IN_PROGRESS", "User Initiated")
        self._delete_resources(stack)
        stack.status = "DELETE_COMPLETE"
        stack.event("DELETE_COMPLETE")

    # --- resources ------------------------------------------------------------------------------

    def _parameters(self, resolve: Callable[..., dict[str, Any]], template: dict[str, Any],
                    given: dict[str, Any]) -> dict[str, Any]:
        from .template import TemplateError

        try:
            return resolve(template, given)
        except TemplateError as error:
            raise _validation(str(error)) from None

    @staticmethod
    def _check_capabilities(template: dict[str, Any], capabilities: list[str]) -> None:
        if template.get("Transform") and "CAPABILITY_AUTO_EXPAND" not in capabilities:
            raise _error("InsufficientCapabilitiesException",
                         "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
        if any(resource.get("Type") == "AWS::IAM::Role" for resource in template.get("Resources", {}).values()
               if isinstance(resource, dict)) and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
            raise _error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")

    def _provision(self, stack: StandInStack, template: dict[str, Any], stage: str) -> None:
        from .provision import Context, Stack, prepare_template

        session = self.session_factory()
        account = stack.stack_id.split(":")[4]
        if stack.provisioned is None:
            # Physical names carry a token of this stack, as CloudFormation's do: a stack made again
            # after a rollback never collides with what the failed one left behind.
            prefix = f"ao{next(_COUNTER)}{uuid.uuid4().hex[:4]}"
            stack.provisioned = Stack({"Resources": {}}, Context(session, self.endpoint_url, stage, prefix, account),
                                      {})
        expanded, values = prepare_template(template, stack.parameters)
        provisioned = stack.provisioned
        provisioned.rebind(expanded, values)

        def created(logical_id: str, kind: str, ref: str) -> None:
            stack.resources[logical_id] = {"status": "CREATE_COMPLETE", "type": kind, "physical": ref}
            stack.event("CREATE_COMPLETE", logical_id=logical_id, kind=kind, physical=ref)

        def failing(logical_id: str) -> str | None:
            for index, (failing_id, reason) in enumerate(self.fail_next):
                if failing_id == logical_id:
                    del self.fail_next[index]
                    return reason
            return None

        provisioned.create_missing(on_created=created, failing=failing)

        def updated(logical_id: str, kind: str, ref: str) -> None:
            stack.resources[logical_id] = {"status": "UPDATE_COMPLETE", "type": kind, "physical": ref}
            stack.event("UPDATE_COMPLETE", logical_id=logical_id, kind=kind, physical=ref)

        for logical_id in provisioned.update_changed(on_updated=updated):
            log.info("stand-in CloudFormation: %s changed; %s", logical_id, RESOURCE_UPDATES_NOT_REHEARSED)
        stack.outputs = provisioned.outputs()

    def _delete_resources(self, stack: StandInStack) -> None:
        from .deletion import delete_resource

        if stack.provisioned is None:
            return
        template = stack.provisioned.template["Resources"]
        for logical_id in reversed(list(stack.provisioned.created)):
            resource = template.get(logical_id, {})
            kind = resource.get("Type", "?")
            if resource.get("DeletionPolicy") == "Retain":
                stack.resources[logical_id] = {**stack.resources.get(logical_id, {}), "status": "DELETE_SKIPPED",
                                               "type": kind}
                stack.event("DELETE_SKIPPED", logical_id=logical_id, kind=kind)
                continue
            done = delete_resource(stack.provisioned.context, kind, stack.provisioned.created[logical_id])
            stack.resources[logical_id] = {**stack.resources.get(logical_id, {}), "type": kind,
                                           "status": "DELETE_COMPLETE" if done else "DELETE_SKIPPED"}
            stack.event("DELETE_COMPLETE" if done else "DELETE_SKIPPED", logical_id=logical_id, kind=kind,
                        reason=None if done else "the rehearsal's stand-in cannot delete this type")
        stack.provisioned.created.clear()


def _ValidationErrorType() -> type[Exception]:  # noqa: N802 - moto's exception class, imported late
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError


def _validation(message: str) -> Exception:
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError(message=message)


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import RESTError

    class StandInError(RESTError):
        def __init__(self) -> None:
            super().__init__(code, message)
            self.code = code

    return StandInError()


_STAND_IN: StandInCloudFormation | None = None


def install(endpoint_url: str, session_factory: Callable[[], Any]) -> StandInCloudFormation:
    """Answer the deploy's CloudFormation calls in this process's moto with the stand-in."""
    global _STAND_IN
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult, EmptyResult

    _STAND_IN = stand_in = StandInCloudFormation(endpoint_url, session_factory)

    def request_of(response: Any, *names: str) -> dict[str, Any]:
        return {name: response._get_param(name) for name in names if response._get_param(name) is not None}

    def create_stack(self: Any) -> Any:
        request = request_of(self, "StackName", "TemplateBody", "Parameters", "Capabilities", "Tags",
                             "EnableTerminationProtection")
        with _LOCK:
            return ActionResult({"StackId": stand_in.create(self.current_account, self.region, request).stack_id})

    def update_stack(self: Any) -> Any:
        request = request_of(self, "StackName", "TemplateBody", "UsePreviousTemplate", "Parameters",
                             "Capabilities", "Tags")
        with _LOCK:
            return ActionResult({"StackId": stand_in.update(self.current_account, self.region, request).stack_id})

    def describe_stacks(self: Any) -> Any:
        with _LOCK:
            name = self._get_param("StackName")
            if name:
                stacks = [stand_in.find(self.current_account, self.region, name, live_only=not name.startswith(
                    "arn:"))]
            else:
                stacks = [s for s in stand_in.stacks.get((self.current_account, self.region), {}).values()
                          if s.status != "DELETE_COMPLETE"]
            return ActionResult({"Stacks": [stack.describe() for stack in stacks]})

    def delete_stack(self: Any) -> Any:
        with _LOCK:
            stand_in.delete(self.current_account, self.region, self._get_param("StackName"))
        return EmptyResult()

    def update_termination_protection(self: Any) -> Any:
        with _LOCK:
            stack = stand_in.find(self.current_account, self.region, self._get_param("StackName"))
            stack.termination_protection = bool(self._get_param("EnableTerminationProtection"))
            return ActionResult({"StackId": stack.stack_id})

    def get_template(self: Any) -> Any:
        with _LOCK:
            stack = stand_in.find(self.current_account, self.region, self._get_param("StackName"))
            return ActionResult({"TemplateBody": stack.template_body})

    def describe_stack_events(self: Any) -> Any:
        with _LOCK:
            stack = stand_in.find(self.current_account, self.region, self._get_param("StackName"), live_only=False)
            return ActionResult({"StackEvents": list(stack.events)})

    def list_stack_resources(self: Any) -> Any:
        with _LOCK:
            stack = stand_in.find(self.current_account, self.region, self._get_param("StackName"), live_only=False)
            return ActionResult({"StackResourceSummaries": [
                {"LogicalResourceId": logical_id, "PhysicalResourceId": resource.get("physical", ""),
                 "ResourceType": resource["type"], "ResourceStatus": resource["status"],
                 "LastUpdatedTimestamp": stack.updated or stack.created}
                for logical_id, resource in stack.resources.items()]})

    for name, handler in {"create_stack": create_stack, "update_stack": update_stack,
                          "describe_stacks": describe_stacks, "delete_stack": delete_stack,
                          "update_termination_protection": update_termination_protection,
                          "get_template": get_template, "describe_stack_events": describe_stack_events,
                          "list_stack_resources": list_stack_resources}.items():
        setattr(CloudFormationResponse, name, handler)
    return stand_in


def stand_in() -> StandInCloudFormation:
    if _STAND_IN is None:
        raise RuntimeError("the stand-in CloudFormation is not installed (devstack.motodeploy.apply)")
    return _STAND_IN
