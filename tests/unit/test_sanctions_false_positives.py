"""Issue 20: a reviewer clears a sanctions candidate as a false positive, with a reason kept in the history;
the same applicant and entry are not flagged again unless the entry changed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, CheckResult, Outcome
from chalicelib.domain.sanctions import OFAC_SDN, Applicant, ListEntry, ScreeningIndex, screen
from chalicelib.domain.workflow.errors import AlreadyCleared, NoSuchCandidate, NotAllowed, SecondReviewerRequired
from chalicelib.domain.workflow.intake import receive_document
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import NotFound
from tests.support.fakes import event_types, identity, submit
from tests.support.fakes import screen as screen_queue

# near "AL-RASHIDI, Karim Yusuf" (1001, DOB 12 Jan 1960) of the synthetic fixtures (tests/data/sanctions/synthetic)
NEAR = {"full_name": {"given_names": "Kareem Yousef", "surname": "Al Rashidi"}, "date_of_birth": "1960-03-01"}


def flagged(svc, who) -> str:
    app = submit(svc, who, **NEAR)
    screen_queue(svc, app.application_id)
    svc.applications.apply_with_retry(
        app.application_id,
        lambda current: receive_document(current, f"applications/{app.application_id}/identity/doc", 2000, svc.clock()),
    )
    svc.check_recorder.record(app.application_id, CheckResult(ADDRESS))
    svc.check_recorder.record(app.application_id, CheckResult(IDENTITY))
    svc.check_recorder.record(app.application_id, CheckResult(FACE))  # issue 17
    current = svc.repository.get(app.application_id)
    assert current.state is State.FLAGGED and current.checks["sanctions"]["outcome"] == "REVIEW"
    return app.application_id


def test_a_cleared_candidate_is_kept_in_the_history_with_its_reason(svc, applicant, reviewer):
    app_id = flagged(svc, applicant)
    svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "born in Leeds, other father")
    event = svc.repository.history(app_id)[-1]
    assert event.type.value == "screening.false_positive" and event.reason == "born in Leeds, other father"
    assert event.details["entry_id"] == "1001" and event.details["entry_hash"]
    assert event.actor == f"reviewer:{reviewer.sub}"
    stored = svc.repository.get(app_id).checks["sanctions"]["details"]["false_positives"]
    assert [(c["list"], c["entry_id"]) for c in stored] == [(OFAC_SDN, "1001")]


def test_the_same_applicant_is_not_flagged_again_for_the_same_entry(svc, applicant, other_applicant, reviewer):
    app_id = flagged(svc, applicant)
    svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "another person")
    second = identity(None, "reviewers")  # four eyes on sanctions (the default second_review_for)
    svc.sanctions_reviews.clear_false_positive(second, app_id, OFAC_SDN, "1001", "agreed: born elsewhere")
    again = submit(svc, applicant, **NEAR)
    screen_queue(svc, again.application_id)
    result = svc.repository.get(again.application_id).checks["sanctions"]
    assert result["outcome"] == "PASS" and result["details"]["cleared"][0]["entry_id"] == "1001"
    # another applicant of the same name is still flagged: the clearing is per applicant
    theirs = submit(svc, other_applicant, **NEAR)
    screen_queue(svc, theirs.application_id)
    assert svc.repository.get(theirs.application_id).checks["sanctions"]["outcome"] == "REVIEW"


def test_four_eyes_one_reviewers_clearing_does_not_stand_until_a_second_confirms(svc, applicant, reviewer):
    """Issue 18's four eyes on sanctions hits hold for the false-positive path: one reviewer alone cannot make
    the applicant's next screening pass."""
    assert "SANCTIONS" in svc.settings.policy().second_review_for
    app_id = flagged(svc, applicant)
    svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "another person")
    again = submit(svc, applicant, **NEAR)
    screen_queue(svc, again.application_id)
    assert svc.repository.get(again.application_id).checks["sanctions"]["outcome"] == "REVIEW"  # not yet

    with pytest.raises(SecondReviewerRequired):  # the same reviewer cannot be the second pair of eyes
        svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "really, another person")
    second = identity(None, "reviewers")
    svc.sanctions_reviews.clear_false_positive(second, app_id, OFAC_SDN, "1001", "agreed: born in Leeds")
    record = svc.repository.get(app_id).checks["sanctions"]["details"]["false_positives"][0]
    assert record["reviewer"] == reviewer.sub and record["confirmed_by"] == second.sub
    assert record["confirm_reason"] == "agreed: born in Leeds"
    confirming = svc.repository.history(app_id)[-1]
    assert confirming.type.value == "screening.false_positive" and confirming.details["four_eyes"] is True
    with pytest.raises(AlreadyCleared):
        svc.sanctions_reviews.clear_false_positive(identity(None, "reviewers"), app_id, OFAC_SDN, "1001", "third")

    third = submit(svc, applicant, **NEAR)
    screen_queue(svc, third.application_id)
    assert svc.repository.get(third.application_id).checks["sanctions"]["outcome"] == "PASS"


def test_without_four_eyes_on_sanctions_one_reviewers_clearing_stands(svc, applicant, reviewer):
    svc.settings.update(second_review_for=frozenset())
    app_id = flagged(svc, applicant)
    svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "another person")
    again = submit(svc, applicant, **NEAR)
    screen_queue(svc, again.application_id)
    assert svc.repository.get(again.application_id).checks["sanctions"]["outcome"] == "PASS"


def test_a_changed_entry_flags_the_cleared_applicant_again():
    listed = ListEntry(OFAC_SDN, "1", "RASHIDI, Karim Yusuf")
    padding = [ListEntry(OFAC_SDN, f"p{n}", f"OTHER, Name{n} Person{n}") for n in range(20)]
    before = ScreeningIndex([listed, *padding], {}, "t")
    applicant = Applicant(("Kareem Yousef Rashidi",), dt.date(1970, 1, 1))
    cleared = {(OFAC_SDN, "1"): listed.fingerprint()}
    assert screen(before, applicant, cleared=cleared).outcome is Outcome.PASS
    changed = dataclasses.replace(listed, aliases=("RASHIDI, Kareem",))
    after = ScreeningIndex([changed, *padding], {}, "t")
    assert changed.fingerprint() != listed.fingerprint()
    assert screen(after, applicant, cleared=cleared).outcome is Outcome.REVIEW


def test_only_a_candidate_of_the_check_can_be_cleared_and_never_by_the_applicant(svc, applicant, reviewer):
    app_id = flagged(svc, applicant)
    with pytest.raises(NoSuchCandidate):
        svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "9999", "not on the check")
    from tests.support.fakes import identity

    themselves = identity(applicant.sub, "reviewers")
    with pytest.raises(NotAllowed):
        svc.sanctions_reviews.clear_false_positive(themselves, app_id, OFAC_SDN, "1001", "it is not me")


def test_an_application_outside_review_cannot_be_cleared(svc, applicant, reviewer):
    app = submit(svc, applicant, **NEAR)
    with pytest.raises(NotFound):
        svc.sanctions_reviews.clear_false_positive(reviewer, app.application_id, OFAC_SDN, "1001", "too early")
    assert "screening.false_positive" not in event_types(svc, app.application_id)


def test_a_confirmed_clearing_holds_until_the_list_changes_the_entry(svc, applicant, reviewer):
    """Through the refresh and the index cache: cleared by two reviewers, the entry stays cleared for this
    applicant while the list keeps it; once a refresh publishes it changed (a new alias), it flags again."""
    from tests.support.sanctions_lists import fixture_documents

    app_id = flagged(svc, applicant)
    svc.sanctions_reviews.clear_false_positive(reviewer, app_id, OFAC_SDN, "1001", "another person")
    svc.sanctions_reviews.clear_false_positive(identity(None, "reviewers"), app_id, OFAC_SDN, "1001", "agreed")
    svc.sanctions_refresh.refresh()  # the same lists again: nothing published, still cleared
    unchanged = submit(svc, applicant, **NEAR)
    screen_queue(svc, unchanged.application_id)
    assert svc.repository.get(unchanged.application_id).checks["sanctions"]["outcome"] == "PASS"

    alt = fixture_documents()["alt.csv"].replace(b"\x1a", b"").rstrip(b"\r\n")
    svc.list_downloader.documents[svc.settings.policy().sanctions_ofac_alt_url] = (
        alt + b'\r\n1001,599,"aka","AL-RASHIDI, Abu Yusuf","-0-"\r\n\x1a'
    )
    assert svc.sanctions_refresh.refresh()["changed"]
    svc.sanctions_index._checked_at = None  # the container's once-a-minute look at the pointer, now
    changed = submit(svc, applicant, **NEAR)
    screen_queue(svc, changed.application_id)
    result = svc.repository.get(changed.application_id).checks["sanctions"]
    assert result["outcome"] == "REVIEW" and [c["entry_id"] for c in result["details"]["candidates"]] == ["1001"]
