"""Per-user limits: one user cannot flood the bank with applications; the deployment is throttled.

Each application stores personal data and starts checks that cost money, so
creating them is limited per applicant per UTC day (``max_applications_per_day``
in Parameter Store); beyond it the API answers 429 with Retry-After.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import boto3
import pytest
import yaml

from tests.support.documents import make_declared

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def daily_limit():
    """Lower the limit for the test through Parameter Store, as an operator would."""
    from chalicelib.bootstrap import services

    settings = services().settings

    ssm = boto3.client("ssm")
    name = os.environ["SETTINGS_PATH"].rstrip("/") + "/max_applications_per_day"
    ssm.put_parameter(Name=name, Value="3", Type="String", Overwrite=True)
    settings.clear_cache()
    yield 3
    from chalicelib.domain.policy import Policy

    ssm.put_parameter(Name=name, Value=str(Policy().max_applications_per_day), Type="String", Overwrite=True)
    settings.clear_cache()


def header(reply, name: str):
    return {k.lower(): v for k, v in reply.headers.items()}.get(name.lower())


def test_applications_per_day_are_limited_with_429_and_retry_after(api, applicant, other_applicant, daily_limit):
    for _ in range(daily_limit):
        assert api.post("/applications", make_declared(), user=applicant).status == 201
    before = dt.datetime.now(dt.timezone.utc)
    reply = api.post("/applications", make_declared(), user=applicant)
    after = dt.datetime.now(dt.timezone.utc)
    assert reply.status == 429 and reply.body["error"]["code"] == "too_many_requests", reply.body
    retry_after = int(header(reply, "Retry-After"))
    midnight = dt.datetime.combine(before.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    # the seconds to midnight when the server looked, rounded up: between before and after the request (a
    # loaded machine can take seconds over it)
    assert 0 < (midnight - after).total_seconds() <= retry_after <= (midnight - before).total_seconds() + 1
    assert len(api.get("/applications", user=applicant).body["items"]) == daily_limit
    # Someone else is not affected.
    assert api.post("/applications", make_declared(), user=other_applicant).status == 201


def test_idempotent_retries_do_not_count(api, applicant, daily_limit):
    for _ in range(daily_limit + 2):
        reply = api.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "same"})
        assert reply.status in (200, 201)
    for _ in range(daily_limit - 1):
        assert api.post("/applications", make_declared(), user=applicant).status == 201
    assert api.post("/applications", make_declared(), user=applicant).status == 429


def test_the_default_limit_is_in_the_template():
    template = yaml.load((ROOT / "resources.yaml").read_text(), Loader=_CfnLoader)
    def name(resource):
        sub = resource["Properties"]["Name"]["Fn::Sub"]
        return (sub[0] if isinstance(sub, list) else sub).rsplit("/", 1)[-1]

    values = {name(r): r["Properties"]["Value"]
              for r in template["Resources"].values() if isinstance(r, dict) and r.get("Type") == "AWS::SSM::Parameter"}
    from chalicelib.domain.policy import Policy

    assert int(values["max_applications_per_day"]) == Policy().max_applications_per_day


# --- the deployment --------------------------------------------------------------------------------

class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub, !Ref, !GetAtt) as their long forms."""


for _tag, _name in (("!Sub", "Fn::Sub"), ("!Ref", "Ref"), ("!GetAtt", "Fn::GetAtt"), ("!Join", "Fn::Join"),
                    ("!Select", "Fn::Select"), ("!If", "Fn::If"), ("!Equals", "Fn::Equals"),
                    ("!Not", "Fn::Not"), ("!FindInMap", "Fn::FindInMap"), ("!Split", "Fn::Split"),
                    ("!And", "Fn::And"), ("!Or", "Fn::Or"), ("!Condition", "Condition"),
                    ("!GetAZs", "Fn::GetAZs"), ("!ImportValue", "Fn::ImportValue"), ("!Base64", "Fn::Base64")):
    def _construct(loader, node, name=_name):  # type: ignore[no-untyped-def]
        if isinstance(node, yaml.ScalarNode):
            return {name: loader.construct_scalar(node)}
        return {name: loader.construct_sequence(node, deep=True)}

    _CfnLoader.add_constructor(_tag, _construct)


def stages() -> dict:
    return json.loads((ROOT / ".chalice" / "config.json").read_text()).get("stages", {})


def deployed_stages() -> dict:
    return {name: stage for name, stage in stages().items() if name not in ("local", "test")}


def test_every_deployed_stage_reserves_concurrency_for_every_function():
    """A cap per function: one flood (or one bug) cannot take the account's whole concurrency."""
    import app as app_module

    assert deployed_stages(), "no deployable stage in .chalice/config.json"
    handlers = {"api_handler", "websocket_connect", "websocket_message", "websocket_disconnect"} | {
        h.name for h in app_module.app.event_sources
    }
    for name, stage in deployed_stages().items():
        default = stage.get("reserved_concurrency")
        for handler in handlers:
            reserved = stage.get("lambda_functions", {}).get(handler, {}).get("reserved_concurrency", default)
            assert isinstance(reserved, int) and 1 <= reserved <= 200, (name, handler, reserved)


def test_the_rest_and_websocket_stages_are_throttled():
    """Stage throttling is applied by the deploy from .chalice/gateway.json."""
    gateway = json.loads((ROOT / ".chalice" / "gateway.json").read_text())
    for api in ("rest", "websocket"):
        limits = gateway[api]
        assert 0 < limits["rate_limit"] <= 1000 and limits["rate_limit"] <= limits["burst_limit"] <= 2000
    deploy = (ROOT / "scripts" / "event_sources.py").read_text()  # the wiring the deploy applies
    assert "throttling/rateLimit" in deploy and "ThrottlingRateLimit" in deploy


def test_the_outbox_stream_mapping_reports_partial_batch_failures_with_bisect_retries_and_a_destination():
    from scripts.event_sources import ASYNC_RETRIES, STREAM_MAPPING

    assert STREAM_MAPPING["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert STREAM_MAPPING["BisectBatchOnFunctionError"] is True and 0 < STREAM_MAPPING["MaximumRetryAttempts"] <= 10
    deploy = (ROOT / "scripts" / "event_sources.py").read_text()  # the wiring the deploy applies
    assert "HISTORY_STREAM_DLQ_ARN" in deploy and "DOCUMENT_EVENTS_DLQ_ARN" in deploy  # the on-failure queues
    assert 0 < ASYNC_RETRIES <= 2


# --- per-user request rate limits ----------------------------------------------------------------

@pytest.fixture
def rate_limits():
    """Lower both per-minute limits to 5 through Parameter Store, as an operator would; restored after."""
    from chalicelib.bootstrap import services

    settings = services().settings
    ssm = boto3.client("ssm")
    prefix = os.environ["SETTINGS_PATH"].rstrip("/")
    names = ("applicant_requests_per_minute", "staff_requests_per_minute")
    saved = {n: ssm.get_parameter(Name=f"{prefix}/{n}")["Parameter"]["Value"] for n in names}
    for n in names:
        ssm.put_parameter(Name=f"{prefix}/{n}", Value="5", Type="String", Overwrite=True)
    settings.clear_cache()
    yield 5
    for n, value in saved.items():
        ssm.put_parameter(Name=f"{prefix}/{n}", Value=value, Type="String", Overwrite=True)
    settings.clear_cache()


def _burst(api, path: str, user, count: int) -> list:
    """``count`` requests within one rate window (re-run, on fresh users' counters, if a window ended
    mid-burst: the limit is per fixed minute)."""
    from chalicelib.domain.limits import request_window

    for _ in range(3):
        window = request_window(dt.datetime.now(dt.timezone.utc))[0]
        replies = [api.get(path, user=user) for _ in range(count)]
        if request_window(dt.datetime.now(dt.timezone.utc))[0] == window:
            return replies
    raise AssertionError("three bursts each crossed a minute boundary")


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_requests_past_the_per_user_rate_limit_answer_429_with_retry_after(api, rate_limits, role):
    from tests.support.identities import make_user

    users = [make_user(("reviewers",) if role == "reviewer" else ()) for _ in range(3)]
    path = "/review/queue" if role == "reviewer" else "/applications"
    for user in users:  # a fresh user per try: a crossed window leaves the last one's counter spent
        replies = _burst(api, path, user, rate_limits + 2)
        if [r.status for r in replies[:rate_limits]] == [200] * rate_limits:
            break
    assert [r.status for r in replies] == [200] * rate_limits + [429, 429], [r.body for r in replies]
    refused = replies[-1]
    assert refused.body["error"]["code"] == "too_many_requests"
    details = refused.body["error"]["details"]
    assert details["limit"] == rate_limits and details["window_seconds"] == 60
    retry_after = int(header(refused, "Retry-After"))
    assert 1 <= retry_after <= 60 and details["retry_after_seconds"] == retry_after
    # Another user of the same role is not affected.
    other = make_user(("reviewers",) if role == "reviewer" else ())
    assert api.get(path, user=other).status == 200


def test_public_routes_and_refused_tokens_are_not_rate_limited(api, rate_limits):
    for _ in range(rate_limits + 2):
        assert api.get("/health").status == 200
        assert api.get("/applications", headers={"Authorization": "Bearer nonsense"}).status == 401


def test_the_rate_limit_defaults_are_in_the_template():
    template = yaml.load((ROOT / "resources.yaml").read_text(), Loader=_CfnLoader)
    values = {r["Properties"]["Name"]["Fn::Sub"].rsplit("/", 1)[-1]: r["Properties"]["Value"]
              for r in template["Resources"].values() if isinstance(r, dict) and r.get("Type") == "AWS::SSM::Parameter"
              and isinstance(r["Properties"]["Name"].get("Fn::Sub"), str)}
    from chalicelib.domain.policy import Policy

    assert int(values["applicant_requests_per_minute"]) == Policy().applicant_requests_per_minute
    assert int(values["staff_requests_per_minute"]) == Policy().staff_requests_per_minute


def _in_one_window(attempt):
    """Run ``attempt(user)`` with a fresh applicant until one run stays within one rate window."""
    from chalicelib.domain.limits import request_window
    from tests.support.identities import make_user

    for _ in range(3):
        window = request_window(dt.datetime.now(dt.timezone.utc))[0]
        result = attempt(make_user())
        if request_window(dt.datetime.now(dt.timezone.utc))[0] == window:
            return result
    raise AssertionError("three runs each crossed a minute boundary")


def test_a_committing_request_takes_its_rate_limit_use_in_its_own_commit(api, rate_limits):
    """Issue 22: the create's use is one more item of its transaction -- one call, no UpdateItem of its own."""
    from tests.support.faults import FaultPlan, injected

    def create(user):
        with injected(FaultPlan(lambda s, o: False)) as plan:
            reply = api.post("/applications", make_declared(), user=user)
        return reply, plan.calls

    reply, calls = _in_one_window(create)
    assert reply.status == 201, reply.body
    assert [c for c in calls if c[0] == "dynamodb"] == [("dynamodb", "TransactWriteItems")]


def test_refused_committing_requests_count_and_past_the_limit_nothing_is_written(api, rate_limits):
    """A committing request that commits nothing (404, an idempotent replay) still takes a use, after its view;
    past the limit the create's own transaction is refused: 429 with its details, no application stored."""
    import uuid

    from chalicelib.bootstrap import services

    def run(user):
        first = api.post("/applications", make_declared(), user=user, headers={"Idempotency-Key": "k"})
        replay = api.post("/applications", make_declared(), user=user, headers={"Idempotency-Key": "k"})
        missing = [api.post(f"/applications/{uuid.uuid4()}/withdraw", {"reason": "x"}, user=user)
                   for _ in range(rate_limits - 2)]
        over = api.post("/applications", make_declared(), user=user)
        return user, first, replay, missing, over

    user, first, replay, missing, over = _in_one_window(run)
    assert (first.status, replay.status, [r.status for r in missing]) == (201, 200, [404] * (rate_limits - 2))
    assert over.status == 429 and over.body["error"]["code"] == "too_many_requests", over.body
    details = over.body["error"]["details"]
    assert details["limit"] == rate_limits and details["window_seconds"] == 60
    assert 1 <= int(header(over, "Retry-After")) <= 60
    stored, _ = services().repository.list_for_applicant(user.sub, 10, None)
    assert [a.application_id for a in stored] == [first.body["id"]]
