"""The rules the declaration alone settles (issue 9): refused at the create, applied again after OCR,
and a check that fails before the document comes decides the application at once.

Pure domain and the use cases on the fakes: no AWS.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import codes
from chalicelib.domain.workflow.errors import IllegalTransition
from chalicelib.domain.checks import ADDRESS, IDENTITY, SANCTIONS, CheckResult, Outcome, Reason
from chalicelib.domain.declaration import ApplicationRequest
from chalicelib.domain.identity import PageText, check_identity
from chalicelib.domain.document_file import DocumentSample
from chalicelib.domain.policy import (
    APPLICANT_UNDERAGE,
    COUNTRY_NOT_SERVED,
    DOCUMENT_EXPIRED,
    DOCUMENT_EXPIRY_IMPLAUSIBLE,
    MAX_DOCUMENT_VALIDITY_YEARS,
    NATIONALITY_NOT_SERVED,
    Policy,
    age_on,
    settled_by_declaration,
)
from chalicelib.domain.workflow.states import State
from chalicelib.services.errors import DeclarationRefused
from tests.support.deadlines import REPLY_S
from tests.support.documents import jpeg_bytes, make_declared, mrz_lines
from tests.support.fakes import address_message, event_types, screen, submit, upload, with_face

POLICY = Policy()
TODAY = dt.date(2026, 1, 5)  # the fakes' clock (tests/support/fakes.py T0)

JAPAN = {"country": "JP", "street_address": ["1-1 Chiyoda"], "city": "Chiyoda-ku", "country_area": "Tokyo",
         "postal_code": "100-0001"}


def request(**overrides) -> ApplicationRequest:
    return ApplicationRequest.model_validate(make_declared(**overrides))


def broken(req: ApplicationRequest, policy: Policy = POLICY, today: dt.date = TODAY) -> dict[str, str]:
    return {b.code: b.field for b in settled_by_declaration(req, policy, today)}


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# --- each rule ------------------------------------------------------------------------------------------


def test_a_valid_declaration_breaks_nothing():
    assert broken(request()) == {}


def test_the_issues_newcomer_born_in_2015_in_an_unserved_country_hears_every_rule_at_once():
    req = request(date_of_birth="2015-05-17", address=JAPAN, doc_overrides={"expiry_date": "2020-01-01"})
    assert broken(req) == {
        APPLICANT_UNDERAGE: "date_of_birth",
        COUNTRY_NOT_SERVED: "address.country",
        DOCUMENT_EXPIRED: "identity_document.expiry_date",
    }


def test_eighteen_on_the_day_is_of_age_and_the_day_before_is_not():
    assert APPLICANT_UNDERAGE not in broken(request(date_of_birth=years_before(TODAY, 18)))
    assert APPLICANT_UNDERAGE in broken(request(date_of_birth=years_before(TODAY, 18) + dt.timedelta(days=1)))


def test_a_document_is_valid_on_its_expiry_day_and_not_the_day_after():
    assert broken(request(doc_overrides={"expiry_date": TODAY.isoformat()})) == {}
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    assert broken(request(doc_overrides={"expiry_date": yesterday})) == {
        DOCUMENT_EXPIRED: "identity_document.expiry_date"
    }


def test_an_expiry_no_state_issues_cannot_be_real():
    latest = TODAY.replace(year=TODAY.year + MAX_DOCUMENT_VALIDITY_YEARS)
    assert broken(request(doc_overrides={"expiry_date": latest.isoformat()})) == {}
    later = (latest + dt.timedelta(days=1)).isoformat()
    assert broken(request(doc_overrides={"expiry_date": later})) == {
        DOCUMENT_EXPIRY_IMPLAUSIBLE: "identity_document.expiry_date"
    }


def test_refused_nationalities_are_refused_and_every_other_is_served_by_default():
    assert broken(request(nationality="PRK")) == {NATIONALITY_NOT_SERVED: "nationality"}
    assert broken(request(nationality="JPN")) == {}


def test_a_served_list_serves_only_its_nationalities_and_germany_is_d_padded_or_not():
    policy = dataclasses.replace(POLICY, served_nationalities=frozenset({"GBR", "D"}))
    assert broken(request(nationality="D<<"), policy) == {}
    assert broken(request(nationality="D"), policy) == {}
    assert broken(request(nationality="FRA"), policy) == {NATIONALITY_NOT_SERVED: "nationality"}


def test_the_refused_list_wins_over_the_served_one():
    policy = dataclasses.replace(POLICY, served_nationalities=frozenset({"GBR"}), refused_nationalities=frozenset({"GBR"}))
    assert NATIONALITY_NOT_SERVED in broken(request(), policy)


def test_the_nationality_lists_come_from_parameter_store():
    policy = Policy.from_parameters(
        {"/p/served_nationalities": "gbr, D<<,FRA", "/p/refused_nationalities": "-", "/p/served_countries": "GB"}
    )
    assert policy.served_nationalities == frozenset({"GBR", "D", "FRA"})
    assert policy.refused_nationalities == frozenset()
    assert policy.serves_nationality("D<<") and not policy.serves_nationality("PRK")
    assert Policy.from_parameters({"served_nationalities": "*"}).serves_nationality("ZWE")


def test_the_defaults_match_the_template():
    """resources.yaml holds the same defaults (and README's configuration table names them)."""
    import pathlib
    import re

    template = (pathlib.Path(__file__).resolve().parents[2] / "resources.yaml").read_text()

    def value(name: str) -> str:
        match = re.search(rf'/{name}"\n\s+Type: \w+\n\s+Value: "([^"]*)"', template)
        assert match, name
        return match.group(1)

    assert Policy.from_parameters({n: value(n) for n in ("served_nationalities", "refused_nationalities")}) == POLICY


# --- properties ----------------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
icao = st.sampled_from(sorted(codes.ISO_ALPHA3 | codes.ICAO_EXTRA))
alpha2 = st.sampled_from(sorted(codes.ISO_ALPHA2))
code_sets = st.frozensets(icao, max_size=6)


@given(born=dates, today=dates, minimum=st.integers(0, 30))
def test_property_underage_exactly_when_the_minimum_birthday_is_still_to_come(born, today, minimum):
    policy = dataclasses.replace(POLICY, minimum_age=minimum)
    req = request().model_copy(update={"date_of_birth": born})
    birthday = born.replace(year=born.year + minimum) if (born.month, born.day) != (2, 29) else None
    if birthday is None:  # a leap-day birthday comes on 1 March in common years
        leap = (born.year + minimum) % 4 == 0 and ((born.year + minimum) % 100 != 0 or (born.year + minimum) % 400 == 0)
        birthday = dt.date(born.year + minimum, 2, 29) if leap else dt.date(born.year + minimum, 3, 1)
    assert (APPLICANT_UNDERAGE in broken(req, policy, today)) == (today < birthday)
    assert (age_on(born, today) >= minimum) == (today >= birthday)


@given(expiry=dates, today=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2070, 12, 31)))
def test_property_expiry_is_judged_against_today_and_the_longest_validity(expiry, today):
    req = request()
    document = req.identity_document.model_copy(update={"expiry_date": expiry})
    found = broken(req.model_copy(update={"identity_document": document}), POLICY, today)
    later = today.year + MAX_DOCUMENT_VALIDITY_YEARS
    latest = dt.date(later, 2, 28) if (today.month, today.day) == (2, 29) else today.replace(year=later)
    assert (DOCUMENT_EXPIRED in found) == (expiry < today)
    assert (DOCUMENT_EXPIRY_IMPLAUSIBLE in found) == (expiry > latest)


@given(nationality=icao, served=code_sets, refused=code_sets, any_served=st.booleans())
def test_property_a_nationality_is_served_iff_listed_or_any_and_never_refused(nationality, served, refused, any_served):
    policy = dataclasses.replace(
        POLICY, served_nationalities=served | ({"*"} if any_served else set()), refused_nationalities=refused
    )
    expected = nationality not in refused and (any_served or nationality in served)
    assert policy.serves_nationality(nationality) == expected
    req = request().model_copy(update={"nationality": nationality})
    assert (NATIONALITY_NOT_SERVED in broken(req, policy)) == (not expected)


@given(country=alpha2, served=st.frozensets(alpha2, max_size=8))
def test_property_a_residence_is_served_iff_listed(country, served):
    policy = dataclasses.replace(POLICY, served_countries=served)
    req = request()
    req = req.model_copy(update={"address": req.address.model_copy(update={"country": country})})
    assert (COUNTRY_NOT_SERVED in broken(req, policy)) == (country not in served)


# --- the same rules after OCR -------------------------------------------------------------------------------


def identity_check(body: dict, policy: Policy = POLICY, outcome: Outcome = Outcome.FAIL, **mrz_overrides) -> set[str]:
    data = jpeg_bytes()
    sample = DocumentSample("k", len(data), data, "image/jpeg", data[-1024:])
    lines = tuple(mrz_lines(body, **mrz_overrides))
    page = PageText(lines, tuple(99.0 for _ in lines))
    result = check_identity(ApplicationRequest.model_validate(body), sample, policy, TODAY, page)
    return {r.code for r in result.reasons if r.outcome == outcome}


def test_a_nationality_refused_after_the_create_fails_the_identity_check():
    body = make_declared()
    policy = dataclasses.replace(POLICY, refused_nationalities=frozenset({"GBR"}))
    assert identity_check(body, policy) == {NATIONALITY_NOT_SERVED}


def test_a_document_of_a_refused_nationality_fails_naming_both_the_mismatch_and_the_rule():
    """Issue 19: a nationality read otherwise than declared (perhaps misread) goes to review, never a refusal."""
    assert identity_check(make_declared(), nationality="PRK") == set()
    assert identity_check(make_declared(), outcome=Outcome.REVIEW, nationality="PRK") >= {
        "MRZ_MISMATCH_NATIONALITY", NATIONALITY_NOT_SERVED}


def test_a_document_read_with_an_expired_date_fails_naming_both():
    body = make_declared()
    assert identity_check(body, expiry_date="200101") == {"MRZ_MISMATCH_EXPIRY_DATE", DOCUMENT_EXPIRED}


def test_a_document_showing_a_child_fails_naming_both():
    body = make_declared()
    assert identity_check(body, birth_date="150517") == {"MRZ_MISMATCH_BIRTH_DATE", APPLICANT_UNDERAGE}


# --- the create use case ------------------------------------------------------------------------------------


def test_the_create_refuses_with_every_broken_rule_and_stores_nothing(svc, applicant):
    with pytest.raises(DeclarationRefused) as refused:
        submit(svc, applicant, date_of_birth="2015-05-17", address=JAPAN)
    assert [(b.code, b.field) for b in refused.value.broken] == [
        (APPLICANT_UNDERAGE, "date_of_birth"),
        (COUNTRY_NOT_SERVED, "address.country"),
    ]
    assert svc.repository.list_for_applicant(applicant.sub, 10, None)[0] == []


def test_the_create_reads_the_rules_from_the_settings(svc, applicant):
    svc.settings.update(minimum_age=60)
    with pytest.raises(DeclarationRefused):
        submit(svc, applicant)
    svc.settings.update(minimum_age=18, refused_nationalities=frozenset({"GBR"}))
    with pytest.raises(DeclarationRefused):
        submit(svc, applicant)


def test_a_retry_of_an_accepted_create_is_answered_even_after_a_rule_changed(svc, applicant):
    first = submit(svc, applicant, key="retry")
    svc.settings.update(minimum_age=99)
    assert submit(svc, applicant, key="retry").application_id == first.application_id


# --- deciding at once: a failed check before the document ------------------------------------------------


def consolidations(svc, app_id):
    return [e for e in svc.repository.history(app_id) if e.actor == "system:consolidation"]


def submitted_in_japan_then_japan_dropped(svc, applicant):
    """Served at the create, no longer when the address is checked: the address check fails."""
    svc.settings.update(served_countries=frozenset({"GB", "JP"}))
    app = submit(svc, applicant, address=JAPAN)
    svc.settings.update(served_countries=frozenset({"GB"}))
    return app


def test_an_address_that_fails_before_the_document_rejects_at_once(svc, applicant):
    app = submitted_in_japan_then_japan_dropped(svc, applicant)
    svc.address_check.address_requested(address_message(app.application_id))
    decided = svc.repository.get(app.application_id)
    assert decided.state == State.REJECTED and decided.document_key is None
    assert {r["check"] for r in decided.decision_reasons} == {ADDRESS}
    assert len(consolidations(svc, app.application_id)) == 1
    assert svc.metrics.counts["ApplicationRejected"] == 1


def test_a_doubt_before_the_document_waits_for_it(svc, applicant):
    app = submit(svc, applicant, address={"country": "GB", "street_address": ["PO Box 123"], "city": "London",
                                          "postal_code": "SW1A 2AA"})
    svc.address_check.address_requested(address_message(app.application_id))
    screen(svc, app.application_id)
    assert svc.repository.get(app.application_id).state == State.AWAITING_DOCUMENTS
    svc.identity_check.document_uploaded(upload(svc, applicant, app.application_id))
    assert svc.repository.get(app.application_id).state == State.VERIFYING  # and for the face check
    with_face(svc, applicant, app.application_id)
    assert svc.repository.get(app.application_id).state == State.FLAGGED


def test_after_an_early_rejection_no_upload_is_granted_and_a_late_one_is_recorded_not_checked(svc, applicant):
    app = submitted_in_japan_then_japan_dropped(svc, applicant)
    key = upload(svc, applicant, app.application_id)  # a form handed out before the decision
    svc.address_check.address_requested(address_message(app.application_id))
    with pytest.raises(IllegalTransition):
        svc.uploads.request_upload(applicant, app.application_id, "image/jpeg")
    reads = list(svc.ocr.reads)
    for _ in range(2):  # delivered twice
        svc.identity_check.document_uploaded(key)
    after = svc.repository.get(app.application_id)
    assert after.state == State.REJECTED and IDENTITY not in after.checks and after.document_key is None
    assert event_types(svc, app.application_id).count("document.unexpected") == 1
    assert svc.ocr.reads == reads  # nothing was read
    screen(svc, app.application_id)  # the screening arriving after the decision changes nothing
    assert svc.repository.get(app.application_id) == after


def test_two_checks_failing_at_the_same_instant_before_the_document_decide_exactly_once(svc, applicant, clock):
    """Both read the same version (a barrier after the read): one commits the rejection, the other finds
    the application decided and is dropped."""
    repo = svc.repository
    real_get = repo.get
    local = threading.local()
    failing = {
        check: CheckResult(check, (Reason(f"{check.upper()}_BAD", Outcome.FAIL, "no"),)) for check in (ADDRESS, SANCTIONS)
    }
    svc.settings.update(max_applications_per_day=100)  # twenty applications by one applicant
    for trial in range(20):
        app = submit(svc, applicant)
        barrier = threading.Barrier(2)

        def get_then_meet(application_id, barrier=barrier):
            found = real_get(application_id)
            if not getattr(local, "met", False):
                local.met = True
                barrier.wait(timeout=REPLY_S)
            return found

        repo.get = get_then_meet

        def record(check, app_id=app.application_id):
            local.met = False
            return svc.check_recorder.record(app_id, failing[check])

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            changes = list(pool.map(record, [ADDRESS, SANCTIONS]))
        repo.get = real_get
        assert sum(change is not None for change in changes) == 1, trial
        assert len(consolidations(svc, app.application_id)) == 1, trial
        assert event_types(svc, app.application_id).count("check.completed") == 1
        assert repo.get(app.application_id).state == State.REJECTED
        clock.advance(seconds=1)


# --- the declared text fields: one rule, four settings (declaration._text) -------------------------------------

TEXT_FIELDS = {  # field: (required, most characters, a tab allowed)
    ("full_name", "surname"): (True, 200, False),
    ("full_name", "given_names"): (False, 200, False),
    ("address", "city"): (True, 200, True),
    ("address", "postal_code"): (False, 20, True),
}


def with_text(path: tuple[str, str], value: str) -> dict:
    declared = make_declared()
    declared[path[0]] = {**declared[path[0]], path[1]: value}
    return declared


@pytest.mark.parametrize("path", list(TEXT_FIELDS), ids=["-".join(p) for p in TEXT_FIELDS])
def test_each_declared_text_field_keeps_its_rule_and_its_refusals(path):
    from pydantic import ValidationError

    required, most, tab = TEXT_FIELDS[path]

    def refused(value: str) -> list[str]:
        try:
            ApplicationRequest.model_validate(with_text(path, value))
        except ValidationError as error:
            return [e["type"] for e in error.errors(include_url=False)]
        return []

    def kept(value: str) -> str:
        return getattr(getattr(ApplicationRequest.model_validate(with_text(path, value)), path[0]), path[1])

    assert kept("  Ab  ") == "Ab" and kept("x" * most) == "x" * most
    assert refused("x" * (most + 1)) == ["string_too_long"]
    assert refused("  ") == (["string_too_short"] if required else [])
    assert refused("a\tb") == ([] if tab else ["value_error"])
    assert refused("a\u200bb") == ["value_error"] and refused("a\x00b") == ["value_error"]
    schema = ApplicationRequest.model_json_schema()["$defs"]
    field = schema["FullName" if path[0] == "full_name" else "Address"]["properties"][path[1]]
    field = field.get("anyOf", [field])[0]
    assert (field["maxLength"], field.get("minLength")) == (most, 1 if required else None) and "pattern" in field
