"""Provisioners for the template's storage: DynamoDB tables, S3 buckets (CORS, lifecycle, object lock,
notifications, policies) and KMS keys and aliases.

Registered into :data:`devstack.provision_registry.PROVISIONERS` (devstack/provision.py imports this module
for that): each creates its resource in moto with the call CloudFormation would make, and refuses a
property it does not know.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from .provision_registry import Context, Created, UnsupportedResource, provisioner, tags_list
from .template import TemplateError

log = logging.getLogger("devstack")

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
        request["Tags"] = tags_list(props["Tags"])
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
    "ObjectLockEnabled", "ObjectLockConfiguration", "LoggingConfiguration", "NotificationConfiguration"})
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
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags_list(props["Tags"])})
    if "NotificationConfiguration" in props:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_notifications(props["NotificationConfiguration"]))
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


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration as PutBucketNotificationConfiguration takes it.

    Only queue destinations are known here (what the template uses); anything else stops the
    provisioning loudly rather than being skipped as moto's CloudFormation would."""
    unknown = set(config) - {"QueueConfigurations"}
    if unknown:
        raise TemplateError(f"S3 NotificationConfiguration: {', '.join(sorted(unknown))} not provisioned locally")
    queues = []
    for entry in config.get("QueueConfigurations", []):
        queue: dict[str, Any] = {"QueueArn": entry["Queue"], "Events": [entry["Event"]]}
        rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
        if rules:  # moto wants the rule names lower-case, as AWS returns them
            queue["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"].lower(), "Value": r["Value"]}
                                                       for r in rules]}}
        queues.append(queue)
    return {"QueueConfigurations": queues}


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
        request["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags_list(props["Tags"])]
    key = kms.create_key(**request)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return Created(ref=key["KeyId"], attributes={"Arn": key["Arn"], "KeyId": key["KeyId"]})


@provisioner("AWS::KMS::Alias", {"AliasName", "TargetKeyId"})
def _kms_alias(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    context.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return Created(ref=props["AliasName"])
