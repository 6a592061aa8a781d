"""Deleting what devstack provisioned, type by type (the rehearsal's stack rollback and deletion).

CloudFormation deletes a stack's resources when a create rolls back or the
stack is deleted, keeping those with ``DeletionPolicy: Retain``. The deploy
rehearsal's stand-in (:mod:`devstack.cloudformation`) does the same with these
deleters; a type without one is reported as skipped, never silently kept.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("devstack")

Deleter = Callable[[Any, Any], None]  # (Context, Created)
DELETERS: dict[str, Deleter] = {}


def deleter(*resource_types: str) -> Callable[[Deleter], Deleter]:
    def register(function: Deleter) -> Deleter:
        for resource_type in resource_types:
            DELETERS[resource_type] = function
        return function

    return register


def delete_resource(context: Any, resource_type: str, created: Any) -> bool:
    """Delete one created resource; False when devstack cannot delete that type."""
    function = DELETERS.get(resource_type)
    if function is None:
        log.info("devstack: cannot delete %s (%s); left in the local AWS", created.ref, resource_type)
        return False
    function(context, created)
    return True


@deleter("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy",
         "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::ResponseHeadersPolicy")
def _nothing_left(context: Any, created: Any) -> None:
    """Policies go with what they are attached to (or are harmless records in the local AWS)."""


@deleter("AWS::SQS::Queue")
def _queue(context: Any, created: Any) -> None:
    context.client("sqs").delete_queue(QueueUrl=created.ref)


@deleter("AWS::SNS::Topic")
def _topic(context: Any, created: Any) -> None:
    context.client("sns").delete_topic(TopicArn=created.ref)


@deleter("AWS::SNS::Subscription")
def _subscription(context: Any, created: Any) -> None:
    with contextlib.suppress(Exception):  # gone with its topic already
        context.client("sns").unsubscribe(SubscriptionArn=created.ref)


@deleter("AWS::Logs::LogGroup")
def _log_group(context: Any, created: Any) -> None:
    context.client("logs").delete_log_group(logGroupName=created.ref)


@deleter("AWS::SSM::Parameter")
def _parameter(context: Any, created: Any) -> None:
    context.client("ssm").delete_parameter(Name=created.ref)


@deleter("AWS::KMS::Alias")
def _alias(context: Any, created: Any) -> None:
    context.client("kms").delete_alias(AliasName=created.ref)


@deleter("AWS::KMS::Key")
def _key(context: Any, created: Any) -> None:
    context.client("kms").schedule_key_deletion(KeyId=created.ref, PendingWindowInDays=7)


@deleter("AWS::CloudWatch::Alarm")
def _alarm(context: Any, created: Any) -> None:
    context.client("cloudwatch").delete_alarms(AlarmNames=[created.ref])


@deleter("AWS::CloudWatch::Dashboard")
def _dashboard(context: Any, created: Any) -> None:
    context.client("cloudwatch").delete_dashboards(DashboardNames=[created.ref])


@deleter("AWS::Cognito::UserPoolClient")
def _pool_client(context: Any, created: Any) -> None:
    pool = created.attributes.get("UserPoolId")
    if pool:
        context.client("cognito-idp").delete_user_pool_client(UserPoolId=pool, ClientId=created.ref)


@deleter("AWS::Cognito::UserPoolGroup")
def _pool_group(context: Any, created: Any) -> None:
    pool = created.attributes.get("UserPoolId")
    if pool:
        context.client("cognito-idp").delete_group(UserPoolId=pool, GroupName=created.ref)


@deleter("AWS::S3::Bucket")
def _bucket(context: Any, created: Any) -> None:
    s3 = context.client("s3")
    with contextlib.suppress(Exception):
        versions = s3.list_object_versions(Bucket=created.ref)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=created.ref, Key=item["Key"], VersionId=item["VersionId"],
                             BypassGovernanceRetention=True)
    s3.delete_bucket(Bucket=created.ref)


# --- issue 21: custom domains (a stack's certificates, API domains, mappings and records go with it) -------------

@deleter("AWS::Route53::RecordSet")
def _record_set(context: Any, created: Any) -> None:
    route53, zone = context.client("route53"), created.attributes["HostedZoneId"]
    name, kind = created.ref.rstrip(".") + ".", created.attributes["Type"]
    found = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType=kind,
                                              MaxItems="1")["ResourceRecordSets"]
    if found and found[0]["Name"] == name and found[0]["Type"] == kind:
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": found[0]}]})


@deleter("AWS::ApiGateway::BasePathMapping")
def _base_path_mapping(context: Any, created: Any) -> None:
    domain, _, base_path = created.ref.rpartition("/")
    with contextlib.suppress(Exception):  # gone with its domain already
        context.client("apigateway").delete_base_path_mapping(domainName=domain, basePath=base_path)


@deleter("AWS::ApiGateway::DomainName")
def _rest_domain(context: Any, created: Any) -> None:
    context.client("apigateway").delete_domain_name(domainName=created.ref)


@deleter("AWS::ApiGatewayV2::ApiMapping")
def _api_mapping(context: Any, created: Any) -> None:
    with contextlib.suppress(Exception):  # gone with its domain already
        context.client("apigatewayv2").delete_api_mapping(ApiMappingId=created.ref,
                                                          DomainName=created.attributes["DomainName"])


@deleter("AWS::ApiGatewayV2::DomainName")
def _websocket_domain(context: Any, created: Any) -> None:
    context.client("apigatewayv2").delete_domain_name(DomainName=created.ref)


@deleter("AWS::CertificateManager::Certificate")
def _certificate(context: Any, created: Any) -> None:
    context.client("acm").delete_certificate(CertificateArn=created.ref)
