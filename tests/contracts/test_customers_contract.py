"""The re-screening ports (customers' profiles, screening cases, the work queue): fakes and real adapters alike.

The real ones run on tables and a queue of their own (named per test, schema from resources.yaml), so a
scan or the open-cases queue sees exactly what the test wrote."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml

from chalicelib.adapters import memory
from chalicelib.domain.sanctions.rescreening import OPEN, CustomerProfile, ScreeningCase
from chalicelib.services.ports import InvalidCursor
from tests.contracts.conftest import KINDS
from tests.support.aws import ROOT


def _table_like(resource: str) -> str:
    """A new table with the schema resources.yaml gives ``resource``."""
    import boto3

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "resources.yaml").read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass
    properties = template["Resources"][resource]["Properties"]
    name = f"contract-{resource}-{uuid.uuid4().hex[:10]}"
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    boto3.client("dynamodb").create_table(**request)
    return name


@pytest.fixture(params=KINDS)
def profiles(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return memory.InMemoryCustomerProfiles()
    import boto3

    from chalicelib.adapters.dynamodb_customers import DynamoCustomerProfiles

    return DynamoCustomerProfiles(boto3.client("dynamodb"), _table_like("CustomersTable"))


@pytest.fixture(params=KINDS)
def cases(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return memory.InMemoryScreeningCases()
    import boto3

    from chalicelib.adapters.dynamodb_customers import DynamoScreeningCases

    return DynamoScreeningCases(boto3.client("dynamodb"), _table_like("ScreeningCasesTable"))


def profile(n: int, **fields: Any) -> CustomerProfile:
    return CustomerProfile(
        application_id=f"00000000-0000-4000-8000-{n:012d}",
        applicant_id=f"sub-{n}",
        names=(f"Customer {n} Quintero",),
        date_of_birth="1971-04-09",
        nationality="MEX",
        sex="F" if n % 2 else None,
        approved_at="2026-01-05T09:00:00.000Z",
        **fields,
    )


def test_a_profile_round_trips_and_put_replaces(profiles):
    profiles.put(profile(1), 2_000_000_000)
    profiles.put(profile(1), 2_000_000_000)
    assert profiles.get(profile(1).application_id) == profile(1)
    profiles.delete(profile(1).application_id)
    profiles.delete(profile(1).application_id)  # idempotent
    assert profiles.get(profile(1).application_id) is None


def test_a_parallel_scan_reads_every_live_profile_once_page_by_page(profiles):
    for n in range(12):
        profiles.put(profile(n), 2_000_000_000 if n != 5 else 1_000)  # 5's retention ended
    seen: list[str] = []
    for segment in range(3):
        start = None
        while True:
            page, start = profiles.scan(segment, 3, start, 2, 1_700_000_000)
            seen.extend(p.application_id for p in page)
            if start is None:
                break
    assert sorted(seen) == sorted(profile(n).application_id for n in range(12) if n != 5)
    with pytest.raises(ValueError):
        profiles.scan(0, 3, {"application_id": 7}, 2, 0)


def case(n: int, opened_at: str) -> ScreeningCase:
    return ScreeningCase(
        case_id=f"case-{n}-{uuid.uuid4().hex[:6]}",
        application_id=profile(n).application_id,
        applicant_id=f"sub-{n}",
        opened_at=opened_at,
        index_version="abc",
        customer=profile(n).to_dict(),
        candidate={"list": "OFAC-SDN", "entry_id": "4242", "entry_hash": "h", "score": 91.5, "why": ["name"]},
    )


def test_a_case_opens_once_and_the_queue_is_oldest_first(cases):
    first, second, third = case(1, "2026-01-05T09:00:02Z"), case(2, "2026-01-05T09:00:01Z"), case(3, "2026-01-05T09:00:03Z")
    assert cases.open(first) and cases.open(second) and cases.open(third)
    assert not cases.open(first)  # a replay writes nothing
    assert cases.get(first.case_id) == first
    page, cursor = cases.open_cases(2, None)
    assert [c.case_id for c in page] == [second.case_id, first.case_id] and cursor
    rest, end = cases.open_cases(2, cursor)
    assert [c.case_id for c in rest] == [third.case_id] and end is None
    with pytest.raises(InvalidCursor):
        cases.open_cases(2, "bm90IGEgY3Vyc29y")


def test_a_resolved_case_leaves_the_queue_once(cases):
    opened = case(4, "2026-01-05T09:00:00Z")
    cases.open(opened)
    resolution = {"decision": "false_positive", "reason": "born elsewhere", "at": "2026-01-06T10:00:00.000Z"}
    assert cases.resolve(opened.case_id, "CLEARED", resolution)
    assert not cases.resolve(opened.case_id, "CONFIRMED", resolution)
    assert not cases.resolve("no-such-case", "CLEARED", resolution)
    stored = cases.get(opened.case_id)
    assert stored.status == "CLEARED" and stored.resolution == resolution
    assert opened.case_id not in [c.case_id for c in cases.open_cases(10, None)[0]]
    assert OPEN == "OPEN"


def test_a_recommendation_keeps_the_case_in_the_queue_until_it_is_resolved(cases):
    opened = case(5, "2026-01-05T09:00:00Z")
    cases.open(opened)
    first = {"status": "CONFIRMED", "reviewer": "r1", "reviewer_email": "r1@bank.example", "reason": "same DOB"}
    second = {**first, "status": "CLEARED", "reviewer": "r2"}
    assert cases.recommend(opened.case_id, first)
    assert cases.get(opened.case_id).recommendation == first
    assert cases.recommend(opened.case_id, second)  # a second reviewer overturning: replaced
    queued = {c.case_id: c for c in cases.open_cases(10, None)[0]}
    assert queued[opened.case_id].recommendation == second and queued[opened.case_id].status == OPEN
    assert cases.resolve(opened.case_id, "CLEARED", {"decision": "false_positive"})
    assert not cases.recommend(opened.case_id, first)  # closed: no more words
    assert cases.get(opened.case_id).recommendation == second
    assert not cases.recommend("no-such-case", first)


@pytest.fixture(params=KINDS)
def work_queue(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        queue = memory.RecordingWorkQueue()
        return queue, queue.take
    import boto3

    from chalicelib.adapters.sqs_work_queue import SqsWorkQueue

    sqs = boto3.client("sqs")
    name = f"contract-work-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]

    def take() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return got
            got.extend(json.loads(m["Body"]) for m in messages)

    return SqsWorkQueue(sqs, name), take


def test_every_message_sent_arrives(work_queue):
    queue, take = work_queue
    messages = [{"version": "v", "segment": s, "segments": 23} for s in range(23)]  # three batches
    queue.send(messages)
    assert sorted(take(), key=lambda m: m["segment"]) == messages
