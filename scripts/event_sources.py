"""What Chalice cannot express about the app's event sources, in one place.

The deploy (scripts/deploy.py) sets these by API on what ``chalice deploy``
made; the packaged templates (scripts/chalice_stage.py) carry the same, so
what is packaged is what the deploy runs. Both import them from here.
"""
from __future__ import annotations

import json
import re
from typing import Any

# ReportBatchItemFailures: the outbox handler names the first record it could not publish
# (issue 12); without it Lambda would take that answer for success and drop the rest.
STREAM_MAPPING = {"BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10,
                  "MaximumRecordAgeInSeconds": 6 * 3600, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
ASYNC_RETRIES = 2
#: The app's functions a user pool invokes as a Lambda trigger (issue 21), and the deploy-only output naming
#: that pool: Cognito may invoke them from that pool only.
COGNITO_TRIGGERS = {"staff_token_groups": "DeployStaffUserPoolArn"}
TRIGGER_STATEMENT = "cognito-user-pool-trigger"


def async_functions(deployed: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The functions Lambda invokes asynchronously for SNS and EventBridge (name -> ARN), from Chalice's record."""
    arns = {r["lambda_arn"]: name for name, r in deployed.items() if r["resource_type"] == "lambda_function"}
    found: dict[str, str] = {}
    for name, resource in deployed.items():
        if resource["resource_type"] == "cloudwatch_event":
            function = name.rsplit("-", 1)[0]
            if function in deployed:
                found[function] = deployed[function]["lambda_arn"]
        elif resource["resource_type"] == "sns_event" and resource.get("lambda_arn") in arns:
            found[arns[resource["lambda_arn"]]] = resource["lambda_arn"]
    return found


def complete_terraform(template: dict[str, Any], env: dict[str, str], outputs: dict[str, str] | None = None,
                       gateway: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Chalice's Terraform package lacks, made part of the package (the deploy sets the same, by API,
    in ``wire``): ReportBatchItemFailures on every SQS mapping; bisect, a retry limit, a record age and an
    on-failure queue on the history stream's; an on-failure queue and a retry limit for every asynchronously
    invoked function (S3, SNS, schedules); the SNS subscription's dead-letter queue; access logs, throttling
    and metrics on both API stages; WAF on the REST stage; the code signing configuration on every function.
    ``outputs``: the stack's deploy-only outputs; ``gateway``: ``.chalice/gateway.json``."""
    outputs = outputs or {}
    resources = template.setdefault("resource", {})
    for name, mapping in resources.get("aws_lambda_event_source_mapping", {}).items():
        if name.endswith("-sqs-event-source"):
            mapping["function_response_types"] = ["ReportBatchItemFailures"]
        elif name.endswith("-dynamodb-event-source"):
            mapping.update(
                bisect_batch_on_function_error=STREAM_MAPPING["BisectBatchOnFunctionError"],
                maximum_retry_attempts=STREAM_MAPPING["MaximumRetryAttempts"],
                maximum_record_age_in_seconds=STREAM_MAPPING["MaximumRecordAgeInSeconds"],
                function_response_types=STREAM_MAPPING["FunctionResponseTypes"],
            )
            if env.get("HISTORY_STREAM_DLQ_ARN"):
                mapping["destination_config"] = {"on_failure": {"destination_arn": env["HISTORY_STREAM_DLQ_ARN"]}}
    functions = resources.get("aws_lambda_function", {})
    invoke_configs = resources.setdefault("aws_lambda_function_event_invoke_config", {})
    # An S3-invoked handler (the app has none since uploads reach the identity check through its queue).
    asynchronous: dict[str, str | None] = {
        function: env.get("DOCUMENT_EVENTS_DLQ_ARN")
        for notification in resources.get("aws_s3_bucket_notification", {}).values()
        for target in notification.get("lambda_function", [])
        if (function := _terraform_function(str(target.get("lambda_function_arn", ""))))
    }
    for target in resources.get("aws_cloudwatch_event_target", {}).values():
        function = _terraform_function(target.get("arn", ""))
        if function:
            asynchronous[function] = env.get("ASYNC_INVOKE_DLQ_ARN")
    for subscription in resources.get("aws_sns_topic_subscription", {}).values():
        function = _terraform_function(subscription.get("endpoint", ""))
        if function and subscription.get("protocol") == "lambda":
            asynchronous[function] = env.get("ASYNC_INVOKE_DLQ_ARN")
            if env.get("EVENTS_DELIVERY_DLQ_ARN"):
                subscription["redrive_policy"] = json.dumps({"deadLetterTargetArn": env["EVENTS_DELIVERY_DLQ_ARN"]})
    for function, destination in asynchronous.items():
        if function not in functions:
            continue
        invoke: dict[str, Any] = {"function_name": f"${{aws_lambda_function.{function}.function_name}}",
                                  "maximum_retry_attempts": ASYNC_RETRIES}
        if destination:
            invoke["destination_config"] = {"on_failure": {"destination": destination}}
        invoke_configs[function] = invoke
    if outputs.get("DeployCodeSigningConfigArn"):
        for function in functions.values():
            function["code_signing_config_arn"] = outputs["DeployCodeSigningConfigArn"]
    for function, pool_output in COGNITO_TRIGGERS.items():
        if function in functions and outputs.get(pool_output):
            resources.setdefault("aws_lambda_permission", {})[f"{function}_cognito"] = {
                "function_name": f"${{aws_lambda_function.{function}.function_name}}",
                "statement_id": TRIGGER_STATEMENT, "action": "lambda:InvokeFunction",
                "principal": "cognito-idp.amazonaws.com", "source_arn": outputs[pool_output]}
    if gateway is not None:
        _terraform_gateway(resources, template, env, outputs, gateway)
    return template


def complete_cloudformation(template: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The same for Chalice's CloudFormation (SAM) package: ReportBatchItemFailures on every SQS event;
    bisect, a retry limit, a record age, ReportBatchItemFailures and an on-failure queue on the stream's."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            properties = event.setdefault("Properties", {})
            if event.get("Type") == "SQS":
                properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            elif event.get("Type") == "DynamoDB":
                properties.update(STREAM_MAPPING)
                if env.get("HISTORY_STREAM_DLQ_ARN"):
                    properties["DestinationConfig"] = {
                        "OnFailure": {"Type": "SQS", "Destination": env["HISTORY_STREAM_DLQ_ARN"]}
                    }
    return template


def _terraform_function(reference: str) -> str | None:
    """``${aws_lambda_function.NAME.arn}`` -> NAME."""
    match = re.search(r"aws_lambda_function\.([A-Za-z0-9_]+)\.", reference)
    return match.group(1) if match else None


def _terraform_gateway(resources: dict[str, Any], template: dict[str, Any], env: dict[str, str],
                       outputs: dict[str, str], settings: dict[str, Any]) -> None:
    rest, websocket = settings["rest"], settings["websocket"]
    for name, deployment in list(resources.get("aws_api_gateway_deployment", {}).items()):
        stage_name = deployment.pop("stage_name", None) or "api"
        deployment.pop("stage_description", None)
        deployment["triggers"] = {"redeployment": "${md5(local.chalice_api_swagger)}"}
        stage = {"rest_api_id": deployment["rest_api_id"], "stage_name": stage_name,
                 "deployment_id": f"${{aws_api_gateway_deployment.{name}.id}}"}
        if env.get("REST_ACCESS_LOG_GROUP_ARN"):
            stage["access_log_settings"] = {"destination_arn": env["REST_ACCESS_LOG_GROUP_ARN"].removesuffix(":*"),
                                            "format": json.dumps(rest["access_log_format"])}
        resources.setdefault("aws_api_gateway_stage", {})[name] = stage
        resources.setdefault("aws_api_gateway_method_settings", {})[name] = {
            "rest_api_id": deployment["rest_api_id"], "stage_name": f"${{aws_api_gateway_stage.{name}.stage_name}}",
            "method_path": "*/*",
            "settings": {"metrics_enabled": True, "throttling_rate_limit": rest["rate_limit"],
                         "throttling_burst_limit": rest["burst_limit"]}}
        for output in template.get("output", {}).values():
            if output.get("value") == f"${{aws_api_gateway_deployment.{name}.invoke_url}}":
                output["value"] = f"${{aws_api_gateway_stage.{name}.invoke_url}}"
        if outputs.get("DeployEdgeWebAclArn"):
            resources.setdefault("aws_wafv2_web_acl_association", {})[name] = {
                "resource_arn": f"${{aws_api_gateway_stage.{name}.arn}}", "web_acl_arn": outputs["DeployEdgeWebAclArn"]}
    for stage in resources.get("aws_apigatewayv2_stage", {}).values():
        if env.get("WEBSOCKET_ACCESS_LOG_GROUP_ARN"):
            stage["access_log_settings"] = {
                "destination_arn": env["WEBSOCKET_ACCESS_LOG_GROUP_ARN"].removesuffix(":*"),
                "format": json.dumps(websocket["access_log_format"])}
        stage["default_route_settings"] = {"throttling_rate_limit": float(websocket["rate_limit"]),
                                           "throttling_burst_limit": int(websocket["burst_limit"]),
                                           "detailed_metrics_enabled": True}


def wire(deployed: dict[str, dict[str, Any]], env: dict[str, str], client: Any, gateway: dict[str, Any],
         outputs: dict[str, str] | None = None) -> None:
    """Apply by API, to what ``chalice deploy`` made, what the package carries itself (``complete_terraform``)."""
    outputs = outputs or {}
    lambda_ = client("lambda")
    asynchronous = async_functions(deployed)
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
            lambda_.put_function_event_invoke_config(
                FunctionName=resource["lambda_arn"], MaximumRetryAttempts=ASYNC_RETRIES,
                DestinationConfig={"OnFailure": {"Destination": env["DOCUMENT_EVENTS_DLQ_ARN"]}})
        elif kind == "sns_event" and env.get("EVENTS_DELIVERY_DLQ_ARN"):
            client("sns").set_subscription_attributes(
                SubscriptionArn=resource["subscription_arn"], AttributeName="RedrivePolicy",
                AttributeValue=json.dumps({"deadLetterTargetArn": env["EVENTS_DELIVERY_DLQ_ARN"]}))
        elif kind == "lambda_function":
            if outputs.get("DeployCodeSigningConfigArn"):
                lambda_.put_function_code_signing_config(CodeSigningConfigArn=outputs["DeployCodeSigningConfigArn"],
                                                         FunctionName=resource["lambda_arn"])
            pool_arn = outputs.get(COGNITO_TRIGGERS.get(resource["name"], ""))
            if pool_arn:
                allow_cognito(lambda_, resource["lambda_arn"], pool_arn)
    for function_arn in asynchronous.values():
        lambda_.put_function_event_invoke_config(
            FunctionName=function_arn, MaximumRetryAttempts=ASYNC_RETRIES,
            DestinationConfig={"OnFailure": {"Destination": env["ASYNC_INVOKE_DLQ_ARN"]}})
    gateway_stages(deployed, env, client, gateway)
    if outputs.get("DeployEdgeWebAclArn"):
        rest_api = deployed["rest_api"]
        stage = rest_api["rest_api_url"].rstrip("/").rsplit("/", 1)[-1]
        region = rest_api["rest_api_url"].split(".execute-api.", 1)[1].split(".", 1)[0]
        client("wafv2").associate_web_acl(
            WebACLArn=outputs["DeployEdgeWebAclArn"],
            ResourceArn=f"arn:aws:apigateway:{region}::/restapis/{rest_api['rest_api_id']}/stages/{stage}")


def allow_cognito(lambda_: Any, function_arn: str, pool_arn: str) -> None:
    """The user pool may invoke its trigger (and only it): the function's resource policy, kept current."""
    try:
        policy = json.loads(lambda_.get_policy(FunctionName=function_arn)["Policy"])
        statements = {s.get("Sid"): s for s in policy.get("Statement", [])}
    except lambda_.exceptions.ResourceNotFoundException:
        statements = {}
    current = statements.get(TRIGGER_STATEMENT)
    if current and pool_arn in json.dumps(current.get("Condition", {})):
        return
    if current:
        lambda_.remove_permission(FunctionName=function_arn, StatementId=TRIGGER_STATEMENT)
    lambda_.add_permission(FunctionName=function_arn, StatementId=TRIGGER_STATEMENT, Action="lambda:InvokeFunction",
                           Principal="cognito-idp.amazonaws.com", SourceArn=pool_arn)


def gateway_stages(deployed: dict[str, dict[str, Any]], env: dict[str, str], client: Any,
                   settings: dict[str, Any]) -> None:
    """Access logs, throttling and metrics on the REST and WebSocket stages (``.chalice/gateway.json``)."""
    rest, websocket = settings["rest"], settings["websocket"]
    rest_api = deployed["rest_api"]
    stage = rest_api["rest_api_url"].rstrip("/").rsplit("/", 1)[-1]
    client("apigateway").update_stage(restApiId=rest_api["rest_api_id"], stageName=stage, patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": env["REST_ACCESS_LOG_GROUP_ARN"].removesuffix(":*")},
        {"op": "replace", "path": "/accessLogSettings/format", "value": json.dumps(rest["access_log_format"])},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rest["rate_limit"])},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(rest["burst_limit"])},
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
    ])
    client("apigatewayv2").update_stage(
        ApiId=deployed["websocket_api"]["websocket_api_id"], StageName="api",
        AccessLogSettings={"DestinationArn": env["WEBSOCKET_ACCESS_LOG_GROUP_ARN"].removesuffix(":*"),
                           "Format": json.dumps(websocket["access_log_format"])},
        DefaultRouteSettings={"ThrottlingRateLimit": float(websocket["rate_limit"]),
                              "ThrottlingBurstLimit": int(websocket["burst_limit"]),
                              "DetailedMetricsEnabled": True})
