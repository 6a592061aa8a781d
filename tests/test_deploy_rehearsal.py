"""The deploy, rehearsed: scripts/deploy.py against a local AWS (moto), then every piece checked.

One deploy per module into its own moto server (patched by devstack.motodeploy
for the two gaps Chalice hits), from a copy of the project so the worktree's
.chalice/ is untouched. Checked with describe calls, as an operator would.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts.deploy import APP_NAME, Deployer, function_name, handler_names, handlers, stack_name
from tests.support.aws import ROOT

STAGE = "rehearsal"
COPIED = ["app.py", "chalicelib", "requirements.txt", "resources.yaml", ".chalice/config.json",
          ".chalice/gateway.json", ".chalice/policies"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source, target = ROOT / name, project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    from scripts.build_package import build

    build(ROOT)  # the lean package, in Chalice's cache under the name Chalice computes: deployed as is
    cache = ROOT / ".chalice" / "deployments"
    if cache.is_dir():
        shutil.copytree(cache, project / ".chalice" / "deployments")
    return project


@pytest.fixture(scope="module")
def rehearsal(project):
    from devstack import motodeploy
    from devstack.testing import running_moto

    motodeploy.apply()
    with running_moto() as aws:
        printed: list[str] = []
        deployer = Deployer(STAGE, aws.session, project_dir=project, rehearse=True, endpoint_url=aws.endpoint_url,
                            out=printed.append)
        urls = deployer.deploy()
        env = json.loads((project / ".chalice" / "stages" / f"{STAGE}.json").read_text())["environment_variables"]
        yield {"aws": aws, "deployer": deployer, "urls": urls, "printed": printed, "env": env}


def functions(aws) -> dict[str, dict]:
    return {f["FunctionName"]: f for f in aws.client("lambda").list_functions()["Functions"]}


def mappings(aws, handler: str) -> list[dict]:
    arn = functions(aws)[function_name(STAGE, handler)]["FunctionArn"]
    return [m for m in aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
            if m["FunctionArn"] == arn]


def test_every_lambda_function_exists(rehearsal, project):
    handlers = handler_names((project / "app.py").read_text())
    expected = {function_name(STAGE)} | {function_name(STAGE, handler) for handler in handlers}
    assert set(functions(rehearsal["aws"])) == expected
    assert {"websocket_connect", "check_address", "publish_history", "verify_identity_document"} <= set(handlers)
    with zipfile.ZipFile(project / ".chalice" / "deployments" / next(
            p.name for p in (project / ".chalice" / "deployments").glob("*-python3.11.zip"))) as shipped:
        assert not any(name.startswith("botocore/") for name in shipped.namelist())  # the lean package went out


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


def test_the_stack_request_that_the_emulator_could_not_take_is_valid_and_says_so(rehearsal, project):
    request = rehearsal["deployer"].requests["CreateStack"]
    assert request["StackName"] == stack_name(STAGE)
    assert request["TemplateBody"] == (project / "resources.yaml").read_text()
    assert "CAPABILITY_AUTO_EXPAND" in request["Capabilities"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in request["Parameters"]}
    assert parameters["Handlers"].split(",") == handler_names((project / "app.py").read_text())
    assert any(line.startswith("emulated: resources stack") for line in rehearsal["printed"])
    assert [line.split(":")[0] for line in rehearsal["printed"][:3]] == ["REST API", "WebSocket", "console"]


def test_recorded_outputs_stay_out_of_git_and_the_tracked_config():
    recorded = [".chalice/stages/dev.json", ".chalice/stages/dev/policies/api_handler.json"]
    ignored = subprocess.run(["git", "check-ignore", *recorded], cwd=ROOT, check=False, capture_output=True, text=True)
    assert ignored.returncode == 0 and len(ignored.stdout.split()) == 2
    tracked = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in tracked["stages"].values():
        assert "DOCUMENTS_BUCKET_NAME" not in stage.get("environment_variables", {})


def test_each_function_has_a_role_of_its_own_with_exactly_its_policy(rehearsal, project):
    """One role per function, its inline policy the function's template with this stage's real ARNs."""
    from scripts.iam import function_name as lambda_name, templates

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


def test_teardown_removes_the_app_and_says_what_is_retained(rehearsal, project):
    deployer = rehearsal["deployer"]
    deployer.teardown()  # last: the other tests read the deployed stage
    assert functions(rehearsal["aws"]) == {}
    assert not (project / ".chalice" / "stages" / f"{STAGE}.json").exists()
    assert "retained" in rehearsal["printed"][-1]
