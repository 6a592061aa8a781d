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
    (key,) = of_type(template, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    use = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:*"}
    by_sid = {s["Sid"]: s for s in statements}
    admins = by_sid["KeyAdministratorsManageOnly"]
    assert not use & set(admins["Action"]) and admins["Condition"]["ArnLike"]["aws:PrincipalArn"] == {
        "Ref": "KeyAdministrators"}
    users = by_sid["ThisStagesFunctionsUse"]
    assert not {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:*"} & set(users["Action"])
    assert "role/account-opening-${Stage}-*" in users["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
    for statement in statements:  # nobody gets everything any more
        assert statement["Action"] != "kms:*" and "kms:*" not in statement["Action"], statement["Sid"]


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
