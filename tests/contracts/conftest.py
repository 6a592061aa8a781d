"""One contract per port, run against the in-memory fake and the real adapter.

Every fixture here is parametrised ``[fake, real]``: ``fake`` is the class in
``chalicelib/adapters/memory/``; ``real`` is what ``bootstrap.services()``
builds from the environment, the same configuration the app runs with, on
the session's moto server (the ``real`` items carry the ``stack`` marker, so
only they start it: ``pytest tests/contracts -k fake`` runs without moto).

The real tables are shared with the rest of the suite, so the contracts give
every application their own applicant and stamp them far in the future
(year 2900+), where no job, report or queue test ever looks.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.domain.users import Identity

KINDS = ["fake", pytest.param("real", marks=pytest.mark.stack)]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def real_services() -> Any:
    from chalicelib.bootstrap import services

    return services()


class Moment:
    """A settable clock, far in the future and different for every test."""

    def __init__(self) -> None:
        self.now = dt.datetime(2900, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            days=random.randrange(0, 300_000), seconds=random.randrange(0, 86_400)
        )

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def moment() -> Moment:
    return Moment()


@pytest.fixture
def repository(kind: str) -> Any:
    return memory.InMemoryApplicationRepository() if kind == "fake" else real_services().repository


@pytest.fixture
def chain_key(kind: str) -> Any:
    return memory.StaticChainKey() if kind == "fake" else real_services().chain_key


@pytest.fixture
def claims(kind: str) -> Any:
    return memory.InMemoryClaims() if kind == "fake" else real_services().claims


@pytest.fixture
def documents(kind: str) -> Any:
    """The store, and a way to put an object where an applicant's upload would land."""
    if kind == "fake":
        store = memory.InMemoryDocumentStore()
        return store, store.put
    s3 = real_services().client("s3")
    bucket = real_services().config.documents_bucket

    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    return real_services().documents, put


@pytest.fixture
def reports(kind: str) -> Any:
    """The store, and a way to read back what it wrote."""
    if kind == "fake":
        store = memory.InMemoryReportStore()
        return store, store.read
    s3 = real_services().client("s3")
    bucket = real_services().config.reports_bucket

    def read(key: str) -> tuple[str, str]:
        obj = s3.get_object(Bucket=bucket, Key=key)
        return obj["Body"].read().decode("utf-8"), obj["ContentType"]

    return real_services().reports, read


@pytest.fixture
def publisher(kind: str) -> Iterator[tuple[Any, Callable[[], list[dict[str, Any]]]]]:
    """The publisher, and what reached the topic (an SQS queue subscribed to it, raw delivery, for real)."""
    if kind == "fake":
        fake = memory.RecordingEventPublisher()
        yield fake, lambda: fake.messages
        return
    import json

    svc = real_services()
    sqs, sns = svc.client("sqs"), svc.client("sns")
    url = sqs.create_queue(QueueName=f"contract-tap-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(
        TopicArn=svc.config.events_topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]

    def received() -> list[dict[str, Any]]:
        bodies = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                return bodies
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                bodies.append(json.loads(message["Body"]))

    try:
        yield svc.publisher, received
    finally:
        sns.unsubscribe(SubscriptionArn=sub)
        sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def connection_store(kind: str) -> Callable[..., Any]:
    """A factory: the store on a given clock (the real one bound to the session's tables by bootstrap)."""

    def make(clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> Any:
        if kind == "fake":
            return memory.InMemoryConnectionStore(clock)
        from chalicelib.adapters.dynamodb_connections import DynamoConnectionStore

        return DynamoConnectionStore(real_services().dynamodb_connection, clock=clock)

    return make


@pytest.fixture
def settings(kind: str) -> Any:
    return memory.StaticSettings() if kind == "fake" else real_services().settings


@pytest.fixture
def tokens(kind: str) -> tuple[Any, Callable[[tuple[str, ...]], tuple[str, Identity]]]:
    """The verifier, and a way to get a good token for a new user: (token, who the verifier must say)."""
    if kind == "fake":
        verifier = memory.FakeTokenVerifier()

        def issue_fake(groups: tuple[str, ...]) -> tuple[str, Identity]:
            who = Identity(sub=str(uuid.uuid4()), groups=frozenset(groups), email="someone@example.com",
                           pool="staff" if groups else "customer")
            return verifier.issue(who), who

        return verifier, issue_fake
    from tests.support.identities import make_user

    def issue_real(groups: tuple[str, ...]) -> tuple[str, Identity]:
        user = make_user(groups)
        return user.token, Identity(sub=user.sub, groups=frozenset(groups), email=user.email, pool=user.pool)

    return real_services().verifier, issue_real


@pytest.fixture
def metrics(kind: str) -> Any:
    return memory.RecordingMetrics() if kind == "fake" else real_services().metrics
