"""The local stack provisions resources.yaml into moto as CloudFormation would.

Runs against an in-process moto server (server mode, a real HTTP endpoint),
provisioning the project's own template once for the module, then asks moto
what exists. Template-level behaviour (intrinsics, ordering, refusals) is
checked on small inline templates.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from devstack.provision import UnsupportedResource, provision
from devstack.template import (
    Resolver,
    TemplateError,
    creation_order,
    env_name,
    load_template,
    references,
)
from devstack.testing import running_moto
from tests.support.deadlines import REPLY_S

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "resources.yaml"
STAGE = "devstacktest"


@pytest.fixture(scope="module")
def aws():
    with running_moto() as local_aws:
        yield local_aws


@pytest.fixture(scope="module")
def env(aws):
    return provision(TEMPLATE, STAGE, aws.session, aws.endpoint_url)


def physical(logical_id: str) -> str:
    return f"account-opening-{STAGE}-{logical_id.lower()}"


# --- the environment --------------------------------------------------------------------

def test_every_output_becomes_an_upper_snake_case_variable(env):
    outputs = load_template(TEMPLATE)["Outputs"]
    assert {env_name(key) for key, output in outputs.items() if "Condition" not in output} <= set(env)
    assert "STAFF_IDENTITY_PROVIDER" not in env  # a conditional output whose condition is false: not there
    assert env["APPLICATIONS_TABLE_NAME"] == physical("ApplicationsTable")
    assert env["ADDRESS_CHECK_QUEUE_NAME"] == physical("AddressCheckQueue")
    assert env["ADDRESS_CHECK_DLQ_NAME"] == physical("AddressCheckDLQ")
    assert env["SETTINGS_PATH"] == f"/account-opening/{STAGE}/"
    assert env["APP_STAGE"] == STAGE
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_cognito_issuer_is_the_aws_form_and_jwks_is_served_by_moto(aws, env):
    pool_id = env["USER_POOL_ID"]
    assert env["COGNITO_ISSUER"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert env["COGNITO_JWKS_URL"] == f"{aws.endpoint_url}/{pool_id}/.well-known/jwks.json"
    import urllib.request

    with urllib.request.urlopen(env["COGNITO_JWKS_URL"], timeout=REPLY_S) as response:
        assert json.loads(response.read())["keys"][0]["alg"] == "RS256"


# --- resources, by type -------------------------------------------------------------------

def test_tables_have_their_keys_indexes_stream_ttl_sse_and_pitr(aws, env):
    dynamodb = aws.client("dynamodb")
    applications = dynamodb.describe_table(TableName=env["APPLICATIONS_TABLE_NAME"])["Table"]
    assert applications["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert applications["KeySchema"] == [{"AttributeName": "application_id", "KeyType": "HASH"}]
    indexes = {index["IndexName"]: index for index in applications["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_applicant", "review_queue", "by_state"}
    assert indexes["review_queue"]["KeySchema"] == [
        {"AttributeName": "review_queue", "KeyType": "HASH"},
        {"AttributeName": "flagged_key", "KeyType": "RANGE"}]
    assert applications["SSEDescription"]["Status"] == "ENABLED"
    backups = dynamodb.describe_continuous_backups(TableName=env["APPLICATIONS_TABLE_NAME"])
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"] == "ENABLED"

    history = dynamodb.describe_table(TableName=env["HISTORY_TABLE_NAME"])["Table"]
    assert history["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert history["LatestStreamArn"] == env["HISTORY_STREAM_ARN"]

    ttl = dynamodb.describe_time_to_live(TableName=env["IDEMPOTENCY_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED",
                                            "AttributeName": "expires_at"}


def test_buckets_are_encrypted_private_owner_enforced_with_cors(aws, env):
    s3 = aws.client("s3")
    bucket = env["DOCUMENTS_BUCKET_NAME"]
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]
    assert cors["AllowedMethods"] == ["POST"] and cors["MaxAgeSeconds"] == 3000
    assert s3.get_public_access_block(Bucket=env["REPORTS_BUCKET_NAME"])


def test_queue_redrives_to_its_dlq_and_carries_the_topic_policy(aws, env):
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"  # issue 21: at least 6x the 30 s function timeout
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":" + env["ADDRESS_CHECK_DLQ_NAME"])
    assert int(redrive["maxReceiveCount"]) == 5
    policy = next(s for s in json.loads(attributes["Policy"])["Statement"] if s["Effect"] == "Allow")
    assert policy["Principal"] == {"Service": "sns.amazonaws.com"}
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == env["EVENTS_TOPIC_ARN"]

    dlq = sqs.get_queue_url(QueueName=env["ADDRESS_CHECK_DLQ_NAME"])["QueueUrl"]
    dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert dlq_attributes["MessageRetentionPeriod"] == "1209600"


def test_subscription_is_raw_with_its_filter_policy_and_filters(aws, env):
    sns, sqs = aws.client("sns"), aws.client("sqs")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=env["EVENTS_TOPIC_ARN"])["Subscriptions"]
    # The address check and the sanctions screening each subscribe their own queue to submissions, the face
    # check its own to face.requested (issue 17), the customers' projection (issue 20) to approvals.
    filters = {env["ADDRESS_CHECK_QUEUE_NAME"]: "application.submitted",
               env["SANCTIONS_SCREENING_QUEUE_NAME"]: "application.submitted",
               env["FACE_CHECK_QUEUE_NAME"]: "face.requested",
               env["CUSTOMER_PROJECTION_QUEUE_NAME"]: "application.approved"}
    assert {s["Endpoint"].rsplit(":", 1)[-1] for s in subscriptions} == set(filters)
    for subscription in subscriptions:
        assert subscription["Protocol"] == "sqs"
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        assert attributes["RawMessageDelivery"] == "true"
        queue = subscription["Endpoint"].rsplit(":", 1)[-1]
        assert json.loads(attributes["FilterPolicy"]) == {"event_type": [filters[queue]]}

    def publish(event_type: str, body: str) -> None:
        sns.publish(TopicArn=env["EVENTS_TOPIC_ARN"], Message=body, MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": event_type}})

    publish("application.approved", "not for the address check")
    publish("application.submitted", "raw body")
    url = sqs.get_queue_url(QueueName=env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1)["Messages"]
    assert [message["Body"] for message in messages] == ["raw body"]


def test_user_pools_client_and_staff_groups(aws, env):
    cognito = aws.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=env["USER_POOL_ID"])["UserPool"]
    assert pool["Name"] == f"account-opening-{STAGE}"
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    client = cognito.describe_user_pool_client(
        UserPoolId=env["USER_POOL_ID"], ClientId=env["USER_POOL_CLIENT_ID"])["UserPoolClient"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client
    assert cognito.list_groups(UserPoolId=env["USER_POOL_ID"])["Groups"] == []  # staff are not customers
    group = cognito.get_group(GroupName="reviewers", UserPoolId=env["STAFF_USER_POOL_ID"])["Group"]
    assert group["Description"] == "Humans who decide FLAGGED applications"
    staff_client = cognito.describe_user_pool_client(
        UserPoolId=env["STAFF_USER_POOL_ID"], ClientId=env["STAFF_USER_POOL_CLIENT_ID"])["UserPoolClient"]
    assert staff_client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # issue 21: managed login only
    assert staff_client["AllowedOAuthFlows"] == ["code"] and staff_client["SupportedIdentityProviders"] == ["COGNITO"]
    assert env["STAFF_COGNITO_JWKS_URL"].endswith(f"/{env['STAFF_USER_POOL_ID']}/.well-known/jwks.json")


def test_parameters_exist_under_the_settings_path(aws, env):
    pages = aws.client("ssm").get_paginator("get_parameters_by_path").paginate(Path=env["SETTINGS_PATH"])
    by_name = {parameter["Name"].rsplit("/", 1)[-1]: parameter for page in pages for parameter in page["Parameters"]}
    assert by_name["minimum_age"]["Value"] == "18"
    assert by_name["served_countries"]["Type"] == "StringList"
    assert "GB" in by_name["served_countries"]["Value"].split(",")
    assert by_name["sanctions_review_threshold"]["Value"] == "85"
    assert len(by_name) == 37  # + ocr_min_confidence, document_max_pixels, served_ and refused_nationalities (issue 9),
    # max_applications_per_day (issue 12), approved_document_retention_days, applicant_ and
    # staff_requests_per_minute, second_review_for, review_claim_minutes (issue 18), the face check's eleven
    # (issue 17), customer_rescreening_days and _segments (issue 20)
    assert by_name["face_match_threshold"]["Value"] == "95" and by_name["biometric_retention_days"]["Value"] == "30"
    assert by_name["served_nationalities"]["Value"] == "*"


def test_demo_users_sign_in_to_their_own_pool_with_groups_in_the_token(aws, env):
    import base64

    from devstack.oidc_provider import StandInProvider
    from devstack.users import DEMO_USERS, client_id_for, seed_demo_users, sign_in

    cognito = aws.client("cognito-idp")
    provider = StandInProvider().start()
    try:
        seed_demo_users(cognito, env["USER_POOL_ID"], provider=provider)
    finally:
        provider.stop()
    by_role = {user.role: user for user in DEMO_USERS}
    reviewer, applicant = by_role["reviewer"], by_role["applicant"]
    # Staff are people of the corporate provider, in its groups, with an authenticator app (MFA there) ...
    person = provider.person(reviewer.email)
    assert person is not None and person.claims["groups"] == ["kyc-reviewers"] and person.totp_secret
    # ... never users of a pool with a password: the staff client has no password flow, as on AWS.
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="USER_PASSWORD_AUTH flow not enabled"):
        sign_in(cognito, client_id_for(env, reviewer), reviewer.email, reviewer.password)
    token = sign_in(cognito, client_id_for(env, applicant), applicant.email, applicant.password)["IdToken"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["iss"] == env["COGNITO_ISSUER"] and "cognito:groups" not in claims
    with pytest.raises(cognito.exceptions.ClientError):  # staff are not in the customer pool at all
        sign_in(cognito, env["USER_POOL_CLIENT_ID"], reviewer.email, reviewer.password)


# --- refusals -----------------------------------------------------------------------------

def write_template(tmp_path: Path, resources: dict, outputs: dict | None = None) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump({"Resources": resources, "Outputs": outputs or {}}))
    return path


def test_an_unknown_resource_type_is_refused_by_name_before_anything_is_created(aws, tmp_path):
    path = write_template(tmp_path, {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "never-created"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    })
    with pytest.raises(UnsupportedResource, match="AWS::Lambda::Function"):
        provision(path, "x1", aws.session, aws.endpoint_url)
    assert "never-created" not in str(aws.client("sqs").list_queues().get("QueueUrls", []))


def test_an_unknown_property_is_refused_by_name(aws, tmp_path):
    path = write_template(tmp_path, {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"ArchivePolicy": {"x": 1}}}})
    with pytest.raises(UnsupportedResource, match="ArchivePolicy"):
        provision(path, "x2", aws.session, aws.endpoint_url)


def test_provisioning_refuses_to_run_without_a_local_endpoint(aws, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(ValueError, match="local AWS"):
        provision(TEMPLATE, "x3", aws.session)


# --- template semantics -------------------------------------------------------------------

def test_short_form_tags_load_as_intrinsics(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  A:\n    Type: X\n    Properties:\n"
                    "      One: !Ref B\n      Two: !GetAtt B.StreamArn\n"
                    "      Three: !Sub '${AWS::Region}-${Stage}-${B}-${B.Arn}'\n"
                    "      Four: !Join [':', [a, !Ref B]]\n")
    props = load_template(path)["Resources"]["A"]["Properties"]
    assert props["One"] == {"Ref": "B"}
    assert props["Two"] == {"Fn::GetAtt": ["B", "StreamArn"]}
    assert references(props) == {"B", "Stage"}


def test_resolver_follows_cloudformation_semantics():
    resolver = Resolver(
        {"Stage": "dev"}, {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"},
        ref=lambda name: {"Queue": "https://queue-url", "Pool": "pool-id"}[name],
        get_att=lambda name, attribute: f"{name}.{attribute}")
    assert resolver.resolve({"Ref": "Queue"}) == "https://queue-url"
    assert resolver.resolve({"Fn::Sub": "arn:${AWS::Region}:${AWS::AccountId}:${Stage}/${Pool}"}) \
        == "arn:us-east-1:123456789012:dev/pool-id"
    assert resolver.resolve({"Fn::Sub": "${Queue.QueueName}"}) == "Queue.QueueName"
    assert resolver.resolve({"Fn::Sub": ["${x}-${Stage}", {"x": {"Ref": "Pool"}}]}) == "pool-id-dev"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert resolver.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    with pytest.raises(TemplateError, match="Fn::If"):
        resolver.resolve({"Fn::If": ["c", 1, 2]})


def test_creation_order_puts_references_first_and_refuses_cycles():
    resources = {
        "Sub": {"Properties": {"TopicArn": {"Ref": "Topic"},
                               "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}}},
        "Queue": {"Properties": {"RedrivePolicy": {"deadLetterTargetArn":
                                                   {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
        "Topic": {}, "Dlq": {},
    }
    order = creation_order(resources)
    assert order.index("Dlq") < order.index("Queue") < order.index("Sub")
    assert order.index("Topic") < order.index("Sub")
    with pytest.raises(TemplateError, match="circular"):
        creation_order({"A": {"Properties": {"x": {"Ref": "B"}}},
                        "B": {"Properties": {"x": {"Ref": "A"}}}})


@pytest.mark.parametrize("key, name", [
    ("ApplicationsTableName", "APPLICATIONS_TABLE_NAME"),
    ("HistoryStreamArn", "HISTORY_STREAM_ARN"),
    ("CognitoJwksUrl", "COGNITO_JWKS_URL"),
    ("AddressCheckDlqName", "ADDRESS_CHECK_DLQ_NAME"),
    ("HTTPApiURL", "HTTP_API_URL"),
])
def test_output_keys_become_upper_snake_case(key, name):
    assert env_name(key) == name
