"""Least-privilege IAM, one policy per Lambda function (issue 11).

``.chalice/policies/<function>.json`` (tracked) is each function's policy with
CloudFormation-style placeholders (``${DocumentsBucketArn}``,
``${AWS::AccountId}``, ``${FunctionName}`` ...). The deploy renders them with
the stage's recorded outputs into ``.chalice/stages/<stage>/policies/`` (git-
ignored) and points each function's ``iam_policy_file`` there
(``lambda_functions`` in the stage's config), with ``autogen_policy: false``:
Chalice then gives every function a role of its own with exactly that policy.

The templates are not written by hand from guesses: tests/test_iam_policies.py
records every AWS call each handler makes (botocore ``before-call`` hooks on
every client, pynamodb's included) and fails when a function's policy lacks
one or grants one never made. ``permissions`` below is the mapping from an API
call to the IAM actions and resources it needs; ``platform`` what Lambda
itself does with the function's role (logs, reading its event source, its
on-failure destination). To rewrite the templates from a recording::

    IAM_WRITE_POLICIES=1 ./dev test tests/test_iam_policies.py -q

then read the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

APP_NAME = "account-opening"
TEMPLATES = Path(".chalice") / "policies"
REST_FUNCTION = "api_handler"
#: Lambda functions Chalice makes for the WebSocket API (chalice/deploy/appgraph.py).
WEBSOCKET_FUNCTIONS = {
    "$connect": "websocket_connect",
    "$disconnect": "websocket_disconnect",
    "$default": "websocket_message",
}
#: Actions IAM only grants on "*" (no resource type); xray and metrics are here for when tracing is on.
STAR_ONLY = {
    "textract:DetectDocumentText",
    # Rekognition's liveness sessions and image operations have no resource type (collections have one).
    "rekognition:CreateFaceLivenessSession",
    "rekognition:GetFaceLivenessSessionResults",
    "rekognition:CompareFaces",
    "rekognition:DetectFaces",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
}
#: Resources encrypted with the stage's key (resources.yaml): S3, SQS and SNS ask KMS with the caller's rights.
#: DynamoDB does not: it uses the grant made when the table was created, never the caller's.
ENCRYPTED = (
    "${DocumentsBucketArn}",
    "${BiometricsBucketArn}",
    "${ReportsBucketArn}",
    "${SanctionsBucketArn}",
    "${EventsTopicArn}",
    "${EscalationsTopicArn}",
    "${AlarmsTopicArn}",
)
#: A grant's resource, narrowed by an ``s3:prefix`` condition, as one string: ``<bucket ARN>?s3:prefix=<pattern>``.
PREFIX_MARK = "?s3:prefix="
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9:]+)\}")
POLICY_VERSION = "2012-10-17"


def function_name(stage: str, function: str) -> str:
    """Chalice's Lambda naming: the REST handler is ``<app>-<stage>``, every other ``<app>-<stage>-<name>``."""
    return f"{APP_NAME}-{stage}" if function == REST_FUNCTION else f"{APP_NAME}-{stage}-{function}"


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.lower().split("_"))


def substitutions(
    env: Mapping[str, str], region: str, account: str, stage: str, websocket_api_id: str | None = None
) -> dict[str, str]:
    """Every placeholder a template may use, from the stage's recorded outputs (its environment)."""
    arn = f"arn:aws:%s:{region}:{account}:%s"
    values = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "Stage": stage,
        # Before the first deploy the API does not exist: a name no API can have, so nothing is granted.
        "WebSocketApiId": websocket_api_id or "websocket-api-not-yet-deployed",
        "WebSocketStage": env.get("WEBSOCKET_STAGE") or "api",
    }
    for key, value in env.items():
        if not value:
            continue
        if key.endswith("_TABLE_NAME"):
            values[_camel(key.removesuffix("_NAME")) + "Arn"] = arn % ("dynamodb", f"table/{value}")
        elif key.endswith("_BUCKET_NAME"):
            values[_camel(key.removesuffix("_NAME")) + "Arn"] = f"arn:aws:s3:::{value}"
        elif key.endswith(("_QUEUE_NAME", "_DLQ_NAME")):
            values[_camel(key.removesuffix("_NAME")) + "Arn"] = arn % ("sqs", value)
        elif key.endswith("_ARN") and value.startswith("arn:"):
            values[_camel(key.removesuffix("_ARN")) + "Arn"] = value
        elif key.endswith("USER_POOL_ID"):
            values[_camel(key.removesuffix("_ID")) + "Arn"] = arn % ("cognito-idp", f"userpool/{value}")
        elif key.endswith("_COLLECTION_ID"):  # a Rekognition face collection (FACE_COLLECTION_ID)
            values[_camel(key.removesuffix("_ID")) + "Arn"] = arn % ("rekognition", f"collection/{value}")
    if env.get("SETTINGS_PATH"):
        values["SettingsPath"] = "/" + env["SETTINGS_PATH"].strip("/")
    return values


def render(template: Any, values: Mapping[str, str]) -> Any:
    """``template`` with every ``${Name}`` replaced; an unknown name is an error, never left in a policy."""
    if isinstance(template, str):

        def value(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise KeyError(f"no value for ${{{match.group(1)}}} in an IAM policy template")
            return values[match.group(1)]

        return PLACEHOLDER.sub(value, template)
    if isinstance(template, list):
        return [render(item, values) for item in template]
    if isinstance(template, dict):
        return {key: render(item, values) for key, item in template.items()}
    return template


def templatize(resource: str, values: Mapping[str, str]) -> str:
    """The inverse of ``render`` for one recorded ARN: known values (longest first) become placeholders."""
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if name.startswith("AWS::") or name == "Stage" or len(value) < 8:
            continue
        resource = resource.replace(value, "${" + name + "}")
    region, account = values["AWS::Region"], values["AWS::AccountId"]
    return resource.replace(f":{region}:{account}:", ":${AWS::Region}:${AWS::AccountId}:")


def template_path(project_dir: str | Path, function: str) -> Path:
    return Path(project_dir) / TEMPLATES / f"{function}.json"


def templates(project_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every function's policy template, by Lambda function name (Chalice's, as in ``lambda_functions``)."""
    folder = Path(project_dir) / TEMPLATES
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def stage_policy_file(stage: str, function: str) -> str:
    """Where the rendered policy lives, relative to .chalice/ (Chalice's ``iam_policy_file``)."""
    return f"stages/{stage}/policies/{function}.json"


def write_stage_policies(
    project_dir: str | Path,
    stage: str,
    env: Mapping[str, str],
    region: str,
    account: str,
    websocket_api_id: str | None = None,
) -> dict[str, dict[str, str]]:
    """Render every template for ``stage``; the ``lambda_functions`` config that points Chalice at them."""
    values = substitutions(env, region, account, stage, websocket_api_id)
    config: dict[str, dict[str, str]] = {}
    for function, template in templates(project_dir).items():
        relative = stage_policy_file(stage, function)
        path = Path(project_dir) / ".chalice" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        rendered = render(template, {**values, "FunctionName": function_name(stage, function)})
        path.write_text(json.dumps(rendered, indent=2) + "\n")
        config[function] = {"iam_policy_file": relative}
    return config


# --- what an API call needs ------------------------------------------------------------------

Grant = tuple[str, str]  # (IAM action, resource ARN)

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_SQS_ACTION = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _queue_arn(params: Mapping[str, Any], region: str, account: str) -> str:
    name = params.get("QueueName") or str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _object(bucket: str, key: str) -> str:
    """An object's ARN narrowed to its key's first folder (``applications/*``), the bucket's when it has none."""
    folder = key.split("/", 1)[0] + "/*" if "/" in key else "*"
    return f"arn:aws:s3:::{bucket}/{folder}"


def permissions(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str, presigned: bool = False
) -> list[Grant]:
    """The IAM actions (and resources) one API call needs, KMS aside (see ``kms``)."""
    arn = f"arn:aws:{service}:{region}:{account}:%s"
    if service == "dynamodb":

        def table(name: str, index: str | None = None) -> str:
            return arn % (f"table/{name}" + (f"/index/{index}" if index else ""))

        if operation == "TransactWriteItems":
            grants = [
                (f"dynamodb:{_TRANSACT[kind]}", table(body["TableName"]))
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
            # A commit of an application adds to the state counters (the idempotency table) whenever its
            # events move a state (issue 22): which commit does depends on the order the checks finish in, so
            # every function that commits one may, whether or not the recording happened to see it.
            tables = {body["TableName"] for item in params["TransactItems"] for body in item.values()}
            applications, counters = os.environ.get("APPLICATIONS_TABLE_NAME"), os.environ.get("IDEMPOTENCY_TABLE_NAME")
            if applications and counters and applications in tables:
                grants.append(("dynamodb:UpdateItem", table(counters)))
            return grants
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", table(item["Get"]["TableName"])) for item in params["TransactItems"]]
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if service == "s3":
        bucket, key = params.get("Bucket", ""), params.get("Key", "")
        versioned = "Version" if params.get("VersionId") else ""
        if operation == "PresignedPost":  # the holder uploads with the signer's rights
            return [("s3:PutObject", _object(bucket, key))]
        if operation in ("GetObject", "HeadObject"):
            return [(f"s3:GetObject{versioned}", _object(bucket, key))]
        if operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
            action = "s3:ListBucketVersions" if operation == "ListObjectVersions" else "s3:ListBucket"
            prefix = str(params.get("Prefix") or "")
            folder = (prefix.split("/", 1)[0] + "/*" if "/" in prefix else prefix + "*") if prefix else ""
            # the listing only under the folder the code lists (an s3:prefix condition, see ``flatten``)
            return [(action, f"arn:aws:s3:::{bucket}" + (PREFIX_MARK + folder if folder else ""))]
        bypass = bool(params.get("BypassGovernanceRetention"))  # past an Object Lock in governance mode
        if operation == "DeleteObjects":  # each object (or object version) deleted
            grants = []
            for o in params["Delete"]["Objects"]:
                grants.append((f"s3:DeleteObject{'Version' if o.get('VersionId') else ''}", _object(bucket, o["Key"])))
                grants += [("s3:BypassGovernanceRetention", _object(bucket, o["Key"]))] if bypass else []
            return grants
        if operation == "DeleteObject":
            extra = [("s3:BypassGovernanceRetention", _object(bucket, key))] if bypass else []
            return [(f"s3:DeleteObject{versioned}", _object(bucket, key)), *extra]
        return [(f"s3:{operation}", _object(bucket, key))]
    if service == "sqs":
        return [(f"sqs:{_SQS_ACTION.get(operation, operation)}", _queue_arn(params, region, account))]
    if service == "sns":
        return (
            [("sns:Publish", params["TopicArn"])]
            if operation.startswith("Publish")
            else [(f"sns:{operation}", params["TopicArn"])]
        )
    if service == "ssm":
        if operation == "GetParametersByPath":
            path = arn % f"parameter/{params['Path'].strip('/')}"  # IAM checks the path; "/*": what is under it
            return [(f"ssm:{operation}", path), (f"ssm:{operation}", path + "/*")]
        names = params["Names"] if "Names" in params else [params["Name"]]
        return [(f"ssm:{operation}", arn % f"parameter/{name.strip('/')}") for name in names]
    if service == "textract":
        grants = [(f"textract:{operation}", "*")]
        s3_object = params.get("Document", {}).get("S3Object")
        if s3_object:  # Textract reads the object with the caller's rights
            versioned = "Version" if s3_object.get("Version") else ""
            grants.append((f"s3:GetObject{versioned}", _object(s3_object["Bucket"], s3_object["Name"])))
        return grants
    if service == "rekognition":
        return _rekognition(operation, params, arn)
    if service == "cognito-idp":
        return [(f"cognito-idp:{operation}", arn % f"userpool/{params['UserPoolId']}")]
    if service == "kms":  # called directly (the history chain's key), not through an encrypting service
        return [(f"kms:{operation}", params["KeyId"])]
    if service == "apigatewaymanagementapi":
        method = {"PostToConnection": "POST", "DeleteConnection": "DELETE", "GetConnection": "GET"}[operation]
        return [
            (
                "execute-api:ManageConnections",
                arn.replace(service, "execute-api") % "${WebSocketApiId}/"
                "${WebSocketStage}/" + method + "/@connections/*",
            )
        ]
    return [(f"{service}:{operation}", "*")]


def _rekognition(operation: str, params: Mapping[str, Any], arn: str) -> list[Grant]:
    """A collection operation on its collection, the rest on "*"; Rekognition reads S3 objects and writes
    a liveness session's images with the caller's rights, and encrypts them with the key named."""
    collection = params.get("CollectionId")
    grants = [(f"rekognition:{operation}", arn % f"collection/{collection}" if collection else "*")]
    for image in (params.get(key) or {} for key in ("Image", "SourceImage", "TargetImage")):
        s3_object = image.get("S3Object")
        if s3_object:
            versioned = "Version" if s3_object.get("Version") else ""
            grants.append((f"s3:GetObject{versioned}", _object(s3_object["Bucket"], s3_object["Name"])))
    output = ((params.get("Settings") or {}).get("OutputConfig")) or {}
    if output:
        grants.append(("s3:PutObject", _object(output["S3Bucket"], str(output.get("S3KeyPrefix") or "") + "*")))
    if params.get("KmsKeyId"):
        grants += [("kms:GenerateDataKey", params["KmsKeyId"]), ("kms:Decrypt", params["KmsKeyId"])]
    return grants


def _encrypted(action: str, resource: str) -> bool:
    return resource.startswith(ENCRYPTED) or (action.startswith("sqs:") and resource.startswith("${"))


def kms(grants: Iterable[Grant]) -> set[Grant]:
    """What the stage's key must allow for these grants (templated resources): S3, SQS and SNS encryption."""
    needed: set[Grant] = set()
    for action, resource in grants:
        if not _encrypted(action, resource):
            continue
        if action in ("s3:PutObject", "sqs:SendMessage", "sns:Publish"):
            needed.add(("kms:GenerateDataKey", "${DataKeyArn}"))
        if action in ("s3:GetObject", "s3:GetObjectVersion", "sqs:ReceiveMessage", "sqs:SendMessage", "sns:Publish"):
            needed.add(("kms:Decrypt", "${DataKeyArn}"))
    return needed


def kms_via(grants: Iterable[Grant]) -> list[str]:
    """The services the key is used through (``kms:ViaService``): only those whose encrypted resources are used."""
    grants = list(grants)
    services = {
        f"{action.split(':')[0]}.${{AWS::Region}}.amazonaws.com"
        for action, resource in grants
        if _encrypted(action, resource) and kms([(action, resource)])
    }
    if any(action == "rekognition:CreateFaceLivenessSession" for action, _ in grants):
        services.add("rekognition.${AWS::Region}.amazonaws.com")  # the session's KmsKeyId: Rekognition encrypts
    return sorted(services)


def kms_condition(policy: Mapping[str, Any]) -> list[str] | None:
    """The ``kms:ViaService`` list of a policy's statement on the stage's data key (None without one)."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(action.startswith("kms:") for action in actions) and statement["Resource"] == "${DataKeyArn}":
            via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
            return sorted(via if isinstance(via, list) else [via]) if via else []
    return None


def traced(config: Mapping[str, Any], function: str) -> bool:
    """Whether any stage turns on X-Ray active tracing for ``function`` (Chalice's ``xray``, looked up as
    Chalice does: the stage's function, the stage, the top-level function, the top level)."""
    top = config.get("lambda_functions", {}).get(function, {})
    for stage in config.get("stages", {}).values():
        for where in (stage.get("lambda_functions", {}).get(function, {}), stage, top, config):
            if where.get("xray") is not None:
                if where["xray"]:
                    return True
                break
    return False


LOG_STREAMS = "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${FunctionName}:*"


def platform(kind: str, source: Mapping[str, str], tracing: bool = False) -> set[Grant]:
    """What Lambda does with the function's role: its own log group, reading its event source, its failure
    queue, and with active tracing the trace segments (X-Ray has no resource type: ``*``).

    ``kind``: the Chalice decorator (``route``, ``on_sqs_message`` ...); ``source``: for an SQS function
    its queue's placeholder, for the stream its ARN's.
    """
    grants = {("logs:CreateLogStream", LOG_STREAMS), ("logs:PutLogEvents", LOG_STREAMS)}
    if kind == "on_sqs_message":
        grants |= {
            (f"sqs:{action}", source["queue"]) for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        }
    elif kind == "on_dynamodb_record":
        grants |= {
            (f"dynamodb:{action}", source["stream"]) for action in ("DescribeStream", "GetRecords", "GetShardIterator")
        }
        grants.add(("dynamodb:ListStreams", "${HistoryTableArn}/stream/*"))
        grants.add(("sqs:SendMessage", "${HistoryStreamDlqArn}"))  # the mapping's on-failure destination
    elif kind == "on_s3_event":
        grants.add(("sqs:SendMessage", "${DocumentEventsDlqArn}"))  # the async invoke's on-failure destination
    elif kind in ("on_sns_message", "schedule"):  # issue 21: SNS and EventBridge invoke asynchronously too
        grants.add(("sqs:SendMessage", "${AsyncInvokeDlqArn}"))
    if tracing:
        grants |= {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}
    return grants | kms(grants)


def flatten(policy: Mapping[str, Any]) -> set[Grant]:
    """Every (action, resource) an Allow-only policy grants."""
    grants: set[Grant] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        prefixes = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        if prefixes is not None:  # the only condition a listing carries here
            prefixes = prefixes if isinstance(prefixes, list) else [prefixes]
            resources = [resource + PREFIX_MARK + prefix for resource in resources for prefix in prefixes]
        grants |= {(action, resource) for action in actions for resource in resources}
    return grants


#: The retention purge rewrites history events to their redacted form (personal data -> its commitment):
#: the only update of the history table any role is granted, limited to these attributes.
HISTORY_REDACTION = ("dynamodb:UpdateItem", "${HistoryTableArn}")
HISTORY_REDACTION_ATTRIBUTES = ("application_id", "seq", "details", "salt", "hash")


def policy_from(grants: Iterable[Grant]) -> dict[str, Any]:
    """A readable policy granting exactly ``grants``: one statement per service and set of resources."""
    grants = set(grants)
    by_action: dict[str, set[str]] = {}
    listings: dict[tuple[str, str], list[str]] = {}
    redaction = HISTORY_REDACTION in grants
    for action, resource in grants:
        if (action, resource) == HISTORY_REDACTION:
            continue  # a statement of its own, with its condition (below)
        if PREFIX_MARK in resource:
            bucket, prefix = resource.split(PREFIX_MARK)
            listings.setdefault((action, bucket), []).append(prefix)
        else:
            by_action.setdefault(action, set()).add(resource)
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for action, resources in by_action.items():
        groups.setdefault((action.split(":")[0], tuple(sorted(resources))), []).append(action)
    statements: list[dict[str, Any]] = []
    for (service, resources), actions in sorted(groups.items()):
        sid = re.sub(r"[^A-Za-z0-9]", "", service.title()) + str(len(statements) + 1)
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": resources[0] if len(resources) == 1 else list(resources),
        }
        if service == "kms" and resources == ("${DataKeyArn}",):  # only through the services that encrypt with it
            statement["Condition"] = {"StringEquals": {"kms:ViaService": kms_via(grants)}}
        statements.append(statement)
    if redaction:  # the purge's one rewrite of the history: only these attributes may be touched
        statements.append(
            {
                "Sid": "HistoryRedaction",
                "Effect": "Allow",
                "Action": [HISTORY_REDACTION[0]],
                "Resource": HISTORY_REDACTION[1],
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": list(HISTORY_REDACTION_ATTRIBUTES)}},
            }
        )
    for (action, bucket), prefixes in sorted(listings.items()):
        statements.append(
            {
                "Sid": f"S3List{len(statements) + 1}",
                "Effect": "Allow",
                "Action": [action],
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": sorted(prefixes)}},
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}
