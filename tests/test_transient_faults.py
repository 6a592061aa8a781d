"""A transient AWS failure is the client's cue to retry: 503 with Retry-After, never a 500."""
from __future__ import annotations

import pytest

from tests.support.documents import make_declared
from tests.support.faults import FaultPlan, injected


def header(reply, name: str):
    return {k.lower(): v for k, v in reply.headers.items()}.get(name.lower())


def assert_503(reply) -> None:
    assert reply.status == 503, (reply.status, reply.body)
    assert reply.body["error"]["code"] == "service_unavailable"
    retry_after = header(reply, "Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 60


@pytest.mark.parametrize("code,status", [("ThrottlingException", 400), ("ProvisionedThroughputExceededException", 400),
                                         ("InternalServerError", 500), ("ServiceUnavailable", 503),
                                         ("RequestLimitExceeded", 400)])
def test_create_answers_503_when_dynamodb_keeps_failing(api, applicant, code, status):
    with injected(FaultPlan.always("dynamodb"), code, status):
        reply = api.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "k-1"})
    assert_503(reply)
    # The client's retry with the same key succeeds and creates exactly one application.
    again = api.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "k-1"})
    assert again.status == 201
    assert len(api.get("/applications", user=applicant).body["items"]) == 1


def test_reads_answer_503_too(api, applicant):
    created = api.post("/applications", make_declared(), user=applicant).body["id"]
    with injected(FaultPlan.always("dynamodb")):
        for path in (f"/applications/{created}", f"/applications/{created}/history", "/applications"):
            assert_503(api.get(path, user=applicant))


def test_upload_request_answers_503_when_a_dependency_is_down(api, applicant):
    created = api.post("/applications", make_declared(), user=applicant).body["id"]
    with injected(FaultPlan.always("dynamodb")):
        assert_503(api.post(f"/applications/{created}/documents", {"content_type": "image/jpeg"}, user=applicant))


def test_parameter_store_down_answers_503(api, applicant):
    from chalicelib.bootstrap import services

    settings = services().settings

    settings.clear_cache()
    try:
        with injected(FaultPlan.always("ssm")):
            reply = api.post("/applications", make_declared(), user=applicant)
        assert_503(reply)
    finally:
        settings.clear_cache()


def test_a_real_bug_is_still_a_500(api, applicant, monkeypatch):
    """Only transient AWS errors become 503: an AccessDenied is our misconfiguration."""
    with injected(FaultPlan.always("dynamodb"), "AccessDeniedException", 400):
        reply = api.post("/applications", make_declared(), user=applicant)
    assert reply.status == 500 and reply.body["error"]["code"] == "internal_error"
