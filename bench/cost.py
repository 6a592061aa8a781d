"""What one million auto-approved applications cost, from measured calls and durations, beside Step Functions.

    python -m bench.cost [--prices bench/prices-2026-11-29.json] [--applications 1000000]

Measures one warm auto-approved application exactly as ``bench.aws_calls``
does (every handler invoked as AWS would, every AWS call counted, wall time
per handler), then prices it with the dated public price table in this
folder. Beside it, the same workflow as a Step Functions Standard state
machine (submission, wait for the document with a task token, the two checks
in a Parallel state, a Choice to consolidate, a task-token wait for human
review when flagged, the decision recorded and published): the storage, API,
S3, OCR and notification costs are the same in both designs (the REST API
still reads the application and the bank must keep the audit history for
years, longer than an execution history), so what differs is the
orchestration: state transitions and task invocations against our stream,
topic, queue and fan-in handlers. The baseline measured in the same run is
that Step Functions design; the ratio is ours / theirs, without OCR.

Assumptions the measurement cannot give (printed with the result): item sizes
(DynamoDB bills per KB written and per 4 KB read), the document's size and
retention, log volume per invocation, and the client's WebSocket session.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Optional

from bench._common import ROOT, header

SCENARIO = "warm"  # what bench.aws_calls.profile_of keeps (PRICED_SCENARIO)
ASSUMPTIONS = {
    "lambda_memory_gb": 0.5,  # .chalice/config.json lambda_memory_size 512
    "application_item_kb": 3.0,  # declaration, checks, reasons: one write of it is 3 WRU
    "history_item_kb": 0.7,
    "connections_query_kb": 0.5,
    "document_mb": 1.0,
    "document_retention_months": 3.0,  # document_retention_days 90
    "log_kb_per_invocation": 2.0,
    "rest_reads_by_client": 1,  # one GET of the decision beside the WebSocket frame
    "websocket_minutes": 5.0,  # the applicant's page open while the checks run
    "websocket_frames": 6,  # subscribe + its ack + the events of an auto-approved application
    "sqs_requests_per_message": 2,  # the Lambda poller's receive and delete, batched at low volume ~1 each
    "step_functions_transitions_auto_approved": 11,
    "step_functions_task_invocations": 3,  # document callback, identity check, address check
}


def price(profile: dict[str, Any], prices: dict[str, float]) -> dict[str, float]:
    """Dollars per application, by line, for our design."""
    a = ASSUMPTIONS
    calls = profile["calls"]
    invocations = profile["invocations"]
    seconds = profile["seconds"]
    wru = (
        calls.get("dynamodb:TransactWriteItems", 0)
        * 2
        * (math.ceil(a["application_item_kb"]) + math.ceil(a["history_item_kb"]))
        + calls.get("dynamodb:PutItem", 0)
        + calls.get("dynamodb:UpdateItem", 0)
        + calls.get("dynamodb:DeleteItem", 0)
    )
    rru = (
        calls.get("dynamodb:GetItem", 0) * math.ceil(a["application_item_kb"] / 4)
        + calls.get("dynamodb:TransactGetItems", 0) * 2 * 2  # the application and its biometric record, x2
        + calls.get("dynamodb:Query", 0) * math.ceil(a["connections_query_kb"] / 4)
        + calls.get("dynamodb:BatchGetItem", 0)
    )
    lambda_invocations = sum(invocations.values()) + 2  # + the WebSocket $connect and its subscribe frame
    rest = invocations.get("create_application", 0) + invocations.get("request_document_upload", 0)
    lines = {
        "lambda requests": lambda_invocations * prices["lambda_request"],
        "lambda GB-s": sum(seconds.values()) * a["lambda_memory_gb"] * prices["lambda_gb_second"],
        "API Gateway REST": (rest + a["rest_reads_by_client"]) * prices["api_gateway_rest_request"],
        "API Gateway WebSocket": a["websocket_frames"] * prices["api_gateway_websocket_message"]
        + a["websocket_minutes"] * prices["api_gateway_websocket_connection_minute"],
        "DynamoDB writes": wru * prices["dynamodb_write_request_unit"],
        "DynamoDB reads": rru * prices["dynamodb_read_request_unit"],
        "S3 requests": prices["s3_put_post_list_request"]  # the client's upload
        + (calls.get("s3:GetObject", 0) + calls.get("s3:HeadObject", 0)) * prices["s3_get_head_request"],
        "S3 storage": a["document_mb"] / 1024 * a["document_retention_months"] * prices["s3_storage_gb_month"],
        "SNS": (calls.get("sns:Publish", 0) + calls.get("sns:PublishBatch", 0)) * prices["sns_request"],
        "SQS": invocations.get("check_address", 0) * a["sqs_requests_per_message"] * prices["sqs_request"],
        "CloudWatch logs": lambda_invocations * a["log_kb_per_invocation"] / 1024 / 1024
        * prices["cloudwatch_logs_ingestion_gb"],
        "OCR (Textract, 1 page)": prices["textract_detect_document_text_page"],
    }
    return lines


def step_functions(ours: dict[str, float], profile: dict[str, Any], prices: dict[str, float]) -> dict[str, float]:
    """The same workflow as a Step Functions Standard state machine, by line.

    Shared with ours: API Gateway, the application and history writes, S3, OCR,
    WebSocket. Replaced: the outbox relay, the topic's publishes, the address
    queue and the notifier's invocations become transitions and task invocations;
    the state machine publishes the events the WebSocket notifier needs itself.
    """
    a = ASSUMPTIONS
    invocations = profile["invocations"]
    shared = {k: v for k, v in ours.items() if k not in ("lambda requests", "lambda GB-s", "SNS", "SQS")}
    per_invocation_seconds = {h: profile["seconds"][h] / max(1, n) for h, n in invocations.items()}
    task_seconds = (
        per_invocation_seconds.get("verify_identity_document", 0) + per_invocation_seconds.get("check_address", 0)
    ) + per_invocation_seconds.get("create_application", 0) + per_invocation_seconds.get("request_document_upload", 0)
    notify_invocations = invocations.get("notify_subscribers", 0)
    lambda_invocations = 2 + a["step_functions_task_invocations"] + notify_invocations + 2  # REST + tasks + notify + WS
    return {
        **shared,
        "Step Functions transitions": a["step_functions_transitions_auto_approved"]
        * prices["step_functions_standard_transition"],
        "lambda requests": lambda_invocations * prices["lambda_request"],
        "lambda GB-s": (task_seconds + profile["seconds"].get("notify_subscribers", 0))
        * a["lambda_memory_gb"]
        * prices["lambda_gb_second"],
        "SNS": notify_invocations * prices["sns_request"],  # the events the notifier pushes, published by tasks
    }


def profile_from_measurement() -> dict[str, Any]:
    import os

    from bench.aws_calls import PROFILE_ENV

    saved = os.environ.get(PROFILE_ENV)
    if saved and Path(saved).is_file():
        print(f"(the warm application's profile bench.aws_calls measured in this run: {saved})")
        return json.loads(Path(saved).read_text(encoding="utf-8"))
    from bench.aws_calls import measure, profile_of

    counter, _, _, _ = measure(warm_only=True)  # the cold application first, then the warm one priced
    return profile_of(counter)


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--applications', '1000']


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prices", default=str(sorted((ROOT / "bench").glob("prices-*.json"))[-1]))
    parser.add_argument("--applications", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    prices = json.loads(Path(args.prices).read_text())
    profile = profile_from_measurement()
    header(f"Cost of {args.applications:,} auto-approved applications ({Path(args.prices).name})")
    ours = price(profile, prices)
    theirs = step_functions(ours, profile, prices)
    n = args.applications
    print(f"\nmeasured per application ({SCENARIO}): {sum(profile['calls'].values())} AWS calls, "
          f"{sum(profile['invocations'].values())} Lambda invocations, "
          f"{sum(profile['seconds'].values()) * 1000:.0f} ms of handler time (in-process, local AWS)")
    print(f"\n{'line':<30}{'ours $':>14}{'Step Functions $':>20}")
    for line in sorted(set(ours) | set(theirs)):
        print(f"{line:<30}{ours.get(line, 0) * n:>14,.2f}{theirs.get(line, 0) * n:>20,.2f}")
    ocr = "OCR (Textract, 1 page)"
    ours_total = sum(v for k, v in ours.items() if k != ocr) * n
    theirs_total = sum(v for k, v in theirs.items() if k != ocr) * n
    print(f"{'TOTAL without OCR':<30}{ours_total:>14,.2f}{theirs_total:>20,.2f}")
    print(f"{'TOTAL with Textract OCR':<30}{ours_total + ours[ocr] * n:>14,.2f}"
          f"{theirs_total + theirs[ocr] * n:>20,.2f}")
    print(f"\nratio ours / Step Functions, without OCR: {ours_total / theirs_total:.2f} (target <= 0.50)")
    in_lambda = 2.0 * ASSUMPTIONS["lambda_memory_gb"] * 4 * prices["lambda_gb_second"] * n  # ~2 s at 2 GB
    print(f"OCR: Textract DetectDocumentText ${prices['textract_detect_document_text_page'] * n:,.0f} per million "
          f"pages; Tesseract in a 2 GB Lambda at ~2 s a page (measured 0.8-3 s here) ${in_lambda:,.0f} "
          "(plus a container image or layer with the engine, and a lower read rate)")
    print("assumptions: " + ", ".join(f"{k}={v}" for k, v in ASSUMPTIONS.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
