"""Evidence pinned: every read of a document is of the version that was checked (issue 18, item 3).

The upload form is a presigned POST bound to one key for its whole lifetime; the bucket is versioned,
so posting it again writes a new version of the same key. That version is recorded in the history as
``document.replaced`` and never read: OCR read the version the S3 event named, the reviewer's link
is signed for that version (VersionId), and the retention purge deletes every version. The local
stack's S3 events carry the ``versionId`` as AWS's do (devstack/motofix.py).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from urllib.parse import parse_qs, urlparse

import boto3
import requests

from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared, passport_bytes
from tests.support.flows import s3_event
from tests.test_review_api import decide, history, record

BUCKET = os.environ.get("DOCUMENTS_BUCKET_NAME", "")


def post_form(form: dict, body: bytes) -> str:
    """Post the upload form as a client app would; returns the version S3 made."""
    response = requests.post(form["url"], data=form["fields"], files={"file": ("p.jpg", body, "image/jpeg")},
                             timeout=REPLY_S)
    assert response.status_code in (200, 201, 204), response.text
    versions = boto3.client("s3").list_object_versions(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
                                                       Prefix=form["key"])["Versions"]
    return next(v["VersionId"] for v in versions if v["IsLatest"])


def test_a_reposted_form_is_recorded_never_read_nor_shown_and_the_purge_takes_every_version(api, client,
                                                                                             applicant, reviewer):
    declared = make_declared()
    app_id = api.post("/applications", declared, user=applicant).body["id"]
    form = api.post(f"/applications/{app_id}/documents", {"content_type": "image/jpeg"}, user=applicant).body
    original = passport_bytes(declared)
    v1 = post_form(form, original)
    client.lambda_.invoke("verify_identity_document", s3_event(client, form["key"], v1))
    record(app_id, "address", "REVIEW")
    record(app_id, "sanctions", "PASS")
    record(app_id, "face", "PASS")  # issue 17: the fourth check
    assert api.get(f"/applications/{app_id}", user=applicant).body["state"] == "FLAGGED"
    before = [e.type.value for e in history(app_id)]

    # the same form, posted again with something else: a new version of the same key
    swapped = original + b"<html><script>alert(1)</script></html>"
    v2 = post_form(form, swapped)
    assert v2 != v1
    for _ in range(2):  # delivered, then redelivered: one record
        client.lambda_.invoke("verify_identity_document", s3_event(client, form["key"], v2))
    events = history(app_id)
    assert [e.type.value for e in events] == before + ["document.replaced"], [e.type.value for e in events]
    assert events[-1].details["version"] == v2 and events[-1].details["checked_version"] == v1
    assert api.get(f"/applications/{app_id}", user=applicant).body["state"] == "FLAGGED"

    # the reviewer's link is for the version checked
    link = api.get(f"/review/applications/{app_id}/document", user=reviewer)
    assert link.status == 200, link.body
    assert parse_qs(urlparse(link.body["url"]).query)["versionId"] == [v1]
    shown = requests.get(link.body["url"], timeout=REPLY_S)
    assert shown.status_code == 200 and shown.content == original

    # decided, then purged past retention: no version of anything the application uploaded is left
    assert decide(api, reviewer, app_id, "reject", "not the person").status == 200
    from chalicelib.bootstrap import services

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=services().settings.policy().document_retention_days
                                                              + 1)
    summary = services().maintenance.purge_past_retention(now=later)
    assert summary["objects_deleted"] >= 2, summary
    left = boto3.client("s3").list_object_versions(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
                                                   Prefix=f"applications/{app_id}/")
    assert not left.get("Versions") and not left.get("DeleteMarkers"), left


def test_the_local_stacks_s3_events_name_the_object_version():
    """moto's notification records carry no versionId; the local stack's patched moto adds it (and a sequencer)."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = f"versions-{uuid.uuid4().hex[:12]}"
    queue = sqs.create_queue(QueueName=f"versions-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    made = [s3.put_object(Bucket=bucket, Key="k", Body=body)["VersionId"] for body in (b"one", b"two")]
    seen = []
    for _ in range(10):
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            body = json.loads(message["Body"])
            seen += [r["s3"]["object"] for r in body.get("Records", [])]
        if len(seen) >= 2:
            break
    assert [o["versionId"] for o in seen] == made
    assert all(o["sequencer"] for o in seen)
