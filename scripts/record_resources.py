"""Record the resources stack's outputs into .chalice/config.json (the media-query sample's pattern).

    python -m scripts.record_resources --stack-name account-opening-dev-resources --stage dev

Each output becomes an environment variable of the stage (ApplicationsTableName
-> APPLICATIONS_TABLE_NAME), and the stage's IAM policy file is written from
the real ARNs, because Chalice's policy autogen cannot see pynamodb's calls.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import boto3

CONFIG = Path(".chalice/config.json")


def env_name(output_key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output_key).upper()


def policy(outputs: dict[str, str], region: str, account: str, stage: str) -> dict[str, Any]:
    tables = [outputs[k] for k in ("ApplicationsTableName", "HistoryTableName", "IdempotencyTableName",
                                   "ConnectionsTableName")]
    table_arns = [f"arn:aws:dynamodb:{region}:{account}:table/{t}" for t in tables]
    queue_arns = [f"arn:aws:sqs:{region}:{account}:{outputs[k]}"
                  for k in ("AddressCheckQueueName", "AddressCheckDlqName", "SanctionsScreeningQueueName",
                            "SanctionsScreeningDlqName")]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": "arn:aws:logs:*:*:*"},
            {"Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                        "dynamodb:DescribeTable"],
             "Resource": table_arns + [f"{arn}/index/*" for arn in table_arns]},
            {"Effect": "Allow",
             "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams"],
             "Resource": outputs["HistoryStreamArn"]},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{outputs[k]}{suffix}"
                          for k in ("DocumentsBucketName", "ReportsBucketName", "SanctionsBucketName")
                          for suffix in ("", "/*")]},
            {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                           "sqs:SendMessage", "sqs:ChangeMessageVisibility"],
             "Resource": queue_arns},
            {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": outputs["EventsTopicArn"]},
            {"Effect": "Allow", "Action": ["ssm:GetParametersByPath", "ssm:GetParameter"],
             "Resource": f"arn:aws:ssm:{region}:{account}:parameter{outputs['SettingsPath'].rstrip('/')}*"},
            {"Effect": "Allow", "Action": ["execute-api:ManageConnections"],
             "Resource": f"arn:aws:execute-api:{region}:{account}:*/*/*/@connections/*"},
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=VALUE",
                        help="another environment variable for the stage (e.g. WEBSOCKET_DOMAIN=...)")
    args = parser.parse_args()
    session = boto3.session.Session()
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    account = session.client("sts").get_caller_identity()["Account"]
    config = json.loads(CONFIG.read_text())
    stage = config["stages"].setdefault(args.stage, {})
    env = stage.setdefault("environment_variables", {})
    env.update({env_name(k): v for k, v in outputs.items()})
    env.update(dict(item.split("=", 1) for item in args.extra))
    env["APP_STAGE"] = args.stage
    stage["autogen_policy"] = False
    stage["iam_policy_file"] = f"policy-{args.stage}.json"
    CONFIG.write_text(json.dumps(config, indent=2) + "\n")
    policy_path = CONFIG.parent / f"policy-{args.stage}.json"
    policy_path.write_text(json.dumps(policy(outputs, session.region_name, account, args.stage), indent=2) + "\n")
    print(f"recorded {len(outputs)} outputs into {CONFIG} and wrote {policy_path}")


if __name__ == "__main__":
    main()
