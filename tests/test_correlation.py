"""Each invocation logs under its own correlation id, lines about an application carry its id,
no line keeps keys of an earlier invocation, and every handler runs in its own trace subsegment."""
from __future__ import annotations

import contextlib
import io
import json
import threading
import time

import pytest

from tests.support.deadlines import EVENT_S, REPLY_S
from tests.support.documents import jpeg_bytes
from tests.support.flows import address_message, create_application, s3_event, sqs_event, upload_document
from tests.support.identities import forge, random_rsa_key


@pytest.fixture
def lines():
    """The app's log lines written since the fixture started, parsed."""
    from chalicelib.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    finally:
        logger.registered_handler.setStream(previous)


def schedule_event(client, handler):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[f"arn:aws:events:us-east-1:123456789012:rule/{handler}"],
                                            region="us-east-1")
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return event


def test_rest_lines_carry_the_request_id_the_client_gets_and_the_next_invocation_does_not(api, client, lines):
    forged = {"Authorization": f"Bearer {forge(key=random_rsa_key())}"}
    first, second = api.get("/applications", headers=forged), api.get("/applications", headers=forged)
    assert first.status == second.status == 401
    refused = [r for r in lines() if r["message"] == "token refused"]
    assert [r["correlation_id"] for r in refused] == [first.body["request_id"], second.body["request_id"]]
    assert all(r["request_id"] == r["correlation_id"] for r in refused)
    assert first.headers["X-Request-Id"] == first.body["request_id"] != second.body["request_id"]
    assert refused[0]["handler"] == "GET /applications" and "cold_start" in refused[0]

    event = schedule_event(client, "escalate_overdue_reviews")
    client.lambda_.invoke("escalate_overdue_reviews", event)
    job = [r for r in lines() if r.get("handler") == "escalate_overdue_reviews"]
    assert job and all(r["correlation_id"] == event["id"] for r in job)
    assert not any("request_id" in r for r in job)  # the REST request's id stayed with the REST request


def test_sqs_lines_carry_each_messages_id_and_application(api, client, applicant, lines):
    good = create_application(api, applicant)
    event = sqs_event(client, address_message("no-such-application"), address_message(good), "not json")
    ids = [record["messageId"] for record in event["Records"]]
    client.lambda_.invoke("check_address", event)
    failed = [r for r in lines() if r["message"] == "message failed"]
    assert [(r["correlation_id"], r.get("application_id")) for r in failed] == [
        (ids[0], "no-such-application"), (ids[2], None)]
    invocation = {r["function_request_id"] for r in failed}
    assert len(invocation) == 1  # one invocation, three messages, each under its own id


def test_s3_lines_carry_the_application_of_the_document(api, client, applicant, lines):
    app_id = create_application(api, applicant)
    key = upload_document(api, applicant, app_id, jpeg_bytes())
    event = s3_event(client, key)
    client.lambda_.invoke("verify_identity_document", event)
    handled = [r for r in lines() if r["message"] == "identity document handled"]
    expected = event["Records"][0]["messageId"]  # the identity-check queue's message, S3's notification in it
    assert [(r["application_id"], r["correlation_id"]) for r in handled] == [(app_id, expected)]


def test_concurrent_invocations_keep_their_own_keys(api, lines):
    """chalice local serves requests from threads: keys are per thread, never shared."""
    forged = {"Authorization": f"Bearer {forge(key=random_rsa_key())}"}
    replies, start = [], threading.Barrier(4)

    def call():
        start.wait(REPLY_S)
        replies.append(api.get("/applications", headers=forged).body["request_id"])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(EVENT_S)
    refused = [r["correlation_id"] for r in lines() if r["message"] == "token refused"]
    assert sorted(refused) == sorted(replies) and len(set(replies)) == 4


class RecordingProvider:
    """Powertools' tracing provider interface, recording subsegments and annotations."""

    def __init__(self):
        self.subsegments: list[dict] = []

    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs):
        record = {"name": name, "annotations": {}}
        self.subsegments.append(record)

        class Subsegment:
            def put_annotation(self, key, value):
                record["annotations"][key] = value

            def put_metadata(self, key, value, namespace=None):
                pass

        yield Subsegment()

    def put_annotation(self, key, value):
        pass

    def put_metadata(self, key, value, namespace=None):
        pass

    def patch(self, modules):
        pass

    def patch_all(self):
        pass


@pytest.fixture
def recorded_traces(monkeypatch):
    from aws_lambda_powertools import Tracer

    from chalicelib import observability

    provider = RecordingProvider()
    tracer = Tracer(service="test", disabled=False, auto_patch=False, provider=provider)
    monkeypatch.setattr(observability, "tracer", lambda: tracer)
    yield provider
    Tracer._reset_config()


def test_every_handler_runs_in_its_own_subsegment(api, client, applicant, recorded_traces):
    app_id = create_application(api, applicant)
    assert api.get(f"/applications/{app_id}", user=applicant).status == 200
    event = sqs_event(client, address_message(app_id))
    client.lambda_.invoke("check_address", event)
    client.lambda_.invoke("expire_abandoned_applications", schedule_event(client, "expire_abandoned_applications"))
    names = [s["name"] for s in recorded_traces.subsegments]
    assert names == ["## POST /applications", "## GET /applications/{application_id}", "## check_address",
                     "## expire_abandoned_applications"]
    read, checked = recorded_traces.subsegments[1]["annotations"], recorded_traces.subsegments[2]["annotations"]
    assert read["application_id"] == checked["application_id"] == app_id
    assert checked["correlation_id"] == event["Records"][0]["messageId"]
    assert all(isinstance(s["annotations"]["cold_start"], bool) for s in recorded_traces.subsegments)


def test_tracing_is_off_where_the_configuration_says_so(monkeypatch):
    from chalicelib import observability

    observability.tracer.cache_clear()
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    try:
        assert observability.tracer() is None
    finally:
        observability.tracer.cache_clear()
