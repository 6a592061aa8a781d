"""The outbox handler on real history-stream records: partial batch failures, not all-or-nothing."""

from __future__ import annotations

import itertools

from tests.support.faults import FaultPlan, injected
from tests.support.flows import create_application, stream_records


def publish_history(client, records):
    return client.lambda_.invoke("publish_history", {"Records": records}).payload


def test_a_failed_publish_reports_the_first_failed_record_and_the_retry_completes(api, client, applicant):
    ids = [create_application(api, applicant) for _ in range(3)]
    records = list(itertools.chain.from_iterable(stream_records(i) for i in ids))
    assert len(records) == 3
    with injected(FaultPlan.always("sns", "PublishBatch"), "InternalError", 500) as plan:
        answer = publish_history(client, records)
    assert plan.failed == [("sns", "PublishBatch")]  # one call for the whole batch, no DynamoDB call
    first = records[0]["dynamodb"]["SequenceNumber"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": first}]}
    with injected(FaultPlan(lambda s, o: False)) as plan:
        assert publish_history(client, records) == {"batchItemFailures": []}
    # one call for the batch's messages and none for the state counters: each commit counted its events
    assert plan.calls == [("sns", "PublishBatch")]


def test_the_relay_counts_once_what_no_commit_counted(api, client, applicant):
    """History items written before the commits counted (no ``counted``: a deploy's in-flight records) are
    counted by the relay, each once (its markers), however often the stream offers them."""
    from chalicelib.bootstrap import services

    ids = [create_application(api, applicant) for _ in range(2)]
    records = list(itertools.chain.from_iterable(stream_records(i) for i in ids))
    assert all(r["dynamodb"]["NewImage"]["counted"] == {"BOOL": True} for r in records)
    for record in records:
        del record["dynamodb"]["NewImage"]["counted"]
    before = services().counters.states().get("AWAITING_DOCUMENTS", 0)
    with injected(FaultPlan(lambda s, o: False)) as plan:
        assert publish_history(client, records) == {"batchItemFailures": []}
    assert plan.calls == [("sns", "PublishBatch"), ("dynamodb", "TransactWriteItems")]
    with injected(FaultPlan(lambda s, o: False)) as plan:
        assert publish_history(client, records) == {"batchItemFailures": []}  # offered again: counted before
    assert plan.calls == [("sns", "PublishBatch"), ("dynamodb", "TransactWriteItems")]
    assert services().counters.states().get("AWAITING_DOCUMENTS", 0) - before >= 2


def test_a_batch_that_publishes_reports_nothing(api, client, applicant):
    records = stream_records(create_application(api, applicant))
    assert publish_history(client, records) == {"batchItemFailures": []}
