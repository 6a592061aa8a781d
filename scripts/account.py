"""Account-wide settings a stage needs: API Gateway's CloudWatch Logs role (REST access logs).

API Gateway writes a REST stage's access logs with one role per account and
region (``apigateway get-account``: ``cloudwatchRoleArn``). Without it,
setting a stage's access log destination fails ("CloudWatch Logs role ARN must
be set in account settings to enable logging"). It is shared by every API of
the account, so it is not part of a stage's stack (a second stack owning
``AWS::ApiGateway::Account`` would fight over it): the deploy checks it and,
when none is set, creates ``ROLE_NAME`` with the rights of AWS's managed policy for
exactly this (inline) and sets it -- or, with ``--no-account-changes``, stops and says what to do.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ROLE_NAME = "apigateway-cloudwatch-logs"
MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# That managed policy's actions, inline (the same rights; no dependency on a policy some partitions lack).
LOGS_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Resource": "*",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
               "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"]}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                 "Principal": {"Service": "apigateway.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


class AccountSettingMissing(RuntimeError):
    """An account-wide setting the stage needs is missing or wrong; the message says what to do."""


def ensure_apigateway_logging_role(apigateway: Any, iam: Any, *, may_change: bool,
                                   out: Callable[[str], None] = print) -> str:
    """The account's API Gateway CloudWatch role ARN, checked (and made when none is set and allowed)."""
    arn = apigateway.get_account().get("cloudwatchRoleArn")
    if arn:
        name = arn.rsplit("/", 1)[-1]
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            raise AccountSettingMissing(
                f"API Gateway's CloudWatch Logs role is set to {arn}, which does not exist: REST access logs "
                f"cannot be written. Create that role (trusting apigateway.amazonaws.com, with {MANAGED_POLICY}) "
                "or clear the setting and run the deploy again without --no-account-changes.") from None
        trust = role.get("AssumeRolePolicyDocument")
        trust = json.loads(trust) if isinstance(trust, str) else trust or {}
        principals = json.dumps(trust.get("Statement", []))
        if "apigateway.amazonaws.com" not in principals:
            raise AccountSettingMissing(
                f"API Gateway's CloudWatch Logs role {arn} does not trust apigateway.amazonaws.com: add it to the "
                "role's trust policy.")
        return str(arn)
    if not may_change:
        raise AccountSettingMissing(
            "this account has no API Gateway CloudWatch Logs role (apigateway get-account: cloudwatchRoleArn), "
            f"which REST access logging needs. Create a role trusting apigateway.amazonaws.com with {MANAGED_POLICY} "
            "and set it (apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=ARN), "
            "or run the deploy without --no-account-changes to have it done.")
    try:
        role = iam.get_role(RoleName=ROLE_NAME)["Role"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST),
                               Description="API Gateway writes access and execution logs (account-wide)",
                               Tags=[{"Key": "managed-by", "Value": "account-opening scripts/deploy.py"}])["Role"]
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="push-to-cloudwatch-logs",
                            PolicyDocument=json.dumps(LOGS_POLICY))
    apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                                "value": role["Arn"]}])
    out(f"account: API Gateway's CloudWatch Logs role set to {role['Arn']} (it had none; account-wide)")
    return str(role["Arn"])
