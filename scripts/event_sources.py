"""What Chalice cannot express about the app's event sources, in one place.

The deploy (scripts/deploy.py) sets these by API on what ``chalice deploy``
made; the packaged templates (scripts/chalice_stage.py) carry the same, so
what is packaged is what the deploy runs. Both import them from here.
"""
from __future__ import annotations

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
