"""The stand-in CloudFormation's deletions (devstack/deletion.py), one call each, on a recording client."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from devstack.deletion import DELETIONS, NOTHING_TO_DELETE, delete_resource

pytestmark = pytest.mark.no_stack


@dataclass
class Created:
    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


class Recording:
    """A context whose clients record every call (service, operation, arguments); ``failing`` operations raise."""

    def __init__(self, answers: dict[str, Any] | None = None, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answers, self.failing = answers or {}, failing

    def client(self, service: str) -> Any:
        context = self

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**arguments: Any) -> Any:
                    context.calls.append((service, operation, arguments))
                    if operation in context.failing:
                        raise RuntimeError(f"{operation} failed")
                    return context.answers.get(operation, {})

                return call

        return Client()


@pytest.mark.parametrize("kind, created, call", [
    ("AWS::SQS::Queue", Created("http://q/1"), ("sqs", "delete_queue", {"QueueUrl": "http://q/1"})),
    ("AWS::KMS::Key", Created("k1"), ("kms", "schedule_key_deletion", {"KeyId": "k1", "PendingWindowInDays": 7})),
    ("AWS::CloudWatch::Alarm", Created("a1"), ("cloudwatch", "delete_alarms", {"AlarmNames": ["a1"]})),
    ("AWS::Cognito::UserPoolGroup", Created("g", {"UserPoolId": "p"}),
     ("cognito-idp", "delete_group", {"UserPoolId": "p", "GroupName": "g"})),
    ("AWS::ApiGateway::BasePathMapping", Created("api.example.com/v1"),
     ("apigateway", "delete_base_path_mapping", {"domainName": "api.example.com", "basePath": "v1"})),
    ("AWS::ApiGatewayV2::ApiMapping", Created("m1", {"DomainName": "ws.example.com"}),
     ("apigatewayv2", "delete_api_mapping", {"ApiMappingId": "m1", "DomainName": "ws.example.com"})),
])
def test_a_resource_is_deleted_by_one_call_naming_it(kind, created, call):
    context = Recording()
    assert delete_resource(context, kind, created) is True
    assert context.calls == [call]


def test_policies_count_as_deleted_with_nothing_called_and_an_unknown_type_is_skipped():
    context = Recording()
    assert all(delete_resource(context, kind, Created("x")) for kind in NOTHING_TO_DELETE)
    assert delete_resource(context, "AWS::Made::Up", Created("x")) is False
    assert context.calls == [] and not NOTHING_TO_DELETE & DELETIONS.keys()


def test_what_may_be_gone_with_its_parent_fails_quietly_and_anything_else_raises():
    quiet = Recording(failing=("unsubscribe",))
    assert delete_resource(quiet, "AWS::SNS::Subscription", Created("arn:sub")) is True
    with pytest.raises(RuntimeError, match="delete_topic failed"):
        delete_resource(Recording(failing=("delete_topic",)), "AWS::SNS::Topic", Created("arn:topic"))


def test_a_pool_client_of_no_known_pool_is_left_alone():
    context = Recording()
    assert delete_resource(context, "AWS::Cognito::UserPoolClient", Created("c1")) is True
    assert context.calls == []


def test_a_bucket_is_emptied_of_every_version_past_governance_then_deleted():
    versions = {"Versions": [{"Key": "a", "VersionId": "1"}], "DeleteMarkers": [{"Key": "b", "VersionId": "2"}]}
    context = Recording({"list_object_versions": versions})
    delete_resource(context, "AWS::S3::Bucket", Created("bkt"))
    assert [call[1:] for call in context.calls] == [
        ("list_object_versions", {"Bucket": "bkt"}),
        ("delete_object", {"Bucket": "bkt", "Key": "a", "VersionId": "1", "BypassGovernanceRetention": True}),
        ("delete_object", {"Bucket": "bkt", "Key": "b", "VersionId": "2", "BypassGovernanceRetention": True}),
        ("delete_bucket", {"Bucket": "bkt"}),
    ]


def test_a_record_is_deleted_as_it_stands_in_its_zone_and_a_gone_one_is_not_touched():
    record = {"Name": "console.example.com.", "Type": "A", "AliasTarget": {"DNSName": "d.cloudfront.net"}}
    created = Created("console.example.com", {"HostedZoneId": "Z1", "Type": "A"})
    context = Recording({"list_resource_record_sets": {"ResourceRecordSets": [record]}})
    delete_resource(context, "AWS::Route53::RecordSet", created)
    assert context.calls[-1][1:] == ("change_resource_record_sets", {
        "HostedZoneId": "Z1", "ChangeBatch": {"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]}})
    other = {"Name": "zzz.example.com.", "Type": "A"}
    gone = Recording({"list_resource_record_sets": {"ResourceRecordSets": [other]}})
    delete_resource(gone, "AWS::Route53::RecordSet", created)
    assert [call[1] for call in gone.calls] == ["list_resource_record_sets"]
