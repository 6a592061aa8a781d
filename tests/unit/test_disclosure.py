"""What an applicant may read of the checks on them (chalicelib/domain/disclosure.py): no tipping off."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import disclosure
from chalicelib.domain.checks import REQUIRED_CHECKS, SANCTIONS, Outcome, worst
from chalicelib.domain.face import DUPLICATE_FACE
from chalicelib.domain.sanctions import screening

CODES = [*disclosure.WITHHELD_CODES, "MRZ_NAME_MISMATCH", "PO_BOX", "FACE_MISMATCH", "SANCTIONS_SOMETHING_NEW"]


@st.composite
def reason(draw):
    """A recorded reason: a screening's with the outcome its code always carries (an unknown code: REVIEW),
    anything else with any outcome."""
    code, check = draw(st.sampled_from(CODES)), draw(st.sampled_from(REQUIRED_CHECKS))
    if disclosure.withheld({"check": check, "code": code}):
        outcome = disclosure.WITHHELD_CODES.get(code, Outcome.REVIEW).value
    else:
        outcome = draw(st.sampled_from([o.value for o in Outcome]))
    return {"check": check, "code": code, "outcome": outcome, "message": draw(st.text(max_size=20))}


def test_the_withheld_codes_are_the_screenings_own_with_their_outcomes():
    """Repeated, not imported (the notifier would load the screening engine): kept equal here."""
    assert disclosure.WITHHELD_CODES == {
        DUPLICATE_FACE: Outcome.REVIEW,
        screening.SANCTIONS_MATCH: Outcome.FAIL,
        screening.SANCTIONS_POSSIBLE_MATCH: Outcome.REVIEW,
        screening.SANCTIONS_INDEX_UNAVAILABLE: Outcome.REVIEW,
    }
    assert set(screening.APPLICANT_MESSAGES) <= set(disclosure.WITHHELD_CODES)


@given(st.lists(reason(), max_size=8))
def test_no_telling_reason_survives_a_decision_and_its_outcome_is_the_recorded_one(recorded):
    shown = disclosure.reasons(recorded)
    assert not any(r["check"] == SANCTIONS or r["code"] in disclosure.WITHHELD_CODES for r in shown)
    assert not any(r["code"].startswith("SANCTIONS") for r in shown)
    assert worst(Outcome(r["outcome"]) for r in shown) is worst(Outcome(r["outcome"]) for r in recorded)
    neutral = [r for r in shown if r["code"] in ("IN_REVIEW", "NOT_APPROVED")]
    assert all(r["check"] == "review" for r in neutral) and len(neutral) == len({r["code"] for r in neutral})
    untouched = [r for r in recorded if not disclosure.withheld(r)]
    assert all(r in shown for r in untouched)  # the applicant's own findings are still theirs to read


@given(st.sampled_from(REQUIRED_CHECKS), st.lists(reason(), max_size=6))
def test_a_check_shows_only_what_does_not_tell_with_the_outcome_of_what_it_shows(name, recorded):
    mine = [{k: v for k, v in r.items() if k != "check"} for r in recorded]
    result = {"check": name, "outcome": worst(Outcome(r["outcome"]) for r in mine).value, "reasons": mine,
              "details": {"candidates": ["x"], "duplicates": ["y"]}}
    shown = disclosure.check(result)
    assert shown["reasons"] == [r for r in mine if not disclosure.withheld(r, name)]
    assert shown["outcome"] == worst(Outcome(r["outcome"]) for r in shown["reasons"]).value
    if name in ("sanctions", "face"):
        assert shown["details"] == {}


@given(st.lists(reason(), max_size=8))
def test_the_decisions_summary_is_told_as_its_reasons_are(recorded):
    summary = "; ".join(f"{r['check']}:{r['code']}" for r in recorded) or "all checks passed"
    told = disclosure.decision_summary(summary)
    assert "SANCTIONS" not in told.upper() and DUPLICATE_FACE not in told
    expected = "; ".join(dict.fromkeys(f"{r['check']}:{r['code']}" for r in disclosure.reasons(recorded)))
    assert told == (expected or "all checks passed")


def test_the_sanctions_checks_result_is_never_an_applicants_event_however_it_is_carried():
    recorded = {"type": "check.completed", "actor": "system:sanctions-check", "details": {"check": SANCTIONS}}
    as_the_topic_carries_it = {"type": "check.completed", "actor": "system:sanctions-check", "reason": "x"}
    assert not disclosure.shown(recorded) and not disclosure.shown(as_the_topic_carries_it)
    assert disclosure.shown({"type": "check.completed", "actor": "system:face-check", "details": {"check": "face"}})
    assert not disclosure.shown({"type": "review.recommended", "actor": "reviewer:x"})
    assert not disclosure.shown({"type": "screening.false_positive", "actor": "reviewer:x"})
