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
