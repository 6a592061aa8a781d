"""Deleting what devstack provisioned, type by type (the rehearsal's stack rollback and deletion).

CloudFormation deletes a stack's resources when a create rolls back or the
stack is deleted, keeping those with ``DeletionPolicy: Retain``. The deploy
rehearsal's stand-in (:mod:`devstack.cloudformation`) does the same with these
deletions; a type without one is reported as skipped, never silently kept.

Every deletion has one shape: one call of one service -- ``(service, operation,
request)``, the request made from the created resource (its ``ref`` and
attributes) and the service's client -- marked ``gone_with`` when what it
belongs to may have taken it already (then a failure is no error).
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("devstack")

#: (the service's client, the Created resource) -> the operation's arguments; None: nothing to delete.
Request = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Deletion:
    """One call of ``service``'s ``operation`` that deletes a resource of a type."""

    service: str
    operation: str
    request: Request
    gone_with: bool = False  # may be gone with what it belongs to already: a failure is no error

    def run(self, context: Any, created: Any) -> None:
        client = context.client(self.service)
        with contextlib.suppress(Exception) if self.gone_with else contextlib.nullcontext():
            arguments = self.request(client, created)
            if arguments is not None:
                getattr(client, self.operation)(**arguments)


def ref(parameter: str, *attributes: str, listed: bool = False, **fixed: Any) -> Request:
    """The resource named by its ref in ``parameter`` (``listed``: a list of that one), with the created
    resource's ``attributes`` and the ``fixed`` arguments."""
    return lambda client, created: {parameter: [created.ref] if listed else created.ref,
                                    **{name: created.attributes[name] for name in attributes}, **fixed}


def in_pool(parameter: str) -> Request:
    """A user pool's client or group: the ref in ``parameter``, the pool from its attributes (unknown: kept)."""

    def request(client: Any, created: Any) -> dict[str, Any] | None:
        pool = created.attributes.get("UserPoolId")
        return {"UserPoolId": pool, parameter: created.ref} if pool else None

    return request


def _emptied_bucket(s3: Any, created: Any) -> dict[str, Any]:
    """The bucket, every version and delete marker in it deleted first (past its Object Lock's governance)."""
    with contextlib.suppress(Exception):
        versions = s3.list_object_versions(Bucket=created.ref)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=created.ref, Key=item["Key"], VersionId=item["VersionId"],
                             BypassGovernanceRetention=True)
    return {"Bucket": created.ref}


def _record_set_change(route53: Any, created: Any) -> dict[str, Any] | None:
    """The record's DELETE, as it stands in its zone now (Route 53 deletes only an exact match); None: gone."""
    zone = created.attributes["HostedZoneId"]
    name, kind = created.ref.rstrip(".") + ".", created.attributes["Type"]
    found = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType=kind,
                                              MaxItems="1")["ResourceRecordSets"]
    if not (found and found[0]["Name"] == name and found[0]["Type"] == kind):
        return None
    return {"HostedZoneId": zone, "ChangeBatch": {"Changes": [{"Action": "DELETE", "ResourceRecordSet": found[0]}]}}


def _base_path_mapping(client: Any, created: Any) -> dict[str, Any]:
    domain, _, base_path = created.ref.rpartition("/")
    return {"domainName": domain, "basePath": base_path}


#: Policies go with what they are attached to (or are harmless records in the local AWS): nothing to call.
NOTHING_TO_DELETE = frozenset({"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy",
                               "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::ResponseHeadersPolicy"})

DELETIONS: dict[str, Deletion] = {
    "AWS::SQS::Queue": Deletion("sqs", "delete_queue", ref("QueueUrl")),
    "AWS::SNS::Topic": Deletion("sns", "delete_topic", ref("TopicArn")),
    "AWS::SNS::Subscription": Deletion("sns", "unsubscribe", ref("SubscriptionArn"), gone_with=True),  # its topic
    "AWS::Logs::LogGroup": Deletion("logs", "delete_log_group", ref("logGroupName")),
    "AWS::SSM::Parameter": Deletion("ssm", "delete_parameter", ref("Name")),
    "AWS::KMS::Alias": Deletion("kms", "delete_alias", ref("AliasName")),
    "AWS::KMS::Key": Deletion("kms", "schedule_key_deletion", ref("KeyId", PendingWindowInDays=7)),
    "AWS::CloudWatch::Alarm": Deletion("cloudwatch", "delete_alarms", ref("AlarmNames", listed=True)),
    "AWS::CloudWatch::Dashboard": Deletion("cloudwatch", "delete_dashboards", ref("DashboardNames", listed=True)),
    "AWS::Cognito::UserPoolClient": Deletion("cognito-idp", "delete_user_pool_client", in_pool("ClientId")),
    "AWS::Cognito::UserPoolGroup": Deletion("cognito-idp", "delete_group", in_pool("GroupName")),
    "AWS::S3::Bucket": Deletion("s3", "delete_bucket", _emptied_bucket),
    # issue 21: custom domains (a stack's certificates, API domains, mappings and records go with it)
    "AWS::Route53::RecordSet": Deletion("route53", "change_resource_record_sets", _record_set_change),
    "AWS::ApiGateway::BasePathMapping": Deletion("apigateway", "delete_base_path_mapping", _base_path_mapping,
                                                 gone_with=True),  # its domain
    "AWS::ApiGateway::DomainName": Deletion("apigateway", "delete_domain_name", ref("domainName")),
    "AWS::ApiGatewayV2::ApiMapping": Deletion("apigatewayv2", "delete_api_mapping", ref("ApiMappingId", "DomainName"),
                                              gone_with=True),  # its domain
    "AWS::ApiGatewayV2::DomainName": Deletion("apigatewayv2", "delete_domain_name", ref("DomainName")),
    "AWS::CertificateManager::Certificate": Deletion("acm", "delete_certificate", ref("CertificateArn")),
}


def delete_resource(context: Any, resource_type: str, created: Any) -> bool:
    """Delete one created resource; False when devstack cannot delete that type."""
    if resource_type in NOTHING_TO_DELETE:
        return True
    deletion = DELETIONS.get(resource_type)
    if deletion is None:
        log.info("devstack: cannot delete %s (%s); left in the local AWS", created.ref, resource_type)
        return False
    deletion.run(context, created)
    return True
