"""Claims, documents, reports, events, settings, metrics: the same behaviour from fake and real."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import uuid

import pytest

from chalicelib.domain.document_file import HEAD_BYTES, TAIL_BYTES, WHOLE_READ_BYTES
from chalicelib.domain.policy import Policy
from chalicelib.services.ports import DocumentMissing, Upload

# --- claims -------------------------------------------------------------------------------


def test_a_claim_is_won_by_exactly_one_caller(claims):
    key = f"contract#{uuid.uuid4()}"
    assert not claims.is_claimed(key)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda _: claims.claim(key, 60), range(8)))
    assert won.count(True) == 1 and claims.is_claimed(key)


def test_claiming_several_keys_at_once_wins_exactly_the_new_ones(claims):
    keys = [f"contract#{uuid.uuid4()}" for _ in range(4)]
    assert claims.claim(keys[1])
    assert claims.claim_all(keys) == {keys[0], keys[2], keys[3]}
    assert claims.claim_all(keys) == set()
    assert all(claims.is_claimed(key) for key in keys)
    assert claims.claim_all([]) == set()


def test_racing_batch_claims_win_each_key_once(claims):
    keys = [f"contract#{uuid.uuid4()}" for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda i: claims.claim_all(keys[i % 3 : i % 3 + 4], 60), range(6)))
    assert sorted(key for batch in won for key in batch) == sorted(keys)


def test_a_released_claim_can_be_claimed_again_and_releasing_twice_is_fine(claims):
    key = f"contract#{uuid.uuid4()}"
    assert claims.claim(key)
    claims.release(key)
    claims.release(key)
    assert not claims.is_claimed(key)
    assert claims.claim(key) and not claims.claim(key)


# --- documents ------------------------------------------------------------------------------


def test_upload_keys_belong_to_their_application_and_nothing_else_does(documents):
    store, _ = documents
    app_id = str(uuid.uuid4())
    key = store.key_for_new_upload(app_id)
    assert store.application_id_of(key) == app_id
    assert store.key_for_new_upload(app_id) != key
    for foreign in (f"applications/{app_id}/identity/x", f"elsewhere/{app_id}", "", f"applications/{app_id}/"):
        assert store.application_id_of(foreign) is None


def test_a_presigned_upload_is_bound_to_its_key_and_type(documents):
    store, _ = documents
    key = store.key_for_new_upload(str(uuid.uuid4()))
    upload = store.presigned_upload(key, "image/png", 1024, 4096, 600)
    assert isinstance(upload, Upload) and upload.key == key and upload.url
    assert upload.fields["key"] == key and upload.fields["Content-Type"] == "image/png"


def test_a_sample_has_the_size_the_type_and_only_the_head(documents):
    store, put = documents
    key = store.key_for_new_upload(str(uuid.uuid4()))
    body = bytes(range(256)) * 40  # 10 KiB, more than the head
    put(key, body, "image/jpeg")
    sample = store.sample(key)
    assert (sample.key, sample.size, sample.content_type) == (key, len(body), "image/jpeg")
    assert sample.head == body[:HEAD_BYTES]
    put(key, b"", "image/jpeg")
    assert store.sample(key).head == b"" and store.sample(key).size == 0


def test_a_document_up_to_the_whole_read_size_comes_whole_and_a_larger_one_only_in_part(documents):
    """Issue 22: one read of the document -- up to WHOLE_READ_BYTES the sample carries the whole object (what
    OCR is then given); beyond it only the head and tail, and no body (OCR reads it in S3)."""
    store, put = documents
    key = store.key_for_new_upload(str(uuid.uuid4()))
    whole = bytes(range(256)) * (WHOLE_READ_BYTES // 256)  # exactly WHOLE_READ_BYTES
    put(key, whole, "image/jpeg")
    sample = store.sample(key)
    assert sample.size == len(whole) and sample.body == whole and sample.tail == whole[-TAIL_BYTES:]
    larger = whole + b"\x00the end"
    put(key, larger, "image/jpeg")
    sample = store.sample(key)
    assert (sample.size, sample.body) == (len(larger), None)
    assert sample.head == larger[:HEAD_BYTES] and sample.tail == larger[-TAIL_BYTES:]


def test_a_sample_of_a_missing_object_raises(documents):
    store, _ = documents
    with pytest.raises(DocumentMissing):
        store.sample(store.key_for_new_upload(str(uuid.uuid4())))


def test_deleting_an_applications_documents_takes_every_upload_and_nothing_else(documents):
    store, put = documents
    app_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    keys = [store.key_for_new_upload(app_id) for _ in range(3)]
    for key in keys + [store.key_for_new_upload(other)]:
        put(key, b"x" * 10, "image/jpeg")
    assert store.delete_all_for(app_id) == 3
    assert store.delete_all_for(app_id) == 0
    with pytest.raises(DocumentMissing):
        store.sample(keys[0])
    assert store.delete_all_for(other) == 1


def test_a_later_version_of_a_key_never_replaces_the_one_pinned_and_deleting_takes_every_version(documents):
    """The bucket is versioned: a sample names the version it read; sampling or showing that version
    gives it back after the key was written again; deleting the application's documents takes them all."""
    store, put = documents
    app_id = str(uuid.uuid4())
    key = store.key_for_new_upload(app_id)
    put(key, b"first" * 300, "image/jpeg")
    first = store.sample(key)
    assert first.version
    put(key, b"second" * 300, "image/jpeg")
    assert store.sample(key).version != first.version and store.sample(key).head.startswith(b"second")
    pinned = store.sample(key, first.version)
    assert pinned.version == first.version and pinned.head.startswith(b"first")
    assert store.presigned_view(key, "image/jpeg", 60, first.version)
    assert store.delete_all_for(app_id) == 2
    for version in (None, first.version):
        with pytest.raises(DocumentMissing):
            store.sample(key, version)
    assert store.keys_of(app_id) == []


# --- reports -----------------------------------------------------------------------------------


def test_a_report_exists_once_put_and_reads_back(reports):
    store, read = reports
    key = f"reports/contract/{uuid.uuid4()}.json"
    assert not store.exists(key)
    store.put(key, '{"ünïcode": true}\n', "application/json")
    assert store.exists(key)
    body = read(key)
    assert (body[0] if isinstance(body, tuple) else body) == '{"ünïcode": true}\n'
    store.put(key, "{}", "application/json")
    assert (read(key)[0] if isinstance(read(key), tuple) else read(key)) == "{}"


# --- events ----------------------------------------------------------------------------------------


def test_a_published_message_arrives_as_json_with_its_attributes_usable(publisher):
    sent, received = publisher
    event_id = f"{uuid.uuid4()}#1"
    message = {"event_id": event_id, "application_id": "a", "seq": 1, "state": "VERIFYING", "from_state": None}
    sent.publish(message, {"event_type": "document.received", "state": "VERIFYING", "from_state": "NONE"})
    assert [m for m in received() if m.get("event_id") == event_id] == [message]


# --- settings ------------------------------------------------------------------------------------------


def test_settings_give_a_policy_with_the_templates_defaults(settings):
    policy = settings.policy()
    assert isinstance(policy, Policy)
    # resources.yaml's parameters are the Policy defaults; only the list URLs differ locally, where
    # they point at the snapshot in the local sanctions bucket (devstack/sanctions.py)
    # The test session raises the per-user request rate limits (tests/conftest.py; test_limits.py checks
    # the template's values).
    lists = {f: getattr(Policy(), f) for f in ("sanctions_ofac_sdn_url", "sanctions_ofac_alt_url", "sanctions_un_url",
                                               "applicant_requests_per_minute", "staff_requests_per_minute")}
    assert dataclasses.replace(policy, **lists) == Policy()
    assert settings.policy() == policy


# --- metrics ------------------------------------------------------------------------------------------


def test_counting_a_metric_never_fails(metrics):
    metrics.count("ContractTest")
    metrics.count("ContractTest", 3)


def test_a_fresh_policy_sees_a_change_at_once_while_the_cached_one_may_lag(settings, kind):
    """Issue 20: the list refresh reads its URLs fresh; a minute-old cached URL reported success from the old list."""
    before = settings.policy()
    url = f"s3://contract/{uuid.uuid4().hex}.csv"
    if kind == "fake":
        settings.update(sanctions_un_url=url)
    else:  # boto3 only on the real side: the fake half runs without the stack (test_unit_needs_no_stack)
        import boto3

        from chalicelib.config import Config

        name = f"{Config.from_environment().settings_path}sanctions_un_url"
        boto3.client("ssm").put_parameter(Name=name, Value=url, Type="String", Overwrite=True)
    try:
        assert settings.fresh_policy().sanctions_un_url == url
    finally:
        if kind == "fake":
            settings.update(sanctions_un_url=before.sanctions_un_url)
        else:
            boto3.client("ssm").put_parameter(Name=name, Value=before.sanctions_un_url, Type="String", Overwrite=True)
            settings.fresh_policy()
