"""What Chalice cannot express about the app's event sources, in one place.

The deploy (scripts/deploy.py) sets these by API on what ``chalice deploy``
made; the packaged templates (scripts/chalice_stage.py) carry the same, so
what is packaged is what the deploy runs. Both import them from here.
"""
from __future__ import annotations

import json
from typing import Any

# ReportBatchItemFailures: the outbox handler names the first record it could not publish
# (issue 12); without it Lambda would take that answer for success and drop the rest.
STREAM_MAPPING = {"BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10,
                  "MaximumRecordAgeInSeconds": 6 * 3600, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
ASYNC_RETRIES = 2


def complete_terraform(template: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """What Chalice's Terraform package lacks, made part of the package (the deploy sets the same, by API):
    ReportBatchItemFailures on every SQS mapping; bisect, a retry limit, a record age and an on-failure
    queue on the history stream's; an on-failure queue and a retry limit for the asynchronous S3 handler."""
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
    if "verify_identity_document" in functions:
        invoke: dict[str, Any] = {
            "function_name": "${aws_lambda_function.verify_identity_document.function_name}",
            "maximum_retry_attempts": ASYNC_RETRIES,
        }
        if env.get("DOCUMENT_EVENTS_DLQ_ARN"):
            invoke["destination_config"] = {"on_failure": {"destination": env["DOCUMENT_EVENTS_DLQ_ARN"]}}
        resources.setdefault("aws_lambda_function_event_invoke_config", {})["verify_identity_document"] = invoke
    return template


def wire(deployed: dict[str, dict[str, Any]], env: dict[str, str], client: Any, gateway: dict[str, Any]) -> None:
    """Apply by API, to what ``chalice deploy`` made, what the package carries itself (``complete_terraform``)."""
    lambda_ = client("lambda")
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
    gateway_stages(deployed, env, client, gateway)


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
