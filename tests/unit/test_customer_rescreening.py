"""Issue 20: approved customers are re-screened when the lists change -- projection, fan-out, screening
against the delta, the case raised once per entry version, the reviewers' queue and resolution; on fakes."""

from __future__ import annotations

import json

import pytest

from chalicelib.api import presenters
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, SANCTIONS, CheckResult
from chalicelib.domain.sanctions import ScreeningIndex
from chalicelib.domain.sanctions.rescreening import CLEARED, CONFIRMED, document_sex
from chalicelib.domain.workflow.errors import CaseAlreadyResolved, NotAllowed, SecondReviewerRequired
from chalicelib.domain.workflow.intake import receive_document
from chalicelib.domain.workflow.states import State
from chalicelib.services import rescreening
from chalicelib.services.errors import NotFound, PoisonMessage
from tests.support.fakes import event_types, identity, submit
from tests.support.sanctions_lists import fixture_documents

CUSTOMER = {"full_name": {"given_names": "Maria Elena", "surname": "Quintero Solis"}, "date_of_birth": "1971-04-09"}
# The entry a later list adds: the customer's own name and birth date (OFAC's legacy CSV, 12 fields).
NEW_ENTRY = (
    b'4242,"QUINTERO SOLIS, Maria Elena","individual","SDNTK","-0-","-0-","-0-","-0-","-0-","-0-","-0-",'
    b'"DOB 09 Apr 1971; nationality Mexico; Gender Female."\r\n'
)


def approved(svc, who, **declared) -> str:
    app = submit(svc, who, **{**CUSTOMER, **declared})
    app_id = app.application_id
    svc.applications.apply_with_retry(
        app_id, lambda current: receive_document(current, f"applications/{app_id}/identity/doc", 2000, svc.clock())
    )
    read = CheckResult(IDENTITY, (), {"mrz": {"valid": True, "sex": "F"}})
    for result in (CheckResult(ADDRESS), read, CheckResult(SANCTIONS), CheckResult(FACE)):  # FACE: issue 17
        svc.check_recorder.record(app_id, result)
    assert svc.repository.get(app_id).state is State.APPROVED
    svc.customer_projection.application_event(json.dumps({"application_id": app_id, "type": "application.approved"}))
    return app_id


def list_names_the_customer(svc) -> None:
    policy = svc.settings.policy()
    sdn = fixture_documents()["sdn.csv"]
    svc.list_downloader.documents[policy.sanctions_ofac_sdn_url] = sdn.replace(b"\x1a", b"") + NEW_ENTRY + b"\x1a"


def run_workers(svc) -> list[dict]:
    summaries = []
    while svc.rescreening_queue.sent:
        for message in svc.rescreening_queue.take():
            summaries.append(svc.customer_rescreening.screen_segment(json.dumps(message)))
    return summaries


def test_an_approved_customer_is_projected_with_the_documents_sex(svc, applicant):
    app_id = approved(svc, applicant)
    profile = svc.customer_profiles.get(app_id)
    assert profile.names == ("Maria Elena Quintero Solis",) and profile.date_of_birth == "1971-04-09"
    assert profile.sex == "F" and profile.applicant_id == applicant.sub
    _, expires = svc.customer_profiles.items[app_id]
    assert expires > svc.clock().timestamp() + 1800 * 86400  # five years of re-screening


def test_a_list_change_naming_a_customer_opens_one_case_and_counts_the_alarm_metric(svc, applicant):
    app_id = approved(svc, applicant)
    bystander = approved(svc, applicant, full_name={"given_names": "John", "surname": "Smith"})
    list_names_the_customer(svc)
    summary = svc.sanctions_refresh.refresh()
    assert summary["added_or_changed"] == 1 and summary["rescreening_segments"] == 8
    assert svc.sanctions_index_store.pointer["rescreening"]["segments"] == 8
    summaries = run_workers(svc)
    assert sum(s["screened"] for s in summaries) == 2 and sum(s["cases"] for s in summaries) == 1
    assert all(s["delta_entries"] == 1 for s in summaries)
    cases, _ = svc.screening_cases.open_cases(10, None)
    assert [(c.application_id, c.candidate["entry_id"]) for c in cases] == [(app_id, "4242")]
    assert cases[0].candidate["list"] == "OFAC-SDN" and cases[0].customer["sex"] == "F"
    assert event_types(svc, app_id)[-1] == "customer.screening_hit"
    assert "customer.screening_hit" not in event_types(svc, bystander)
    assert svc.metrics.counts["CustomerScreeningHit"] == 1


def test_replays_flag_a_customer_once_per_entry_version(svc, applicant):
    app_id = approved(svc, applicant)
    list_names_the_customer(svc)
    svc.sanctions_refresh.refresh()
    messages = list(svc.rescreening_queue.sent)
    run_workers(svc)
    history = len(svc.repository.history(app_id))
    for message in messages:  # every segment delivered again
        svc.customer_rescreening.screen_segment(json.dumps(message))
    svc.sanctions_refresh.refresh()  # the same lists: no new version, the re-screening not started again
    assert svc.rescreening_queue.sent == []
    assert len(svc.repository.history(app_id)) == history
    assert len(svc.screening_cases.cases) == 1 and svc.metrics.counts["CustomerScreeningHit"] == 1


def test_a_re_screening_that_could_not_start_starts_on_the_next_run(svc, applicant):
    approved(svc, applicant)
    list_names_the_customer(svc)
    svc.rescreening_queue.fail = True
    with pytest.raises(RuntimeError):
        svc.sanctions_refresh.refresh()
    assert "rescreening" not in svc.sanctions_index_store.pointer  # the version is published, not started
    svc.rescreening_queue.fail = False
    summary = svc.sanctions_refresh.refresh()
    assert summary["changed"] == 0 and summary["rescreening_segments"] == 8
    assert sum(s["cases"] for s in run_workers(svc)) == 1


def test_a_worker_near_its_time_limit_sends_the_rest_of_its_segment_on(svc, applicant, monkeypatch):
    for n in range(8):  # nine customers in eight segments: one segment has two, so two pages
        approved(svc, applicant, full_name={"given_names": f"Customer{n}", "surname": "Quintero Solis"})
    app_id = approved(svc, applicant)
    list_names_the_customer(svc)
    monkeypatch.setattr(rescreening, "PAGE", 1)
    ticks = iter(range(0, 10**7, 1000))  # every page takes 1000 s: past the 15 minutes at once
    svc.customer_rescreening.monotonic = lambda: float(next(ticks))
    svc.sanctions_refresh.refresh()
    summaries = run_workers(svc)
    assert any(s["continued"] for s in summaries)
    assert sum(s["screened"] for s in summaries) == 9  # each customer read once, across continuations
    assert [c.application_id for c in svc.screening_cases.open_cases(10, None)[0]] == [app_id]


def test_the_delta_weighs_names_as_the_whole_list(svc):
    index = ScreeningIndex.loads(svc.sanctions_index_store.load(svc.sanctions_index_store.pointer["version"]))
    delta = index.subset({("OFAC-SDN", "1001")})
    assert [e.entry_id for e in delta.entries] == ["1001"]
    assert delta.weight("karim") == index.weight("karim") and delta.weight("rashidi") == index.weight("rashidi")
    assert len(delta.names) < len(index.names)


def test_the_applicant_never_sees_the_review_and_a_reviewer_resolves_it_once(svc, applicant, reviewer):
    app_id = approved(svc, applicant)
    list_names_the_customer(svc)
    svc.sanctions_refresh.refresh()
    run_workers(svc)
    (case,), _ = svc.screening_cases.open_cases(10, None)
    own = presenters.history(svc.applications.history(applicant, app_id, 500))
    assert "customer.screening_hit" not in [e["type"] for e in own["items"]] and own["chain_intact"]
    shown, app = svc.screening_case_reviews.detail(reviewer, case.case_id)
    assert shown.case_id == case.case_id and event_types(svc, app_id)[-1] == "review.viewed"
    first = svc.screening_case_reviews.resolve(reviewer, case.case_id, "false_positive", "born in Lyon in 1988")
    assert first.status == "OPEN" and first.recommendation["decision"] == "false_positive"  # four eyes (default)
    second = identity(None, "reviewers")
    resolved = svc.screening_case_reviews.resolve(second, case.case_id, "false_positive", "agreed: born in Lyon")
    assert resolved.status == CLEARED and resolved.resolution["reason"] == "agreed: born in Lyon"
    assert svc.screening_cases.open_cases(10, None)[0] == []
    assert event_types(svc, app_id)[-2:] == ["customer.screening_recommended", "customer.screening_resolved"]
    with pytest.raises(CaseAlreadyResolved):
        svc.screening_case_reviews.resolve(identity(None, "reviewers"), case.case_id, "confirmed", "second thoughts")
    seen = [e["type"] for e in presenters.history(svc.applications.history(applicant, app_id, 500))["items"]]
    assert not {"customer.screening_resolved", "customer.screening_recommended"} & set(seen)


def open_case(svc, who):
    approved(svc, who)
    list_names_the_customer(svc)
    svc.sanctions_refresh.refresh()
    run_workers(svc)
    (case,), _ = svc.screening_cases.open_cases(10, None)
    return case


def test_four_eyes_a_case_is_cleared_only_by_two_reviewers_who_cleared_it(svc, applicant, reviewer):
    """Issue 18's four eyes on sanctions hits reach a re-screening hit on an approved customer, as ``decide``:
    the first word is a recommendation; clearing needs two reviewers who cleared; a second's confirmation is final."""
    case = open_case(svc, applicant)
    reviews = svc.screening_case_reviews
    first = reviews.resolve(reviewer, case.case_id, "confirmed", "same birth day, same town")
    assert first.status == "OPEN" and first.recommendation["decision"] == "confirmed"
    assert [c.case_id for c in svc.screening_cases.open_cases(10, None)[0]] == [case.case_id]  # still queued
    with pytest.raises(SecondReviewerRequired):
        reviews.resolve(reviewer, case.case_id, "false_positive", "changed my mind")
    second = identity(None, "reviewers")
    overturned = reviews.resolve(second, case.case_id, "false_positive", "the listed man died in 2019")
    assert overturned.status == "OPEN" and overturned.recommendation["decision"] == "false_positive"
    assert "reviewer" not in presenters.screening_case(overturned)["recommendation"]  # no subs for reviewers
    final = reviews.resolve(identity(None, "reviewers"), case.case_id, "confirmed", "checked with the FIU")
    assert final.status == CONFIRMED and svc.screening_cases.open_cases(10, None)[0] == []
    resolved = svc.repository.history(case.application_id)[-1]
    assert resolved.type.value == "customer.screening_resolved" and resolved.details["four_eyes"] is True
    assert resolved.details["confirms"] is False and resolved.details["recommendation"] == CLEARED


def test_a_lost_recommendation_is_put_back_on_the_case(svc, applicant, reviewer):
    case = open_case(svc, applicant)
    svc.screening_case_reviews.resolve(reviewer, case.case_id, "false_positive", "born elsewhere")
    svc.screening_cases.cases[case.case_id]["recommendation"] = None  # a crash between the history and the case
    with pytest.raises(SecondReviewerRequired):
        svc.screening_case_reviews.resolve(reviewer, case.case_id, "false_positive", "again")
    assert svc.screening_cases.get(case.case_id).recommendation["reason"] == "born elsewhere"


def test_without_four_eyes_on_sanctions_one_reviewer_resolves_a_case(svc, applicant, reviewer):
    svc.settings.update(second_review_for=frozenset({"IDENTITY"}))
    case = open_case(svc, applicant)
    resolved = svc.screening_case_reviews.resolve(reviewer, case.case_id, "false_positive", "born elsewhere")
    assert resolved.status == CLEARED and resolved.recommendation is None


def test_a_reviewer_cannot_resolve_a_case_about_their_own_account(svc, reviewer):
    app_id = approved(svc, reviewer)  # the reviewer is also this customer (the same sub)
    list_names_the_customer(svc)
    svc.sanctions_refresh.refresh()
    run_workers(svc)
    (case,), _ = svc.screening_cases.open_cases(10, None)
    with pytest.raises(NotFound):
        svc.screening_case_reviews.detail(reviewer, case.case_id)
    with pytest.raises(NotAllowed):
        svc.screening_case_reviews.resolve(reviewer, case.case_id, "false_positive", "not me")
    assert svc.screening_cases.get(case.case_id).status == "OPEN" and app_id


def test_unknown_cases_and_malformed_tasks(svc, reviewer):
    with pytest.raises(NotFound):
        svc.screening_case_reviews.detail(reviewer, "no-such-case")
    for body in ("not json", "{}", json.dumps({"version": "a", "from_version": "b", "segment": 3, "segments": 2})):
        with pytest.raises(PoisonMessage):
            svc.customer_rescreening.screen_segment(body)


def test_the_documents_sex_is_read_only_from_a_valid_zone():
    assert document_sex({"identity": {"details": {"mrz": {"valid": True, "sex": "M"}}}}) == "M"
    assert document_sex({"identity": {"details": {"mrz": {"valid": False, "sex": "M"}}}}) is None
    assert document_sex({"identity": {"details": {"mrz": {"valid": True, "sex": "<"}}}}) is None
    assert document_sex({}) is None
