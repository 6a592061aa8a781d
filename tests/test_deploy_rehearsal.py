"""The deploy, rehearsed: scripts/deploy.py against a local AWS (moto), then every piece checked.

One deploy per module into its own moto server (patched by devstack.motodeploy
for the two gaps Chalice hits), from a copy of the project so the worktree's
.chalice/ is untouched. Checked with describe calls, as an operator would.
"""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts.deploy import APP_NAME, Deployer, function_name, handler_names, handlers, stack_name
from tests.support.aws import ROOT
from tests.support.deadlines import COMMAND_S
from tests.support.package_build import wait_for_background_build
from tests.support.rehearsal import (
    STAGE,
    CountingDeployer,
    alias_records,
    copy_project,
    deploy_outputs,
    deployed_system,
    functions,
    lambda_updates_failing,
    mappings,
    packaged_system,
    place_built_package,
    rest_and_websocket_apis,
    stack_parameters,
)

FIRST_ORIGIN = "https://console.bank.example"


@pytest.fixture(scope="module")
def chalice_zip() -> Path:
    """Chalice's own package of this code (what `chalice deploy` builds after a code change)."""
    from scripts.build_package import build

    wait_for_background_build()  # tests/support/package_build.py
    package, _, _ = build(ROOT)
    return package.with_name(package.stem + ".chalice.zip")


@pytest.fixture(scope="module")
def project(tmp_path_factory, chalice_zip) -> Path:
    """A copy of the project whose Chalice cache holds Chalice's own zip at the name Chalice computes: without the
    deploy's own build, that is what would ship. Beside it, the worktree's build (the same code and lock): the
    deploy puts the lean package back instead of building it again in the copy (tests/support/rehearsal.py)."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    place_built_package(project, chalice_own=True)
    return project


@pytest.fixture(scope="module")
def rehearsal(project, tmp_path_factory):
    """A failed first create, then the deploy that recovers from it: every test reads that stage."""
    from devstack import motodeploy
    from devstack.testing import running_moto
    from scripts.resources_stack import StackError

    with running_moto() as aws:
        stand_in = motodeploy.apply(aws.endpoint_url, lambda: aws.session)
        printed: list[str] = []

        def deployer(project_dir: Path = project, **options) -> Deployer:
            return Deployer(STAGE, aws.session, project_dir=project_dir, rehearse=True,
                            endpoint_url=aws.endpoint_url, out=printed.append, **options)

        # 1. The first create fails half-way (an alias left by someone else): ROLLBACK_COMPLETE, protected.
        aws.client("kms").create_alias(AliasName=f"alias/account-opening-{STAGE}",
                                       TargetKeyId=aws.client("kms").create_key()["KeyMetadata"]["KeyId"])
        with pytest.raises(StackError, match="ROLLBACK_COMPLETE"):
            deployer(console_origin=FIRST_ORIGIN, version="v1").deploy()
        failed = aws.client("cloudformation").describe_stacks(StackName=stack_name(STAGE))["Stacks"][0]
        aws.client("kms").delete_alias(AliasName=f"alias/account-opening-{STAGE}")  # the operator fixes the cause
        # 2. The same command again: the empty stack is deleted (its protection lifted) and made anew.
        first = deployer(console_origin=FIRST_ORIGIN, version="v1")
        urls = first.deploy()
        env = json.loads((project / ".chalice" / "stages" / f"{STAGE}.json").read_text())["environment_variables"]
        yield {"aws": aws, "deployer": first, "make": deployer, "urls": urls, "printed": printed, "env": env,
               "failed": failed, "stand_in": stand_in, "tmp": tmp_path_factory}


def test_every_lambda_function_exists(rehearsal, project):
    handlers = handler_names((project / "app.py").read_text())
    expected = {function_name(STAGE)} | {function_name(STAGE, handler) for handler in handlers}
    assert set(functions(rehearsal["aws"])) == expected
    assert {"websocket_connect", "check_address", "publish_history", "verify_identity_document"} <= set(handlers)


def test_every_function_runs_the_lean_package_though_chalice_had_its_own_in_the_cache(rehearsal, project,
                                                                                     chalice_zip):
    from scripts.build_package import chalice_package_path

    shipped = chalice_package_path(project)
    with zipfile.ZipFile(shipped) as archive:
        assert not any(name.startswith("botocore/") for name in archive.namelist())
    lean = base64.b64encode(hashlib.sha256(shipped.read_bytes()).digest()).decode()
    chalices = base64.b64encode(hashlib.sha256(chalice_zip.read_bytes()).digest()).decode()
    code = {f["CodeSha256"] for f in functions(rehearsal["aws"]).values()}
    assert code == {lean} and lean != chalices
    assert any(line.startswith("package: lean") for line in rehearsal["printed"])


def test_a_failed_first_create_is_rolled_back_then_made_again_by_the_same_command(rehearsal):
    failed, printed = rehearsal["failed"], rehearsal["printed"]
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE" and failed["EnableTerminationProtection"] is True
    assert any("ROLLBACK_COMPLETE" in line and "deleted to be created again" in line for line in printed)
    assert any(line.startswith("kept by the rollback") and "DataKey" in line for line in printed)  # Retain
    stack = rehearsal["aws"].client("cloudformation").describe_stacks(StackName=stack_name(STAGE))["Stacks"][0]
    # created, then updated once the app existed (its APIs' ids, its trigger, the console's headers: issue 21)
    assert stack["StackStatus"] == "UPDATE_COMPLETE" and stack["EnableTerminationProtection"] is True
    assert {"Key": "app-version", "Value": "v1"} in stack["Tags"]
    assert any(line.startswith("resources stack: the app's APIs") for line in printed)


def test_the_account_has_an_api_gateway_logging_role_and_the_deploy_said_so(rehearsal):
    from scripts.account import ROLE_NAME

    aws = rehearsal["aws"]
    arn = aws.client("apigateway").get_account()["cloudwatchRoleArn"]
    assert arn.endswith(f"role/{ROLE_NAME}")
    trust = aws.client("iam").get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
    assert "apigateway.amazonaws.com" in json.dumps(trust)
    assert any(line.startswith("account: API Gateway's CloudWatch Logs role set") for line in rehearsal["printed"])


def test_a_missing_or_broken_logging_role_stops_with_what_to_do(rehearsal):
    from scripts.account import AccountSettingMissing, ensure_apigateway_logging_role

    aws = rehearsal["aws"]
    apigateway, iam = aws.client("apigateway"), aws.client("iam")
    before = apigateway.get_account()["cloudwatchRoleArn"]
    try:
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                                    "value": "arn:aws:iam::123456789012:role/gone"}])
        with pytest.raises(AccountSettingMissing, match="does not exist"):
            ensure_apigateway_logging_role(apigateway, iam, may_change=True)
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
        with pytest.raises(AccountSettingMissing, match="update-account"):
            ensure_apigateway_logging_role(apigateway, iam, may_change=False)
    finally:
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": before}])


def test_the_rest_api_stage_has_access_logs_and_throttling(rehearsal):
    apigateway = rehearsal["aws"].client("apigateway")
    (api,) = [a for a in apigateway.get_rest_apis()["items"] if a["name"] == APP_NAME]
    stage = apigateway.get_stage(restApiId=api["id"], stageName="api")
    settings = json.loads((ROOT / ".chalice" / "gateway.json").read_text())["rest"]
    log_group = rehearsal["env"]["REST_ACCESS_LOG_GROUP_ARN"].removesuffix(":*")
    assert stage["accessLogSettings"]["destinationArn"] == log_group
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == settings["rate_limit"]
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == settings["burst_limit"]
    assert rehearsal["urls"]["REST API"].startswith(f"https://{api['id']}.execute-api.")


def test_the_websocket_api_has_its_three_routes_a_logged_stage_and_is_recorded_for_the_notifier(rehearsal):
    apigatewayv2 = rehearsal["aws"].client("apigatewayv2")
    (api,) = [a for a in apigatewayv2.get_apis()["Items"] if a["ProtocolType"] == "WEBSOCKET"]
    routes = {route["RouteKey"] for route in apigatewayv2.get_routes(ApiId=api["ApiId"])["Items"]}
    assert routes == {"$connect", "$default", "$disconnect"}
    stage = apigatewayv2.get_stage(ApiId=api["ApiId"], StageName="api")
    log_group = rehearsal["env"]["WEBSOCKET_ACCESS_LOG_GROUP_ARN"].removesuffix(":*")
    assert stage["AccessLogSettings"]["DestinationArn"] == log_group
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50
    assert rehearsal["env"]["WEBSOCKET_DOMAIN"] == f"{api['ApiId']}.execute-api.us-east-1.amazonaws.com"
    variables = functions(rehearsal["aws"])[function_name(STAGE, "notify_subscribers")]["Environment"]["Variables"]
    assert variables["WEBSOCKET_DOMAIN"] == rehearsal["env"]["WEBSOCKET_DOMAIN"]  # the second deploy carried it


def test_the_documents_bucket_notifies_the_identity_queue_which_the_verifier_drains_at_a_bounded_rate(rehearsal):
    aws, env = rehearsal["aws"], rehearsal["env"]
    notification = aws.client("s3").get_bucket_notification_configuration(Bucket=env["DOCUMENTS_BUCKET_NAME"])
    (config,) = notification["QueueConfigurations"]
    assert config["QueueArn"].endswith(":" + env["IDENTITY_CHECK_QUEUE_NAME"])
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert {"Name": "prefix", "Value": "applications/"} in [
        {"Name": r["Name"].lower(), "Value": r["Value"]} for r in config["Filter"]["Key"]["FilterRules"]]
    assert not notification.get("LambdaFunctionConfigurations")
    (mapping,) = mappings(aws, "verify_identity_document")
    assert mapping["EventSourceArn"] == config["QueueArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=env["IDENTITY_CHECK_QUEUE_NAME"])["QueueUrl"]
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
        "RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == env["DOCUMENT_EVENTS_DLQ_ARN"]


def test_the_sqs_mapping_reports_batch_item_failures(rehearsal):
    aws, env = rehearsal["aws"], rehearsal["env"]
    (mapping,) = mappings(aws, "check_address")
    assert mapping["EventSourceArn"].endswith(":" + env["ADDRESS_CHECK_QUEUE_NAME"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_stream_mapping_bisects_retries_a_bounded_number_of_times_then_parks_the_record(rehearsal):
    aws, env = rehearsal["aws"], rehearsal["env"]
    (mapping,) = mappings(aws, "publish_history")
    assert mapping["EventSourceArn"] == env["HISTORY_STREAM_ARN"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == env["HISTORY_STREAM_DLQ_ARN"]


def test_the_events_topic_invokes_the_notifier(rehearsal):
    aws, env = rehearsal["aws"], rehearsal["env"]
    notifier = functions(aws)[function_name(STAGE, "notify_subscribers")]["FunctionArn"]
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=env["EVENTS_TOPIC_ARN"])["Subscriptions"]
    assert {"Protocol": "lambda", "Endpoint": notifier} in [
        {"Protocol": s["Protocol"], "Endpoint": s["Endpoint"]} for s in subscriptions]


def test_every_schedule_has_a_rule_targeting_its_function(rehearsal, project):
    aws = rehearsal["aws"]
    events = aws.client("events")
    scheduled = [name for name, kind in handlers((project / "app.py").read_text()).items() if kind == "schedule"]
    assert len(scheduled) >= 4
    for handler in scheduled:
        arn = functions(aws)[function_name(STAGE, handler)]["FunctionArn"]
        rules = events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
        assert len(rules) == 1, handler
        assert events.describe_rule(Name=rules[0])["ScheduleExpression"].startswith(("rate(", "cron("))


def test_the_stack_has_the_template_and_parameters_and_the_rehearsal_says_what_it_emulated(rehearsal, project):
    cloudformation = rehearsal["aws"].client("cloudformation")
    assert cloudformation.get_template(StackName=stack_name(STAGE))["TemplateBody"] == (
        project / "resources.yaml").read_text()
    stack = cloudformation.describe_stacks(StackName=stack_name(STAGE))["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["Handlers"].split(",") == handler_names((project / "app.py").read_text())
    assert parameters["ConsoleOrigins"] == FIRST_ORIGIN
    cors = rehearsal["aws"].client("s3").get_bucket_cors(Bucket=rehearsal["env"]["DOCUMENTS_BUCKET_NAME"])
    assert FIRST_ORIGIN in cors["CORSRules"][0]["AllowedOrigins"]  # with the console's own (CloudFront) origin
    printed = rehearsal["printed"]
    assert any(line.startswith("emulated: resources stack") for line in printed)
    urls = [line.split(":")[0] for line in printed if line.split(":")[0] in ("REST API", "WebSocket", "console")]
    assert urls[:3] == ["REST API", "WebSocket", "console"]


def test_recorded_outputs_stay_out_of_git_and_the_tracked_config():
    recorded = [".chalice/stages/dev.json", ".chalice/stages/dev/policies/api_handler.json"]
    ignored = subprocess.run(["git", "check-ignore", *recorded], cwd=ROOT, check=False, capture_output=True, text=True)
    assert ignored.returncode == 0 and len(ignored.stdout.split()) == 2
    tracked = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in tracked["stages"].values():
        assert "DOCUMENTS_BUCKET_NAME" not in stage.get("environment_variables", {})


def test_each_function_has_a_role_of_its_own_with_exactly_its_policy(rehearsal, project):
    """One role per function, its inline policy the function's template with this stage's real ARNs."""
    from scripts.iam import function_name as lambda_name
    from scripts.iam import templates

    iam = rehearsal["aws"].client("iam")
    deployed = functions(rehearsal["aws"])
    roles = {}
    for function in templates(project):
        role = deployed[lambda_name(STAGE, function)]["Role"].rsplit("/", 1)[-1]
        roles[function] = role
        (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        rendered = json.loads((project / ".chalice" / "stages" / STAGE / "policies" / f"{function}.json").read_text())
        assert document == rendered, function
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [], function
        text = json.dumps(document)
        assert "${" not in text and f"log-group:/aws/lambda/{lambda_name(STAGE, function)}:*" in text
    assert len(set(roles.values())) == len(roles) == len(deployed)  # no role shared, every function covered


def test_the_websocket_sender_may_manage_connections_on_this_stages_api_only(rehearsal, project):
    api_id = rehearsal["env"]["WEBSOCKET_DOMAIN"].split(".")[0]
    granted = 0
    for path in (project / ".chalice" / "stages" / STAGE / "policies").glob("*.json"):
        for statement in json.loads(path.read_text())["Statement"]:
            if "execute-api:ManageConnections" in statement["Action"]:
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                    statement["Resource"]]
                assert all(r.startswith(f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/api/POST/")
                           for r in resources), (path.name, resources)
                granted += 1
    assert granted >= 1  # the notifier


def test_staff_are_invited_into_the_staff_pool_and_subscribed_to_their_alerts(rehearsal):
    from scripts.invite_staff import invite

    aws, env = rehearsal["aws"], rehearsal["env"]
    cognito = aws.client("cognito-idp")
    invited = invite(env, "ana@bank.example", "reviewers", cognito, aws.client("sns"))
    groups = cognito.admin_list_groups_for_user(UserPoolId=env["STAFF_USER_POOL_ID"], Username=invited["username"])
    assert [g["GroupName"] for g in groups["Groups"]] == ["reviewers"]
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=env["ESCALATIONS_TOPIC_ARN"])
    assert ("email", "ana@bank.example") in [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]]
    with pytest.raises(ValueError):
        invite(env, "eve@bank.example", "admins", cognito, aws.client("sns"))


def test_the_terraform_package_and_the_deploy_make_the_same_system(rehearsal, project, tmp_path):
    """What the deploy sets by API after `chalice deploy`, the package carries itself."""
    import os
    import subprocess
    import sys

    out = tmp_path / "tf"
    result = subprocess.run([sys.executable, "-m", "scripts.chalice_stage", "package", "--stage", STAGE,
                             "--pkg-format", "terraform", str(out)], cwd=project, capture_output=True, text=True,
                            timeout=COMMAND_S, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    deployed = deployed_system(rehearsal["aws"], project)
    packaged = packaged_system(json.loads((out / "chalice.tf.json").read_text()))
    assert deployed == packaged
    env = rehearsal["env"]
    asynchronous = {k for k, v in deployed.items() if k.startswith("async:") and v["on_failure"] ==
                    env["ASYNC_INVOKE_DLQ_ARN"]}
    assert {"async:notify_subscribers", "async:write_daily_report", "async:escalate_overdue_reviews"} <= asynchronous
    assert deployed["sns-dlq:notify_subscribers"] == env["EVENTS_DELIVERY_DLQ_ARN"]
    signing = {v for k, v in deployed.items() if k.startswith("code-signing:")}
    assert len(signing) == 1 and next(iter(signing)).startswith("arn:aws:lambda:")
    assert any(line.startswith("package: signed by") for line in rehearsal["printed"])


# --- issue 21: the console on CloudFront, its headers, the staff pool's trigger --------------------------------


def test_the_edge_stack_in_us_east_1_holds_the_console_web_acl_the_distribution_uses(rehearsal):
    from scripts.deploy import edge_stack_name

    aws = rehearsal["aws"]
    edge = aws.session.client("cloudformation", region_name="us-east-1", endpoint_url=aws.endpoint_url)
    stack = edge.describe_stacks(StackName=edge_stack_name(STAGE))["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert stack["EnableTerminationProtection"] is True and "ConsoleCertificateArn" not in outputs  # no domain
    assert ":global/webacl/" in outputs["ConsoleWebAclArn"]  # scope CLOUDFRONT
    distribution = aws.client("cloudfront").get_distribution_config(Id=deploy_outputs(rehearsal)[
        "DeployConsoleDistributionId"])["DistributionConfig"]
    assert distribution["WebACLId"] == outputs["ConsoleWebAclArn"]


def test_the_console_is_on_cloudfront_from_a_private_bucket_with_the_api_on_the_same_domain(rehearsal, project):
    aws, outputs = rehearsal["aws"], deploy_outputs(rehearsal)
    cloudfront = aws.client("cloudfront")
    distribution = cloudfront.get_distribution(Id=outputs["DeployConsoleDistributionId"])["Distribution"]
    config = distribution["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]["Items"]}
    (api,) = [a for a in aws.client("apigateway").get_rest_apis()["items"] if a["name"] == APP_NAME]
    assert origins["api"]["DomainName"] == f"{api['id']}.execute-api.us-east-1.amazonaws.com"
    assert origins["api"]["OriginPath"] == "/api"
    assert origins["console"]["DomainName"].startswith(outputs["DeployConsoleBucketName"] + ".s3.")
    assert origins["console"]["OriginAccessControlId"]  # the bucket is read through origin access control only
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]["Items"]}
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "api"
    assert behaviours["/console/config.json"]["TargetOriginId"] == "api"  # made by the app, as before
    assert behaviours["/console"]["TargetOriginId"] == behaviours["/console/*"]["TargetOriginId"] == "console"
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=outputs["DeployConsoleBucketName"])["Policy"])
    reader = next(s for s in policy["Statement"] if s.get("Sid") == "OnlyTheConsoleDistributionReads")
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution["ARN"]
    s3 = aws.client("s3")
    page = s3.get_object(Bucket=outputs["DeployConsoleBucketName"], Key="console")
    assert page["ContentType"].startswith("text/html") and "s-maxage" in page["CacheControl"]
    assert s3.get_object(Bucket=outputs["DeployConsoleBucketName"], Key="console/main.js")["Body"].read() == (
        project / "chalicelib" / "console" / "main.js").read_bytes()
    invalidations = cloudfront.list_invalidations(DistributionId=distribution["Id"])["InvalidationList"]
    assert invalidations["Quantity"] >= 1
    assert f"console: https://{distribution['DomainName']}/console" in rehearsal["printed"]


def test_cloudfront_sends_the_consoles_own_headers_with_this_stages_endpoints(rehearsal):
    from scripts.console_site import PARAMETER_OF_HEADER

    aws, outputs = rehearsal["aws"], deploy_outputs(rehearsal)
    cloudfront = aws.client("cloudfront")
    config = cloudfront.get_distribution_config(Id=outputs["DeployConsoleDistributionId"])["DistributionConfig"]
    (policy_id,) = {b["ResponseHeadersPolicyId"] for b in config["CacheBehaviors"]["Items"]}
    policy = cloudfront.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"][
        "ResponseHeadersPolicyConfig"]
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    parameters = stack_parameters(aws)
    assert csp == parameters[PARAMETER_OF_HEADER["Content-Security-Policy"]] != "default-src 'none'; frame-ancestors 'none'"
    (websocket,) = [a for a in aws.client("apigatewayv2").get_apis()["Items"] if a["ProtocolType"] == "WEBSOCKET"]
    assert f"wss://{websocket['ApiId']}.execute-api.us-east-1.amazonaws.com" in csp
    assert "https://cognito-idp.us-east-1.amazonaws.com" in csp and "connect-src 'self'" in csp
    custom = {item["Header"]: item["Value"] for item in policy["CustomHeadersConfig"]["Items"]}
    assert custom["Permissions-Policy"] == parameters["ConsolePermissionsPolicy"]
    assert policy["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"] == "DENY"


def test_the_staff_pool_runs_the_apps_pre_token_function_which_cognito_alone_may_invoke(rehearsal):
    aws, env = rehearsal["aws"], rehearsal["env"]
    trigger = functions(aws)[function_name(STAGE, "staff_token_groups")]["FunctionArn"]
    pool = aws.client("cognito-idp").describe_user_pool(UserPoolId=env["STAFF_USER_POOL_ID"])["UserPool"]
    assert pool["LambdaConfig"]["PreTokenGenerationConfig"] == {"LambdaArn": trigger, "LambdaVersion": "V1_0"}
    (statement,) = json.loads(aws.client("lambda").get_policy(FunctionName=trigger)["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "cognito-idp.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == pool["Arn"]
    parameters = stack_parameters(aws)
    assert parameters["StaffTokenFunctionArn"] == trigger
    assert parameters["RestApiId"] and parameters["WebSocketApiId"]


# --- issue 21: custom domains (Route 53 + ACM, TLS 1.2), added to the deployed stage ------------------------------

DOMAINS = {"ConsoleDomainName": "console.bank.example", "ApiDomainName": "api.bank.example",
           "WebSocketDomainName": "ws.bank.example"}


def test_custom_domains_given_to_a_deployed_stage_get_certificates_tls_1_2_mappings_records_and_urls(rehearsal):
    """The three optional domains on a stage already deployed: its certificates requested and validated through
    DNS in the hosted zone (the console's in us-east-1, by the edge stack), the API Gateway domains at TLS 1.2
    mapped to this stage's REST and WebSocket APIs, CloudFront serving the console's domain with its certificate
    at TLSv1.2_2021, alias records for each, the URLs printed, and the console's WebSocket URL the custom one."""
    aws, printed = rehearsal["aws"], rehearsal["printed"]
    zone = aws.client("route53").create_hosted_zone(Name="bank.example", CallerReference="rehearsal")[
        "HostedZone"]["Id"].rsplit("/", 1)[-1]
    rest_ids, websocket_ids = rest_and_websocket_apis(aws)
    printed.clear()
    urls = rehearsal["make"](version="v1", parameters={"HostedZoneId": zone, **DOMAINS}).deploy()

    assert urls["console"] == "https://console.bank.example/console"
    assert urls["REST API (domain)"] == "https://api.bank.example/"
    assert urls["WebSocket (domain)"] == "wss://ws.bank.example"
    assert urls["REST API"] == rehearsal["urls"]["REST API"]  # the API's own address stays
    for line in ("console: https://console.bank.example/console", "REST API (domain): https://api.bank.example/",
                 "WebSocket (domain): wss://ws.bank.example"):
        assert line in printed
    assert rest_and_websocket_apis(aws) == (rest_ids, websocket_ids)

    # Certificates: the console's in us-east-1 (CloudFront's), the APIs' in the stage's region; each validated
    # through a record CloudFormation wrote into the zone.
    edge_acm = aws.session.client("acm", region_name="us-east-1", endpoint_url=aws.endpoint_url)
    certificates = {c["DomainName"]: c["CertificateArn"]
                    for c in edge_acm.list_certificates()["CertificateSummaryList"]}
    assert set(DOMAINS.values()) <= set(certificates)
    names = {r["Name"].rstrip(".") for r in aws.client("route53").list_resource_record_sets(
        HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] == "CNAME"}
    for domain in DOMAINS.values():
        options = edge_acm.describe_certificate(CertificateArn=certificates[domain])["Certificate"][
            "DomainValidationOptions"]
        assert options[0]["ResourceRecord"]["Name"].rstrip(".") in names, domain

    # The REST API's domain: regional, TLS 1.2, this stage's API and stage at its root.
    apigateway = aws.client("apigateway")
    rest_domain = apigateway.get_domain_name(domainName=DOMAINS["ApiDomainName"])
    assert rest_domain["securityPolicy"] == "TLS_1_2"
    assert rest_domain["regionalCertificateArn"] == certificates[DOMAINS["ApiDomainName"]]
    (mapping,) = apigateway.get_base_path_mappings(domainName=DOMAINS["ApiDomainName"])["items"]
    assert (mapping["restApiId"], mapping["stage"]) == (rest_ids[0], "api")

    # The WebSocket API's domain: TLS 1.2, mapped to this stage's WebSocket API.
    apigatewayv2 = aws.client("apigatewayv2")
    (configuration,) = apigatewayv2.get_domain_name(DomainName=DOMAINS["WebSocketDomainName"])[
        "DomainNameConfigurations"]
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    assert configuration["CertificateArn"] == certificates[DOMAINS["WebSocketDomainName"]]
    (ws_mapping,) = apigatewayv2.get_api_mappings(DomainName=DOMAINS["WebSocketDomainName"])["Items"]
    assert (ws_mapping["ApiId"], ws_mapping["Stage"]) == (websocket_ids[0], "api")

    # CloudFront answers for the console's domain with its certificate, TLS 1.2 at least.
    outputs = deploy_outputs(rehearsal)
    distribution = aws.client("cloudfront").get_distribution(Id=outputs["DeployConsoleDistributionId"])[
        "Distribution"]
    config = distribution["DistributionConfig"]
    assert config["Aliases"]["Items"] == [DOMAINS["ConsoleDomainName"]]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == certificates[DOMAINS["ConsoleDomainName"]]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SSLSupportMethod"] == "sni-only"

    # Each name is an alias of what serves it (IPv4; the console's IPv6 too).
    records = alias_records(aws, zone)
    assert records[(DOMAINS["ConsoleDomainName"], "A")] == distribution["DomainName"]
    assert records[(DOMAINS["ConsoleDomainName"], "AAAA")] == distribution["DomainName"]
    assert records[(DOMAINS["ApiDomainName"], "A")] == rest_domain["regionalDomainName"]
    websocket_target = records[(DOMAINS["WebSocketDomainName"], "A")]
    assert websocket_target.endswith(".execute-api.us-east-1.amazonaws.com")
    assert websocket_target == configuration.get("ApiGatewayDomainName", websocket_target)  # moto gives none

    # Browsers reach the WebSocket API at its own domain: the app's environment and the console's CSP say so.
    overlay = json.loads((rehearsal["deployer"].project_dir / ".chalice" / "stages" / f"{STAGE}.json").read_text())
    assert overlay["environment_variables"]["WEBSOCKET_URL"] == "wss://ws.bank.example"
    from scripts.console_site import PARAMETER_OF_HEADER

    assert "wss://ws.bank.example" in stack_parameters(aws)[PARAMETER_OF_HEADER["Content-Security-Policy"]]


# --- what happens to a stage after its first deploy (in this order: each test leaves the stage for the next) ---


def test_a_deploy_from_a_clean_clone_restores_the_record_runs_chalice_once_and_keeps_every_parameter_not_given(
        rehearsal, tmp_path):
    """A pipeline's deploy: a clean clone (its build in Chalice's cache), no console origin given, one parameter
    changed. Chalice's record comes back from the stage's bucket, so the same APIs are updated, and with it the
    WebSocket API's endpoint, so Chalice runs once; every parameter not given keeps its value (UsePreviousValue),
    the console origin too, rather than going back to the template's default."""
    aws = rehearsal["aws"]
    before, apis = stack_parameters(aws), rest_and_websocket_apis(aws)
    assert before["LogRetentionDays"] != "731"
    clone = copy_project(tmp_path / "clone")
    place_built_package(clone)
    printed: list[str] = []
    deployer = CountingDeployer(STAGE, aws.session, project_dir=clone, rehearse=True, endpoint_url=aws.endpoint_url,
                                out=printed.append, version="v3", parameters={"LogRetentionDays": "731"})
    urls = deployer.deploy()
    assert any(line.startswith("restored Chalice's record from s3://") for line in printed)
    assert deployer.chalice_runs == ["deploy"]
    assert rest_and_websocket_apis(aws) == apis  # no second REST or WebSocket API
    assert urls["REST API"] == rehearsal["urls"]["REST API"] and urls["WebSocket"] == rehearsal["urls"]["WebSocket"]
    after = stack_parameters(aws)
    assert after["ConsoleOrigins"] == FIRST_ORIGIN  # not given: not reset to the template's default
    assert after["LogRetentionDays"] == "731"
    assert {k: v for k, v in after.items() if k != "LogRetentionDays"} == {
        k: v for k, v in before.items() if k != "LogRetentionDays"}


def test_without_the_record_anywhere_the_deploy_and_the_teardown_refuse_and_change_nothing(rehearsal, tmp_path):
    from scripts.stage_record import RecordMissing, key

    aws = rehearsal["aws"]
    s3, bucket = aws.client("s3"), rehearsal["deployer"].stack().describe().outputs["DeploymentBucketName"]
    kept = s3.get_object(Bucket=bucket, Key=key(STAGE))["Body"].read()
    s3.delete_object(Bucket=bucket, Key=key(STAGE))
    apis, names = rest_and_websocket_apis(aws), set(functions(aws))
    clone = copy_project(tmp_path / "clone")
    try:
        for action in ("deploy", "teardown"):
            with pytest.raises(RecordMissing, match="second REST and WebSocket API"):
                getattr(Deployer(STAGE, aws.session, project_dir=clone, rehearse=True,
                                 endpoint_url=aws.endpoint_url, out=lambda line: None), action)()
        assert rest_and_websocket_apis(aws) == apis and set(functions(aws)) == names
    finally:
        s3.put_object(Bucket=bucket, Key=key(STAGE), Body=kept)


def test_chalice_failing_after_the_stack_updated_stops_naming_both_versions_then_the_same_command_rolls_forward(
        rehearsal, project):
    """``chalice deploy`` failing twice (a throttle...) after the stack was updated stops the deploy, the stage partly
    at each version; the same command again, failing once more, is retried and converges (early in the plan: cheap)."""
    from scripts.deploy import DeployError

    aws, make, printed = rehearsal["aws"], rehearsal["make"], rehearsal["printed"]
    earlier, failing = make().status()["functions"], "verify_identity_document"
    with lambda_updates_failing(2, f"-{failing}") as left:  # twice: the retry fails too, the deploy stops
        with pytest.raises(DeployError, match="Bring the two to one version") as stopped:
            make(version="v5").deploy()
        assert left == [0]
    assert "resources stack is at version v5" in str(stopped.value)
    status = make().status()
    assert status["stack_version"] == "v5" and status["one_version"] is False
    assert status["functions"][failing] == earlier[failing] != "v5"
    record = json.loads((project / ".chalice" / "deployed" / f"{STAGE}.json").read_text())["resources"]
    plan = [r["name"] for r in record if r["resource_type"] == "lambda_function"]
    assert plan.index(failing) > 0  # the functions Chalice updated before it failed run v5:
    assert {status["functions"][name] for name in plan[:plan.index(failing)]} == {"v5"}
    apis = rest_and_websocket_apis(aws)
    printed.clear()
    with lambda_updates_failing(1, f"-{failing}") as left:  # roll forward; once: the retry converges
        make(version="v5").deploy()
        assert left == [0]
    assert "chalice deploy failed (attempt 1 of 2)" in printed
    status = make().status()
    assert status["one_version"] is True and set(status["functions"].values()) == {"v5"}
    assert rest_and_websocket_apis(aws) == apis


def test_teardown_removes_the_app_and_the_stack_and_says_what_is_retained(rehearsal, project):
    from scripts.stage_record import key

    aws, printed = rehearsal["aws"], rehearsal["printed"]
    bucket = rehearsal["deployer"].stack().describe().outputs["DeploymentBucketName"]
    rehearsal["make"]().teardown()  # last: the other tests read the deployed stage
    assert functions(aws) == {}
    assert rest_and_websocket_apis(aws) == ([], [])
    assert not (project / ".chalice" / "stages" / f"{STAGE}.json").exists()
    assert "retained" in printed[-1]
    with pytest.raises(aws.client("cloudformation").exceptions.ClientError, match="does not exist"):
        aws.client("cloudformation").describe_stacks(StackName=stack_name(STAGE))
    assert json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key(STAGE))["Body"].read())["resources"] == []
    from scripts.deploy import edge_stack_name

    edge = aws.session.client("cloudformation", region_name="us-east-1", endpoint_url=aws.endpoint_url)
    with pytest.raises(edge.exceptions.ClientError, match="does not exist"):
        edge.describe_stacks(StackName=edge_stack_name(STAGE))
    # The custom domains went with the stacks: no API domain, certificate or alias record left behind.
    assert aws.client("apigateway").get_domain_names()["items"] == []
    assert aws.client("apigatewayv2").get_domain_names()["Items"] == []
    edge_acm = aws.session.client("acm", region_name="us-east-1", endpoint_url=aws.endpoint_url)
    assert edge_acm.list_certificates()["CertificateSummaryList"] == []
    for zone in aws.client("route53").list_hosted_zones()["HostedZones"]:
        assert alias_records(aws, zone["Id"].rsplit("/", 1)[-1]) == {}
