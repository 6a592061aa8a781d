"""Scheduled jobs' events and the applications they act on, made old with a clock in the past: the helpers
the jobs' and IAM tests share (they were tests/test_jobs.py's)."""
from __future__ import annotations

import datetime as dt
import os

import boto3

from tests.support import reviews as h

UTC = dt.timezone.utc


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def schedule_event(client, rule: str, at: dt.datetime | None = None, detail: dict | None = None) -> dict:
    """The EventBridge scheduled event, as the test client builds it, at a chosen time."""
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail=detail or {},
        resources=[f"arn:aws:events:us-east-1:123456789012:rule/{rule}"], region="us-east-1")
    event["time"] = (at or now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def flagged_at(moment: dt.datetime) -> str:
    clock = h.Clock(moment - dt.timedelta(minutes=30))
    app_id = h.create_at(clock)
    clock.at(moment)
    assert h.drive(app_id, clock=clock).state.value == "FLAGGED"
    return app_id


def decided_with_documents(closed_at: dt.datetime, identity: str = "FAIL") -> tuple[str, list[str]]:
    """An application decided at ``closed_at`` (REJECTED: kept ``document_retention_days``; with
    ``identity="PASS"`` APPROVED, kept for the AML period) with two uploads (one re-upload) in S3."""
    from chalicelib.bootstrap import services

    clock = h.Clock(closed_at - dt.timedelta(hours=1))
    app_id = h.create_at(clock)
    s3 = boto3.client("s3")
    keys = [h.receive_document(app_id, clock), services().documents.key_for_new_upload(app_id)]
    for key in keys:
        s3.put_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=key, Body=b"%PDF-1.4 " + os.urandom(64))
    normalised = {"country": "GB", "street_address": ["10 Downing Street"], "postal_code": "SW1A 2AA"}
    h.record(app_id, "address", "PASS", clock, details={"normalised": normalised})  # personal data in the history
    h.record(app_id, "sanctions", "PASS", clock)
    h.record(app_id, "face", "PASS", clock)
    decided = h.record(app_id, "identity", identity, clock.at(closed_at)).state.value
    assert decided == ("APPROVED" if identity == "PASS" else "REJECTED")
    return app_id, keys
