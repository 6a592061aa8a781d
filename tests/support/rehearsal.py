"""The deploy rehearsal's helpers (tests/test_deploy_rehearsal.py): a copy of the project to deploy from, the
package the worktree built put in its cache, and describe calls that read the deployed stage back."""
from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from scripts.deploy import Deployer, function_name, stack_name
from tests.support.aws import ROOT

STAGE = "rehearsal"
COPIED = ["app.py", "chalicelib", "requirements.txt", "requirements.lock", "resources.yaml", "edge.yaml",
          ".chalice/config.json",
          ".chalice/gateway.json", ".chalice/policies"]
#: Beside the package at Chalice's name, what scripts/build_package.py keeps: Chalice's own build, the build's
#: record (its recipe), the lean copy and the SBOM.
BUILT = (".chalice.zip", ".lean.json", ".lean.zip", ".cdx.json")


def copy_project(target: Path) -> Path:
    """A clean clone of what the deploy reads: no .chalice/deployed, no recorded stage."""
    for name in COPIED:
        source, copied = ROOT / name, target / name
        copied.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copied, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copied)
    return target


def place_built_package(project: Path, *, chalice_own: bool = False) -> Path:
    """The worktree's build (the same code and lock) in ``project``'s Chalice cache, as a pipeline's build leaves
    it: the deploy then finds it instead of building again (about 25 s of CPU each, issue 22; a build from
    nothing is the suite's own, tests/support/package_build.py). With ``chalice_own``, Chalice's own zip at the
    package's name instead of the lean one (what ``chalice deploy`` would ship)."""
    from scripts.build_package import chalice_package_path

    target = chalice_package_path(project)
    target.parent.mkdir(parents=True, exist_ok=True)
    built = chalice_package_path(ROOT)
    for suffix in BUILT:
        shutil.copyfile(built.with_name(built.stem + suffix), target.with_name(target.stem + suffix))
    shutil.copyfile(built.with_name(built.stem + (".chalice.zip" if chalice_own else ".lean.zip")), target)
    return target


class CountingDeployer(Deployer):
    """The deploy, with the Chalice commands it ran (``chalice deploy`` is most of a deploy's time)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chalice_runs: list[str] = []

    def chalice(self, *command: str) -> None:
        self.chalice_runs.append(" ".join(command))
        super().chalice(*command)


def functions(aws) -> dict[str, dict]:
    return {f["FunctionName"]: f for f in aws.client("lambda").list_functions()["Functions"]}


def mappings(aws, handler: str) -> list[dict]:
    arn = functions(aws)[function_name(STAGE, handler)]["FunctionArn"]
    return [m for m in aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"] == arn]


def deploy_outputs(rehearsal: dict) -> dict[str, str]:
    """The resources stack's outputs, the deploy-only ones too (the console's distribution, custom domains)."""
    return rehearsal["deployer"].stack().describe().outputs


def rest_and_websocket_apis(aws) -> tuple[list[str], list[str]]:
    rest = [a["id"] for a in aws.client("apigateway").get_rest_apis()["items"]]
    websocket = [a["ApiId"] for a in aws.client("apigatewayv2").get_apis()["Items"] if a["ProtocolType"] == "WEBSOCKET"]
    return rest, websocket


def stack_parameters(aws) -> dict[str, str]:
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name(STAGE))["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}



def alias_records(aws, zone: str) -> dict[tuple[str, str], str]:
    records = aws.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): r["AliasTarget"]["DNSName"].rstrip(".")
            for r in records if "AliasTarget" in r}



def deployed_system(aws, project) -> dict:
    """What the deploy made, read back with describe calls, in a form a Terraform package can be put in."""
    record = json.loads((project / ".chalice" / "deployed" / f"{STAGE}.json").read_text())["resources"]
    by_arn = {r["lambda_arn"]: r["name"] for r in record if r["resource_type"] == "lambda_function"}
    lambda_ = aws.client("lambda")
    system: dict = {}
    for function, arn in ((r["name"], r["lambda_arn"]) for r in record if r["resource_type"] == "lambda_function"):
        system[f"code-signing:{function}"] = lambda_.get_function_code_signing_config(
            FunctionName=arn).get("CodeSigningConfigArn")
        try:
            invoke = lambda_.get_function_event_invoke_config(FunctionName=arn)
        except lambda_.exceptions.ResourceNotFoundException:
            continue
        system[f"async:{function}"] = {"retries": invoke["MaximumRetryAttempts"],
                                       "on_failure": invoke["DestinationConfig"]["OnFailure"]["Destination"]}
    for mapping in lambda_.list_event_source_mappings()["EventSourceMappings"]:
        function = by_arn.get(mapping["FunctionArn"])
        if function:
            system[f"mapping:{function}"] = {
                "types": mapping.get("FunctionResponseTypes"), "bisect": mapping.get("BisectBatchOnFunctionError"),
                "retries": mapping.get("MaximumRetryAttempts") if ":dynamodb:" in mapping["EventSourceArn"] else None,
                "on_failure": mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")}
    sns = aws.client("sns")
    for subscription in (r for r in record if r["resource_type"] == "sns_event"):
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["subscription_arn"])["Attributes"]
        system[f"sns-dlq:{by_arn[subscription['lambda_arn']]}"] = json.loads(attributes["RedrivePolicy"])[
            "deadLetterTargetArn"]
    (rest,) = [r for r in record if r["resource_type"] == "rest_api"]
    stage = aws.client("apigateway").get_stage(restApiId=rest["rest_api_id"], stageName="api")
    system["rest-stage"] = {"log": stage["accessLogSettings"]["destinationArn"],
                            "format": json.loads(stage["accessLogSettings"]["format"]),
                            "rate": stage["methodSettings"]["*/*"]["throttlingRateLimit"],
                            "burst": stage["methodSettings"]["*/*"]["throttlingBurstLimit"],
                            "metrics": stage["methodSettings"]["*/*"]["metricsEnabled"]}
    region = rest["rest_api_url"].split(".execute-api.")[1].split(".")[0]
    system["rest-waf"] = aws.client("wafv2").get_web_acl_for_resource(
        ResourceArn=f"arn:aws:apigateway:{region}::/restapis/{rest['rest_api_id']}/stages/api")["WebACL"]["ARN"]
    trigger = next(r["lambda_arn"] for r in record if r["name"] == "staff_token_groups")
    statement = next(s for s in json.loads(lambda_.get_policy(FunctionName=trigger)["Policy"])["Statement"]
                     if s["Sid"] == "cognito-user-pool-trigger")
    system["cognito-trigger"] = {"principal": statement["Principal"]["Service"],
                                 "pool": statement["Condition"]["ArnLike"]["AWS:SourceArn"]}
    (websocket,) = [r for r in record if r["resource_type"] == "websocket_api"]
    ws = aws.client("apigatewayv2").get_stage(ApiId=websocket["websocket_api_id"], StageName="api")
    system["websocket-stage"] = {"log": ws["AccessLogSettings"]["DestinationArn"],
                                 "format": json.loads(ws["AccessLogSettings"]["Format"]),
                                 "rate": ws["DefaultRouteSettings"]["ThrottlingRateLimit"],
                                 "burst": ws["DefaultRouteSettings"]["ThrottlingBurstLimit"],
                                 "metrics": ws["DefaultRouteSettings"]["DetailedMetricsEnabled"]}
    return system


def packaged_system(template: dict) -> dict:
    """The same, read from Chalice's Terraform package as scripts/chalice_stage.py completes it."""
    resources = template["resource"]
    system: dict = {}
    for function, body in resources["aws_lambda_function"].items():
        system[f"code-signing:{function}"] = body.get("code_signing_config_arn")
    for function, invoke in resources.get("aws_lambda_function_event_invoke_config", {}).items():
        system[f"async:{function}"] = {"retries": invoke["maximum_retry_attempts"],
                                       "on_failure": invoke["destination_config"]["on_failure"]["destination"]}
    for mapping in resources["aws_lambda_event_source_mapping"].values():
        function = mapping["function_name"].split(".")[1]
        stream = "dynamodb" in json.dumps(mapping)
        system[f"mapping:{function}"] = {
            "types": mapping.get("function_response_types"), "bisect": mapping.get("bisect_batch_on_function_error"),
            "retries": mapping.get("maximum_retry_attempts") if stream else None,
            "on_failure": mapping.get("destination_config", {}).get("on_failure", {}).get("destination_arn")}
    for subscription in resources.get("aws_sns_topic_subscription", {}).values():
        function = subscription["endpoint"].split(".")[1]
        system[f"sns-dlq:{function}"] = json.loads(subscription["redrive_policy"])["deadLetterTargetArn"]
    (stage,) = resources["aws_api_gateway_stage"].values()
    (settings,) = resources["aws_api_gateway_method_settings"].values()
    system["rest-stage"] = {"log": stage["access_log_settings"]["destination_arn"],
                            "format": json.loads(stage["access_log_settings"]["format"]),
                            "rate": settings["settings"]["throttling_rate_limit"],
                            "burst": settings["settings"]["throttling_burst_limit"],
                            "metrics": settings["settings"]["metrics_enabled"]}
    (waf,) = resources["aws_wafv2_web_acl_association"].values()
    system["rest-waf"] = waf["web_acl_arn"]
    permission = resources["aws_lambda_permission"]["staff_token_groups_cognito"]  # beside Chalice's own
    system["cognito-trigger"] = {"principal": permission["principal"], "pool": permission["source_arn"]}
    (ws,) = resources["aws_apigatewayv2_stage"].values()
    system["websocket-stage"] = {"log": ws["access_log_settings"]["destination_arn"],
                                 "format": json.loads(ws["access_log_settings"]["format"]),
                                 "rate": ws["default_route_settings"]["throttling_rate_limit"],
                                 "burst": ws["default_route_settings"]["throttling_burst_limit"],
                                 "metrics": ws["default_route_settings"]["detailed_metrics_enabled"]}
    return system



@contextlib.contextmanager
def lambda_updates_failing(times: int, function: str):
    """moto refuses ``times`` configuration updates of ``function`` (a throttle, an IAM race...)."""
    from moto.awslambda.exceptions import ConflictException
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.update_function_configuration
    left = [times]

    def update(self, function_name, qualifier, body):
        if function_name.endswith(function) and left[0] > 0:
            left[0] -= 1
            raise ConflictException("The operation cannot be performed at this time (rehearsed failure)")
        return original(self, function_name, qualifier, body)

    LambdaBackend.update_function_configuration = update
    try:
        yield left
    finally:
        LambdaBackend.update_function_configuration = original

