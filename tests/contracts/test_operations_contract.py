"""The console's ports: the document view link, the queues' admin, the job-run log, fake and real alike."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.services.ports import JobRun
from tests.contracts.conftest import real_services


def test_a_view_link_names_its_object_and_an_unknown_object_has_none(documents):
    store, put = documents
    key = store.key_for_new_upload(str(uuid.uuid4()))
    put(key, b"%PDF-1.7 " + bytes(2048), "application/pdf")
    link = store.presigned_view(key, "application/pdf", 300)
    assert isinstance(link, str) and key in link


@pytest.fixture
def queues(kind: str) -> Iterator[tuple[Any, Callable[[str, str], None]]]:
    """The admin over a queue "work" (with its DLQ) and a function's on-failure queue "failed" (a DLQ with no
    work queue), and a way to put a dead letter in either's dead-letter queue."""
    if kind == "fake":
        fake = memory.InMemoryQueueAdmin(("work",), dead_letter_only=("failed",))
        yield fake, lambda name, body: fake.dead[name].append(body)
        return
    from chalicelib.adapters.sqs_queues import SqsQueueAdmin

    sqs = real_services().client("sqs")
    suffix = uuid.uuid4().hex[:12]
    dlq, failed = f"contract-dead-{suffix}", f"contract-failed-{suffix}"
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in (dlq, failed)}
    dlq_arn = sqs.get_queue_attributes(QueueUrl=urls[dlq], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = f"contract-work-{suffix}"
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    urls[queue] = sqs.create_queue(QueueName=queue, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    try:
        yield (
            # the work queue's DLQ is also among the dead-letter queues (as the stack's outputs name it): listed once
            SqsQueueAdmin(sqs, {"work": queue}, {"work": dlq, "failed": failed}),
            lambda name, body: sqs.send_message(QueueUrl=urls[dlq if name == "work" else failed], MessageBody=body),
        )
    finally:
        for url in urls.values():
            sqs.delete_queue(QueueUrl=url)


def test_dead_letters_are_counted_and_a_redrive_moves_each_back_once(queues):
    admin, kill = queues
    for n in range(3):
        kill("work", json.dumps({"n": n}))
    kill("failed", json.dumps({"n": "lost"}))
    rows = {q.name: q for q in admin.status()}
    assert [(q.name, q.depth, q.dlq_depth, q.redrivable) for q in admin.status()] == [
        ("work", 0, 3, True), ("failed", None, 1, False)]
    assert rows["work"].queue and rows["work"].dead_letter_queue and rows["failed"].queue is None
    assert admin.redrive("work") == 3
    assert [(q.name, q.depth, q.dlq_depth) for q in admin.status()] == [("work", 3, 0), ("failed", None, 1)]
    assert admin.redrive("work") == 0
    for no_work_queue in ("not-ours", "failed"):
        with pytest.raises(KeyError):
            admin.redrive(no_work_queue)


@pytest.fixture
def job_runs(kind: str) -> Any:
    if kind == "fake":
        return memory.InMemoryJobRunLog()
    return real_services().job_runs


def test_the_last_run_of_each_job_is_kept_whole(job_runs):
    name = f"contract-job-{uuid.uuid4().hex[:8]}"
    first = JobRun(name, "2900-01-01T00:00:00.000Z", "2900-01-01T00:00:01.000Z", True, {"changed": 1, "failed": 0})
    job_runs.record(first)
    second = JobRun(name, "2900-01-02T00:00:00.000Z", "2900-01-02T00:00:02.000Z", False, {"error": "Boom"})
    job_runs.record(second)
    assert job_runs.last_runs()[name] == second


# --- the identity-check queue: asking for a check again; a throttled message put back -----------------


@pytest.fixture
def identity_queue(kind: str) -> Iterator[tuple[Any, Any, Callable[[], list[tuple[str, Any]]]]]:
    """(check requests, backoff, what the queue's consumer receives next as (key, version) pairs)."""
    if kind == "fake":
        requests, backoff = memory.InMemoryCheckRequests(), memory.RecordingBackoff()

        def taken_fake() -> list[tuple[str, Any]]:
            waiting, requests.waiting = requests.waiting, []
            return waiting

        yield requests, backoff, taken_fake
        return
    from chalicelib.adapters.sqs_queues import SqsBackoff, SqsCheckRequests
    from chalicelib.api.document_events import documents_in

    sqs = real_services().client("sqs")
    name = f"contract-identity-{uuid.uuid4().hex[:12]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    bucket = "contract-documents"

    def taken_real() -> list[tuple[str, Any]]:
        found = []
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            found += list(documents_in(message["Body"], bucket))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    try:
        yield SqsCheckRequests(sqs, name, bucket), SqsBackoff(sqs), taken_real
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_check_asked_for_again_reaches_the_queue_as_an_upload_would(identity_queue):
    requests, _, taken = identity_queue
    requests.request_identity_check("applications/a b/identity/x", "v1")
    requests.request_identity_check("applications/c/identity/y")
    assert sorted(taken(), key=str) == sorted([("applications/a b/identity/x", "v1"), ("applications/c/identity/y", None)], key=str)


def test_a_throttled_message_is_put_back_for_later(identity_queue, kind):
    _, backoff, _ = identity_queue
    if kind == "fake":
        backoff.retry_later("arn:aws:sqs:us-east-1:123456789012:q", "receipt", 120)
        assert backoff.delayed == [("arn:aws:sqs:us-east-1:123456789012:q", "receipt", 120)]
        return
    sqs = real_services().client("sqs")
    name = f"contract-backoff-{uuid.uuid4().hex[:12]}"
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.send_message(QueueUrl=url, MessageBody="{}")
        [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        backoff.retry_later(arn, message["ReceiptHandle"], 600)  # no call for the queue's URL: built from the ARN
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", []) == []  # still invisible
    finally:
        sqs.delete_queue(QueueUrl=url)
