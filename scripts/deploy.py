"""Deploy a stage with one command: resources stack -> recorded outputs -> chalice deploy -> wiring.

    python -m scripts.deploy --stage dev              # AWS credentials and region as boto3 finds them
    python -m scripts.deploy --stage dev --teardown   # the app and the stack; data resources are retained
    python -m scripts.deploy --stage dev --rehearse   # against the local AWS at AWS_ENDPOINT_URL (moto)

1. ``resources.yaml`` as the CloudFormation stack ``account-opening-<stage>-resources``
   (create or update, then wait), with the app's own handler list for the alarms.
2. Its outputs become the stage's environment in ``.chalice/stages/<stage>.json``
   (git-ignored, merged by scripts/chalice_stage.py), with each Lambda function's
   own IAM policy (``.chalice/policies/<function>.json``, scripts/iam.py) rendered
   from the real ARNs into ``.chalice/stages/<stage>/policies/`` and named as that
   function's ``iam_policy_file``: one role per function. Nothing account-specific
   goes into the tracked config.
3. ``chalice deploy`` (Chalice's own CLI through that overlay).
4. What Chalice cannot express: the WebSocket endpoint the notifier sends
   through (recorded, then deployed once more if it changed);
   ReportBatchItemFailures on every SQS mapping; bisect, retry limit, record
   age and an on-failure queue on the stream mapping; an on-failure queue for
   the asynchronously invoked S3 handler; access logs and throttling on both
   API stages (``.chalice/gateway.json``).

With ``--rehearse`` each step runs against moto, except the resources stack:
moto's CloudFormation silently skips Cognito, subscriptions, notifications and
TTL and has no Fn::ForEach, so the rehearsal provisions the same template with
devstack and keeps the CreateStack request it would have sent (validated
against the API model) in ``Deployer.requests``. devstack.motodeploy patches the
two moto gaps Chalice's deploy hits (notification filter case, Swagger import).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts import iam
from scripts.chalice_stage import load_overlay, overlay_path, write_overlay

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "account-opening"
GATEWAY_SETTINGS = Path(".chalice") / "gateway.json"
# ReportBatchItemFailures: the outbox handler names the first record it could not publish
# (issue 12); without it Lambda would take that answer for success and drop the rest.
STREAM_MAPPING = {"BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10,
                  "MaximumRecordAgeInSeconds": 6 * 3600, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
ASYNC_RETRIES = 2
WEBSOCKET_HANDLERS = {"on_ws_connect": "websocket_connect", "on_ws_message": "websocket_message",
                      "on_ws_disconnect": "websocket_disconnect"}
EVENT_DECORATORS = {"on_s3_event", "on_sqs_message", "on_sns_message", "on_dynamodb_record", "on_cw_event",
                    "schedule", "lambda_function", "on_kinesis_record"}
EMULATED = ("resources stack: moto's CloudFormation skips Cognito, subscriptions, notifications and TTL "
            "and has no Fn::ForEach; provisioned by devstack from the same template, CreateStack request "
            "validated and kept")


def stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}-resources"


def function_name(stage: str, handler: str | None = None) -> str:
    """Chalice's naming: the REST API is ``<app>-<stage>``, every other handler ``<app>-<stage>-<name>``."""
    return f"{APP_NAME}-{stage}" + (f"-{handler}" if handler else "")


def handler_names(app_source: str) -> list[str]:
    """The app's non-REST Lambda functions, read from app.py's decorators (before anything is importable)."""
    return list(handlers(app_source))


def handlers(app_source: str) -> dict[str, str]:
    """Each non-REST Lambda function's name -> the ``app.`` decorator that makes it."""
    names: dict[str, str] = {}
    for node in ast.walk(ast.parse(app_source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not (isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name) and call.value.id == "app"):
                continue
            if call.attr in WEBSOCKET_HANDLERS:
                names[WEBSOCKET_HANDLERS[call.attr]] = call.attr
            elif call.attr in EVENT_DECORATORS:
                explicit = [k.value for k in getattr(decorator, "keywords", []) if k.arg == "name"]
                name = explicit[0].value if explicit and isinstance(explicit[0], ast.Constant) else node.name
                names[str(name)] = call.attr
    return names


class Deployer:
    """The deploy of one stage, step by step; ``requests`` keeps what a rehearsal could not send."""

    def __init__(self, stage: str, session: Any, *, project_dir: Path = ROOT, rehearse: bool = False,
                 endpoint_url: str | None = None, console_origin: str | None = None,
                 out: Callable[[str], None] = print) -> None:
        self.stage = stage
        self.session = session
        self.project_dir = Path(project_dir)
        self.rehearse = rehearse
        self.endpoint_url = (endpoint_url or os.environ.get("AWS_ENDPOINT_URL")) if rehearse else None
        if rehearse and not self.endpoint_url:
            raise SystemExit("--rehearse deploys to the local AWS only: set AWS_ENDPOINT_URL")
        self.console_origin = console_origin
        self.out = out
        self.requests: dict[str, dict[str, Any]] = {}
        self.emulated: list[str] = []

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    # --- the steps ---------------------------------------------------------------------

    def deploy(self) -> dict[str, str]:
        handlers = handler_names((self.project_dir / "app.py").read_text())
        env = self.resources_stack(handlers)
        self.record(env)
        self.chalice("deploy")
        deployed = self.deployed()
        if self.record(env, websocket_api_id=deployed["websocket_api"]["websocket_api_id"]):
            self.chalice("deploy")  # the notifier's endpoint and the exact execute-api ARN
            deployed = self.deployed()
        self.wire(deployed, env)
        urls = self.urls(deployed)
        for what, url in urls.items():
            self.out(f"{what}: {url}")
        for step in self.emulated:
            self.out(f"emulated: {step}")
        return urls

    def resources_stack(self, handlers: list[str]) -> dict[str, str]:
        """Create or update the resources stack and wait; its outputs as the app's environment."""
        from devstack.template import env_name

        parameters = {"Stage": self.stage, "Handlers": ",".join(handlers)}
        if self.console_origin:
            parameters["ConsoleOrigins"] = self.console_origin
        request = {"StackName": stack_name(self.stage),
                   "TemplateBody": (self.project_dir / "resources.yaml").read_text(),
                   "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                   # AUTO_EXPAND: Fn::ForEach; IAM: the liveness streaming role of the identity pool (issue 17)
                   "Capabilities": ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"],
                   "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": self.stage}]}
        if self.rehearse:
            return self._provision_locally(request, parameters)
        cloudformation = self.client("cloudformation")
        try:
            cloudformation.describe_stacks(StackName=request["StackName"])
            exists = True
        except cloudformation.exceptions.ClientError:
            exists = False
        if exists:
            try:
                cloudformation.update_stack(**request)
                cloudformation.get_waiter("stack_update_complete").wait(StackName=request["StackName"])
            except cloudformation.exceptions.ClientError as error:
                if "No updates are to be performed" not in str(error):
                    raise
        else:
            cloudformation.create_stack(**request, EnableTerminationProtection=True)
            cloudformation.get_waiter("stack_create_complete").wait(StackName=request["StackName"])
        stack = cloudformation.describe_stacks(StackName=request["StackName"])["Stacks"][0]
        return {env_name(o["OutputKey"]): o["OutputValue"] for o in stack.get("Outputs", [])}

    def _provision_locally(self, request: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
        from botocore.validate import validate_parameters

        from devstack.provision import provision

        model = self.client("cloudformation").meta.service_model.operation_model("CreateStack")
        validate_parameters(request, model.input_shape)
        self.requests["CreateStack"] = request
        self.emulated.append(EMULATED)
        if "ConsoleOrigins" not in parameters:
            parameters = {**parameters, "ConsoleOrigins": "http://127.0.0.1:*,http://localhost:*"}
        env = provision(self.project_dir / "resources.yaml", self.stage, self.session, self.endpoint_url,
                        parameters=parameters)
        return {k: v for k, v in env.items() if not k.startswith("AWS_") and k != "APP_STAGE"}

    def record(self, env: dict[str, str], websocket_api_id: str | None = None) -> bool:
        """Write the stage overlay and its policy; True when it changed (so Chalice must redeploy)."""
        overlay = load_overlay(self.project_dir, self.stage)
        before = json.dumps(overlay, sort_keys=True)
        variables = {**env, "APP_STAGE": self.stage}
        region = self.session.region_name
        if websocket_api_id:
            variables["WEBSOCKET_DOMAIN"] = f"{websocket_api_id}.execute-api.{region}.amazonaws.com"
            variables["WEBSOCKET_STAGE"] = "api"
        elif "WEBSOCKET_DOMAIN" in overlay.get("environment_variables", {}):
            variables["WEBSOCKET_DOMAIN"] = overlay["environment_variables"]["WEBSOCKET_DOMAIN"]
            variables["WEBSOCKET_STAGE"] = overlay["environment_variables"]["WEBSOCKET_STAGE"]
            websocket_api_id = variables["WEBSOCKET_DOMAIN"].split(".")[0]
        account = self.client("sts").get_caller_identity()["Account"]
        policies = self.project_dir / ".chalice" / "stages" / self.stage / "policies"
        rendered_before = {p.name: p.read_text() for p in policies.glob("*.json")} if policies.is_dir() else {}
        # Each function's own policy (.chalice/policies/<function>.json) with this stage's ARNs: its own role.
        functions = iam.write_stage_policies(self.project_dir, self.stage, variables, region, account,
                                             websocket_api_id)
        rendered = {p.name: p.read_text() for p in policies.glob("*.json")}
        overlay.pop("iam_policy_file", None)  # a shared stage policy, as earlier deploys wrote it
        lambda_functions = overlay.setdefault("lambda_functions", {})
        for function, settings in functions.items():
            lambda_functions.setdefault(function, {}).update(settings)
        overlay.update({"environment_variables": variables, "autogen_policy": False})
        write_overlay(self.project_dir, self.stage, overlay)
        if rendered != rendered_before:
            return True
        return json.dumps(overlay, sort_keys=True) != before

    def chalice(self, *command: str) -> None:
        """Chalice's own CLI in a child process (it imports app.py, which reads the stage's environment)."""
        argv = [sys.executable, "-m", "scripts.chalice_stage", *command, "--stage", self.stage]
        environ = {**os.environ, "PYTHONPATH": str(ROOT)}
        if self.rehearse:
            credentials = self.session.get_credentials()
            environ.update(AWS_ENDPOINT_URL=self.endpoint_url, AWS_DEFAULT_REGION=self.session.region_name,
                           AWS_ACCESS_KEY_ID=credentials.access_key, AWS_SECRET_ACCESS_KEY=credentials.secret_key)
        result = subprocess.run(argv, cwd=self.project_dir, env=environ, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"chalice {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def deployed(self) -> dict[str, dict[str, Any]]:
        """Chalice's record of the stage's resources, by resource name."""
        path = self.project_dir / ".chalice" / "deployed" / f"{self.stage}.json"
        return {resource["name"]: resource for resource in json.loads(path.read_text())["resources"]}

    def wire(self, deployed: dict[str, dict[str, Any]], env: dict[str, str]) -> None:
        """The settings Chalice has no words for, applied to what it just deployed."""
        lambda_ = self.client("lambda")
        for resource in deployed.values():
            kind = resource["resource_type"]
            if kind == "sqs_event":
                lambda_.update_event_source_mapping(UUID=resource["event_uuid"],
                                                    FunctionResponseTypes=["ReportBatchItemFailures"])
            elif kind == "dynamodb_event":
                lambda_.update_event_source_mapping(
                    UUID=resource["event_uuid"], **STREAM_MAPPING,
                    DestinationConfig={"OnFailure": {"Destination": env["HISTORY_STREAM_DLQ_ARN"]}})
            elif kind == "s3_event":
                function = resource["lambda_arn"]
                request = {"FunctionName": function, "MaximumRetryAttempts": ASYNC_RETRIES,
                           "DestinationConfig": {"OnFailure": {"Destination": env["DOCUMENT_EVENTS_DLQ_ARN"]}}}
                lambda_.put_function_event_invoke_config(**request)
        self._gateway_stages(deployed, env)

    def _gateway_stages(self, deployed: dict[str, dict[str, Any]], env: dict[str, str]) -> None:
        settings = json.loads((self.project_dir / GATEWAY_SETTINGS).read_text())
        rest, websocket = settings["rest"], settings["websocket"]
        rest_api = deployed["rest_api"]
        stage = rest_api["rest_api_url"].rstrip("/").rsplit("/", 1)[-1]
        self.client("apigateway").update_stage(restApiId=rest_api["rest_api_id"], stageName=stage, patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn",
             "value": env["REST_ACCESS_LOG_GROUP_ARN"].removesuffix(":*")},
            {"op": "replace", "path": "/accessLogSettings/format", "value": json.dumps(rest["access_log_format"])},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rest["rate_limit"])},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(rest["burst_limit"])},
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        ])
        self.client("apigatewayv2").update_stage(
            ApiId=deployed["websocket_api"]["websocket_api_id"], StageName="api",
            AccessLogSettings={"DestinationArn": env["WEBSOCKET_ACCESS_LOG_GROUP_ARN"].removesuffix(":*"),
                               "Format": json.dumps(websocket["access_log_format"])},
            DefaultRouteSettings={"ThrottlingRateLimit": float(websocket["rate_limit"]),
                                  "ThrottlingBurstLimit": int(websocket["burst_limit"]),
                                  "DetailedMetricsEnabled": True})

    def urls(self, deployed: dict[str, dict[str, Any]]) -> dict[str, str]:
        rest = deployed["rest_api"]["rest_api_url"].rstrip("/") + "/"
        return {"REST API": rest, "WebSocket": deployed["websocket_api"]["websocket_api_url"],
                "console": rest + "console/"}

    # --- teardown ---------------------------------------------------------------------

    def teardown(self) -> None:
        """Delete the app (Chalice) and the resources stack; tables, buckets, pools and the key are retained."""
        if (self.project_dir / ".chalice" / "deployed" / f"{self.stage}.json").exists():
            self.chalice("delete")
        if self.rehearse:
            self.emulated.append("resources stack deletion: nothing to delete in moto's CloudFormation")
        else:
            cloudformation = self.client("cloudformation")
            cloudformation.update_termination_protection(StackName=stack_name(self.stage),
                                                         EnableTerminationProtection=False)
            cloudformation.delete_stack(StackName=stack_name(self.stage))
            cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack_name(self.stage))
        overlay_path(self.project_dir, self.stage).unlink(missing_ok=True)
        shutil.rmtree(self.project_dir / ".chalice" / "stages" / self.stage, ignore_errors=True)
        self.out(f"stage {self.stage} removed; retained (delete by hand once exported): tables, buckets, "
                 "user pools and the KMS key")


def main(argv: list[str] | None = None) -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--console-origin", help="browser origin allowed to upload (default: none until set)")
    parser.add_argument("--teardown", action="store_true", help="remove the stage instead of deploying it")
    parser.add_argument("--rehearse", action="store_true", help="deploy to the local AWS at AWS_ENDPOINT_URL")
    args = parser.parse_args(argv)
    deployer = Deployer(args.stage, boto3.session.Session(), rehearse=args.rehearse,
                        console_origin=args.console_origin)
    deployer.teardown() if args.teardown else deployer.deploy()


if __name__ == "__main__":
    main()
