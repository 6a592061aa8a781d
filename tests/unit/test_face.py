"""The face check's use cases on the fakes: consent, liveness sessions, the FACE check, the reviewer's
selfie link, expiry and the biometric purge (issue 17)."""

from __future__ import annotations

import json
import threading

import pytest

from chalicelib.adapters.memory import face_image
from chalicelib.domain import face_evidence, face_workflow
from chalicelib.domain.checks import FACE
from chalicelib.domain.workflow.errors import IllegalTransition
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import NotFound
from tests.support.deadlines import REPLY_S
from tests.support.documents import HOLDER, document_bytes, make_declared, page_bytes, pdf_bytes
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


def verifying(svc, who, body=None, content_type="image/jpeg", **declared):
    """Submitted, the document read, address and sanctions in: waiting for the applicant's selfie."""
    app = submit(svc, who, **declared)
    svc.identity_check.document_uploaded(upload(svc, who, app.application_id, body, content_type))
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    assert svc.repository.get(app.application_id).state == State.VERIFYING
    return app.application_id


def state(svc, app_id):
    return svc.repository.get(app_id).state


def liveness_reasons(svc, app_id):
    return [e.reason for e in svc.repository.history(app_id) if e.type.value == "liveness.completed"]


def face_codes(svc, app_id):
    return {r["code"] for r in svc.repository.get(app_id).checks[FACE]["reasons"]}


# --- consent ---------------------------------------------------------------------------------------


def test_consent_is_recorded_once_per_text_version_with_time_and_who(svc, applicant, clock):
    app_id = submit(svc, applicant).application_id
    status = svc.liveness.consent_status(applicant, app_id)
    assert status.text_version == "v1" and status.given is None
    given, new = svc.liveness.give_consent(applicant, app_id, "v1")
    assert new and given == {"text_version": "v1", "at": "2026-01-05T09:00:00.000Z", "by": f"applicant:{applicant.sub}"}
    assert svc.liveness.give_consent(applicant, app_id, "v1") == (given, False)  # a retry records nothing more
    assert event_types(svc, app_id).count("biometric.consent_given") == 1


def test_consent_to_another_text_version_is_refused_naming_the_current_one(svc, applicant):
    app_id = submit(svc, applicant).application_id
    with pytest.raises(face_workflow.ConsentOutdated) as outdated:
        svc.liveness.give_consent(applicant, app_id, "v0")
    assert outdated.value.current == "v1"


def test_consent_is_the_applicants_own_and_only_while_evidence_is_taken(svc, applicant, other_applicant):
    app_id = submit(svc, applicant).application_id
    with pytest.raises(NotFound):
        svc.liveness.give_consent(other_applicant, app_id, "v1")
    svc.applications.withdraw(applicant, app_id, "")
    with pytest.raises(IllegalTransition):
        svc.liveness.give_consent(applicant, app_id, "v1")


# --- sessions --------------------------------------------------------------------------------------


def test_no_session_without_consent_to_the_current_text(svc, applicant):
    app_id = submit(svc, applicant).application_id
    with pytest.raises(face_workflow.ConsentRequired):
        svc.liveness.create_session(applicant, app_id)
    svc.liveness.give_consent(applicant, app_id, "v1")
    svc.settings.update(face_consent_text_version="v2")  # the text changed: consent again
    with pytest.raises(face_workflow.ConsentRequired) as required:
        svc.liveness.create_session(applicant, app_id)
    assert required.value.current == "v2"
    assert svc.faces.calls == []  # nothing was asked of Rekognition


def test_a_session_is_bound_short_lived_and_handed_back_while_open(svc, applicant, clock):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    first, new = svc.liveness.create_session(applicant, app_id)
    assert new and first.attempt == 1 and first.attempts_left == 2
    assert first.expires_at == "2026-01-05T09:03:00.000Z"
    assert svc.liveness.create_session(applicant, app_id) == (first, False)  # a double click: the same one
    assert svc.faces.calls == ["CreateFaceLivenessSession"]
    clock.advance(minutes=4)
    second, new = svc.liveness.create_session(applicant, app_id)
    assert new and second.attempt == 2 and second.session_id != first.session_id
    sessions = face_evidence.sessions(svc.repository.get(app_id).biometrics)
    assert [s["state"] for s in sessions] == ["superseded", "open"]


def test_attempts_are_limited_and_a_settled_liveness_starts_no_more(svc, applicant, clock):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    for _ in range(3):
        svc.liveness.create_session(applicant, app_id)
        clock.advance(minutes=4)
    with pytest.raises(face_workflow.LivenessAttemptsExhausted):
        svc.liveness.create_session(applicant, app_id)
    other = submit(svc, applicant).application_id
    selfie(svc, applicant, other)
    with pytest.raises(face_workflow.LivenessAlreadyCompleted):
        svc.liveness.create_session(applicant, other)


def test_two_requests_at_once_bind_one_session(svc, applicant):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    barrier, results, local = threading.Barrier(2), [], threading.local()
    real_get = svc.repository.get

    def meet_after_read(application_id):
        found = real_get(application_id)
        if threading.current_thread().name.startswith("create") and not getattr(local, "met", False):
            local.met = True  # both read the same version, then both go on
            barrier.wait(timeout=REPLY_S)
        return found

    svc.repository.get = meet_after_read
    threads = [threading.Thread(target=lambda: results.append(svc.liveness.create_session(applicant, app_id)),
                                name=f"create-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    svc.repository.get = real_get
    assert len({view.session_id for view, _ in results}) == 1 and sorted(new for _, new in results) == [False, True]
    assert len(face_evidence.sessions(real_get(app_id).biometrics)) == 1


# --- completing a session --------------------------------------------------------------------------


def test_a_session_counts_once_and_only_for_its_own_application(svc, applicant, other_applicant):
    mine, theirs = submit(svc, applicant).application_id, submit(svc, other_applicant).application_id
    for who, app_id in ((applicant, mine), (other_applicant, theirs)):
        svc.liveness.give_consent(who, app_id, "v1")
    session, _ = svc.liveness.create_session(applicant, mine)
    their_session, _ = svc.liveness.create_session(other_applicant, theirs)
    svc.faces.stream(session.session_id, face_image(HOLDER))
    for wrong in (their_session.session_id, "not-a-session", "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(face_workflow.LivenessSessionNotFound):
            svc.liveness.complete_session(applicant, mine, wrong)
    done = svc.liveness.complete_session(applicant, mine, session.session_id)
    assert (done.status, done.retry_allowed) == ("SUCCEEDED", False)
    with pytest.raises(face_workflow.LivenessSessionClosed) as closed:  # a replayed session id
        svc.liveness.complete_session(applicant, mine, session.session_id)
    assert closed.value.state == "used"
    assert event_types(svc, mine).count("liveness.completed") == 1


def test_a_session_still_streaming_is_a_clear_409_and_records_nothing(svc, applicant):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    session, _ = svc.liveness.create_session(applicant, app_id)
    before = svc.repository.history(app_id)
    with pytest.raises(face_workflow.LivenessInProgress):
        svc.liveness.complete_session(applicant, app_id, session.session_id)
    assert svc.repository.history(app_id) == before
    svc.faces.stream(session.session_id, face_image(HOLDER))
    assert svc.liveness.complete_session(applicant, app_id, session.session_id).status == "SUCCEEDED"


def test_a_session_never_streamed_expires_and_another_attempt_is_allowed(svc, applicant, clock):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    session, _ = svc.liveness.create_session(applicant, app_id)
    clock.advance(minutes=3, seconds=30)
    done = svc.liveness.complete_session(applicant, app_id, session.session_id)
    assert (done.status, done.retry_allowed, done.attempts_left) == ("EXPIRED", True, 2)
    second, _ = svc.liveness.create_session(applicant, app_id)
    clock.advance(hours=1)  # long past: not even asked of Rekognition
    calls = len(svc.faces.calls)
    assert svc.liveness.complete_session(applicant, app_id, second.session_id).status == "EXPIRED"
    assert svc.faces.calls[calls:] == []


def test_a_failed_liveness_may_be_retried_then_the_pass_counts(svc, applicant):
    app_id = verifying(svc, applicant)
    first = selfie(svc, applicant, app_id, confidence=40.0)
    assert first.retry_allowed and state(svc, app_id) == State.VERIFYING
    assert "face.requested" not in event_types(svc, app_id)
    second = selfie(svc, applicant, app_id)
    assert not second.retry_allowed and event_types(svc, app_id)[-1] == "face.requested"
    face_check(svc, app_id)
    assert state(svc, app_id) == State.APPROVED
    attempts = svc.repository.get(app_id).biometrics["attempts"]
    assert [a["passed"] for a in attempts] == [False, True]
    # the history says what happened: Rekognition's SUCCEEDED with a low confidence is a failed attempt
    assert liveness_reasons(svc, app_id) == [
        "liveness check 1: failed (confidence 40.0, below the 90 needed); another attempt allowed",
        "liveness check 2: passed (confidence 99.0)",
    ]


def test_when_every_attempt_fails_the_face_check_runs_and_flags_liveness_failed(svc, applicant):
    app_id = verifying(svc, applicant)
    for _ in range(3):
        done = selfie(svc, applicant, app_id, status="FAILED", confidence=3.0)
    assert not done.retry_allowed
    assert liveness_reasons(svc, app_id)[-1] == "liveness check 3: failed (session failed); no attempt left"
    face_check(svc, app_id)
    assert state(svc, app_id) == State.FLAGGED and face_codes(svc, app_id) == {"LIVENESS_FAILED"}
    assert svc.faces.faces_of(app_id) == []  # a face that did not pass liveness is never indexed


def test_liveness_after_the_decision_is_refused_and_changes_nothing(svc, applicant):
    app_id = verifying(svc, applicant)
    svc.liveness.give_consent(applicant, app_id, "v1")
    session, _ = svc.liveness.create_session(applicant, app_id)
    svc.faces.stream(session.session_id, face_image(HOLDER))
    svc.applications.withdraw(applicant, app_id, "")
    before = svc.repository.get(app_id)
    for attempt in (
        lambda: svc.liveness.complete_session(applicant, app_id, session.session_id),
        lambda: svc.liveness.create_session(applicant, app_id),
    ):
        with pytest.raises(IllegalTransition):
            attempt()
    assert svc.repository.get(app_id) == before


def test_an_image_outside_the_applications_prefix_is_not_evidence(svc, applicant):
    app_id = submit(svc, applicant).application_id
    svc.liveness.give_consent(applicant, app_id, "v1")
    session, _ = svc.liveness.create_session(applicant, app_id)
    svc.faces.stream(session.session_id, face_image(HOLDER))
    stolen = svc.faces.sessions[session.session_id]
    from chalicelib.services.ports import StoredImage

    stolen.reference = StoredImage("liveness/22222222-2222-4222-8222-222222222222/x/reference.jpg", "v")
    done = svc.liveness.complete_session(applicant, app_id, session.session_id)
    liveness = face_evidence.liveness(svc.repository.get(app_id).biometrics)
    assert liveness["reference"] is None and liveness["passed"] is False and done.retry_allowed
    assert svc.metrics.counts["LivenessImageMisplaced"] == 1


# --- the face check ------------------------------------------------------------------------------


def test_a_genuine_selfie_approves_with_four_checks_and_its_face_in_the_collection(svc, applicant):
    app_id = verifying(svc, applicant)
    calls = len(svc.faces.calls)
    commits = svc.repository.commits
    with_face(svc, applicant, app_id)
    app = svc.repository.get(app_id)
    assert app.state == State.APPROVED and app.checks[FACE]["outcome"] == "PASS"
    assert app.checks[FACE]["details"]["similarity"] == 99.0
    assert face_evidence.face_ids(app.biometrics) == svc.faces.faces_of(app_id) and len(svc.faces.faces_of(app_id)) == 1
    # the budget: liveness results, one compare, one index, one search (and one session created)
    assert sorted(svc.faces.calls[calls:]) == sorted(
        ["CreateFaceLivenessSession", "GetFaceLivenessSessionResults", "CompareFaces", "IndexFaces",
         "SearchFacesByImage"])
    assert svc.repository.commits - commits == 4  # consent, session, completion, the face check


def test_the_selfie_before_the_document_waits_for_it_and_the_document_asks_for_the_check(svc, applicant):
    app = submit(svc, applicant)
    selfie(svc, applicant, app.application_id)
    assert "face.requested" not in event_types(svc, app.application_id)
    assert face_check(svc, app.application_id) == {"changed": False}  # not asked for: nothing runs
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    assert event_types(svc, app.application_id)[-1] == "face.requested"
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    face_check(svc, app.application_id)
    assert state(svc, app.application_id) == State.APPROVED


@pytest.mark.parametrize(
    "document_faces, selfie_faces, code",
    [
        (("someone-else",), (HOLDER,), "FACE_MISMATCH"),  # an impostor with the holder's passport
        ((), (HOLDER,), "DOCUMENT_PHOTO_NOT_FOUND"),  # a passport page without a photo
        ((HOLDER,), (HOLDER, {"person": "friend", "box": [0.7, 0.1, 0.1, 0.1]}), "SELFIE_MULTIPLE_FACES"),
        ((HOLDER,), ({"person": HOLDER, "sharpness": 2},), "FACE_QUALITY_LOW"),
    ],
)
def test_what_a_person_must_look_at_is_flagged_with_its_reason(svc, applicant, document_faces, selfie_faces, code):
    body = page_bytes(document_bytes_lines(), faces=document_faces)
    app_id = verifying(svc, applicant, body=body)
    with_face(svc, applicant, app_id, *selfie_faces)
    assert state(svc, app_id) == State.FLAGGED and code in face_codes(svc, app_id)
    reasons = {r["code"] for r in svc.repository.get(app_id).decision_reasons}
    assert code in reasons


def document_bytes_lines():
    from tests.support.documents import mrz_lines

    return mrz_lines(make_declared())


def test_a_pdf_document_is_compared_by_a_person_without_a_compare_call(svc, applicant):
    app_id = verifying(svc, applicant, body=pdf_bytes(4096), content_type="application/pdf")
    calls = len(svc.faces.calls)
    with_face(svc, applicant, app_id)
    assert "DOCUMENT_NOT_COMPARABLE" in face_codes(svc, app_id) and state(svc, app_id) == State.FLAGGED
    assert "CompareFaces" not in svc.faces.calls[calls:]


def test_the_same_face_on_two_applications_under_other_names_is_a_duplicate_naming_both(
    svc, applicant, other_applicant
):
    first = person(svc, applicant, "dora")
    with_face(svc, applicant, first, "dora")
    assert state(svc, first) == State.APPROVED
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"})
    second = verifying(svc, other_applicant, body=page_bytes(document_bytes_lines_of(other), faces=("dora",)),
                       full_name=other["full_name"])
    with_face(svc, other_applicant, second, "dora")
    assert state(svc, second) == State.FLAGGED and face_codes(svc, second) == {"DUPLICATE_FACE"}
    details = svc.repository.get(second).checks[FACE]["details"]
    assert details["application_id"] == second
    assert [d["application_id"] for d in details["duplicates"]] == [first]


def test_a_replayed_request_asks_nothing_of_rekognition(svc, applicant):
    app_id = verifying(svc, applicant)
    with_face(svc, applicant, app_id)
    before, calls = svc.repository.history(app_id), len(svc.faces.calls)
    assert face_check(svc, app_id) == {"changed": False}
    assert svc.repository.history(app_id) == before and len(svc.faces.calls) == calls


def test_two_deliveries_at_once_record_once_and_leave_no_stray_face(svc, applicant):
    app_id = verifying(svc, applicant)
    selfie(svc, applicant, app_id)
    barrier = threading.Barrier(2)
    real_index = svc.faces.index

    def index_then_meet(image, external_id):
        found = real_index(image, external_id)
        barrier.wait(timeout=REPLY_S)
        return found

    svc.faces.index = index_then_meet
    threads = [threading.Thread(target=face_check, args=(svc, app_id)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app = svc.repository.get(app_id)
    assert event_types(svc, app_id).count("check.completed") == 4 and app.state == State.APPROVED
    assert svc.faces.faces_of(app_id) == sorted(face_evidence.face_ids(app.biometrics))


def test_a_result_for_an_application_that_moved_on_takes_its_face_out_again(svc, applicant):
    app_id = verifying(svc, applicant)
    selfie(svc, applicant, app_id)
    real_index = svc.faces.index

    def index_then_withdraw(image, external_id):
        found = real_index(image, external_id)
        svc.applications.withdraw(applicant, app_id, "changed my mind")
        return found

    svc.faces.index = index_then_withdraw
    assert face_check(svc, app_id) == {"changed": False}
    assert svc.faces.faces_of(app_id) == [] and state(svc, app_id) == State.WITHDRAWN


def test_a_dead_lettered_request_is_run_by_the_sweeper(svc, applicant, clock):
    app_id = verifying(svc, applicant)
    selfie(svc, applicant, app_id)  # face.requested published; its message then went to the DLQ
    clock.advance(minutes=11)
    assert svc.sweeper.redrive_stuck()["changed"] == 1
    assert state(svc, app_id) == State.APPROVED


def test_a_face_check_message_that_is_not_an_application_event_is_poison(svc):
    from chalicelib.services.errors import PoisonMessage

    for body in ("nope", json.dumps({"application_id": "7d7c4b8e-2f55-4a43-9d53-2cc1f5ab0b6e"})):
        with pytest.raises(PoisonMessage):
            svc.face_check.check_requested(body)


def test_a_failed_system_check_decides_without_asking_for_a_selfie(svc, applicant):
    # another person: a differing name AND birth date fails (a name alone on the declared number and dates is REVIEW)
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"}, date_of_birth="1971-03-04")
    app = submit(svc, applicant)
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id, document_bytes(other)))
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    assert state(svc, app.application_id) == State.REJECTED and FACE not in svc.repository.get(
        app.application_id).checks


# --- expiry --------------------------------------------------------------------------------------


def test_an_application_that_never_gives_a_selfie_expires_and_one_waiting_for_a_check_does_not(
    svc, applicant, clock
):
    abandoned = verifying(svc, applicant)
    stuck = verifying(svc, applicant)
    selfie(svc, applicant, stuck)
    svc.face_check.check_requested = lambda body: (_ for _ in ()).throw(ConnectionError("down"))  # never runs
    clock.advance(days=31)
    summary = svc.maintenance.expire_abandoned()
    assert state(svc, abandoned) == State.EXPIRED and state(svc, stuck) == State.VERIFYING
    assert summary["changed"] == 1
    assert svc.repository.history(abandoned)[-1].reason == "no liveness check within 30 days"


# --- the reviewer's view of the selfie ---------------------------------------------------------------


def flagged_with_selfie(svc, applicant):
    app_id = verifying(svc, applicant, body=page_bytes(document_bytes_lines(), faces=("someone-else",)))
    with_face(svc, applicant, app_id)
    assert state(svc, app_id) == State.FLAGGED
    return app_id


def test_a_reviewer_sees_the_selfie_version_that_was_checked_and_the_view_is_recorded_first(svc, applicant, reviewer):
    app_id = flagged_with_selfie(svc, applicant)
    link = svc.face_review.view_selfie(reviewer, app_id)
    reference = face_evidence.reference(svc.repository.get(app_id).biometrics)
    assert svc.biometric_images.views == [(svc.biometric_images.views[0][0], 300)]
    assert svc.biometric_images.views[0][0].version == reference["version"] and link.content_type == "image/jpeg"
    last = svc.repository.history(app_id)[-1]
    assert last.type.value == "selfie.viewed" and last.actor == f"reviewer:{reviewer.sub}"
    assert svc.applications.chain_intact(svc.repository.get(app_id), svc.repository.history(app_id))


def test_no_selfie_link_for_someone_elses_decision_an_open_application_or_without_a_selfie(
    svc, applicant, reviewer
):
    app_id = flagged_with_selfie(svc, applicant)
    svc.review.decide(identity(None, "reviewers"), app_id, False, "not the holder")
    with pytest.raises(NotFound):
        svc.face_review.view_selfie(reviewer, app_id)  # decided by another reviewer
    waiting = verifying(svc, applicant)
    with pytest.raises(NotFound):
        svc.face_review.view_selfie(reviewer, waiting)  # not in review
    assert "selfie.viewed" not in event_types(svc, app_id)


# --- deletion ------------------------------------------------------------------------------------


def person(svc, who, name):
    """An application of ``name`` (their face on the document) waiting for a selfie."""
    return verifying(svc, who, body=page_bytes(document_bytes_lines(), faces=(name,)))


def test_biometrics_are_deleted_after_their_retention_and_at_once_when_withdrawn(svc, applicant, reviewer, clock):
    decided = flagged_with_selfie(svc, applicant)
    svc.review.decide(reviewer, decided, True, "same person, old photo")
    approved = person(svc, identity(), "anna")
    with_face(svc, identity_of(svc, approved), approved, "anna")
    assert state(svc, approved) == State.APPROVED
    withdrawn = person(svc, identity(), "ben")
    selfie(svc, identity_of(svc, withdrawn), withdrawn, "ben")
    svc.applications.withdraw(identity_of(svc, withdrawn), withdrawn, "")
    assert svc.biometric_images.keys_of(withdrawn) and svc.biometric_images.keys_of(decided)
    first = svc.biometric_purge.purge_due()
    assert svc.biometric_images.keys_of(withdrawn) == [] and svc.biometric_images.keys_of(decided) != []
    assert first["changed"] == 1 and event_types(svc, withdrawn)[-1] == "biometrics.purged"
    clock.advance(days=31)
    second = svc.biometric_purge.purge_due()
    assert second["changed"] == 2  # the reviewed one and the approved one, 30 days after their decisions
    for app_id in (decided, approved, withdrawn):
        app = svc.repository.get(app_id)
        assert svc.biometric_images.keys_of(app_id) == [] and svc.faces.faces_of(app_id) == []
        assert face_evidence.purged(app.biometrics) and face_evidence.reference(app.biometrics) is None
        assert app.biometrics["consent"]["text_version"] == "v1"  # the proof of consent stays
        assert app_id == withdrawn or app.checks[FACE]["outcome"]  # and what was decided
    with pytest.raises(face_workflow.NoSelfie) as gone:
        svc.face_review.view_selfie(reviewer, decided)
    assert gone.value.purged
    assert svc.biometric_purge.purge_due()["changed"] == 0  # nothing left to do


def test_a_purge_whose_budget_is_spent_still_purges_its_first_application_and_says_it_stopped(svc):
    """budget.TimeBudget: else a run whose queries spent the budget would purge nothing, and so would the next."""
    withdrawn = []
    for name in ("anna", "ben"):
        app_id = person(svc, identity(), name)
        selfie(svc, identity_of(svc, app_id), app_id, name)
        svc.applications.withdraw(identity_of(svc, app_id), app_id, "")
        withdrawn.append(app_id)
    first = svc.biometric_purge.purge_due(budget_seconds=0)
    assert first["changed"] == 1 and first["truncated"] is True
    second = svc.biometric_purge.purge_due()  # the next run, with time: the one left
    assert second["changed"] == 1 and second["truncated"] is False and all(svc.biometric_images.keys_of(a) == [] for a in withdrawn)


def test_biometrics_never_outlive_documents(svc):
    svc.settings.update(biometric_retention_days=400, document_retention_days=90)
    assert svc.settings.policy().biometric_retention == 90


def test_a_face_indexed_by_an_interrupted_run_is_found_and_deleted(svc, applicant):
    app_id = verifying(svc, applicant)
    selfie(svc, applicant, app_id)
    reference = face_evidence.reference(svc.repository.get(app_id).biometrics)
    from chalicelib.services.ports import StoredImage

    svc.faces.index(StoredImage(reference["key"], reference["version"]), app_id)  # indexed, then the run died
    svc.applications.withdraw(applicant, app_id, "")
    summary = svc.biometric_purge.purge_due()
    assert summary["faces_deleted"] == 1 and svc.faces.faces_of(app_id) == []


def identity_of(svc, app_id):
    """The applicant identity that owns an application (the fakes' identities are plain values)."""
    from chalicelib.domain.users import CUSTOMER_POOL, Identity

    return Identity(sub=svc.repository.get(app_id).applicant_id, groups=frozenset(), pool=CUSTOMER_POOL)


def test_the_same_applicant_applying_again_as_themselves_is_no_duplicate_but_under_another_name_is(svc, applicant):
    first = person(svc, applicant, "carla")
    with_face(svc, applicant, first, "carla")
    again = person(svc, applicant, "carla")
    with_face(svc, applicant, again, "carla")
    assert state(svc, again) == State.APPROVED
    details = svc.repository.get(again).checks[FACE]["details"]
    assert [d["application_id"] for d in details["earlier_applications"]] == [first] and details["duplicates"] == []
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"})
    alias = verifying(svc, applicant, body=page_bytes(document_bytes_lines_of(other), faces=("carla",)),
                      full_name=other["full_name"])
    with_face(svc, applicant, alias, "carla")
    assert state(svc, alias) == State.FLAGGED and face_codes(svc, alias) == {"DUPLICATE_FACE"}


def document_bytes_lines_of(declared):
    from tests.support.documents import mrz_lines

    return mrz_lines(declared)
