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
from . import provision_identity  # noqa: F401 - registers Cognito, identity pools, IAM roles
from . import provision_storage  # noqa: F401 - registers DynamoDB, S3, KMS
from .provision_registry import (
    PROVISIONERS,
    REGION,  # noqa: F401 - re-exported: the stack and the tests' moto use it from here
    UPDATERS,
    Context,
    Created,
    UnsupportedResource,
    flag,
    provisioner,
    tags_list,
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


# --- CloudWatch Logs, alarms, dashboards ---------------------------------------------------

@provisioner("AWS::Logs::LogGroup", {"LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"})
def _log_group(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("LogGroupName") or context.physical_name(logical_id)
    logs = context.client("logs")
    request: dict[str, Any] = {"logGroupName": name}
    if "KmsKeyId" in props:
        request["kmsKeyId"] = props["KmsKeyId"]
    if props.get("Tags"):
        request["tags"] = {tag["Key"]: tag["Value"] for tag in tags_list(props["Tags"])}
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
        request["Tags"] = tags_list(props["Tags"])
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
        attributes[key] = json.dumps(value) if isinstance(value, dict) else flag(value)
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if props.get("Tags"):
        request["tags"] = {tag["Key"]: tag["Value"] for tag in tags_list(props["Tags"])}
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
        attributes[key] = json.dumps(value) if isinstance(value, dict) else flag(value)
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
    attributes = {key: flag(props[key]) for key in
                  ("DisplayName", "FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId")
                  if key in props}
    request: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if props.get("Tags"):
        request["Tags"] = tags_list(props["Tags"])
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


def local_collections(session: Any) -> list[str]:
    """The collections the local Rekognition holds (in the stack's memory, not moto's: --keep-state saves
    their ids beside the local AWS, to create them again on a restore)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_REKOGNITION")
    if not endpoint:
        return []
    return list(session.client("rekognition", endpoint_url=endpoint).list_collections().get("CollectionIds", []))


def recreate_collections(session: Any, collection_ids: list[str]) -> None:
    """A restore skips provisioning, and a fresh local Rekognition has no collection: without this every face
    check after a --keep-state restart failed (IndexFaces: the collection does not exist). Its faces are not
    kept (docs/face-local.md)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_REKOGNITION")
    if not endpoint:
        return
    rekognition = session.client("rekognition", endpoint_url=endpoint)
    for collection_id in collection_ids:
        try:
            rekognition.create_collection(CollectionId=collection_id)
        except rekognition.exceptions.ResourceAlreadyExistsException:
            pass


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
        request["Tags"] = tags_list(props["Tags"])
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
                    f"devstack; add a provisioner to devstack/provision*.py")

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
