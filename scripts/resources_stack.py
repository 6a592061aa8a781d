"""The resources stack (``resources.yaml``) of one stage: create, update, recover, delete.

CloudFormation's rules the deploy must respect, each handled here:

- An update sends every parameter: those given this run with their value, every
  other one the stack already has with ``UsePreviousValue`` (never the template
  default: a routine deploy without ``--console-origin`` must not reset the
  console's origins). A parameter new to the template takes its default.
- A first create that failed leaves the stack in ``ROLLBACK_COMPLETE``: it holds
  nothing (what the failed create made was deleted, except ``Retain`` resources,
  listed) and can only be deleted. The deploy lifts the termination protection
  of that stack only, deletes it, and creates it again (protected).
- A stack in any other failed or unfinished state (``UPDATE_ROLLBACK_FAILED``,
  ``*_IN_PROGRESS``) is not touched: the deploy stops and says what to do.
- Deleting the stack lifts its termination protection first (``--teardown``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
          "IMPORT_ROLLBACK_COMPLETE"}
EMPTY_AFTER_FAILED_CREATE = "ROLLBACK_COMPLETE"
VERSION_TAG = "app-version"


class StackError(RuntimeError):
    """The stack is in a state the deploy will not change by itself; the message says what to do."""


@dataclass
class StackState:
    name: str
    status: str
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False

    @property
    def version(self) -> str | None:
        return self.tags.get(VERSION_TAG)


class ResourcesStack:
    def __init__(self, cloudformation: Any, name: str, template_body: str,
                 out: Callable[[str], None] = print) -> None:
        self.cloudformation = cloudformation
        self.name = name
        self.template_body = template_body
        self.out = out

    def describe(self) -> StackState | None:
        try:
            stack = self.cloudformation.describe_stacks(StackName=self.name)["Stacks"][0]
        except self.cloudformation.exceptions.ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        return StackState(
            name=self.name, status=stack["StackStatus"],
            parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            tags={t["Key"]: t["Value"] for t in stack.get("Tags", [])},
            termination_protection=bool(stack.get("EnableTerminationProtection")))

    def ready(self) -> StackState | None:
        """The stack as the deploy can go on with it: None when there is none (or only a failed create's
        empty shell, now deleted); a StackError for a state only a person should resolve."""
        state = self.describe()
        if state is None:
            return None
        if state.status == EMPTY_AFTER_FAILED_CREATE:
            self.remove_failed_create(state)
            return None
        if state.status not in STABLE:
            raise StackError(
                f"the stack {self.name} is {state.status}: the deploy changes it only from a complete state. "
                + ("Wait for CloudFormation to finish, then run the deploy again." if state.status.endswith(
                    "_IN_PROGRESS") else "See its events (CloudFormation console or describe-stack-events), "
                   "continue or cancel the rollback (continue-update-rollback), then run the deploy again."))
        return state

    def remove_failed_create(self, state: StackState) -> None:
        """A first create that rolled back: nothing is left in it but its name. Delete it to create anew."""
        retained = [f"{r['LogicalResourceId']} ({r['ResourceType']}: {r.get('PhysicalResourceId') or '?'})"
                    for r in self._resources() if r["ResourceStatus"] == "DELETE_SKIPPED"]
        self.out(f"the stack {self.name} is ROLLBACK_COMPLETE (its first create failed: "
                 f"{self._failure_reason() or 'see its events'}); it holds nothing and is deleted to be created again")
        if retained:
            self.out("kept by the rollback (DeletionPolicy Retain; not used by the new stack, delete them by hand "
                     "once you are sure they hold nothing): " + ", ".join(retained))
        if state.termination_protection:  # only this empty, failed stack: a live one is never unprotected here
            self.cloudformation.update_termination_protection(StackName=self.name, EnableTerminationProtection=False)
        self.cloudformation.delete_stack(StackName=self.name)
        self.cloudformation.get_waiter("stack_delete_complete").wait(StackName=self.name)

    def parameters(self, given: dict[str, str], existing: StackState | None) -> list[dict[str, Any]]:
        """Every parameter given, with its value; on an update every other one the stack has, kept."""
        request: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]
        if existing is not None:
            declared = set(_declared_parameters(self.template_body))
            request += [{"ParameterKey": key, "UsePreviousValue": True}
                        for key in existing.parameters if key not in given and key in declared]
        return request

    def apply(self, given: dict[str, str], existing: StackState | None, tags: dict[str, str],
              capabilities: list[str]) -> StackState:
        """Create or update the stack and wait; the stack as it then is."""
        request = {"StackName": self.name, "TemplateBody": self.template_body,
                   "Parameters": self.parameters(given, existing), "Capabilities": capabilities,
                   "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        if existing is None:
            self.cloudformation.create_stack(**request, EnableTerminationProtection=True)
            self._wait("stack_create_complete", "create")
        else:
            try:
                self.cloudformation.update_stack(**request)
            except self.cloudformation.exceptions.ClientError as error:
                if "No updates are to be performed" not in str(error):
                    raise
            else:
                self._wait("stack_update_complete", "update")
        state = self.describe()
        assert state is not None
        return state

    def delete(self) -> None:
        if self.describe() is None:
            return
        self.cloudformation.update_termination_protection(StackName=self.name, EnableTerminationProtection=False)
        self.cloudformation.delete_stack(StackName=self.name)
        self.cloudformation.get_waiter("stack_delete_complete").wait(StackName=self.name)

    def _wait(self, waiter: str, what: str) -> None:
        from botocore.exceptions import WaiterError

        try:
            self.cloudformation.get_waiter(waiter).wait(StackName=self.name,
                                                        WaiterConfig={"Delay": 10, "MaxAttempts": 360})
        except WaiterError:
            state = self.describe()
            status = state.status if state else "gone"
            raise StackError(f"the stack {self.name} did not {what}: {status}. "
                             f"{self._failure_reason() or 'See its events.'}"
                             + (" The next deploy deletes this empty stack and creates it again."
                                if status == EMPTY_AFTER_FAILED_CREATE else "")) from None

    def _failure_reason(self) -> str | None:
        try:
            events = self.cloudformation.describe_stack_events(StackName=self.name)["StackEvents"]
        except self.cloudformation.exceptions.ClientError:
            return None
        for event in events:
            if event["ResourceStatus"].endswith("_FAILED") or "failed" in event.get("ResourceStatusReason", ""):
                return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', event['ResourceStatus'])}"
        return None

    def _resources(self) -> list[dict[str, Any]]:
        try:
            return list(self.cloudformation.list_stack_resources(StackName=self.name)["StackResourceSummaries"])
        except self.cloudformation.exceptions.ClientError:
            return []


def _declared_parameters(template_body: str) -> list[str]:
    from devstack.template import load_template_text

    return list(load_template_text(template_body).get("Parameters", {}))
