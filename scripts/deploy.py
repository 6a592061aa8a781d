"""Deploy a stage with one command: resources stack -> recorded outputs -> lean package -> chalice deploy -> wiring.

    python -m scripts.deploy --stage dev              # AWS credentials and region as boto3 finds them
    python -m scripts.deploy --stage dev --teardown   # the app and the stack; data resources are retained
    python -m scripts.deploy --stage dev --status     # what runs: the stack's and each function's version
    python -m scripts.deploy --stage dev --rehearse   # against the local AWS at AWS_ENDPOINT_URL (moto)

0. ``edge.yaml`` as ``account-opening-<stage>-edge`` in us-east-1 (CloudFront takes its web ACL and
   certificate only there): the console distribution's WAF and, with a console domain, its certificate.
1. ``resources.yaml`` as the CloudFormation stack ``account-opening-<stage>-resources``
   (scripts/resources_stack.py): created (termination protection on) or updated,
   every parameter not given this run kept (``UsePreviousValue``); a failed first
   create (``ROLLBACK_COMPLETE``) is deleted and made again; tagged with the version.
2. Chalice's record of the stage (``.chalice/deployed/<stage>.json``) restored from
   the stage's deployment bucket (scripts/stage_record.py); the deploy refuses to go
   on when the stack exists and the record is nowhere.
3. The stack's outputs become the stage's environment in ``.chalice/stages/<stage>.json``
   (git-ignored, merged by scripts/chalice_stage.py), with each function's own IAM
   policy rendered from the real ARNs (scripts/iam.py).
4. The lean package (scripts/build_package.py) built -- or the artifact given with
   ``--package`` placed -- where Chalice looks for its package, so ``chalice deploy``
   ships exactly it; afterwards every function's CodeSha256 is checked against it.
5. ``chalice deploy``; its record kept with the stage after every run, failed ones too.
   A failed run is retried once; a second failure stops with both versions named.
6. The resources stack again when what only exists after Chalice's deploy changed (the REST and
   WebSocket APIs' ids: CloudFront's API origin, the custom domains' mappings; the staff pool's
   pre-token-generation function; the console's CSP, which names the WebSocket API): issue 21.
   Then the console's files published to its bucket and CloudFront invalidated (scripts/console_site.py).
7. What Chalice cannot express (scripts/event_sources.py): ReportBatchItemFailures,
   stream bisect/retries/on-failure queue, on-failure destinations of the
   asynchronously invoked functions, the SNS subscription's dead-letter queue,
   access logs, throttling and metrics on both API stages (``.chalice/gateway.json``),
   the account's API Gateway CloudWatch role (scripts/account.py).

With ``--rehearse`` every step runs against moto with the same calls;
devstack.motodeploy answers what moto lacks (CloudFormation for this template
by devstack's provisioner: devstack/cloudformation.py; the notification filter
case; the Swagger 2.0 import; WebSocket deployments and stage updates).
"""
from __future__ import annotations

import argparse
import ast
import base64
import hashlib
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
from scripts.resources_stack import VERSION_TAG

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "account-opening"
GATEWAY_SETTINGS = Path(".chalice") / "gateway.json"
WEBSOCKET_HANDLERS = {"on_ws_connect": "websocket_connect", "on_ws_message": "websocket_message",
                      "on_ws_disconnect": "websocket_disconnect"}
EVENT_DECORATORS = {"on_s3_event", "on_sqs_message", "on_sns_message", "on_dynamodb_record", "on_cw_event",
                    "schedule", "lambda_function", "on_kinesis_record"}
REHEARSED = ("resources stack: CloudFormation answered by devstack's stand-in (devstack/cloudformation.py): "
             "resources created by devstack's provisioner from the same template; an update creates what is new "
             "and changes distributions, headers policies, user pools and app clients, no other existing resource")
# Outputs only the deploy reads (bucket of the stage's record, console distribution, custom domains):
# they never become the app's environment (Lambda's 4 KB of variables).
DEPLOY_ONLY = "Deploy"


EDGE_REGION = "us-east-1"  # CloudFront's certificates and web ACLs live there, whatever the stage's region
EDGE_PARAMETERS = ("ConsoleDomainName", "HostedZoneId", "WafRateLimitPer5Minutes")
STAFF_TRIGGER = "staff_token_groups"  # the staff pool's pre-token-generation function (app.py)


def stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}-resources"


def edge_stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}-edge"


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


class DeployError(RuntimeError):
    """The deploy stopped; the message says in what state it left the stage and what to do."""


def current_version(project_dir: Path) -> str:
    """The version a deploy ships: the commit, marked ``-dirty`` when the tree has changes."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return "unversioned"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


class Deployer:
    """The deploy of one stage, step by step."""

    def __init__(self, stage: str, session: Any, *, project_dir: Path = ROOT, rehearse: bool = False,
                 endpoint_url: str | None = None, console_origin: str | None = None,
                 parameters: dict[str, str] | None = None, package: Path | None = None,
                 version: str | None = None, account_changes: bool = True,
                 out: Callable[[str], None] = print) -> None:
        self.stage = stage
        self.session = session
        self.project_dir = Path(project_dir)
        self.rehearse = rehearse
        self.endpoint_url = (endpoint_url or os.environ.get("AWS_ENDPOINT_URL")) if rehearse else None
        if rehearse and not self.endpoint_url:
            raise SystemExit("--rehearse deploys to the local AWS only: set AWS_ENDPOINT_URL")
        self.parameters = dict(parameters or {})
        if console_origin:
            self.parameters["ConsoleOrigins"] = console_origin
        self.package = Path(package) if package else None
        self.version = version or current_version(self.project_dir)
        self.account_changes = account_changes
        self.out = out
        self.emulated: list[str] = []
        self.chalice_attempts = 2

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def stack(self) -> Any:
        from scripts.resources_stack import ResourcesStack

        return ResourcesStack(self.client("cloudformation"), stack_name(self.stage),
                              (self.project_dir / "resources.yaml").read_text(), self.out)

    def edge_stack(self) -> Any:
        from scripts.resources_stack import ResourcesStack

        cloudformation = self.session.client("cloudformation", region_name=EDGE_REGION, endpoint_url=self.endpoint_url)
        return ResourcesStack(cloudformation, edge_stack_name(self.stage),
                              (self.project_dir / "edge.yaml").read_text(), self.out)

    def deploy_edge(self) -> dict[str, str]:
        """The us-east-1 stack (edge.yaml); its outputs as the resources stack's parameters."""
        edge = self.edge_stack()
        existing = edge.ready()
        given = {"Stage": self.stage, **{k: v for k, v in self.parameters.items() if k in EDGE_PARAMETERS}}
        state = edge.apply(given, existing, tags={"app": APP_NAME, "stage": self.stage, VERSION_TAG: self.version},
                           capabilities=[])
        self.out(f"edge stack {edge.name} ({EDGE_REGION}): {state.status}")
        return {"ConsoleWebAclArn": state.outputs["ConsoleWebAclArn"],
                "ConsoleCertificateArn": state.outputs.get("ConsoleCertificateArn", "")}

    def record_of(self, outputs: dict[str, str]) -> Any:
        from scripts.stage_record import StageRecord

        return StageRecord(self.client("s3"), outputs["DeploymentBucketName"], self.stage, self.project_dir)

    # --- the steps ---------------------------------------------------------------------

    def deploy(self) -> dict[str, str]:
        from scripts.account import ensure_apigateway_logging_role

        handlers = handler_names((self.project_dir / "app.py").read_text())
        stack = self.stack()
        existing = stack.ready()  # a failed first create is deleted here; other failed states stop the deploy
        if existing is not None:
            self.out(self.record_of(existing.outputs).restore())  # RecordMissing: refuse before changing anything
        ensure_apigateway_logging_role(self.client("apigateway"), self.client("iam"),
                                       may_change=self.account_changes, out=self.out)
        edge = self.deploy_edge()
        package = self.lean_package()
        given = {"Stage": self.stage, "Handlers": ",".join(handlers), **edge, **self.parameters}
        if existing is not None:  # what the app's last deploy made (its record is restored): one stack update
            given.update(self.app_parameters(existing.outputs))
        if existing is None and "KeyAdministrators" not in given:
            given["KeyAdministrators"] = self.key_administrator()
        state = stack.apply(given, existing, tags={"app": APP_NAME, "stage": self.stage, VERSION_TAG: self.version},
                            capabilities=["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"])
        record = self.record_of(state.outputs)
        record.store_empty_if_absent()
        package = self.sign(package, state.outputs)
        env = self.environment(state.outputs)
        self.record(env, websocket_api_id=self.recorded_websocket_api_id())
        self.record_deploy_outputs(state.outputs)
        self.chalice_deploy(record, state.version)
        deployed = self.deployed()
        if self.record(env, websocket_api_id=deployed["websocket_api"]["websocket_api_id"]):
            self.chalice_deploy(record, state.version)  # the notifier's endpoint and the exact execute-api ARN
            deployed = self.deployed()
        self.verify_shipped(deployed, package)
        self.wire(deployed, env, state.outputs)
        after = self.app_parameters(state.outputs, deployed)
        if any(state.parameters.get(key) != value for key, value in after.items()):
            self.out("resources stack: the app's APIs, functions and console headers are known now; updating")
            state = stack.apply({**given, **after}, state, tags={"app": APP_NAME, "stage": self.stage,
                                                                 VERSION_TAG: self.version},
                                capabilities=["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"])
        self.publish_console(state.outputs)
        urls = self.urls(deployed, state.outputs)
        for what, url in urls.items():
            self.out(f"{what}: {url}")
        self.out(f"version: {self.version}")
        if self.rehearse:
            self.emulated.append(REHEARSED)
        for step in self.emulated:
            self.out(f"emulated: {step}")
        return urls

    def environment(self, outputs: dict[str, str]) -> dict[str, str]:
        """The app's environment from the stack's outputs (deploy-only outputs, ``Deploy*``, left out); browsers
        reach the WebSocket API at its own domain when it has one."""
        from devstack.template import env_name

        env = {env_name(key): value for key, value in outputs.items() if not key.startswith(DEPLOY_ONLY)}
        if outputs.get("DeployCustomWebSocketUrl"):
            env["WEBSOCKET_URL"] = outputs["DeployCustomWebSocketUrl"]
        return env

    def app_parameters(self, outputs: dict[str, str],
                       deployed: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
        """The resources stack's parameters that only the app's deploy knows: the APIs' ids, the staff pool's
        pre-token-generation function, and the console's headers (its CSP names the WebSocket API)."""
        from scripts.console_site import stage_header_parameters
        from scripts.stage_record import local_path

        if deployed is None:
            if not local_path(self.project_dir, self.stage).exists():
                return {}
            deployed = self.deployed()
        parameters: dict[str, str] = {}
        if "rest_api" in deployed:
            parameters["RestApiId"] = deployed["rest_api"]["rest_api_id"]
        region = self.session.region_name
        env = {**self.environment(outputs), "AWS_REGION": region}
        if "websocket_api" in deployed:
            parameters["WebSocketApiId"] = api_id = deployed["websocket_api"]["websocket_api_id"]
            env.setdefault("WEBSOCKET_DOMAIN", f"{api_id}.execute-api.{region}.amazonaws.com")
            env.setdefault("WEBSOCKET_STAGE", "api")
        if STAFF_TRIGGER in deployed:
            parameters["StaffTokenFunctionArn"] = deployed[STAFF_TRIGGER]["lambda_arn"]
        return {**parameters, **stage_header_parameters(env)}

    def publish_console(self, outputs: dict[str, str]) -> None:
        """The console's files to the stage's bucket, CloudFront's copies invalidated."""
        from scripts.console_site import publish

        if outputs.get("DeployConsoleBucketName"):
            publish(self.client("s3"), self.client("cloudfront"), outputs["DeployConsoleBucketName"],
                    outputs.get("DeployConsoleDistributionId"), out=self.out)

    def lean_package(self) -> Path:
        """The package ``chalice deploy`` will ship, in place at Chalice's name: the lean build, or the
        artifact given (a pipeline promotes the one it built and tested)."""
        from scripts.build_package import build, chalice_package_path, check_lean

        if self.package is not None:
            target = chalice_package_path(self.project_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            check_lean(self.package)
            shutil.copyfile(self.package, target)
            self.out(f"package: {self.package} placed as {target.name}")
            return target
        package, _, _ = build(self.project_dir)
        check_lean(package)
        self.out(f"package: lean, {package.stat().st_size / 1e6:.1f} MB ({package.name})")
        return package

    def record(self, env: dict[str, str], websocket_api_id: str | None = None) -> bool:
        """Write the stage overlay and its policy; True when it changed (so Chalice must redeploy)."""
        overlay = load_overlay(self.project_dir, self.stage)
        before = json.dumps(overlay, sort_keys=True)
        variables = {**env, "APP_STAGE": self.stage, "APP_VERSION": self.version}
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

    def chalice_deploy(self, record: Any, stack_version: str | None) -> None:
        """``chalice deploy``, its record kept with the stage whatever happens; one retry (Chalice's deploy is
        idempotent: a second run converges on what the first left half-done)."""
        for attempt in range(1, self.chalice_attempts + 1):
            try:
                self.chalice("deploy")
                return
            except RuntimeError as error:
                failure = error
                self.out(f"chalice deploy failed (attempt {attempt} of {self.chalice_attempts})")
            finally:
                record.store()
        raise DeployError(
            f"{failure}\n\nThe resources stack is at version {stack_version}; the functions may be partly at "
            f"{self.version} and partly at the version before (see --status). The stack's changes are additive "
            "(docs/deployment.md, 'One version'), so the older functions still run against it. Bring the two to one "
            "version: run this same command again once the cause is fixed (roll forward), or check out the version "
            "before and run the deploy from it (roll back); both converge. Chalice's record of what it made is "
            "kept with the stage.")

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
            raise RuntimeError(f"chalice {' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    def recorded_websocket_api_id(self) -> str | None:
        """The WebSocket API's id in Chalice's record of a stage deployed before (restored from the stage's bucket):
        the overlay and the policies name it before ``chalice deploy`` runs, so a deploy from a clean clone (a
        pipeline's) runs Chalice once, not a second time for the endpoint it learnt (issue 22)."""
        from scripts.stage_record import local_path

        if not local_path(self.project_dir, self.stage).exists():
            return None
        api = self.deployed().get("websocket_api", {})
        return str(api["websocket_api_id"]) if api.get("websocket_api_id") else None

    def deployed(self) -> dict[str, dict[str, Any]]:
        """Chalice's record of the stage's resources, by resource name."""
        from scripts.stage_record import local_path

        path = local_path(self.project_dir, self.stage)
        return {resource["name"]: resource for resource in json.loads(path.read_text())["resources"]}

    def verify_shipped(self, deployed: dict[str, dict[str, Any]], package: Path) -> None:
        """Every function runs exactly the package placed for Chalice (never Chalice's own build)."""
        expected = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
        lambda_ = self.client("lambda")
        for resource in deployed.values():
            if resource["resource_type"] != "lambda_function":
                continue
            shipped = lambda_.get_function_configuration(FunctionName=resource["lambda_arn"])["CodeSha256"]
            if shipped != expected:
                raise DeployError(f"{resource['name']} runs a package other than the one built ({shipped} != "
                                  f"{expected}): Chalice rebuilt it. Run the deploy again.")

    def wire(self, deployed: dict[str, dict[str, Any]], env: dict[str, str], outputs: dict[str, str]) -> None:
        """The settings Chalice has no words for, applied to what it just deployed."""
        from scripts.event_sources import wire

        wire(deployed, env, self.client, json.loads((self.project_dir / GATEWAY_SETTINGS).read_text()),
             {k: v for k, v in outputs.items() if k.startswith(DEPLOY_ONLY)})

    def record_deploy_outputs(self, outputs: dict[str, str]) -> None:
        """The deploy-only outputs beside the stage's overlay: ``chalice_stage package`` completes the
        Terraform package with them (WAF, code signing), as the deploy wires them."""
        path = self.project_dir / ".chalice" / "stages" / self.stage / "outputs.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: v for k, v in outputs.items() if k.startswith(DEPLOY_ONLY)}, indent=2) + "\n")

    def key_administrator(self) -> str:
        """The deploying principal as the KMS key's administrator pattern (an assumed role: its role)."""
        arn = self.client("sts").get_caller_identity()["Arn"]
        if ":assumed-role/" in arn:
            account = arn.split(":")[4]
            role = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
            return f"arn:aws:iam::{account}:role/*{role}"
        return arn

    def sign(self, package: Path, outputs: dict[str, str]) -> Path:
        """The package signed by the stage's profile (AWS Signer), in its place for Chalice: upload it to the
        deployment bucket, run a signing job, put the signed package where Chalice takes it from."""
        import hashlib as _hashlib

        profile, bucket = outputs.get("DeploySigningProfileName"), outputs["DeploymentBucketName"]
        if not profile:
            return package
        s3, signer = self.client("s3"), self.client("signer")
        unsigned = package.with_name(package.stem + ".unsigned.zip")  # never sign a signed package again
        if not unsigned.exists() or self.package is not None:
            shutil.copyfile(package, unsigned)
        body = unsigned.read_bytes()
        digest = _hashlib.sha256(body).hexdigest()
        key = f"packages/{self.version}/{digest[:16]}.zip"
        version = s3.put_object(Bucket=bucket, Key=key, Body=body).get("VersionId")
        source: dict[str, Any] = {"bucketName": bucket, "key": key}
        if version:
            source["version"] = version
        job = signer.start_signing_job(source={"s3": source}, profileName=profile,
                                       destination={"s3": {"bucketName": bucket, "prefix": "signed/"}})["jobId"]
        signer.get_waiter("successful_signing_job").wait(jobId=job, WaiterConfig={"Delay": 5, "MaxAttempts": 60})
        signed = signer.describe_signing_job(jobId=job)["signedObject"]["s3"]
        body = s3.get_object(Bucket=signed["bucketName"], Key=signed["key"])["Body"].read()
        package.write_bytes(body)
        self.out(f"package: signed by {profile} (job {job})")
        return package

    def urls(self, deployed: dict[str, dict[str, Any]], outputs: dict[str, str]) -> dict[str, str]:
        rest = deployed["rest_api"]["rest_api_url"].rstrip("/") + "/"
        urls = {"REST API": rest, "WebSocket": deployed["websocket_api"]["websocket_api_url"],
                "console": outputs.get("DeployConsoleUrl") or rest + "console/"}
        for key, what in (("DeployCustomRestUrl", "REST API (domain)"),
                          ("DeployCustomWebSocketUrl", "WebSocket (domain)")):
            if outputs.get(key):
                urls[what] = outputs[key]
        return urls

    # --- what runs ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The stack's version and each function's (``APP_VERSION``): one version when they all agree."""
        state = self.stack().describe()
        functions: dict[str, str] = {}
        if state is not None:
            self.record_of(state.outputs).restore()
            lambda_ = self.client("lambda")
            for resource in self.deployed().values():
                if resource["resource_type"] == "lambda_function":
                    variables = lambda_.get_function_configuration(FunctionName=resource["lambda_arn"]).get(
                        "Environment", {}).get("Variables", {})
                    functions[resource["name"]] = variables.get("APP_VERSION", "?")
        versions = {state.version if state else None, *functions.values()}
        report = {"stack": state.status if state else "absent", "stack_version": state.version if state else None,
                  "functions": functions, "one_version": len(versions) == 1}
        self.out(json.dumps(report, indent=2))
        return report

    # --- teardown ---------------------------------------------------------------------

    def teardown(self) -> None:
        """Delete the app (Chalice) and the resources stack; tables, buckets, pools and the key are retained."""
        from scripts.stage_record import local_path

        stack = self.stack()
        state = stack.describe()
        record = self.record_of(state.outputs) if state and "DeploymentBucketName" in state.outputs else None
        if record is not None:
            self.out(record.restore())  # RecordMissing: refuse, as a teardown without it orphans the APIs
        if local_path(self.project_dir, self.stage).exists():
            try:
                self.chalice("delete")
            finally:
                if record is not None:
                    record.store()
            if record is not None:
                record.forget()
        stack.delete()
        self.edge_stack().delete()
        overlay_path(self.project_dir, self.stage).unlink(missing_ok=True)
        shutil.rmtree(self.project_dir / ".chalice" / "stages" / self.stage, ignore_errors=True)
        self.out(f"stage {self.stage} removed; retained (delete by hand once exported): tables, buckets, "
                 "user pools and the KMS key")


def main(argv: list[str] | None = None) -> None:
    import boto3

    from scripts.account import AccountSettingMissing
    from scripts.resources_stack import StackError
    from scripts.stage_record import RecordMissing

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--console-origin", help="another browser origin allowed to upload (the console's own always "
                                                 "is; kept from the last deploy when not given)")
    parser.add_argument("--hosted-zone", help="the Route 53 hosted zone of the custom domains (HostedZoneId)")
    parser.add_argument("--console-domain", help="the console's own domain, e.g. console.bank.example")
    parser.add_argument("--api-domain", help="the REST API's own domain, e.g. api.bank.example")
    parser.add_argument("--websocket-domain", help="the WebSocket API's own domain, e.g. ws.bank.example")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a resources.yaml parameter (kept from the last deploy when not given)")
    parser.add_argument("--package", type=Path, help="ship this built package (a pipeline's artifact) instead "
                                                     "of building one")
    parser.add_argument("--version", help="the version shipped (default: the commit)")
    parser.add_argument("--no-account-changes", action="store_true",
                        help="never change account-wide settings (API Gateway's CloudWatch role): stop instead")
    parser.add_argument("--teardown", action="store_true", help="remove the stage instead of deploying it")
    parser.add_argument("--status", action="store_true", help="print the stack's and each function's version")
    parser.add_argument("--rehearse", action="store_true", help="deploy to the local AWS at AWS_ENDPOINT_URL")
    parser.add_argument("--urls-out", type=Path, help="write the printed URLs here as JSON (the pipeline's smoke test)")
    args = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in args.parameter)
    for option, parameter in (("hosted_zone", "HostedZoneId"), ("console_domain", "ConsoleDomainName"),
                              ("api_domain", "ApiDomainName"), ("websocket_domain", "WebSocketDomainName")):
        if getattr(args, option):
            parameters[parameter] = getattr(args, option)
    deployer = Deployer(args.stage, boto3.session.Session(), rehearse=args.rehearse,
                        console_origin=args.console_origin, parameters=parameters, package=args.package,
                        version=args.version, account_changes=not args.no_account_changes)
    try:
        if args.teardown:
            deployer.teardown()
        elif args.status:
            deployer.status()
        else:
            urls = deployer.deploy()
            if args.urls_out:
                args.urls_out.write_text(json.dumps(urls, indent=2) + "\n")
    except (DeployError, StackError, RecordMissing, AccountSettingMissing) as error:
        raise SystemExit(f"deploy stopped: {error}") from None


if __name__ == "__main__":
    main()
