"""Data verification through the real entry points: presigned upload, S3, SQS, the outbox stream."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import threading
import time
from urllib.parse import unquote_plus

import boto3
import pytest

from tests.support.documents import exe_bytes, jpeg_bytes, make_declared, passport_bytes
from tests.support.flows import (address_message, check_face, create_application, give_selfie, history_types,
                                 s3_event, s3_notification, screen_sanctions, sqs_event, state_of, stream_records,
                                 upload_document, with_face)


def verify_document(client, key):
    return client.lambda_.invoke("verify_identity_document", s3_event(client, key))


def check_address(client, *application_ids):
    return client.lambda_.invoke("check_address", sqs_event(client, *map(address_message, application_ids)))


def submit(api, client, applicant, **overrides):
    """A submission, screened against the sanctions lists as its own queue would have it screened."""
    app_id = create_application(api, applicant, **overrides)
    assert screen_sanctions(client, app_id).payload == {"batchItemFailures": []}
    return app_id


# --- upload -------------------------------------------------------------------

def test_presigned_post_is_bound_to_the_application_type_and_size(api, applicant):
    app_id = create_application(api, applicant)
    reply = api.post(f"/applications/{app_id}/documents", {"content_type": "image/png"}, user=applicant)
    assert reply.status == 201
    body = reply.body
    assert body["key"].startswith(f"applications/{app_id}/identity/")
    assert body["fields"]["key"] == body["key"] and body["fields"]["Content-Type"] == "image/png"
    policy = json.loads(__import__("base64").b64decode(body["fields"]["policy"]))
    assert ["content-length-range", 1024, 5 * 1024 * 1024] in policy["conditions"]
    expires = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert dt.timedelta(0) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(minutes=10)


def test_upload_is_owner_only_and_only_while_awaiting_documents(api, applicant, other_applicant):
    app_id = create_application(api, applicant)
    assert api.post(f"/applications/{app_id}/documents", {"content_type": "image/jpeg"},
                    user=other_applicant).status == 404
    api.post(f"/applications/{app_id}/withdraw", {}, user=applicant)
    reply = api.post(f"/applications/{app_id}/documents", {"content_type": "image/jpeg"}, user=applicant)
    assert reply.status == 409 and reply.body["error"]["details"]["state"] == "WITHDRAWN"


def test_upload_refuses_other_content_types(api, applicant):
    app_id = create_application(api, applicant)
    reply = api.post(f"/applications/{app_id}/documents", {"content_type": "application/x-msdownload"},
                     user=applicant)
    assert reply.status == 422


def test_documents_bucket_is_encrypted_and_private():
    s3 = boto3.client("s3")
    bucket = os.environ["DOCUMENTS_BUCKET_NAME"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


# --- the flow -------------------------------------------------------------------

def test_a_clean_application_is_approved_after_the_four_checks(api, client, applicant):
    app_id = submit(api, client, applicant)
    key = upload_document(api, applicant, app_id)
    verify_document(client, key)
    assert state_of(app_id) == "VERIFYING"
    result = check_address(client, app_id)
    assert result.payload == {"batchItemFailures": []}
    assert state_of(app_id) == "VERIFYING"  # three checks in: the face check is the applicant's to give
    assert give_selfie(api, applicant, app_id).status == 202
    assert check_face(client, app_id).payload == {"batchItemFailures": []}
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert app["state"] == "APPROVED"
    assert app["checks"]["identity"]["outcome"] == "PASS"
    assert app["checks"]["address"]["details"]["normalised"]["postal_code"] == "SW1A 2AA"
    assert "sanctions" not in app["checks"]  # never shown to the applicant (tipping off: tests/test_tipping_off.py)
    assert app["checks"]["face"] == {"check": "face", "outcome": "PASS", "reasons": [], "details": {}}
    assert history_types(app_id) == ["application.submitted", "check.completed", "document.received",
                                     "check.completed", "check.completed", "biometric.consent_given",
                                     "liveness.session_created", "liveness.completed", "face.requested",
                                     "check.completed", "application.approved"]


def test_the_identity_check_reads_the_document_once_and_textract_gets_those_bytes(api, client, applicant):
    """Issue 22: one GET of the object version (not a head and a tail GET), and Textract given the bytes read
    (``Bytes``), not the object to read again -- through the real handler, on the real adapters' clients."""
    from chalicelib.bootstrap import services

    app_id = submit(api, client, applicant)
    page = passport_bytes()
    key = upload_document(api, applicant, app_id, page)
    seen: list[tuple[str, dict]] = []

    def record(model, params, **_):
        seen.append((model.name, params))

    s3, textract = services().documents.s3, services().ocr.textract
    s3.meta.events.register("before-parameter-build.s3", record)
    textract.meta.events.register("before-parameter-build.textract", record)
    try:
        verify_document(client, key)
    finally:
        s3.meta.events.unregister("before-parameter-build.s3", record)
        textract.meta.events.unregister("before-parameter-build.textract", record)
    assert [name for name, _ in seen] == ["GetObject", "DetectDocumentText"], seen
    assert seen[1][1]["Document"] == {"Bytes": page} and seen[0][1]["Range"].startswith("bytes=0-")
    assert api.get(f"/applications/{app_id}", user=applicant).body["checks"]["identity"]["outcome"] == "PASS"


def test_address_first_then_identity_also_consolidates(api, client, applicant):
    app_id = submit(api, client, applicant)
    check_address(client, app_id)
    assert state_of(app_id) == "AWAITING_DOCUMENTS"
    give_selfie(api, applicant, app_id)  # the selfie before the document: the document read asks for the check
    verify_document(client, upload_document(api, applicant, app_id))
    assert state_of(app_id) == "VERIFYING"
    check_face(client, app_id)
    assert state_of(app_id) == "APPROVED"


def test_a_renamed_executable_is_rejected_whatever_its_content_type(api, client, applicant):
    app_id = submit(api, client, applicant)
    verify_document(client, upload_document(api, applicant, app_id, exe_bytes(), "image/jpeg"))
    check_address(client, app_id)
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert app["state"] == "REJECTED"
    assert "FILE_TYPE_NOT_ALLOWED" in {r["code"] for r in app["decision_reasons"]}


def test_size_is_rechecked_by_the_app_not_only_by_the_post_policy(api, client, applicant):
    """The local S3 refuses a too-small POST as S3 does, so the object is put directly, as a client
    bypassing the form (or a policy regression) would."""
    app_id = create_application(api, applicant)
    form = api.post(f"/applications/{app_id}/documents", {"content_type": "application/pdf"}, user=applicant).body
    boto3.client("s3").put_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=form["key"],
                                  Body=b"%PDF-1.4\n%%EOF\n", ContentType="application/pdf")
    verify_document(client, form["key"])
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert "FILE_TOO_SMALL" in {r["code"] for r in app["checks"]["identity"]["reasons"]}


def test_a_pdf_whose_name_is_a_letter_or_two_off_is_flagged(api, client, applicant):
    app_id = submit(api, client, applicant)
    page = passport_bytes(make_declared(full_name={"given_names": "Emilia Jane", "surname": "Carter"}), fmt="pdf")
    verify_document(client, upload_document(api, applicant, app_id, page, "application/pdf"))
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert app["state"] == "FLAGGED"
    assert {"check": "identity", "code": "MRZ_MISMATCH_NAME"}.items() <= app["decision_reasons"][1].items()
    assert app["decision_reasons"][0]["code"] == "DOCUMENT_NOT_COMPARABLE"  # a PDF: a person compares the face
    assert app["checks"]["identity"]["details"]["mrz"]["given_names"] == "EMILIA JANE"


def test_another_persons_passport_is_never_approved(api, client, applicant):
    app_id = submit(api, client, applicant)
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"}, date_of_birth="1985-02-03",
                          doc_overrides={"number": "X12345678"})
    verify_document(client, upload_document(api, applicant, app_id, passport_bytes(other)))
    check_address(client, app_id)
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert app["state"] == "REJECTED"
    codes = {r["code"] for r in app["checks"]["identity"]["reasons"]}
    assert {"MRZ_MISMATCH_NAME", "MRZ_MISMATCH_BIRTH_DATE", "MRZ_MISMATCH_DOCUMENT_NUMBER"} <= codes


def test_a_page_without_an_mrz_is_flagged_with_what_was_read(api, client, applicant):
    app_id = submit(api, client, applicant)
    verify_document(client, upload_document(api, applicant, app_id, passport_bytes(with_mrz=False)))
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)
    app = api.get(f"/applications/{app_id}", user=applicant).body
    assert app["state"] == "FLAGGED"
    assert "DOCUMENT_UNREADABLE" in {r["code"] for r in app["decision_reasons"]}
    assert "ocr" in app["checks"]["identity"]["details"]


def test_presigned_posts_are_signed_with_sigv4(api, applicant):
    app_id = create_application(api, applicant)
    fields = api.post(f"/applications/{app_id}/documents", {"content_type": "image/jpeg"}, user=applicant).body["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and "x-amz-signature" in fields
    assert "AWSAccessKeyId" not in fields


def test_posting_again_after_the_decision_never_changes_it_and_is_recorded(api, client, applicant):
    """The presigned POST of an application replayed after approval: a new version of the same key."""
    app_id = submit(api, client, applicant)
    key = upload_document(api, applicant, app_id)
    verify_document(client, key)
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)
    assert state_of(app_id) == "APPROVED"
    s3 = boto3.client("s3")
    bucket = os.environ["DOCUMENTS_BUCKET_NAME"]
    checked = api.get(f"/applications/{app_id}", user=applicant).body["checks"]["identity"]["details"]
    replaced = s3.put_object(Bucket=bucket, Key=key, Body=exe_bytes(), ContentType="image/jpeg")
    event = s3_event(client, key, replaced["VersionId"])  # S3's notification names the new version
    client.lambda_.invoke("verify_identity_document", event)
    client.lambda_.invoke("verify_identity_document", event)  # delivered twice
    assert state_of(app_id) == "APPROVED"
    assert history_types(app_id).count("document.replaced") == 1
    assert checked["document_version"] and checked["document_version"] != replaced["VersionId"]


def test_a_country_dropped_from_the_served_list_after_the_create_is_rejected_at_once(api, client, applicant):
    """The create refuses an unserved country (422); one dropped from Parameter Store after the create fails
    the address check, which decides at once: no document is awaited, a late one changes nothing."""
    from chalicelib.bootstrap import services

    address = {"country": "JP", "street_address": ["1-1 Chiyoda"], "city": "Chiyoda-ku",
               "country_area": "Tokyo", "postal_code": "100-0001"}
    settings = services().settings
    ssm = boto3.client("ssm")
    name = os.environ["SETTINGS_PATH"] + "served_countries"
    served = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ssm.put_parameter(Name=name, Value=served + ",JP", Type="StringList", Overwrite=True)
    settings.clear_cache()
    try:
        app_id = submit(api, client, applicant, address=address)
        key = upload_document(api, applicant, app_id)  # uploaded, its event not yet delivered
        ssm.put_parameter(Name=name, Value=served, Type="StringList", Overwrite=True)
        settings.clear_cache()
        check_address(client, app_id)
        assert state_of(app_id) == "REJECTED"
        verify_document(client, key)
        assert state_of(app_id) == "REJECTED"
        assert history_types(app_id)[-1] == "document.unexpected"
    finally:
        ssm.put_parameter(Name=name, Value=served, Type="StringList", Overwrite=True)
        settings.clear_cache()


def test_a_po_box_is_flagged_for_review(api, client, applicant):
    address = {"country": "GB", "street_address": ["PO Box 123"], "city": "London", "postal_code": "SW1A 2AA"}
    app_id = submit(api, client, applicant, address=address)
    verify_document(client, upload_document(api, applicant, app_id))
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)
    assert state_of(app_id) == "FLAGGED"


def test_parameter_store_settings_are_used(api, client, applicant):
    from chalicelib.bootstrap import services

    settings = services().settings
    ssm = boto3.client("ssm")
    name = os.environ["SETTINGS_PATH"] + "minimum_age"
    app_id = create_application(api, applicant)
    key = upload_document(api, applicant, app_id)
    ssm.put_parameter(Name=name, Value="60", Type="String", Overwrite=True)  # changed after the create
    settings.clear_cache()
    try:
        assert api.post("/applications", make_declared(), user=applicant).error_code == "application_refused"
        verify_document(client, key)
        reasons = api.get(f"/applications/{app_id}", user=applicant).body["checks"]["identity"]["reasons"]
        assert "APPLICANT_UNDERAGE" in {r["code"] for r in reasons}
    finally:
        ssm.put_parameter(Name=name, Value="18", Type="String", Overwrite=True)
        settings.clear_cache()


# --- replays ---------------------------------------------------------------------

def test_replaying_s3_and_sqs_events_changes_nothing(api, client, applicant):
    app_id = create_application(api, applicant)
    key = upload_document(api, applicant, app_id)
    verify_document(client, key)
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)
    before = history_types(app_id)
    verify_document(client, key)
    check_address(client, app_id)
    check_face(client, app_id)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda _: verify_document(client, key), range(10)))
        list(pool.map(lambda _: check_address(client, app_id), range(10)))
        list(pool.map(lambda _: check_face(client, app_id), range(10)))
    assert history_types(app_id) == before


def test_ten_concurrent_copies_of_the_first_s3_event_verify_once(api, client, applicant):
    app_id = create_application(api, applicant)
    key = upload_document(api, applicant, app_id)
    barrier = threading.Barrier(10)

    def deliver(_):
        barrier.wait()
        return verify_document(client, key)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        list(pool.map(deliver, range(10)))
    assert history_types(app_id) == ["application.submitted", "document.received", "check.completed"]


def test_a_second_upload_after_verification_started_is_ignored(api, client, applicant):
    app_id = create_application(api, applicant)
    verify_document(client, upload_document(api, applicant, app_id))
    from chalicelib.bootstrap import services

    stray = services().documents.key_for_new_upload(app_id)
    boto3.client("s3").put_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=stray, Body=jpeg_bytes())
    before, state = history_types(app_id), state_of(app_id)
    verify_document(client, stray)
    verify_document(client, stray)  # delivered twice: recorded once
    assert history_types(app_id) == before + ["document.unexpected"]
    assert state_of(app_id) == state


def test_objects_outside_the_layout_are_ignored(client):
    boto3.client("s3").put_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key="applications/x/evil",
                                  Body=b"x")
    assert verify_document(client, "applications/x/evil").payload == {"batchItemFailures": []}  # ignored, not failed
    other_bucket = client.events.generate_sqs_event(  # the queue takes this account's buckets: only ours count
        queue_name=os.environ["IDENTITY_CHECK_QUEUE_NAME"],
        message_bodies=[s3_notification("applications/x/evil", bucket="someone-elses"),
                        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})])
    assert client.lambda_.invoke("verify_identity_document", other_bucket).payload == {"batchItemFailures": []}


def test_an_upload_reaches_the_identity_check_through_its_queue_with_its_version(api, client, applicant):
    """The bucket notifies the identity-check queue (resources.yaml, provisioned as deployed): S3's own message,
    the object's versionId in it, handled by verify_identity_document from its SQS event."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["IDENTITY_CHECK_QUEUE_NAME"])["QueueUrl"]
    app_id = submit(api, client, applicant)
    key = upload_document(api, applicant, app_id)
    found = []
    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            body = json.loads(message["Body"])
            if any(unquote_plus(r.get("s3", {}).get("object", {}).get("key", "")) == key
                   for r in body.get("Records", [])):
                found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    [message] = found
    [record] = json.loads(message["Body"])["Records"]
    version = boto3.client("s3").head_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=key)["VersionId"]
    assert record["s3"]["object"]["versionId"] == version and record["eventName"].startswith("ObjectCreated:")
    event = client.events.generate_sqs_event(queue_name=os.environ["IDENTITY_CHECK_QUEUE_NAME"],
                                             message_bodies=[message["Body"]])
    assert client.lambda_.invoke("verify_identity_document", event).payload == {"batchItemFailures": []}
    check_address(client, app_id)
    with_face(api, client, applicant, app_id)  # nothing is decided without the face check (issue 17)
    assert state_of(app_id) == "APPROVED"


# --- SQS batches -----------------------------------------------------------------

def test_a_bad_message_never_costs_the_good_ones(api, client, applicant):
    good = create_application(api, applicant)
    event = client.events.generate_sqs_event(
        queue_name=os.environ["ADDRESS_CHECK_QUEUE_NAME"],
        message_bodies=["not json", json.dumps({"application_id": "unknown"}), address_message(good)])
    ids = [r["messageId"] for r in event["Records"]]
    result = client.lambda_.invoke("check_address", event).payload
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(ids[:2])
    assert "check.completed" in history_types(good)


# --- outbox ----------------------------------------------------------------------

@pytest.fixture
def topic_tap():
    """An SQS queue subscribed to the events topic: what subscribers would receive."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"tap-{os.getpid()}-{threading.get_ident()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=os.environ["EVENTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]

    def drain(application_id):
        seen = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                        MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                return [m for m in seen if json.loads(m["Body"])["application_id"] == application_id]
            seen += batch
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    yield drain
    sns.unsubscribe(SubscriptionArn=sub)
    sqs.delete_queue(QueueUrl=url)


def test_each_committed_event_is_published_and_a_replayed_batch_only_repeats_it(api, client, applicant, topic_tap):
    """At least once: a redelivered batch publishes again, with the same event ids (subscribers dedupe)."""
    app_id = create_application(api, applicant)
    api.post(f"/applications/{app_id}/withdraw", {}, user=applicant)
    records = stream_records(app_id)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]
    client.lambda_.invoke("publish_history", {"Records": records})
    [message] = topic_tap(app_id)  # one message for the application's events of the batch
    body = json.loads(message["Body"])
    assert [e["type"] for e in body["events"]] == ["application.submitted", "application.withdrawn"]
    client.lambda_.invoke("publish_history", {"Records": records})  # redelivered batch
    [again] = [json.loads(m["Body"]) for m in topic_tap(app_id)]
    assert [e["event_id"] for e in again["events"]] == [e["event_id"] for e in body["events"]]
    assert message["MessageAttributes"]["state"]["StringValue"] == "WITHDRAWN"
    assert message["MessageAttributes"]["event_type"]["DataType"] == "String.Array"
    assert "declared" not in body and "email" not in json.dumps(body)


def test_a_transition_that_did_not_commit_publishes_nothing(api, applicant, monkeypatch):
    app_id = create_application(api, applicant)
    from chalicelib.domain.workflow import intake
    from chalicelib.services.ports import ConcurrentChange
    from chalicelib.bootstrap import services

    app = services().repository.get(app_id)
    stale = intake.withdraw(app, applicant.sub, "second", dt.datetime.now(dt.timezone.utc))
    services().repository.commit(intake.withdraw(app, applicant.sub, "first", dt.datetime.now(dt.timezone.utc)))
    with pytest.raises(ConcurrentChange):
        services().repository.commit(stale)
    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in stream_records(app_id)] == [
        "application.submitted", "application.withdrawn"]


def test_the_address_queue_only_receives_submissions(api, applicant):
    """The topic -> queue subscription's filter policy starts address checks, no send in the request path."""
    from chalicelib.bootstrap import services

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"]
    app_id = create_application(api, applicant)
    api.post(f"/applications/{app_id}/withdraw", {}, user=applicant)
    services().outbox.relay(services().repository.history(app_id))
    bodies = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            bodies.append(json.loads(message["Body"]))
    mine = [b for b in bodies if b["application_id"] == app_id]
    assert len(mine) == 1 and mine[0]["events"][0]["type"] == "application.submitted"
    services().outbox.relay(services().repository.history(app_id)[1:])  # the withdrawal alone: not for it
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []) == []


# --- fan-in -----------------------------------------------------------------------

#: Each trial is a real four-way race (tests/support/races.py): the four checks have read the same version before
#: any writes, so three first commits must be refused, every trial. A broken condition shows in the first trial;
#: the rest vary which check wins the first round and how the three re-reads interleave (about six of each).
FAN_IN_TRIALS = 24


def test_four_checks_at_the_same_instant_consolidate_exactly_once(api, applicant, monkeypatch):
    from chalicelib.domain.workflow import intake
    from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult
    from chalicelib.bootstrap import services
    from chalicelib.domain.declaration import ApplicationRequest
    from chalicelib.domain.users import Identity
    from tests.support.races import held_commits

    service = services().applications
    who = Identity(applicant.sub, frozenset())
    request = ApplicationRequest.model_validate(make_declared())
    failures = []
    with held_commits(monkeypatch) as held, concurrent.futures.ThreadPoolExecutor(4) as pool:
        for trial in range(FAN_IN_TRIALS):
            # A new applicant per trial: one person may create only so many applications a day.
            app, _ = service.create(Identity(f"{who.sub}-{trial}", frozenset()), request, None)
            service.apply_with_retry(app.application_id, lambda a: intake.receive_document(
                a, f"k{trial}", 2048, service.clock()))
            refused_before = held.conflicts

            def run(check):
                return services().check_recorder.record(app.application_id, CheckResult(check))

            with held.rendezvous(4):
                list(pool.map(run, [IDENTITY, ADDRESS, SANCTIONS, FACE]))
            events = service.repo.history(app.application_id)
            decisions = [e for e in events if e.actor == "system:consolidation"]
            checks = [e for e in events if e.type.value == "check.completed"]
            if (held.conflicts - refused_before < 3 or len(decisions) != 1 or len(checks) != 4
                    or service.repo.get(app.application_id).state.value != "APPROVED"):
                failures.append((trial, held.conflicts - refused_before, [e.type.value for e in events]))
    assert failures == []
