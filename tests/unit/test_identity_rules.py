"""The identity check on what OCR read: the happy path, the ICAO 9303 specimens, a zone unread or untrusted,
expiry and age. The file's own rules: test_identity_file.py; what was read against what was declared:
test_identity_agreement.py."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.checks import Outcome
from chalicelib.domain.identity import (
    APPLICANT_UNDERAGE,
    DOCUMENT_EXPIRED,
    DOCUMENT_REJECTED_BY_OCR,
    DOCUMENT_UNREADABLE,
    MRZ_BIRTH_CENTURY_AMBIGUOUS,
    MRZ_CHECK_DIGIT,
    OcrRefusal,
    PageText,
    age_on,
    mrz_birth_date,
    mrz_expiry_date,
)
from chalicelib.domain.policy import Policy
from tests.support.documents import (
    exe_bytes,
    jpeg_bytes,
    make_declared,
    pdf_bytes,
    png_bytes,
)
from tests.support.identity_cases import (
    PROPERTY,
    TODAY,
    Case,
    codes,
    declared,
    run,
    sample,
    specimen,
)

# --- the happy path -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["passport", "id_card"])
@pytest.mark.parametrize(
    "data, content_type",
    [(jpeg_bytes(), "image/jpeg"), (png_bytes(), "image/png"), (pdf_bytes(), "application/pdf")],
    ids=["jpeg", "png", "pdf"],
)
def test_a_document_whose_zone_agrees_passes(kind, data, content_type):
    result = run(declared(doc_overrides={"type": kind}), sample(data, content_type))

    assert result.reasons == ()
    assert result.outcome is Outcome.PASS
    assert result.check == "identity"


def test_details_keep_what_was_read_and_are_json_serialisable():
    case = declared()
    result = run(case)

    details = json.loads(json.dumps(result.to_dict()))["details"]
    assert details["mime_type"] == "image/jpeg"
    assert details["ocr"]["lines"] == case.lines
    mrz = details["mrz"]
    assert (mrz["layout"], mrz["document_code"], mrz["issuing_state"]) == ("TD3", "P", "GBR")
    assert (mrz["document_number"], mrz["surname"], mrz["given_names"]) == ("533401372", "CARTER", "EMILY JANE")
    assert (mrz["birth_date"], mrz["birth_date_yymmdd"]) == ("1990-05-17", "900517")
    assert mrz["expiry_date"] == make_declared()["identity_document"]["expiry_date"]
    assert mrz["valid"] is True and mrz["repairs"] == []
    assert mrz["field_confidence"]["document_number"] == pytest.approx(0.99)


def test_the_zone_is_found_among_everything_else_on_the_page_and_repaired():
    case = declared()
    noisy = ["PASSPORT", "UNITED KINGDOM", case.lines[0].replace("<<<<", "KKKK"), case.lines[1].replace("0", "O"),
             "SPECIMEN"]

    result = run(Case(case.request, noisy))

    assert result.reasons == ()
    assert result.details["mrz"]["repairs"]  # what was repaired is kept for the reviewer


# --- the ICAO 9303 specimens --------------------------------------------------


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_icao_specimen_passes_before_its_expiry(kind):
    result = run(specimen(kind), today=dt.date(2010, 1, 1))

    assert result.reasons == ()
    mrz = result.details["mrz"]
    assert (mrz["surname"], mrz["given_names"]) == ("ERIKSSON", "ANNA MARIA")
    assert (mrz["birth_date"], mrz["expiry_date"]) == ("1974-08-12", "2012-04-15")
    assert mrz["nationality"] == mrz["issuing_country"] == "UTO"


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_icao_specimen_is_expired_today(kind):
    result = run(specimen(kind))

    assert codes(result) == {DOCUMENT_EXPIRED}
    assert result.outcome is Outcome.FAIL


def test_icao_specimen_valid_on_its_expiry_day_and_not_the_day_after():
    case = specimen("passport")

    assert run(case, today=dt.date(2012, 4, 15)).reasons == ()
    assert codes(run(case, today=dt.date(2012, 4, 16))) == {DOCUMENT_EXPIRED}


# --- what OCR read ----------------------------------------------------------------------


def test_a_page_without_a_zone_goes_to_a_person_with_what_was_read():
    result = run(Case(declared().request, ["PASSPORT", "SPECIMEN", "no machine readable zone here"]))

    assert codes(result) == {DOCUMENT_UNREADABLE}
    assert result.outcome is Outcome.REVIEW
    assert result.details["ocr"]["lines"][0] == "PASSPORT" and result.details["mrz"] is None


def test_a_zone_whose_check_digits_cannot_be_satisfied_is_not_trusted():
    case = declared()
    broken = [case.lines[0], case.lines[1][:13] + "99X9Z99" + case.lines[1][20:]]

    result = run(Case(case.request, broken))

    assert MRZ_CHECK_DIGIT in codes(result)
    assert result.outcome is Outcome.REVIEW  # nothing read from it is trusted: not approved, not rejected
    assert "birth_date" in result.details["mrz"]["failed_checks"]


def test_a_check_digit_altered_on_the_page_is_flagged_naming_the_field_never_a_look_alike():
    """Issue 19: the printed number equals the declared one and only its check digit was altered. The repair
    once changed a letter of the number and rewrote the composite, and told the reviewer the number 'differs
    only by look-alike characters'."""
    case = declared(doc_overrides={"number": "L898902C3"})
    line = case.lines[1]
    altered = [case.lines[0], line[:9] + str((int(line[9]) + 5) % 10) + line[10:]]

    result = run(Case(case.request, altered))

    assert codes(result) == {MRZ_CHECK_DIGIT}
    assert result.outcome is Outcome.REVIEW
    messages = " ".join(reason.message for reason in result.reasons)
    assert "document number check digit" in messages and "look-alike" not in messages
    assert result.details["mrz"]["document_number"] == "L898902C3" and result.details["mrz"]["valid"] is False
    assert result.details["mrz"]["repairs"] == []


def test_a_zone_none_of_whose_check_digits_agrees_is_unreadable():
    case = declared()
    line = case.lines[1]
    digits = {9, 19, 27, 42, 43}
    broken = "".join(str((int(c) + 3) % 10) if i in digits and c.isdigit() else c for i, c in enumerate(line))
    broken = broken[:42] + "7" + broken[43:]  # the optional data's '<' check digit too

    result = run(Case(case.request, [case.lines[0], broken]))

    assert codes(result) == {DOCUMENT_UNREADABLE}
    assert result.details["ocr"]["lines"] == [case.lines[0], broken]  # what was read, for the reviewer


def test_a_zone_read_with_low_confidence_goes_to_a_person():
    case = declared()
    page = PageText(tuple(case.lines), (99.0, 30.0))

    result = run(case, page=page)

    assert codes(result) == {DOCUMENT_UNREADABLE}
    assert result.outcome is Outcome.REVIEW


def test_the_confidence_threshold_comes_from_the_policy():
    case = declared()
    page = PageText(tuple(case.lines), (80.0, 80.0))

    assert codes(run(case, page=page, policy=Policy(ocr_min_confidence=90))) == {DOCUMENT_UNREADABLE}
    assert run(case, page=page, policy=Policy(ocr_min_confidence=70)).reasons == ()


@pytest.mark.parametrize("code", ["UnsupportedDocumentException", "BadDocumentException", "DocumentTooLargeException"])
def test_a_page_the_ocr_service_refuses_goes_to_a_person_with_the_reason(code):
    result = run(page=OcrRefusal(code, "refused"))

    assert codes(result) == {DOCUMENT_REJECTED_BY_OCR}
    assert result.outcome is Outcome.REVIEW
    assert code in result.reasons[0].message and result.details["ocr"]["error"] == code


def test_not_read_at_all_is_not_a_pass():
    """The service only skips OCR for a file that already failed; a check without a reading never passes."""
    result = run(document=sample(exe_bytes()), page=None)

    assert result.outcome is Outcome.FAIL


# --- expiry and age -------------------------------------------------------------


def test_an_expired_document_fails():
    yesterday = TODAY - dt.timedelta(days=1)

    result = run(declared(doc_overrides={"expiry_date": yesterday}))

    assert codes(result) == {DOCUMENT_EXPIRED}


def test_a_document_expiring_today_is_still_valid():
    assert run(declared(doc_overrides={"expiry_date": TODAY})).reasons == ()


@pytest.mark.parametrize(
    "born, today, underage",
    [
        ("2004-06-01", "2022-05-31", True),
        ("2004-06-01", "2022-06-01", False),
        # 29 February: of age on 1 March in a common year, on 29 February in a leap year.
        ("2004-02-29", "2022-02-28", True),
        ("2004-02-29", "2022-03-01", False),
        ("2008-02-29", "2026-02-28", True),
        ("2008-02-29", "2026-03-01", False),
    ],
)
def test_minimum_age(born, today, underage):
    today_date = dt.date.fromisoformat(today)
    expiry = today_date + dt.timedelta(days=1000)
    case = declared(date_of_birth=born, doc_overrides={"expiry_date": expiry})

    assert (APPLICANT_UNDERAGE in codes(run(case, today=today_date))) is underage


def test_leap_day_birthday_in_a_leap_year():
    assert age_on(dt.date(2004, 2, 29), dt.date(2032, 2, 28)) == 27
    assert age_on(dt.date(2004, 2, 29), dt.date(2032, 2, 29)) == 28


def test_minimum_age_comes_from_the_policy():
    case = declared(date_of_birth="2000-01-01")

    policy = Policy(minimum_age=21)

    assert APPLICANT_UNDERAGE in codes(run(case, today=dt.date(2020, 6, 1), policy=policy))
    assert APPLICANT_UNDERAGE not in codes(run(case, today=dt.date(2021, 1, 1), policy=policy))


# --- the dates an MRZ holds ----------------------------------------------------------


def test_a_centenarian_birth_date_goes_to_review():
    """The MRZ holds YYMMDD only: 1920 and 2020 read the same."""
    result = run(declared(date_of_birth=dt.date(TODAY.year - 105, 1, 1)))

    assert codes(result) == {MRZ_BIRTH_CENTURY_AMBIGUOUS}
    assert result.outcome is Outcome.REVIEW


@pytest.mark.parametrize(
    "yymmdd, today, expected",
    [
        ("740812", "2025-01-01", "1974-08-12"),
        ("240101", "2025-01-01", "2024-01-01"),
        ("250101", "2025-01-01", "2025-01-01"),
        ("250102", "2025-01-01", "1925-01-02"),
        ("000229", "2025-01-01", "2000-02-29"),
        ("991231", "2001-01-01", "1999-12-31"),
        ("901317", "2025-01-01", None),
    ],
)
def test_mrz_birth_dates_resolve_into_the_past(yymmdd, today, expected):
    result = mrz_birth_date(yymmdd, dt.date.fromisoformat(today))
    assert (result.isoformat() if result else None) == expected


@pytest.mark.parametrize(
    "yymmdd, today, expected",
    [
        ("120415", "2010-01-01", "2012-04-15"),
        ("120415", "2025-01-01", "2012-04-15"),
        ("350101", "2025-01-01", "2035-01-01"),
        ("740101", "2025-01-01", "2074-01-01"),
        ("750101", "2025-01-01", "1975-01-01"),
        ("050101", "2095-06-01", "2105-01-01"),
    ],
)
def test_mrz_expiry_dates_resolve_within_fifty_years_of_today(yymmdd, today, expected):
    assert mrz_expiry_date(yymmdd, dt.date.fromisoformat(today)).isoformat() == expected


def _reference_birthday(born: dt.date, age: int) -> dt.date:
    """The day someone completes ``age`` years: 29 February falls to 1 March in common years."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return dt.date(born.year + age, 3, 1)


@PROPERTY
@given(
    born=st.one_of(
        st.dates(dt.date(1950, 1, 1), dt.date(2020, 12, 31)),
        st.sampled_from([dt.date(2000, 2, 29), dt.date(2004, 2, 29)]),
    ),
    offset_days=st.integers(-800, 800),
    minimum_age=st.integers(16, 21),
)
def test_property_age_rule_matches_a_reference(born, offset_days, minimum_age):
    today = _reference_birthday(born, minimum_age) + dt.timedelta(days=offset_days)
    case = declared(date_of_birth=born, doc_overrides={"expiry_date": today + dt.timedelta(days=365)})

    result = run(case, today=today, policy=Policy(minimum_age=minimum_age))

    underage = today < _reference_birthday(born, minimum_age)
    assert (APPLICANT_UNDERAGE in codes(result)) is underage
    assert (age_on(born, today) >= minimum_age) is not underage
