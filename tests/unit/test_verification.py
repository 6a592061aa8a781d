"""Uploads, the identity check, the address check and their fan-in, on the fakes."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import threading

import pytest

from chalicelib.domain.workflow import intake, lifecycle
from chalicelib.domain.workflow.errors import NothingToDo
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult
from chalicelib.domain.document_file import HEAD_BYTES, TAIL_BYTES
from chalicelib.domain.workflow.errors import IllegalTransition
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import NotFound, PoisonMessage
from tests.support.deadlines import REPLY_S
from tests.support.documents import document_bytes, exe_bytes, jpeg_bytes, make_declared, pdf_bytes
from tests.support.fakes import (
    address_message,
    event_types,
    face_check,
    identity,
    screen,
    selfie,
    submit,
    upload,
    with_face,
)

APPROVED_FLOW = [
    "application.submitted",
    "document.received",
    "check.completed",
    "check.completed",
    "check.completed",
    # issue 17: the applicant's liveness check asks for the face check, whose PASS completes the set
    "biometric.consent_given",
    "liveness.session_created",
    "liveness.completed",
    "face.requested",
    "check.completed",
    "application.approved",
]


def consolidations(svc, app_id):
    return [e for e in svc.repository.history(app_id) if e.actor == "system:consolidation"]


# --- uploads ------------------------------------------------------------------------


def test_an_upload_is_granted_for_the_owners_application_with_the_policys_bounds(svc, applicant, clock):
    app = submit(svc, applicant)
    grant = svc.uploads.request_upload(applicant, app.application_id, "image/png")
    assert grant["key"].startswith(f"applications/{app.application_id}/identity/")
    assert svc.documents.application_id_of(grant["key"]) == app.application_id
    assert grant["fields"]["Content-Type"] == "image/png"
    assert (grant["min_bytes"], grant["max_bytes"]) == (1024, 5 * 1024 * 1024)
    assert grant["expires_at"] == "2026-01-05T09:10:00.000Z" and clock().minute == 0
    assert svc.documents.grants[grant["key"]].ttl_seconds == 600


def test_upload_bounds_follow_the_settings(svc, applicant):
    svc.settings.update(document_max_bytes=2048, upload_url_ttl_seconds=60)
    app = submit(svc, applicant)
    grant = svc.uploads.request_upload(applicant, app.application_id, "image/jpeg")
    assert grant["max_bytes"] == 2048 and grant["expires_at"] == "2026-01-05T09:01:00.000Z"
    with pytest.raises(ValueError):
        svc.documents.upload(grant["key"], b"x" * 4096)


def test_uploads_are_owner_only_and_only_while_documents_are_awaited(svc, applicant, other_applicant):
    app = submit(svc, applicant)
    with pytest.raises(NotFound):
        svc.uploads.request_upload(other_applicant, app.application_id, "image/jpeg")
    svc.applications.withdraw(applicant, app.application_id, "")
    with pytest.raises(IllegalTransition) as refused:
        svc.uploads.request_upload(applicant, app.application_id, "image/jpeg")
    assert refused.value.state == State.WITHDRAWN
    assert svc.documents.grants == {}


# --- the identity check ---------------------------------------------------------------


def test_a_clean_document_is_received_and_passes_then_the_address_approves(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    result = svc.identity_check.document_uploaded(key)
    assert result["received"]["state"] == "VERIFYING" and result["identity"]["changed"]
    stored = svc.repository.get(app.application_id)
    assert stored.document_key == key and stored.checks[IDENTITY]["outcome"] == "PASS"
    screen(svc, app.application_id)
    svc.address_check.address_requested(address_message(app.application_id))
    assert svc.repository.get(app.application_id).state == State.VERIFYING  # waiting for the selfie
    with_face(svc, applicant, app.application_id)
    assert svc.repository.get(app.application_id).state == State.APPROVED
    assert event_types(svc, app.application_id) == APPROVED_FLOW
    assert svc.metrics.counts["ApplicationApproved"] == 1


@pytest.mark.parametrize(
    "body, content_type, code",
    [
        (exe_bytes(), "image/jpeg", "FILE_TYPE_NOT_ALLOWED"),
        (b"%PDF-1.4\n%%EOF\n", "application/pdf", "FILE_TOO_SMALL"),
    ],
)
def test_the_document_is_judged_by_its_bytes(svc, applicant, body, content_type, code):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, body, content_type))
    reasons = svc.repository.get(app.application_id).checks[IDENTITY]["reasons"]
    assert code in {r["code"] for r in reasons}


def test_the_rules_judge_the_head_and_tail_and_ocr_gets_the_very_bytes_read(svc, applicant):
    """One read of the document (issue 22): the sample holds the whole object (up to WHOLE_READ_BYTES), the
    rules see its head and tail, and OCR is given those bytes rather than reading the object again."""
    app = submit(svc, applicant)
    body = pdf_bytes(200_000)
    key = upload(svc, applicant, app.application_id, body, "application/pdf")
    sample = svc.documents.sample(key)
    assert sample.size >= 200_000 and len(sample.head) == HEAD_BYTES and len(sample.tail) == TAIL_BYTES
    assert sample.body == body and sample.tail == body[-TAIL_BYTES:]
    page_key = upload(svc, applicant, submit(svc, applicant).application_id)
    svc.identity_check.document_uploaded(page_key, version=svc.documents.last_version)
    assert svc.ocr.given == svc.ocr.reads == [(page_key, svc.documents.last_version)]


def test_the_settings_are_used(svc, applicant):
    """A rule changed in Parameter Store after the create is applied by the check (the create refuses it now)."""
    app = submit(svc, applicant)
    svc.settings.update(minimum_age=60)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    reasons = svc.repository.get(app.application_id).checks[IDENTITY]["reasons"]
    assert "APPLICANT_UNDERAGE" in {r["code"] for r in reasons}


def test_a_replayed_upload_event_changes_nothing_and_reads_nothing(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    svc.identity_check.document_uploaded(key)
    before = svc.repository.history(app.application_id)
    reads = len(svc.documents.samples)
    assert svc.identity_check.document_uploaded(key) == {
        "received": {"changed": False},
        "identity": {"changed": False},
    }
    assert svc.repository.history(app.application_id) == before and len(svc.documents.samples) == reads


def test_a_second_upload_after_verification_started_is_ignored(svc, applicant):
    app = submit(svc, applicant)
    first = upload(svc, applicant, app.application_id)
    svc.identity_check.document_uploaded(first)
    second = first[:-1] + ("0" if first[-1] != "0" else "1")
    svc.documents.put(second, jpeg_bytes(), "image/jpeg")
    outcome = svc.identity_check.document_uploaded(second)
    assert outcome["ignored"] == "state VERIFYING" and outcome["recorded"]["events"] == ["document.unexpected"]
    assert svc.identity_check.document_uploaded(second)["recorded"] == {"changed": False}  # a replay
    assert svc.repository.get(app.application_id).document_key == first
    assert event_types(svc, app.application_id).count("document.unexpected") == 1
    assert svc.metrics.counts["DocumentIgnored"] == 1


def test_objects_outside_the_layout_or_for_unknown_applications_are_ignored(svc):
    assert svc.identity_check.document_uploaded("elsewhere/file.jpg") == {"ignored": "unknown key"}
    key = "applications/7d7c4b8e-2f55-4a43-9d53-2cc1f5ab0b6e/identity/" + "a" * 32
    svc.documents.put(key, jpeg_bytes(), "image/jpeg")
    assert svc.identity_check.document_uploaded(key) == {"ignored": "unknown application"}


def test_the_document_is_read_and_another_persons_zone_is_rejected(svc, applicant):
    app = submit(svc, applicant)
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"}, date_of_birth="1985-02-03")
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, document_bytes(other)))
    identity = svc.repository.get(app.application_id).checks[IDENTITY]
    assert identity["outcome"] == "FAIL"
    assert {"MRZ_MISMATCH_NAME", "MRZ_MISMATCH_BIRTH_DATE"} <= {r["code"] for r in identity["reasons"]}
    assert identity["details"]["mrz"]["surname"] == "NGUYEN"


def test_a_photo_without_a_zone_is_flagged_for_a_person(svc, applicant):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, jpeg_bytes()))
    screen(svc, app.application_id)
    svc.address_check.address_requested(address_message(app.application_id))
    with_face(svc, applicant, app.application_id)
    stored = svc.repository.get(app.application_id)
    assert stored.state == State.FLAGGED
    assert {r["code"] for r in stored.checks[IDENTITY]["reasons"]} == {"DOCUMENT_UNREADABLE"}
    assert svc.metrics.counts["DocumentUnreadable"] == svc.metrics.counts["DocumentChecked"] == 1


def test_a_document_the_ocr_service_refuses_is_flagged_with_its_reason(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    svc.ocr.read = _refuse  # type: ignore[method-assign]
    svc.identity_check.document_uploaded(key)
    reasons = svc.repository.get(app.application_id).checks[IDENTITY]["reasons"]
    assert reasons[0]["code"] == "DOCUMENT_REJECTED_BY_OCR" and "BadDocumentException" in reasons[0]["message"]
    assert svc.metrics.counts["DocumentRefusedByOcr"] == 1


def _refuse(key, version=None, content=None):
    from chalicelib.services.ports import OcrRefused

    raise OcrRefused("BadDocumentException", "Request has invalid document")


def test_an_ocr_outage_writes_nothing_and_the_redelivered_event_completes(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    working = svc.ocr.read

    def outage(key, version=None, content=None):
        raise ConnectionError("Textract: 503 after the client's retries")

    svc.ocr.read = outage  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        svc.identity_check.document_uploaded(key)
    assert IDENTITY not in svc.repository.get(app.application_id).checks
    svc.ocr.read = working  # type: ignore[method-assign]
    svc.identity_check.document_uploaded(key)
    assert svc.repository.get(app.application_id).checks[IDENTITY]["outcome"] == "PASS"


def test_a_file_that_fails_on_its_bytes_is_never_sent_to_ocr(svc, applicant):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, exe_bytes()))
    assert svc.ocr.reads == []


def test_ocr_reads_the_version_that_was_checked(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    v1 = svc.documents.last_version
    svc.documents.put(key, exe_bytes(), "image/jpeg")  # re-posted before the first event was handled
    svc.identity_check.document_uploaded(key, version=v1)
    assert svc.ocr.reads == [(key, v1)]
    assert svc.repository.get(app.application_id).document_version == v1


def test_a_new_version_of_the_checked_key_is_recorded_and_changes_nothing(svc, applicant):
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    v1 = svc.documents.last_version
    svc.identity_check.document_uploaded(key, version=v1)
    screen(svc, app.application_id)
    svc.address_check.address_requested(address_message(app.application_id))
    with_face(svc, applicant, app.application_id)
    assert svc.repository.get(app.application_id).state == State.APPROVED
    svc.documents.put(key, exe_bytes(), "image/jpeg")  # the upload form posted again, to the same key
    v2 = svc.documents.last_version
    reads = list(svc.ocr.reads)
    outcome = svc.identity_check.document_uploaded(key, version=v2)
    assert outcome["ignored"] == "state APPROVED" and outcome["recorded"]["events"] == ["document.replaced"]
    assert svc.identity_check.document_uploaded(key, version=v2)["recorded"] == {"changed": False}  # replayed
    assert svc.repository.get(app.application_id).state == State.APPROVED
    assert svc.ocr.reads == reads  # the later version is never read
    replaced = svc.repository.history(app.application_id)[-1]
    assert replaced.details["version"] == v2 and replaced.details["checked_version"] == v1


def test_purging_removes_what_was_read_with_the_document(svc, applicant):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    screen(svc, app.application_id)
    svc.address_check.address_requested(address_message(app.application_id))
    with_face(svc, applicant, app.application_id)
    stored = svc.repository.get(app.application_id)
    assert "mrz" in stored.checks[IDENTITY]["details"]
    days = svc.settings.policy().approved_document_retention_days  # APPROVED: the AML record-keeping period
    with pytest.raises(NothingToDo):
        lifecycle.purge(stored, svc.settings.policy(), svc.clock() + dt.timedelta(days=days - 1))
    change = lifecycle.purge(stored, svc.settings.policy(), svc.clock() + dt.timedelta(days=days + 1))
    details = change.after.checks[IDENTITY]["details"]
    assert "mrz" not in details and "ocr" not in details and change.after.document_version is None


# --- the address check ------------------------------------------------------------------


def test_the_address_check_alone_records_without_consolidating(svc, applicant):
    app = submit(svc, applicant)
    result = svc.address_check.address_requested(address_message(app.application_id))
    assert result["changed"] and result["state"] == "AWAITING_DOCUMENTS"
    stored = svc.repository.get(app.application_id)
    assert stored.checks[ADDRESS]["details"]["normalised"]["postal_code"] == "SW1A 2AA"


def test_the_address_check_reads_an_sns_envelope_too(svc, applicant):
    app = submit(svc, applicant)
    envelope = json.dumps({"TopicArn": "arn:aws:sns:x", "Message": address_message(app.application_id)})
    assert svc.address_check.address_requested(envelope)["changed"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"no": "id"}),
        json.dumps({"application_id": 7}),
        json.dumps({"TopicArn": "t", "Message": "{}"}),
    ],
)
def test_a_message_that_is_not_an_application_event_is_poison(svc, body):
    with pytest.raises(PoisonMessage):
        svc.address_check.address_requested(body)


def test_an_unknown_application_is_poison(svc):
    with pytest.raises(PoisonMessage):
        svc.address_check.address_requested(address_message("7d7c4b8e-2f55-4a43-9d53-2cc1f5ab0b6e"))


def test_an_address_for_a_closed_application_changes_nothing(svc, applicant):
    app = submit(svc, applicant)
    svc.applications.withdraw(applicant, app.application_id, "")
    assert svc.address_check.address_requested(address_message(app.application_id)) == {"changed": False}


def test_a_country_no_longer_served_is_rejected_at_once_and_a_later_upload_changes_nothing(svc, applicant):
    """Served at the create, dropped from the list before the address check: the check fails, and the
    application is decided there and then, without waiting for a document that cannot save it."""
    address = {
        "country": "JP",
        "street_address": ["1-1 Chiyoda"],
        "city": "Chiyoda-ku",
        "country_area": "Tokyo",
        "postal_code": "100-0001",
    }
    svc.settings.update(served_countries=frozenset({"GB", "JP"}))
    app = submit(svc, applicant, address=address)
    key = upload(svc, applicant, app.application_id)  # the form was handed out while the application was open
    svc.settings.update(served_countries=frozenset({"GB"}))
    svc.address_check.address_requested(address_message(app.application_id))
    decided = svc.repository.get(app.application_id)
    assert decided.state == State.REJECTED
    assert [r["code"] for r in decided.decision_reasons] == ["COUNTRY_NOT_SERVED"]
    svc.identity_check.document_uploaded(key)
    screen(svc, app.application_id)
    after = svc.repository.get(app.application_id)
    assert after.state == State.REJECTED and after.document_key is None and IDENTITY not in after.checks
    assert event_types(svc, app.application_id)[-1] == "document.unexpected"


def test_a_po_box_is_flagged_for_review(svc, applicant):
    address = {"country": "GB", "street_address": ["PO Box 123"], "city": "London", "postal_code": "SW1A 2AA"}
    app = submit(svc, applicant, address=address)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    with_face(svc, applicant, app.application_id)
    assert svc.repository.get(app.application_id).state == State.FLAGGED


# --- fan-in: exactly one consolidation ------------------------------------------------------


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (1, 0, 2, 3), (2, 1, 3, 0), (3, 0, 2, 1), (3, 2, 1, 0)], ids=str)
def test_whichever_check_lands_last_consolidates_exactly_once(svc, applicant, order):
    """The selfie may come before the document (3 first) or last; the face check runs once both are in."""
    app = submit(svc, applicant)
    key = upload(svc, applicant, app.application_id)
    events = [
        lambda: svc.identity_check.document_uploaded(key),
        lambda: svc.address_check.address_requested(address_message(app.application_id)),
        lambda: screen(svc, app.application_id),
        lambda: face_check(svc, app.application_id),  # the face.requested message (nothing while not asked)
    ]
    steps = [*events[:3], lambda: (selfie(svc, applicant, app.application_id), face_check(svc, app.application_id))]
    for position in order:
        steps[position]()
    face_check(svc, app.application_id)  # the queue delivers face.requested whichever step emitted it
    assert svc.repository.get(app.application_id).state == State.APPROVED
    assert len(consolidations(svc, app.application_id)) == 1
    assert event_types(svc, app.application_id).count("face.requested") == 1
    before = svc.repository.history(app.application_id)
    for step in events * 2:  # every event delivered again, in both orders
        step()
    assert svc.repository.history(app.application_id) == before
    assert svc.metrics.counts["ApplicationApproved"] == 1


def test_a_late_check_after_a_withdrawal_is_dropped(svc, applicant):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    svc.applications.withdraw(applicant, app.application_id, "")
    assert svc.check_recorder.record(app.application_id, CheckResult(ADDRESS)) is None
    assert svc.repository.get(app.application_id).state == State.WITHDRAWN


def test_four_checks_finishing_at_the_same_instant_consolidate_exactly_once(svc, applicant, clock):
    """All read the same version (a barrier after the read), so two commits lose and retry."""
    repo = svc.repository
    real_get = repo.get
    local = threading.local()

    for trial in range(20):
        app = submit(svc, identity())  # a new applicant each time: one may create only so many a day
        svc.applications.apply_with_retry(
            app.application_id,
            lambda a, trial=trial: intake.receive_document(a, f"k{trial}", 2048, clock()),
        )
        barrier = threading.Barrier(4)

        def get_then_meet(application_id, barrier=barrier):
            found = real_get(application_id)
            if not getattr(local, "met", False):
                local.met = True
                barrier.wait(timeout=REPLY_S)
            return found

        repo.get = get_then_meet

        def record(check, app_id=app.application_id):
            local.met = False
            return svc.check_recorder.record(app_id, CheckResult(check))

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(record, [IDENTITY, ADDRESS, SANCTIONS, FACE]))
        repo.get = real_get
        assert len(consolidations(svc, app.application_id)) == 1, trial
        assert event_types(svc, app.application_id).count("check.completed") == 4
        assert repo.get(app.application_id).state == State.APPROVED
        clock.advance(seconds=1)


def test_the_identity_check_uses_the_applications_clock(svc, applicant, clock):
    app = submit(svc, applicant)
    clock.advance(days=2)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    received = svc.repository.history(app.application_id)[1]
    assert received.at == "2026-01-07T09:00:00.000Z"
    assert clock() - dt.timedelta(days=2) == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


# --- what OCR read is kept out of the application item ------------------------------------------


def test_the_page_text_of_a_document_a_person_must_look_at_is_kept_apart_and_purged_with_it(
    svc, applicant, reviewer, clock
):
    from tests.support.documents import page_bytes

    app = submit(svc, applicant)
    lines = ["REPUBLIC OF NOWHERE", "PASSPORT", "SURNAME / NOM", "CARTER", "NO ZONE ON THIS PAGE"]
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, page_bytes(lines)))
    screen(svc, app.application_id)
    svc.address_check.address_requested(address_message(app.application_id))
    with_face(svc, applicant, app.application_id)  # nothing is decided without the face check (issue 17)
    stored = svc.repository.get(app.application_id)
    assert stored.state == State.FLAGGED
    ocr = stored.checks[IDENTITY]["details"]["ocr"]
    assert set(ocr) == {"line_count", "reading"} and ocr["line_count"] == len(lines)  # no page text in the item
    assert "CARTER" not in json.dumps(stored.checks) and "CARTER" not in json.dumps(
        [e.details for e in svc.repository.history(app.application_id)])  # nor in its history
    detail = svc.review.detail(reviewer, app.application_id)  # the reviewer sees what was read
    assert detail.application.checks[IDENTITY]["details"]["ocr"]["lines"] == lines
    svc.review.decide(reviewer, app.application_id, False, "no zone")
    clock.advance(days=91)
    svc.maintenance.purge_past_retention()
    assert svc.readings.stored == {}  # personal data: gone with the document


def test_a_passing_document_keeps_the_zone_it_was_decided_on_and_no_page_text(svc, applicant):
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    details = svc.repository.get(app.application_id).checks[IDENTITY]["details"]
    assert details["ocr"] == {"line_count": details["ocr"]["line_count"]} and details["ocr"]["line_count"] >= 2
    assert details["mrz"]["document_number"] and svc.readings.stored == {}
