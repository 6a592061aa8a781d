"""Provision the resources template into moto, resource type by resource type.

moto's own CloudFormation silently skips Cognito, subscriptions, bucket
notifications and TTL, so the local stack creates every resource itself with
boto3 calls that mirror what CloudFormation would do, and refuses -- loudly,
naming it -- any resource type or property it does not know. The result is
the app's environment: each template Output as an UPPER_SNAKE_CASE variable.

Programmatic use (the API tests do this against an in-process moto server)::

    env = provision("resources.yaml", "t1", boto3.Session(...), endpoint_url)
"""
from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import provision_delivery  # noqa: F401 - registers the delivery provisioners (issue 21)
from .provision_registry import (
    PROVISIONERS,
    REGION,  # noqa: F401 - re-exported: the stack and the tests' moto use it from here
    UPDATERS,
    Context,
    Created,
    UnsupportedResource,
    provisioner,
    updater,
)
from .template import (
    Resolver,
    TemplateError,
    creation_order,
    env_name,
    evaluate_conditions,
    expand_for_each,
    load_template,
    resolve_parameters,
)

log = logging.getLogger("devstack")

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


# Parameters whose deployed value makes no sense locally: the console and the
# tests upload from a browser or client on 127.0.0.1 / localhost, on any port.
LOCAL_PARAMETERS = {"ConsoleOrigins": "http://127.0.0.1:*,http://localhost:*"}


_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm):([^}]+)\}\}")


def resolve_dynamic_references(context: Context, value: Any) -> Any:
    """``{{resolve:secretsmanager:NAME:SecretString:KEY}}`` and ``{{resolve:ssm:NAME}}`` read from the local AWS,
    as CloudFormation reads them from the account at deploy time."""
    if isinstance(value, dict):
        return {key: resolve_dynamic_references(context, item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_dynamic_references(context, item) for item in value]
    if not isinstance(value, str) or "{{resolve:" not in value:
        return value

    def lookup(match: re.Match) -> str:
        service, reference = match.groups()
        if service == "ssm":
            return str(context.client("ssm").get_parameter(Name=reference.split(":")[0])["Parameter"]["Value"])
        name, _, rest = reference.partition(":SecretString")
        secret = context.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        key = rest.lstrip(":").split(":")[0]
        if not key:
            return str(secret)
        try:
            return str(json.loads(secret)[key])
        except (ValueError, KeyError):
            raise TemplateError(f"secret {name} has no JSON key {key!r}") from None

    return _DYNAMIC_REFERENCE.sub(lookup, value)


def _tags_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, Mapping):
        return [{"Key": key, "Value": str(value)} for key, value in tags.items()]
    return list(tags or [])


def _flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- DynamoDB -----------------------------------------------------------------------

@provisioner("AWS::DynamoDB::Table", {
    "TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
    "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification",
    "SSESpecification", "TimeToLiveSpecification", "PointInTimeRecoverySpecification",
    "DeletionProtectionEnabled", "TableClass", "Tags"})
def _dynamodb_table(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("TableName") or context.physical_name(logical_id)
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                "DeletionProtectionEnabled", "TableClass"):
        if key in props:
            request[key] = props[key]
    if "StreamSpecification" in props:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": props["StreamSpecification"]["StreamViewType"]}
    if "SSESpecification" in props:
        sse = props["SSESpecification"]
        request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
        for key in ("SSEType", "KMSMasterKeyId"):
            if key in sse:
                request["SSESpecification"][key] = sse[key]
    if props.get("Tags"):
        request["Tags"] = _tags_list(props["Tags"])
    dynamodb = context.client("dynamodb")
    table = dynamodb.create_table(**request)["TableDescription"]
    if "TimeToLiveSpecification" in props:
        dynamodb.update_time_to_live(TableName=name,
                                     TimeToLiveSpecification=props["TimeToLiveSpecification"])
    if "PointInTimeRecoverySpecification" in props:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": bool(
                props["PointInTimeRecoverySpecification"].get("PointInTimeRecoveryEnabled"))})
    attributes = {"Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Created(ref=name, attributes=attributes)


# --- S3 -----------------------------------------------------------------------------

def _cors_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}
    return {renamed.get(key, key): value for key, value in rule.items()}


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's flattened lifecycle rule -> the S3 API's nested one."""
    supported = {"Id", "Status", "Prefix", "ExpirationInDays",
                 "NoncurrentVersionExpirationInDays", "AbortIncompleteMultipartUpload"}
    unknown = set(rule) - supported
    if unknown:
        raise UnsupportedResource(f"S3 lifecycle rule properties {sorted(unknown)}")
    result: dict[str, Any] = {"Status": rule["Status"],
                              "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        result["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        result["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpirationInDays" in rule:
        result["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        result["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return result


@provisioner("AWS::S3::Bucket", {
    "BucketName", "BucketEncryption", "PublicAccessBlockConfiguration", "OwnershipControls",
    "CorsConfiguration", "VersioningConfiguration", "LifecycleConfiguration", "Tags",
    "ObjectLockEnabled", "ObjectLockConfiguration", "LoggingConfiguration"})
def _s3_bucket(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("BucketName") or context.physical_name(logical_id)
    s3 = context.client("s3")
    create: dict[str, Any] = {"Bucket": name}
    if context.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": context.region}
    if props.get("ObjectLockEnabled"):
        create["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**create)
    if "BucketEncryption" in props:
        rules = [{("ApplyServerSideEncryptionByDefault" if key == "ServerSideEncryptionByDefault"
                   else key): value for key, value in rule.items()}
                 for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        s3.put_bucket_encryption(Bucket=name,
                                 ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "CorsConfiguration" in props:
        rules = [_cors_rule(rule) for rule in props["CorsConfiguration"]["CorsRules"]]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props[
            "VersioningConfiguration"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name,
                                              LifecycleConfiguration={"Rules": rules})
    if "ObjectLockConfiguration" in props:
        s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration=_object_lock(props["ObjectLockConfiguration"]))
    if "LoggingConfiguration" in props:
        logging_config = props["LoggingConfiguration"]
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": logging_config["DestinationBucketName"],
            "TargetPrefix": logging_config.get("LogFilePrefix", "")}})
    if props.get("Tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags_list(props["Tags"])})
    return Created(ref=name, attributes={
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{context.region}.amazonaws.com",
    })


def _object_lock(config: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's Object Lock configuration -> the S3 API's (Days/Years are integers)."""
    result: dict[str, Any] = {"ObjectLockEnabled": config.get("ObjectLockEnabled", "Enabled")}
    retention = config.get("Rule", {}).get("DefaultRetention")
    if retention:
        result["Rule"] = {"DefaultRetention": {
            key: (int(value) if key in ("Days", "Years") else value) for key, value in retention.items()}}
    return result


@provisioner("AWS::S3::BucketPolicy", {"Bucket", "PolicyDocument"})
def _s3_bucket_policy(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    """Applies the policy minus its conditional Deny statements, and says so.

    moto evaluates bucket policies on object requests but ignores Condition,
    so a conditional Deny (TLS only, encryption header) would refuse every
    request -- and locally every request is plain HTTP anyway. The deployed
    policy keeps them (tests/test_resources.py checks the template).
    """
    document = dict(props["PolicyDocument"])
    kept = [s for s in document["Statement"] if not (s.get("Effect") == "Deny" and "Condition" in s)]
    skipped = [s.get("Sid", "?") for s in document["Statement"] if s not in kept]
    if skipped:
        log.info("devstack: %s: not applying conditional Deny statement(s) %s (moto ignores conditions)",
                 logical_id, ", ".join(skipped))
    document["Statement"] = kept
    context.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
    return Created(ref=props["Bucket"])


# --- KMS ----------------------------------------------------------------------------

@provisioner("AWS::KMS::Key", {"Description", "EnableKeyRotation", "KeyPolicy", "KeySpec",
                               "KeyUsage", "Enabled", "PendingWindowInDays", "MultiRegion",
                               "Tags"})
def _kms_key(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    kms = context.client("kms")
    request: dict[str, Any] = {"Policy": json.dumps(props["KeyPolicy"])} if "KeyPolicy" in props else {}
    for key in ("Description", "KeySpec", "KeyUsage", "MultiRegion"):
        if key in props:
            request[key] = props[key]
    if props.get("Tags"):
        request["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags_list(props["Tags"])]
    key = kms.create_key(**request)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return Created(ref=key["KeyId"], attributes={"Arn": key["Arn"], "KeyId": key["KeyId"]})


@provisioner("AWS::KMS::Alias", {"AliasName", "TargetKeyId"})
def _kms_alias(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    context.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return Created(ref=props["AliasName"])


# --- CloudWatch Logs, alarms, dashboards ---------------------------------------------------

@provisioner("AWS::Logs::LogGroup", {"LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"})
def _log_group(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("LogGroupName") or context.physical_name(logical_id)
    logs = context.client("logs")
    request: dict[str, Any] = {"logGroupName": name}
    if "KmsKeyId" in props:
        request["kmsKeyId"] = props["KmsKeyId"]
    if props.get("Tags"):
        request["tags"] = {tag["Key"]: tag["Value"] for tag in _tags_list(props["Tags"])}
    logs.create_log_group(**request)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return Created(ref=name, attributes={"Arn": context.arn("logs", f"log-group:{name}:*")})


_ALARM_PROPERTIES = {
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId", "Tags"}


@provisioner("AWS::CloudWatch::Alarm", _ALARM_PROPERTIES)
def _alarm(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in _ALARM_PROPERTIES & set(props) if key != "Tags"}
    request.setdefault("AlarmName", context.physical_name(logical_id))
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in request:
            request[key] = int(request[key])
    if "Threshold" in request:
        request["Threshold"] = float(request["Threshold"])
    for metric in request.get("Metrics", []):
        if "MetricStat" in metric:
            metric["MetricStat"]["Period"] = int(metric["MetricStat"]["Period"])
    if props.get("Tags"):
        request["Tags"] = _tags_list(props["Tags"])
    context.client("cloudwatch").put_metric_alarm(**request)
    return Created(ref=request["AlarmName"],
                   attributes={"Arn": context.arn("cloudwatch", f"alarm:{request['AlarmName']}")})


@provisioner("AWS::CloudWatch::Dashboard", {"DashboardName", "DashboardBody"})
def _dashboard(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("DashboardName") or context.physical_name(logical_id)
    json.loads(props["DashboardBody"])  # CloudFormation refuses a body that is not JSON
    context.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
    return Created(ref=name)


# --- SQS ----------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = {
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "RedriveAllowPolicy",
    "SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "FifoQueue",
    "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}


@provisioner("AWS::SQS::Queue", _QUEUE_ATTRIBUTES | {"QueueName", "Tags"})
def _sqs_queue(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("QueueName") or context.physical_name(logical_id)
    if props.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {}
    for key in _QUEUE_ATTRIBUTES & set(props):
        value = props[key]
        attributes[key] = json.dumps(value) if isinstance(value, dict) else _flag(value)
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if props.get("Tags"):
        request["tags"] = {tag["Key"]: tag["Value"] for tag in _tags_list(props["Tags"])}
    sqs = context.client("sqs")
    url = sqs.create_queue(**request)["QueueUrl"]
    arn = context.arn("sqs", name)
    return Created(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


@provisioner("AWS::SQS::QueuePolicy", {"Queues", "PolicyDocument"})
def _sqs_queue_policy(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    policy = json.dumps(props["PolicyDocument"])
    for url in props["Queues"]:
        context.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    return Created(ref=context.physical_name(logical_id))


# --- SNS ----------------------------------------------------------------------------

_SUBSCRIPTION_ATTRIBUTES = {"RawMessageDelivery", "FilterPolicy", "FilterPolicyScope",
                            "RedrivePolicy", "DeliveryPolicy"}


def _subscribe(context: Context, topic_arn: str, props: Mapping[str, Any]) -> str:
    attributes = {}
    for key in _SUBSCRIPTION_ATTRIBUTES & set(props):
        value = props[key]
        attributes[key] = json.dumps(value) if isinstance(value, dict) else _flag(value)
    return context.client("sns").subscribe(
        TopicArn=topic_arn, Protocol=props["Protocol"], Endpoint=props["Endpoint"],
        Attributes=attributes, ReturnSubscriptionArn=True)["SubscriptionArn"]


@provisioner("AWS::SNS::Topic", {"TopicName", "DisplayName", "FifoTopic",
                                 "ContentBasedDeduplication", "KmsMasterKeyId",
                                 "Subscription", "Tags"})
def _sns_topic(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("TopicName") or context.physical_name(logical_id)
    if props.get("FifoTopic") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _flag(props[key]) for key in
                  ("DisplayName", "FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId")
                  if key in props}
    request: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if props.get("Tags"):
        request["Tags"] = _tags_list(props["Tags"])
    arn = context.client("sns").create_topic(**request)["TopicArn"]
    for subscription in props.get("Subscription", []):
        _subscribe(context, arn, subscription)
    return Created(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


@provisioner("AWS::SNS::TopicPolicy", {"Topics", "PolicyDocument"})
def _sns_topic_policy(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    policy = json.dumps(props["PolicyDocument"])
    for arn in props["Topics"]:
        context.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                                   AttributeValue=policy)
    return Created(ref=context.physical_name(logical_id))


@provisioner("AWS::SNS::Subscription",
             _SUBSCRIPTION_ATTRIBUTES | {"TopicArn", "Protocol", "Endpoint", "Region"})
def _sns_subscription(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    arn = _subscribe(context, props["TopicArn"], props)
    return Created(ref=arn, attributes={"Arn": arn})


# --- Cognito ------------------------------------------------------------------------

_USER_POOL_PROPERTIES = {
    "Policies", "UsernameAttributes", "AliasAttributes", "AutoVerifiedAttributes", "Schema",
    "MfaConfiguration", "AdminCreateUserConfig", "AccountRecoverySetting",
    "UsernameConfiguration", "EmailConfiguration", "VerificationMessageTemplate",
    "DeletionProtection", "UserPoolTags", "UserAttributeUpdateSettings", "LambdaConfig", "UserPoolTier"}


@provisioner("AWS::Cognito::UserPool", _USER_POOL_PROPERTIES | {"UserPoolName", "EnabledMfas"})
def _cognito_user_pool(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in _USER_POOL_PROPERTIES & set(props)}
    request["PoolName"] = props.get("UserPoolName") or context.physical_name(logical_id)
    cognito = context.client("cognito-idp")
    pool = cognito.create_user_pool(**request)["UserPool"]
    mfas = set(props.get("EnabledMfas", []))
    if props.get("MfaConfiguration", "OFF") != "OFF":
        unknown = mfas - {"SOFTWARE_TOKEN_MFA"}
        if unknown or not mfas:
            raise UnsupportedResource(f"{logical_id}: devstack supports EnabledMfas [SOFTWARE_TOKEN_MFA] only")
        cognito.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration=props["MfaConfiguration"],
                                         SoftwareTokenMfaConfiguration={"Enabled": True})
    provider = f"cognito-idp.{context.region}.amazonaws.com/{pool['Id']}"
    return Created(ref=pool["Id"], attributes={
        "Arn": pool["Arn"], "UserPoolId": pool["Id"],
        "ProviderName": provider, "ProviderURL": f"https://{provider}"})


@updater("AWS::Cognito::UserPool")
def _update_user_pool(context: Context, logical_id: str, props: dict[str, Any], created: Created) -> Created:
    """UpdateUserPool with every property, as CloudFormation sends it (what is left out is reset)."""
    cognito = context.client("cognito-idp")
    before = cognito.describe_user_pool(UserPoolId=created.ref)["UserPool"]
    known = {attribute["Name"].removeprefix("custom:") for attribute in before.get("SchemaAttributes", [])}
    added = [attribute for attribute in props.get("Schema", []) if attribute["Name"] not in known]
    if added:
        cognito.add_custom_attributes(UserPoolId=created.ref, CustomAttributes=added)
    request = {key: props[key] for key in _USER_POOL_PROPERTIES & set(props)
               if key not in ("Schema", "UsernameAttributes", "AliasAttributes", "UsernameConfiguration")}
    request["LambdaConfig"] = props.get("LambdaConfig", {})
    cognito.update_user_pool(UserPoolId=created.ref, **request)
    return created


_CLIENT_PROPERTIES = {
    "UserPoolId", "GenerateSecret", "ExplicitAuthFlows", "AccessTokenValidity",
    "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "AllowedOAuthFlows",
    "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient", "CallbackURLs", "LogoutURLs",
    "DefaultRedirectURI", "SupportedIdentityProviders", "PreventUserExistenceErrors",
    "ReadAttributes", "WriteAttributes", "EnableTokenRevocation", "AuthSessionValidity",
    "EnablePropagateAdditionalUserContextData"}


@provisioner("AWS::Cognito::UserPoolClient", _CLIENT_PROPERTIES | {"ClientName"})
def _cognito_client(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = _client_request(props)
    request["ClientName"] = props.get("ClientName") or context.physical_name(logical_id)
    client = context.client("cognito-idp").create_user_pool_client(**request)["UserPoolClient"]
    attributes = {"ClientId": client["ClientId"], "Name": client["ClientName"], "UserPoolId": props["UserPoolId"]}
    if client.get("ClientSecret"):
        attributes["ClientSecret"] = client["ClientSecret"]
    return Created(ref=client["ClientId"], attributes=attributes)


def _client_request(props: dict[str, Any]) -> dict[str, Any]:
    request = {key: props[key] for key in _CLIENT_PROPERTIES & set(props)}
    for key in ("AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity", "AuthSessionValidity"):
        if key in request:
            request[key] = int(request[key])
    for key in ("GenerateSecret", "AllowedOAuthFlowsUserPoolClient", "EnableTokenRevocation",
                "EnablePropagateAdditionalUserContextData"):
        if key in request and not isinstance(request[key], bool):
            request[key] = str(request[key]).lower() == "true"
    return request


@updater("AWS::Cognito::UserPoolClient")
def _update_client(context: Context, logical_id: str, props: dict[str, Any], created: Created) -> Created:
    request = {key: value for key, value in _client_request(props).items() if key not in ("UserPoolId",
                                                                                         "GenerateSecret")}
    context.client("cognito-idp").update_user_pool_client(
        UserPoolId=props["UserPoolId"], ClientId=created.ref,
        ClientName=props.get("ClientName") or context.physical_name(logical_id), **request)
    return created


@provisioner("AWS::Cognito::UserPoolGroup",
             {"GroupName", "UserPoolId", "Description", "Precedence", "RoleArn"})
def _cognito_group(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = dict(props)
    request.setdefault("GroupName", context.physical_name(logical_id))
    context.client("cognito-idp").create_group(**request)
    return Created(ref=request["GroupName"], attributes={"UserPoolId": request["UserPoolId"]})


# --- Cognito identity pools and IAM roles (issue 17: the liveness check's streaming credentials) -------

_IDENTITY_POOL_PROPERTIES = {
    "AllowUnauthenticatedIdentities", "AllowClassicFlow", "SupportedLoginProviders",
    "DeveloperProviderName", "OpenIdConnectProviderARNs", "CognitoIdentityProviders",
    "SamlProviderARNs", "IdentityPoolTags"}


@provisioner("AWS::Cognito::IdentityPool", _IDENTITY_POOL_PROPERTIES | {"IdentityPoolName"})
def _cognito_identity_pool(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in _IDENTITY_POOL_PROPERTIES & set(props)}
    request["AllowUnauthenticatedIdentities"] = bool(props.get("AllowUnauthenticatedIdentities", False))
    request["IdentityPoolName"] = props.get("IdentityPoolName") or context.physical_name(logical_id).replace("-", "_")
    pool = context.client("cognito-identity").create_identity_pool(**request)
    return Created(ref=pool["IdentityPoolId"], attributes={"Name": pool["IdentityPoolName"]})


@provisioner("AWS::Cognito::IdentityPoolRoleAttachment", {"IdentityPoolId", "Roles", "RoleMappings"})
def _cognito_identity_pool_roles(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    """moto's Cognito Identity has no SetIdentityPoolRoles. Nothing local asks the pool for credentials (the
    local liveness stand-in takes the frames over plain HTTP), so the attachment is recorded, not made."""
    log.info("devstack: %s: identity pool roles not attached locally (moto has no SetIdentityPoolRoles; "
             "only AWS's Rekognition streaming uses them)", logical_id)
    return Created(ref=f"{props['IdentityPoolId']}-roles")


@provisioner("AWS::IAM::Role", {"RoleName", "AssumeRolePolicyDocument", "Policies", "Description",
                                "MaxSessionDuration", "Path", "ManagedPolicyArns", "Tags"})
def _iam_role(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    iam = context.client("iam")
    name = props.get("RoleName") or context.physical_name(logical_id)[:64]
    request: dict[str, Any] = {"RoleName": name,
                               "AssumeRolePolicyDocument": json.dumps(props["AssumeRolePolicyDocument"])}
    for key in ("Description", "Path"):
        if key in props:
            request[key] = props[key]
    if "MaxSessionDuration" in props:
        request["MaxSessionDuration"] = int(props["MaxSessionDuration"])
    if props.get("Tags"):
        request["Tags"] = _tags_list(props["Tags"])
    role = iam.create_role(**request)["Role"]
    for policy in props.get("Policies", []):
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    for arn in props.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return Created(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})


# --- Rekognition ----------------------------------------------------------------------

@provisioner("AWS::Rekognition::Collection", {"CollectionId", "Tags"})
def _rekognition_collection(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    """moto keeps no face collections: the local Rekognition (face-local's devstack/rekognition, reached at
    AWS_ENDPOINT_URL_REKOGNITION, the variable the app's client honours too) creates it. Until that endpoint
    is configured when provisioning, nothing is created and the log says so: the app's face check then has
    no collection to search, which only the face tests need."""
    collection_id = props["CollectionId"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL_REKOGNITION")
    if endpoint:
        rekognition = context.session.client("rekognition", endpoint_url=endpoint)
        try:
            rekognition.create_collection(CollectionId=collection_id)
        except rekognition.exceptions.ResourceAlreadyExistsException:
            pass
    else:
        log.info("devstack: %s: no local Rekognition endpoint (AWS_ENDPOINT_URL_REKOGNITION): collection %s "
                 "not created", logical_id, collection_id)
    return Created(ref=collection_id, attributes={"Arn": context.arn("rekognition", f"collection/{collection_id}")})


# --- SSM ----------------------------------------------------------------------------

@provisioner("AWS::SSM::Parameter",
             {"Name", "Type", "Value", "Description", "AllowedPattern", "Tier", "DataType",
              "Tags"})
def _ssm_parameter(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    if props["Type"] not in ("String", "StringList"):
        raise UnsupportedResource(
            f"{logical_id}: CloudFormation cannot create SSM parameters of type {props['Type']}")
    request = {key: props[key] for key in ("Type", "Description", "AllowedPattern", "Tier",
                                           "DataType") if key in props}
    request["Name"] = props.get("Name") or context.physical_name(logical_id)
    request["Value"] = str(props["Value"])
    if props.get("Tags"):
        request["Tags"] = _tags_list(props["Tags"])
    context.client("ssm").put_parameter(**request)
    return Created(ref=request["Name"], attributes={"Type": props["Type"],
                                                    "Value": request["Value"]})


# --- the whole template ------------------------------------------------------------------

class Stack:
    """Creates a template's resources in dependency order and evaluates its Outputs."""

    def __init__(self, template: Mapping[str, Any], context: Context,
                 parameters: Mapping[str, Any]) -> None:
        self.context = context
        self.created: dict[str, Created] = {}
        self.rebind(template, parameters)

    def rebind(self, template: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
        """The template and parameters to resolve against (an update keeps what was created)."""
        context = self.context
        pseudo = {
            "AWS::Region": context.region, "AWS::AccountId": context.account_id,
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"{context.name_prefix}-{context.stage}-resources",
        }
        self.conditions = evaluate_conditions(template, parameters, pseudo)
        resources = {logical_id: resource for logical_id, resource in template["Resources"].items()
                     if self._wanted(logical_id, resource)}
        outputs = {key: output for key, output in template.get("Outputs", {}).items()
                   if self._wanted(key, output)}
        self.template = {**template, "Resources": resources, "Outputs": outputs}
        self.resolver = Resolver(parameters, pseudo, self._ref, self._get_att, self.conditions)

    def _wanted(self, logical_id: str, resource: Any) -> bool:
        name = resource.get("Condition") if isinstance(resource, dict) else None
        if name is None:
            return True
        if name not in self.conditions:
            raise TemplateError(f"{logical_id}: unknown condition {name}")
        return self.conditions[name]

    def _ref(self, logical_id: str) -> str:
        if logical_id not in self.created:
            raise TemplateError(f"Ref to unknown resource or parameter {logical_id}")
        return self.created[logical_id].ref

    def _get_att(self, logical_id: str, attribute: str) -> str:
        created = self.created.get(logical_id)
        if created is None:
            raise TemplateError(f"GetAtt of unknown resource {logical_id}")
        if attribute not in created.attributes:
            kind = self.template["Resources"][logical_id]["Type"]
            raise UnsupportedResource(
                f"GetAtt {logical_id}.{attribute}: devstack does not know that attribute "
                f"of {kind} (known: {sorted(created.attributes)})")
        return created.attributes[attribute]

    def check_types(self) -> None:
        """Fail before creating anything if any resource type is unknown."""
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] not in PROVISIONERS:
                raise UnsupportedResource(
                    f"{logical_id}: resource type {resource['Type']} is not supported by "
                    f"devstack; add a provisioner to devstack/provision.py")

    def create_all(self) -> None:
        self.create_missing()

    def create_missing(self, on_created: Callable[[str, str, str], None] | None = None,
                       failing: Callable[[str], str | None] | None = None) -> None:
        """Create every resource not created yet, in dependency order (all of them the first time).

        ``on_created(logical_id, type, ref)`` hears of each; ``failing(logical_id)`` may return a
        reason to fail that resource instead (the deploy rehearsal's failed create).
        """
        self.check_types()
        resources = self.template["Resources"]
        for logical_id in creation_order(resources):
            if logical_id in self.created:
                continue
            resource = resources[logical_id]
            reason = failing(logical_id) if failing else None
            if reason:
                raise UnsupportedResource(f"{logical_id} ({resource['Type']}): {reason}")
            props = resolve_dynamic_references(self.context,
                                               self.resolver.resolve(resource.get("Properties", {})) or {})
            self.created[logical_id] = PROVISIONERS[resource["Type"]](
                self.context, logical_id, props)
            self.created[logical_id].properties = props
            log.debug("created %s (%s): %s", logical_id, resource["Type"],
                      self.created[logical_id].ref)
            if on_created:
                on_created(logical_id, resource["Type"], self.created[logical_id].ref)

    def update_changed(self, on_updated: Callable[[str, str, str], None] | None = None) -> list[str]:
        """Apply changed properties to what was created before, for the types with an updater (in
        dependency order); returns the logical ids of changed resources of types without one."""
        unchanged: list[str] = []
        resources = self.template["Resources"]
        for logical_id in creation_order(resources):
            created = self.created.get(logical_id)
            if created is None or created.properties is None:
                continue
            resource = resources[logical_id]
            props = resolve_dynamic_references(self.context,
                                               self.resolver.resolve(resource.get("Properties", {})) or {})
            if props == created.properties:
                continue
            update = UPDATERS.get(resource["Type"])
            if update is None:
                unchanged.append(logical_id)
                continue
            self.created[logical_id] = update(self.context, logical_id, props, created)
            self.created[logical_id].properties = props
            if on_updated:
                on_updated(logical_id, resource["Type"], self.created[logical_id].ref)
        return unchanged

    def outputs(self) -> dict[str, str]:
        return {key: str(self.resolver.resolve(output["Value"]))
                for key, output in self.template.get("Outputs", {}).items()}


def prepare_template(template: Mapping[str, Any],
                     parameters: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``Fn::ForEach`` expanded with the parameters' values: (the template as created, the values)."""
    values = dict(parameters)
    expanded = {**template, "Resources": expand_for_each(template["Resources"], values),
                "Outputs": expand_for_each(template.get("Outputs", {}), values)}
    return expanded, values


def _local_jwks_url(issuer_or_jwks: str, endpoint_url: str) -> str:
    """moto serves a pool's JWKS at ``<endpoint>/<pool-id>/.well-known/jwks.json``."""
    pool_id = urlsplit(issuer_or_jwks).path.strip("/").split("/")[0]
    return f"{endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"


def provision(template_path: str | Path, stage: str, session: Any,
              endpoint_url: str | None = None, *, name_prefix: str = "account-opening",
              parameters: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Create every resource of the template in the (moto) account behind ``session``.

    Returns the app's environment: every template Output as an UPPER_SNAKE_CASE
    variable, with COGNITO_JWKS_URL pointed at moto's JWKS endpoint, plus
    APP_STAGE, AWS_ENDPOINT_URL (when given), AWS_REGION and AWS_DEFAULT_REGION.
    Resources are named ``<name_prefix>-<stage>-<logicalid>``, so provisioning two
    stages into one moto server does not collide; provisioning the same stage
    twice does (reset moto with ``POST <endpoint>/moto-api/reset`` first).
    """
    if not (endpoint_url or os.environ.get("AWS_ENDPOINT_URL")):
        # Real accounts get this template through CloudFormation, never through here.
        raise ValueError("provision() creates resources in a local AWS (moto) only: pass "
                         "endpoint_url or set AWS_ENDPOINT_URL")
    template = load_template(template_path)
    declared = template.get("Parameters", {})
    given = {key: value for key, value in {"Stage": stage, **LOCAL_PARAMETERS}.items() if key in declared}
    template, values = prepare_template(template, resolve_parameters(template, {**given, **(parameters or {})}))
    sts = session.client("sts", endpoint_url=endpoint_url)
    account_id = sts.get_caller_identity()["Account"]
    context = Context(session, endpoint_url, stage, name_prefix, account_id)
    stack = Stack(template, context, values)
    stack.create_all()
    env = {env_name(key): value for key, value in stack.outputs().items()}
    for key in [key for key in env if key.endswith("COGNITO_JWKS_URL")]:
        if endpoint_url:
            env[key] = _local_jwks_url(env[key], endpoint_url)
    env["APP_STAGE"] = stage
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = context.region
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env
