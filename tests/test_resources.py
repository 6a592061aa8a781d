"""The resources template is hardened, and the local stack really provisions the hardening.

Checked two ways: on the template itself (what CloudFormation would get) and
with describe calls against the moto server the suite already provisioned from
it (stage ``test``), so a property the local stack silently dropped fails here.
"""
from __future__ import annotations

import json

import boto3
import pytest

from devstack.template import expand_for_each, load_template, resolve_parameters
from tests.support.aws import ROOT, STAGE

TEMPLATE = ROOT / "resources.yaml"


@pytest.fixture(scope="module")
def template():
    loaded = load_template(TEMPLATE)
    values = resolve_parameters(loaded, {})
    return {**loaded, "Resources": expand_for_each(loaded["Resources"], values)}


@pytest.fixture(scope="module")
def aws():
    import os

    endpoint = os.environ["MOTO_SERVER"]
    return lambda service: boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def env():
    import os

    return os.environ


def of_type(template, kind):
    return {logical: resource for logical, resource in template["Resources"].items() if resource["Type"] == kind}


# --- lint ------------------------------------------------------------------------------------

def lint_errors(path) -> list[str]:
    """cfn-lint's errors (E rules) for a template; warnings are advice, not failures."""
    from cfnlint.api import lint_file

    return [f"{match.rule.id} {match.message} ({match.linenumber})" for match in lint_file(path)
            if match.rule.id.startswith("E")]


def test_cfn_lint_finds_no_errors_in_the_resources_template():
    assert lint_errors(TEMPLATE) == []


# --- the template ------------------------------------------------------------------------------

def test_stateful_resources_are_retained_when_the_stack_goes(template):
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool", "AWS::KMS::Key"):
        for logical, resource in of_type(template, kind).items():
            assert resource.get("DeletionPolicy") == "Retain", logical
            assert resource.get("UpdateReplacePolicy") == "Retain", logical


def test_every_handler_has_errors_and_throttles_alarms(template):
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    handlers = resolve_parameters(load_template(TEMPLATE), {})["Handlers"]
    for handler in handlers:
        key = handler.replace("_", "")
        assert f"ErrorsAlarm{key}" in alarms and f"ThrottlesAlarm{key}" in alarms, handler
    assert {"RestFunctionErrorsAlarm", "RestFunctionThrottlesAlarm", "RestApi5xxRateAlarm",
            "OutboxIteratorAgeAlarm", "ReviewSlaBreachAlarm", "UnreadableDocumentRateAlarm",
            "SanctionsListRefusedAlarm"} <= set(alarms)


def test_every_dead_letter_queue_has_a_depth_alarm(template):
    queues = of_type(template, "AWS::SQS::Queue")
    dlqs = {name for name in queues if name.endswith("DLQ")}
    assert dlqs == {"AddressCheckDLQ", "DocumentEventsDLQ", "HistoryStreamDLQ"} | (dlqs - {
        "AddressCheckDLQ", "DocumentEventsDLQ", "HistoryStreamDLQ"})
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for dlq in dlqs:
        assert f"{dlq}DepthAlarm" in alarms, dlq


# --- what the local stack provisioned -------------------------------------------------------------

def test_bucket_policies_deny_plain_http_other_encryption_and_other_prefixes(template):
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    policies = {props["Properties"]["Bucket"]["Ref"]: props["Properties"]["PolicyDocument"]["Statement"]
                for props in of_type(template, "AWS::S3::BucketPolicy").values()}
    assert set(policies) == set(of_type(template, "AWS::S3::Bucket"))
    for bucket, statements in policies.items():
        assert any(s["Effect"] == "Deny" and s["Condition"] == tls_only for s in statements), bucket
    for bucket, prefix in (("DocumentsBucket", "applications/"), ("ReportsBucket", "reports/")):
        by_sid = {s["Sid"]: s for s in policies[bucket]}
        assert by_sid["DenyOtherEncryption"]["Condition"] == {
            "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}
        assert by_sid["DenyOutOfPrefix"]["NotResource"] == {"Fn::Sub": f"${{{bucket}.Arn}}/{prefix}*"}


def test_buckets_block_public_access_are_versioned_and_logged(aws, env):
    s3 = aws("s3")
    logs_bucket = f"account-opening-{STAGE}-accesslogsbucket"
    for bucket in (env["DOCUMENTS_BUCKET_NAME"], env["REPORTS_BUCKET_NAME"], logs_bucket):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, bucket
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", bucket
    for bucket in (env["DOCUMENTS_BUCKET_NAME"], env["REPORTS_BUCKET_NAME"]):
        logging_config = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert logging_config["TargetBucket"] == logs_bucket


def test_data_buckets_use_the_customer_managed_key(aws, env):
    s3 = aws("s3")
    for bucket in (env["DOCUMENTS_BUCKET_NAME"], env["REPORTS_BUCKET_NAME"], env["SANCTIONS_BUCKET_NAME"]):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                              "KMSMasterKeyID": env["DATA_KEY_ARN"]}


def test_documents_are_locked_in_governance_mode_for_longer_than_any_retention_rule(aws, env):
    """The lock (from the upload) outlasts approved applications' AML retention (from the approval) by a
    year of review, so the evidence an approval rested on cannot be deleted early by anyone but the purge
    (the only role that may bypass governance mode), which also removes rejected documents after 90 days."""
    from chalicelib.domain.policy import Policy

    lock = aws("s3").get_object_lock_configuration(Bucket=env["DOCUMENTS_BUCKET_NAME"])["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention.get("Years", 0)) == ("GOVERNANCE", 0)
    policy = Policy()
    assert retention["Days"] >= policy.approved_document_retention_days + 365 > policy.document_retention_days
    parameters = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for page in aws("ssm").get_paginator(
        "get_parameters_by_path").paginate(Path=env["SETTINGS_PATH"]) for p in page["Parameters"]}
    assert retention["Days"] >= int(parameters["approved_document_retention_days"]) + 365


def test_documents_cors_is_limited_to_the_console_origins(aws, env):
    rules = aws("s3").get_bucket_cors(Bucket=env["DOCUMENTS_BUCKET_NAME"])["CORSRules"]
    origins = {origin for rule in rules for origin in rule["AllowedOrigins"]}
    assert "*" not in origins
    console = env["DEPLOY_CONSOLE_URL"].removesuffix("/console")  # issue 21: the console's own (CloudFront) origin
    assert origins == {console, "http://127.0.0.1:*", "http://localhost:*"}  # + the local stack's


def test_tables_are_kms_encrypted_protected_and_recoverable(aws, env):
    dynamodb = aws("dynamodb")
    for variable in ("APPLICATIONS_TABLE_NAME", "HISTORY_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME",
                     "CONNECTIONS_TABLE_NAME"):
        table = dynamodb.describe_table(TableName=env[variable])["Table"]
        assert table["DeletionProtectionEnabled"] is True, variable
        assert table["SSEDescription"]["SSEType"] == "KMS", variable
        assert table["SSEDescription"]["KMSMasterKeyArn"].endswith(env["DATA_KEY_ARN"].split("/")[-1]), variable
        backups = dynamodb.describe_continuous_backups(TableName=env[variable])["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", variable


def test_queues_and_topics_are_kms_encrypted_and_tls_only(aws, env):
    sqs, sns = aws("sqs"), aws("sns")
    key_id = env["DATA_KEY_ARN"].split("/")[-1]
    queue_names = [env["ADDRESS_CHECK_QUEUE_NAME"], env["ADDRESS_CHECK_DLQ_NAME"],
                   env["DOCUMENT_EVENTS_DLQ_ARN"].split(":")[-1], env["HISTORY_STREAM_DLQ_ARN"].split(":")[-1],
                   env["SANCTIONS_SCREENING_QUEUE_NAME"], env["SANCTIONS_SCREENING_DLQ_NAME"]]
    for name in queue_names:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["KmsMasterKeyId"] == key_id, name
        statements = json.loads(attributes["Policy"])["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements), name
    for variable in ("EVENTS_TOPIC_ARN", "ESCALATIONS_TOPIC_ARN", "ALARMS_TOPIC_ARN"):
        attributes = sns.get_topic_attributes(TopicArn=env[variable])["Attributes"]
        assert attributes["KmsMasterKeyId"] == key_id, variable
        statements = json.loads(attributes["Policy"])["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements), variable


def test_the_key_rotates(aws, env):
    assert aws("kms").get_key_rotation_status(KeyId=env["DATA_KEY_ARN"])["KeyRotationEnabled"] is True


def test_staff_have_their_own_invite_only_pool_with_mfa(aws, env):
    cognito = aws("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=env["STAFF_USER_POOL_ID"])["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON"
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=env["STAFF_USER_POOL_ID"])
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=env["STAFF_USER_POOL_ID"])["Groups"]}
    assert groups == {"reviewers", "operators"}
    assert env["STAFF_USER_POOL_ID"] != env["USER_POOL_ID"]


def test_the_applicants_pool_has_no_staff_groups_and_lets_applicants_sign_up(template):
    """Staff rights exist only in StaffUserPool: no group of any kind is declared in the customer pool."""
    groups = of_type(template, "AWS::Cognito::UserPoolGroup")
    assert {g["Properties"]["UserPoolId"]["Ref"] for g in groups.values()} == {"StaffUserPool"}
    assert {g["Properties"]["GroupName"] for g in groups.values()} == {"reviewers", "operators"}
    customers = template["Resources"]["UserPool"]["Properties"]
    assert not customers.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False)


def test_both_pools_hide_whether_a_user_exists(aws, env):
    cognito = aws("cognito-idp")
    for pool, client in ((env["USER_POOL_ID"], env["USER_POOL_CLIENT_ID"]),
                         (env["STAFF_USER_POOL_ID"], env["STAFF_USER_POOL_CLIENT_ID"])):
        described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"]
        assert described["PreventUserExistenceErrors"] == "ENABLED"


def test_access_log_groups_keep_logs_for_a_year_encrypted(aws, env):
    logs = aws("logs")
    for variable in ("REST_ACCESS_LOG_GROUP_ARN", "WEBSOCKET_ACCESS_LOG_GROUP_ARN"):
        name = env[variable].split(":log-group:")[1].removesuffix(":*")
        group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
        assert group["retentionInDays"] == 365
        assert group["kmsKeyId"] == env["DATA_KEY_ARN"]


def test_alarms_exist_and_notify_the_right_people(aws, env):
    cloudwatch = aws("cloudwatch")
    stage = STAGE
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(
        AlarmNamePrefix=f"account-opening-{stage}-")["MetricAlarms"]}
    assert alarms[f"account-opening-{stage}-check_address-errors"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": f"account-opening-{stage}-check_address"}]
    assert env["ESCALATIONS_TOPIC_ARN"] in alarms[f"account-opening-{stage}-review-sla-breached"]["AlarmActions"]
    assert {m["Id"] for m in alarms[f"account-opening-{stage}-rest-5xx-rate"]["Metrics"]} == {
        "rate", "errors", "requests"}
    for alarm in alarms.values():
        assert env["ALARMS_TOPIC_ARN"] in alarm["AlarmActions"], alarm["AlarmName"]
    refused = alarms[f"account-opening-{stage}-sanctions-list-refused"]  # the refresh's refusal metric
    assert (refused["Namespace"], refused["MetricName"]) == ("AccountOpening", "SanctionsListRefused")
    assert refused["Dimensions"] == [{"Name": "service", "Value": "account-opening-svc"}]
    dlq_alarm = alarms[f"account-opening-{stage}-AddressCheckDLQ-not-empty"]
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": env["ADDRESS_CHECK_DLQ_NAME"]}]
    body = json.loads(cloudwatch.get_dashboard(DashboardName=f"account-opening-{stage}")["DashboardBody"])
    assert f"account-opening-{stage}-review-sla-breached" in json.dumps(body)


def test_a_locked_document_version_is_deleted_only_with_the_governance_bypass(aws, env):
    """What the lock means: deleting a version fails without the bypass only the purge's role may use."""
    import uuid

    import botocore.exceptions

    s3 = aws("s3")
    bucket, key = env["DOCUMENTS_BUCKET_NAME"], f"lock-test/{uuid.uuid4()}"
    version = s3.put_object(Bucket=bucket, Key=key, Body=b"evidence")["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    s3.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)
