"""The delivery parts of resources.yaml (issue 21), read from the template and the Chalice config.

Each rule is checked for every resource it applies to, including those other
engineers add: a new SQS-triggered handler or subscription or log group must
meet it too.
"""
from __future__ import annotations

import ast
import json
import re

import pytest

from devstack.template import expand_for_each, load_template, resolve_parameters
from scripts.deploy import handlers as decorated
from tests.support.aws import ROOT

pytestmark = pytest.mark.no_stack
TEMPLATE = ROOT / "resources.yaml"
VISIBILITY_FACTOR = 6  # AWS: a queue's visibility timeout at least six times its function's timeout


@pytest.fixture(scope="module")
def template():
    loaded = load_template(TEMPLATE)
    values = resolve_parameters(loaded, {})
    return {**loaded, "Resources": expand_for_each(loaded["Resources"], values)}


def of_type(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def function_timeout(config: dict, function: str) -> int:
    """Chalice's lambda_timeout for ``function``, the longest any stage gives it (its lookup order)."""
    timeouts = []
    top = config.get("lambda_functions", {}).get(function, {})
    for stage in config.get("stages", {}).values():
        for where in (stage.get("lambda_functions", {}).get(function, {}), stage, top, config):
            if "lambda_timeout" in where:
                timeouts.append(int(where["lambda_timeout"]))
                break
    return max(timeouts or [60])  # Chalice's default


def sqs_handlers() -> dict[str, str]:
    """Each SQS-triggered function -> the environment variable naming its queue (from app.py)."""
    found = {}
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr == "on_sqs_message"):
                    source = ast.unparse(next(k.value for k in decorator.keywords if k.arg == "queue"))
                    found[node.name] = re.search(r"[A-Z_]{4,}", source).group(0)
    return found


def queue_of_env(template: dict, env_var: str) -> str:
    """The queue resource whose output becomes ``env_var`` (QueueName outputs: ``XQueueName`` -> X)."""
    from devstack.template import env_name

    for key, output in template["Outputs"].items():
        if env_name(key) == env_var:
            value = output["Value"]
            return value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"]
    raise AssertionError(f"no output for {env_var}")


def test_every_sqs_handlers_queue_hides_a_message_six_times_its_function_timeout(template):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    handlers = sqs_handlers()
    assert {"check_address", "screen_sanctions"} <= set(handlers)
    for function, env_var in handlers.items():
        queue = template["Resources"][queue_of_env(template, env_var)]
        visibility = int(queue["Properties"].get("VisibilityTimeout", 30))
        timeout = function_timeout(config, function)
        assert visibility >= VISIBILITY_FACTOR * timeout, (function, visibility, timeout)


def test_the_visibility_rule_fails_on_the_old_sixty_seconds(template):
    assert not 60 >= VISIBILITY_FACTOR * function_timeout(json.loads((ROOT / ".chalice" / "config.json").read_text()),
                                                           "check_address")


def test_the_handlers_default_names_every_handler_so_the_local_stack_has_their_log_groups_and_alarms():
    default = load_template(TEMPLATE)["Parameters"]["Handlers"]["Default"].split(",")
    assert set(decorated((ROOT / "app.py").read_text())) <= set(default)


def test_every_function_has_a_log_group_with_retention_and_the_key(template):
    groups = {r["Properties"]["LogGroupName"]["Fn::Sub"] if isinstance(r["Properties"]["LogGroupName"], dict)
              else r["Properties"]["LogGroupName"]: r for r in of_type(template, "AWS::Logs::LogGroup").values()}
    for group in of_type(template, "AWS::Logs::LogGroup").values():
        assert "RetentionInDays" in group["Properties"] and "KmsKeyId" in group["Properties"]
    names = set(groups)
    assert "/aws/lambda/account-opening-${Stage}" in names  # the REST function
    for handler in decorated((ROOT / "app.py").read_text()):
        assert f"/aws/lambda/account-opening-${{Stage}}-{handler}" in names, handler


def test_the_key_policy_separates_administrators_from_users(template):
    keys = of_type(template, "AWS::KMS::Key")
    assert {"DataKey", "HistoryChainKey"} <= set(keys)
    use = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*",
           "kms:GenerateMac", "kms:VerifyMac", "kms:*"}
    for name, key in keys.items():  # every key of the stage, the history chain's HMAC key included
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        by_sid = {s["Sid"]: s for s in statements}
        admins = by_sid["KeyAdministratorsManageOnly"]
        assert not use & set(admins["Action"]) and admins["Condition"]["ArnLike"]["aws:PrincipalArn"] == {
            "Ref": "KeyAdministrators"}, name
        users = by_sid["ThisStagesFunctionsUse"]
        assert not {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:*"} & set(users["Action"]), name
        assert "role/account-opening-${Stage}-*" in users["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
        for statement in statements:  # nobody gets everything any more
            assert statement["Action"] != "kms:*" and "kms:*" not in statement["Action"], (name, statement["Sid"])


def test_every_sns_subscription_has_a_dead_letter_queue(template):
    subscriptions = of_type(template, "AWS::SNS::Subscription")
    assert subscriptions
    for name, subscription in subscriptions.items():
        assert subscription["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
            "Fn::GetAtt": ["EventsDeliveryDLQ", "Arn"]}, name


def test_waf_guards_both_pools_with_managed_rules_and_a_rate_limit(template):
    (acl,) = of_type(template, "AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules.values()
               if "ManagedRuleGroupStatement" in r["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    assert rules["rate-per-ip"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    associated = {a["Properties"]["ResourceArn"]["Fn::GetAtt"][0]
                  for a in of_type(template, "AWS::WAFv2::WebACLAssociation").values()}
    assert {"UserPool", "StaffUserPool"} <= associated


def test_code_signing_is_enforced_by_default(template):
    loaded = load_template(TEMPLATE)
    assert loaded["Parameters"]["CodeSigningPolicy"]["Default"] == "Enforce"
    (config,) = of_type(template, "AWS::Lambda::CodeSigningConfig").values()
    assert config["Properties"]["AllowedPublishers"]["SigningProfileVersionArns"] == [
        {"Fn::GetAtt": ["CodeSigningProfile", "ProfileVersionArn"]}]


# --- issue 21: the console on CloudFront, custom domains, corporate sign-in ---------------------------------


def test_the_console_bucket_is_private_and_read_by_its_distribution_only_through_origin_access_control(template):
    resources = template["Resources"]
    bucket = resources["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (reader,) = [s for s in statements if s["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reader["Action"] == "s3:GetObject"
    assert "ConsoleDistribution" in json.dumps(reader["Condition"])  # this distribution's ARN only
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    (origin, api) = config["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    control = resources["ConsoleOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert control["SigningBehavior"] == "always" and control["SigningProtocol"] == "sigv4"


def test_the_distribution_serves_the_console_files_with_their_headers_and_the_api_on_the_same_domain(template):
    config = template["Resources"]["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    policy = {"Ref": "ConsoleHeadersPolicy"}
    behaviours = [b["Fn::If"][1] if "Fn::If" in b else b for b in config["CacheBehaviors"]]
    by_path = {b["PathPattern"]: b for b in behaviours}
    assert by_path["/console"]["TargetOriginId"] == by_path["/console/*"]["TargetOriginId"] == "console"
    assert by_path["/console/config.json"]["TargetOriginId"] == "api"  # the app makes it from the stage's settings
    assert all(b["ResponseHeadersPolicyId"] == policy for b in by_path.values())
    api_default, console_default = config["DefaultCacheBehavior"]["Fn::If"][1:]
    assert api_default["TargetOriginId"] == "api" and api_default["ViewerProtocolPolicy"] == "https-only"
    assert api_default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert api_default["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # the bearer token goes
    assert console_default["ResponseHeadersPolicyId"] == policy
    assert config["WebACLId"] == {"Fn::If": ["HasConsoleWebAcl", {"Ref": "ConsoleWebAclArn"}, {"Ref": "AWS::NoValue"}]}
    certificate = config["ViewerCertificate"]["Fn::If"][1]
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021" and certificate["SslSupportMethod"] == "sni-only"


def test_every_header_the_console_sets_has_a_place_in_the_cloudfront_policy_and_the_default_refuses_all(template):
    from chalicelib.api.console import ConsoleSettings, security_headers
    from chalicelib.api.middleware import SECURITY_HEADERS
    from scripts.console_site import CSP_MAX_LENGTH, header_parameters

    settings = ConsoleSettings(region="eu-west-1", user_pool_client_id="c", cognito_endpoint="https://cognito-idp."
                               "eu-west-1.amazonaws.com/", websocket_url="wss://abcdef1234.execute-api.eu-west-1."
                               "amazonaws.com/api", document_origins=("https://documents-bucket-name-long-enough.s3."
                               "amazonaws.com", "https://documents-bucket-name-long-enough.s3.eu-west-1.amazonaws.com"),
                               staff_auth_url="https://account-opening-prod-staff-123456789012.auth.eu-west-1."
                               "amazoncognito.com", customer_auth_url="https://account-opening-prod-123456789012.auth."
                               "eu-west-1.amazoncognito.com")
    parameters = header_parameters(security_headers(settings))  # raises for a header it cannot carry
    assert set(parameters) <= set(template["Parameters"])
    assert len(parameters["ConsoleContentSecurityPolicy"]) <= CSP_MAX_LENGTH
    assert template["Parameters"]["ConsoleContentSecurityPolicy"]["Default"] == "default-src 'none'; frame-ancestors 'none'"
    hsts = template["Resources"]["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]["StrictTransportSecurity"]
    assert SECURITY_HEADERS["Strict-Transport-Security"] == (
        f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains")  # what the API sent with the console


def test_custom_domains_are_optional_validated_through_dns_and_tls_1_2(template):
    resources = template["Resources"]
    for name in ("ApiCertificate", "WebSocketCertificate"):
        certificate = resources[name]
        assert certificate["Condition"].startswith("Has") and certificate["Properties"]["ValidationMethod"] == "DNS"
        assert certificate["Properties"]["DomainValidationOptions"][0]["HostedZoneId"] == {"Ref": "HostedZoneId"}
    assert resources["ApiDomain"]["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert resources["WebSocketDomain"]["Properties"]["DomainNameConfigurations"][0]["SecurityPolicy"] == "TLS_1_2"
    edge = load_template(ROOT / "edge.yaml")
    assert edge["Resources"]["ConsoleWebAcl"]["Properties"]["Scope"] == "CLOUDFRONT"
    assert edge["Resources"]["ConsoleCertificate"]["Properties"]["ValidationMethod"] == "DNS"
    for name in ("ConsoleDomainName", "ApiDomainName", "WebSocketDomainName", "HostedZoneId"):
        assert template["Parameters"][name]["Default"] == ""


def test_staff_sign_in_is_managed_login_through_the_corporate_provider_with_no_password_flow(template):
    resources = template["Resources"]
    client = resources["StaffUserPoolClient"]["Properties"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no USER_PASSWORD_AUTH, no SRP
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert "aws.cognito.signin.user.admin" not in client["AllowedOAuthScopes"]  # nobody writes their own profile
    assert "custom:idp_id_token" not in client["ReadAttributes"]  # the provider's token stays out of ours
    federated, alone = client["WriteAttributes"]["Fn::If"][1:]
    assert "custom:idp_id_token" in federated  # mapped attributes must be writable (the scope guards them)
    assert "email" not in alone and "email_verified" not in alone  # staff never write their own e-mail
    provider = resources["StaffCorporateIdp"]["Properties"]
    assert provider["AttributeMapping"]["custom:idp_id_token"] == "id_token"
    assert "{{resolve:secretsmanager:" in provider["ProviderDetails"]["client_secret"]["Fn::Sub"]  # never a parameter
    pool = resources["StaffUserPool"]["Properties"]
    assert pool["LambdaConfig"]["Fn::If"][1]["PreTokenGenerationConfig"]["LambdaVersion"] == "V1_0"
    assert pool["UserPoolTier"] == "ESSENTIALS" and resources["StaffUserPoolDomain"]["Properties"][
        "ManagedLoginVersion"] == 2
    applicants = resources["UserPoolClient"]["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" in applicants["ExplicitAuthFlows"]  # applicants keep their password sign-in
    assert template["Parameters"]["StaffRequireProviderMfa"]["Default"] == "true"
