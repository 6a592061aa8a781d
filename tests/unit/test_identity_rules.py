"""The identity check: file type and size, expiry, age, and the MRZ (ICAO 9303)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mrz.base.functions import hash_string

from chalicelib.domain.checks import CheckResult, Outcome
from chalicelib.domain.declaration import ApplicationRequest, mrz_name
from chalicelib.domain.identity import (
    APPLICANT_UNDERAGE,
    CONTENT_TYPE_MISMATCH,
    DOCUMENT_EXPIRED,
    FILE_TOO_LARGE,
    FILE_TOO_SMALL,
    FILE_TYPE_NOT_ALLOWED,
    HEAD_BYTES,
    MRZ_BIRTH_CENTURY_AMBIGUOUS,
    MRZ_CHECK_DIGIT,
    MRZ_FORMAT,
    MRZ_MISMATCH_BIRTH_DATE,
    MRZ_MISMATCH_DOCUMENT_NUMBER,
    MRZ_MISMATCH_EXPIRY_DATE,
    MRZ_MISMATCH_ISSUING_COUNTRY,
    MRZ_MISMATCH_NATIONALITY,
    MRZ_NAME_MISMATCH,
    DocumentSample,
    age_on,
    check_identity,
    mrz_birth_date,
    mrz_expiry_date,
)
from chalicelib.domain.policy import Policy
from tests.support.documents import (
    exe_bytes,
    fit_name,
    jpeg_bytes,
    make_declared,
    pdf_bytes,
    png_bytes,
)

POLICY = Policy()
TODAY = dt.date.today()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TD3_SPECIMEN = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1_SPECIMEN = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
# (line, column) of every check digit.
TD3_CHECK_DIGITS = [(1, 9), (1, 19), (1, 27), (1, 42), (1, 43)]
TD1_CHECK_DIGITS = [(0, 14), (1, 6), (1, 14), (1, 29)]


def declared(body: dict[str, Any] | None = None, **kwargs: Any) -> ApplicationRequest:
    return ApplicationRequest.model_validate(body if body is not None else make_declared(**kwargs))


def sample(
    data: bytes | None = None, content_type: str | None = "image/jpeg", size: int | None = None
) -> DocumentSample:
    data = jpeg_bytes() if data is None else data
    return DocumentSample(
        key="documents/app-1/passport",
        size=len(data) if size is None else size,
        head=data[:HEAD_BYTES],
        content_type=content_type,
    )


def run(
    request: ApplicationRequest | None = None,
    document: DocumentSample | None = None,
    today: dt.date = TODAY,
    policy: Policy = POLICY,
) -> CheckResult:
    return check_identity(request or declared(), document or sample(), policy, today)


def codes(result) -> set[str]:
    return {reason.code for reason in result.reasons}


def with_char(lines: list[str], line: int, column: int, char: str) -> list[str]:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return changed


def specimen_declaration(kind: str) -> dict[str, Any]:
    """The ICAO 9303 specimen holder, Anna Maria Eriksson of Utopia."""
    return make_declared(
        full_name={"given_names": "Anna Maria", "surname": "Eriksson"},
        date_of_birth="1974-08-12",
        nationality="UTO",
        doc_overrides={
            "type": kind,
            "number": "L898902C3" if kind == "passport" else "D23145890",
            "issuing_country": "UTO",
            "expiry_date": "2012-04-15",
            "mrz": TD3_SPECIMEN if kind == "passport" else TD1_SPECIMEN,
        },
    )


# --- the happy path -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["passport", "id_card"])
@pytest.mark.parametrize(
    "data, content_type",
    [(jpeg_bytes(), "image/jpeg"), (png_bytes(), "image/png"), (pdf_bytes(), "application/pdf")],
    ids=["jpeg", "png", "pdf"],
)
def test_a_matching_document_passes(kind, data, content_type):
    result = run(declared(doc_overrides={"type": kind}), sample(data, content_type))

    assert result.reasons == ()
    assert result.outcome is Outcome.PASS
    assert result.check == "identity"


def test_details_carry_the_parsed_mrz_and_are_json_serialisable():
    result = run()

    details = json.loads(json.dumps(result.to_dict()))["details"]
    assert details["mime_type"] == "image/jpeg"
    assert details["mrz"] == {
        "format": "TD3",
        "document_type": "P",
        "issuing_country": "GBR",
        "document_number": "533401372",
        "surname": "CARTER",
        "given_names": "EMILY JANE",
        "nationality": "GBR",
        "birth_date": "1990-05-17",
        "expiry_date": make_declared()["identity_document"]["expiry_date"],
        "sex": "F",
    }


# --- the ICAO 9303 specimens --------------------------------------------------


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_icao_specimen_passes_before_its_expiry(kind):
    result = run(declared(specimen_declaration(kind)), today=dt.date(2010, 1, 1))

    assert result.reasons == ()
    mrz = result.details["mrz"]
    assert (mrz["surname"], mrz["given_names"]) == ("ERIKSSON", "ANNA MARIA")
    assert (mrz["birth_date"], mrz["expiry_date"]) == ("1974-08-12", "2012-04-15")
    assert mrz["nationality"] == mrz["issuing_country"] == "UTO"


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_icao_specimen_is_expired_today(kind):
    result = run(declared(specimen_declaration(kind)))

    assert codes(result) == {DOCUMENT_EXPIRED}
    assert result.outcome is Outcome.FAIL


def test_icao_specimen_valid_on_its_expiry_day_and_not_the_day_after():
    request = declared(specimen_declaration("passport"))

    assert run(request, today=dt.date(2012, 4, 15)).reasons == ()
    assert codes(run(request, today=dt.date(2012, 4, 16))) == {DOCUMENT_EXPIRED}


# --- file type and size -------------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/pdf", None])
def test_an_executable_is_refused_whatever_it_claims_to_be(content_type):
    result = run(document=DocumentSample("documents/app-1/passport.jpg", 4096, exe_bytes(), content_type))

    assert codes(result) == {FILE_TYPE_NOT_ALLOWED}
    assert result.outcome is Outcome.FAIL
    assert result.details["mime_type"] == "application/x-msdownload"


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a" + bytes(4000), b"PK\x03\x04" + bytes(4000), b"just some text " * 300],
    ids=["empty", "gif", "zip", "text"],
)
def test_other_file_types_are_refused(data):
    result = run(document=sample(data, content_type="image/jpeg", size=4096))

    assert FILE_TYPE_NOT_ALLOWED in codes(result)
    assert result.outcome is Outcome.FAIL


def test_an_allowed_file_with_the_wrong_label_goes_to_review():
    result = run(document=sample(png_bytes(), content_type="image/jpeg"))

    assert codes(result) == {CONTENT_TYPE_MISMATCH}
    assert result.outcome is Outcome.REVIEW


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "binary/octet-stream",
        "application/octet-stream",
        "image/jpg",
        "IMAGE/JPEG",
        "image/jpeg; q=1",
    ],
)
def test_absent_generic_or_aliased_content_types_are_not_a_mismatch(content_type):
    assert run(document=sample(content_type=content_type)).reasons == ()


@pytest.mark.parametrize(
    "size, expected",
    [
        (POLICY.document_min_bytes - 1, {FILE_TOO_SMALL}),
        (POLICY.document_min_bytes, set()),
        (POLICY.document_max_bytes, set()),
        (POLICY.document_max_bytes + 1, {FILE_TOO_LARGE}),
    ],
)
def test_size_bounds_are_inclusive(size, expected):
    assert codes(run(document=sample(size=size))) == expected


def test_size_bounds_come_from_the_policy():
    policy = Policy(document_min_bytes=10, document_max_bytes=100)

    assert codes(run(document=sample(size=101), policy=policy)) == {FILE_TOO_LARGE}
    assert codes(run(document=sample(size=9), policy=policy)) == {FILE_TOO_SMALL}


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
    request = declared(date_of_birth=born, doc_overrides={"expiry_date": expiry})

    assert (APPLICANT_UNDERAGE in codes(run(request, today=today_date))) is underage


def test_leap_day_birthday_in_a_leap_year():
    assert age_on(dt.date(2004, 2, 29), dt.date(2032, 2, 28)) == 27
    assert age_on(dt.date(2004, 2, 29), dt.date(2032, 2, 29)) == 28


def test_minimum_age_comes_from_the_policy():
    request = declared(date_of_birth="2000-01-01")

    policy = Policy(minimum_age=21)

    assert APPLICANT_UNDERAGE in codes(run(request, today=dt.date(2020, 6, 1), policy=policy))
    assert APPLICANT_UNDERAGE not in codes(run(request, today=dt.date(2021, 1, 1), policy=policy))


# --- MRZ format and check digits -------------------------------------------------


def test_a_passport_needs_a_td3_mrz():
    td1 = make_declared(doc_overrides={"type": "id_card"})["identity_document"]["mrz"]

    result = run(declared(doc_overrides={"mrz": td1}))

    assert codes(result) == {MRZ_FORMAT}
    assert result.details["mrz"] is None


def test_an_id_card_needs_a_td1_mrz():
    result = run(declared(doc_overrides={"type": "id_card", "mrz": TD3_SPECIMEN}))

    assert codes(result) == {MRZ_FORMAT}


def test_an_mrz_the_library_cannot_read_is_a_format_error():
    result = run(declared(doc_overrides={"mrz": ["<" * 44, "0" * 44]}))

    assert codes(result) == {MRZ_FORMAT}
    assert result.details["mrz"] is None


def test_a_passport_mrz_must_say_passport():
    result = run(declared(mrz_overrides={"document_type": "V"}))

    assert MRZ_FORMAT in codes(result)


def test_an_impossible_mrz_date_is_a_format_error_even_with_valid_check_digits():
    lines = make_declared()["identity_document"]["mrz"]
    line = lines[1][:13] + "901317" + hash_string("901317") + lines[1][20:43]
    lines = [lines[0], line + hash_string(line[0:10] + line[13:20] + line[21:43])]

    result = run(declared(doc_overrides={"mrz": lines}))

    assert MRZ_FORMAT in codes(result)
    assert MRZ_CHECK_DIGIT not in codes(result)


@pytest.mark.parametrize("kind, positions", [("passport", TD3_CHECK_DIGITS), ("id_card", TD1_CHECK_DIGITS)])
def test_every_check_digit_of_the_specimens_is_verified(kind, positions):
    body = specimen_declaration(kind)
    for line, column in positions:
        lines = body["identity_document"]["mrz"]
        wrong = str((int(lines[line][column]) + 1) % 10)
        document = {**body["identity_document"], "mrz": with_char(lines, line, column, wrong)}
        bad = {**body, "identity_document": document}

        result = run(declared(bad), today=dt.date(2010, 1, 1))

        assert MRZ_CHECK_DIGIT in codes(result), (line, column)
        assert result.outcome is Outcome.FAIL


def test_empty_optional_data_may_have_a_filler_check_digit():
    """ICAO 9303 allows '<' as the check digit of an empty optional-data field."""
    lines = make_declared()["identity_document"]["mrz"]
    assert lines[1][28:43] == "<" * 14 + "0"
    lines = with_char(lines, 1, 42, "<")

    assert run(declared(doc_overrides={"mrz": lines})).reasons == ()


# --- agreement between MRZ and declaration ---------------------------------------


@pytest.mark.parametrize(
    "mrz_overrides, code",
    [
        ({"document_number": "533401373"}, MRZ_MISMATCH_DOCUMENT_NUMBER),
        ({"birth_date": dt.date(1990, 5, 18)}, MRZ_MISMATCH_BIRTH_DATE),
        ({"expiry_date": TODAY + dt.timedelta(days=400)}, MRZ_MISMATCH_EXPIRY_DATE),
        ({"nationality": "IRL"}, MRZ_MISMATCH_NATIONALITY),
        ({"country_code": "IRL"}, MRZ_MISMATCH_ISSUING_COUNTRY),
    ],
)
@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_each_mrz_field_must_agree_with_the_declaration(kind, mrz_overrides, code):
    result = run(declared(doc_overrides={"type": kind}, mrz_overrides=mrz_overrides))

    assert codes(result) == {code}
    assert result.outcome is Outcome.FAIL


def test_a_different_name_goes_to_review():
    result = run(declared(mrz_overrides={"given_names": "EMMA<JANE"}))

    assert codes(result) == {MRZ_NAME_MISMATCH}
    assert result.outcome is Outcome.REVIEW


def test_a_dropped_middle_name_is_a_difference_not_a_truncation():
    result = run(declared(mrz_overrides={"given_names": "EMILY"}))

    assert codes(result) == {MRZ_NAME_MISMATCH}


def test_accents_and_punctuation_are_normalised_as_an_mrz_prints_them():
    body = make_declared(
        full_name={"given_names": "Zoë Anne-Marie", "surname": "O'Brien Müller"},
        mrz_overrides={"given_names": "ZOE<ANNE<MARIE", "surname": "O<BRIEN<MULLER"},
    )

    assert run(declared(body)).reasons == ()


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_long_name_truncated_to_fill_the_mrz_field_passes(kind):
    body = make_declared(
        full_name={"given_names": "Bartholomew Maximilian", "surname": "Featherstonehaugh"},
        doc_overrides={"type": kind},
    )
    name_line = body["identity_document"]["mrz"][0 if kind == "passport" else 2]
    assert not name_line.endswith("<")  # really truncated

    assert run(declared(body)).reasons == ()


def test_countries_missing_from_the_mrz_library_list_are_accepted():
    """The library's list lacks e.g. XXC (refugee, other); ICAO codes must not be refused."""
    body = make_declared(nationality="XXC")

    assert run(declared(body)).reasons == ()


@pytest.mark.parametrize("declared_code", ["D", "D<<"])
def test_germany_is_d_with_or_without_filler(declared_code):
    body = make_declared(nationality=declared_code, doc_overrides={"issuing_country": declared_code})
    assert body["identity_document"]["mrz"][0].startswith("P<D<<")

    assert run(declared(body)).reasons == ()


@pytest.mark.parametrize("sex", ["M", "F", "X", "<"])
def test_every_icao_sex_marker_is_accepted(sex):
    """The sex is outside every check digit; the library wrongly refuses 'X'."""
    lines = with_char(make_declared()["identity_document"]["mrz"], 1, 20, sex)

    assert run(declared(doc_overrides={"mrz": lines})).reasons == ()


def test_a_centenarian_birth_date_goes_to_review():
    """The MRZ holds YYMMDD only: 1920 and 2020 read the same."""
    request = declared(date_of_birth=dt.date(TODAY.year - 105, 1, 1))

    result = run(request)

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


# --- properties -------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéüåñçøÉÖ"
_words = st.lists(st.text(_LETTERS, min_size=1, max_size=12), min_size=1, max_size=3).map(" ".join)
_codes = st.sampled_from(["GBR", "UTO", "D", "D<<", "FRA", "IRL", "XXA", "XXC", "NLD"])


def _years_before(date: dt.date, years: int) -> dt.date:
    try:
        return date.replace(year=date.year - years)
    except ValueError:  # 29 February
        return date.replace(year=date.year - years, day=28)


@st.composite
def valid_declarations(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(["passport", "id_card"]))
    given_names, surname = draw(_words), draw(_words)
    full = f"{mrz_name(surname)}<<{mrz_name(given_names)}"
    width = 39 if kind == "passport" else 30
    # A cut landing on a filler is not how ICAO truncates (see fit_name).
    assume(len(full) <= width or full[width - 1] != "<")
    return make_declared(
        full_name={"given_names": given_names, "surname": surname},
        date_of_birth=draw(st.dates(_years_before(TODAY, 99), _years_before(TODAY, 18))),
        nationality=draw(_codes),
        doc_overrides={
            "type": kind,
            "number": draw(st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True)),
            "issuing_country": draw(_codes),
            "expiry_date": draw(st.dates(TODAY, TODAY + dt.timedelta(days=3650))),
        },
    )


@PROPERTY
@given(body=valid_declarations())
def test_property_a_generated_mrz_that_agrees_passes(body):
    assert run(declared(body)).reasons == ()


@PROPERTY
@given(body=valid_declarations(), data=st.data())
def test_property_flipping_any_check_digit_fails(body, data):
    lines = body["identity_document"]["mrz"]
    positions = TD3_CHECK_DIGITS if len(lines) == 2 else TD1_CHECK_DIGITS
    line, column = data.draw(st.sampled_from(positions))
    original = lines[line][column]
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != original]))
    body["identity_document"]["mrz"] = with_char(lines, line, column, wrong)

    result = run(declared(body))

    assert MRZ_CHECK_DIGIT in codes(result)
    assert result.outcome is Outcome.FAIL


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"%PDF", b"\xef\xbb\xbf%PDF")


@PROPERTY
@given(
    data=st.binary(max_size=64),
    content_type=st.sampled_from(["image/jpeg", "image/png", "application/pdf", None]),
)
def test_property_bytes_that_are_not_jpeg_png_or_pdf_always_fail(data, content_type):
    assume(not data.startswith(_SIGNATURES))

    result = run(document=sample(data, content_type, size=4096))

    assert FILE_TYPE_NOT_ALLOWED in codes(result)
    assert result.outcome is Outcome.FAIL


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
    request = declared(date_of_birth=born, doc_overrides={"expiry_date": today + dt.timedelta(days=365)})

    result = run(request, today=today, policy=Policy(minimum_age=minimum_age))

    underage = today < _reference_birthday(born, minimum_age)
    assert (APPLICANT_UNDERAGE in codes(result)) is underage
    assert (age_on(born, today) >= minimum_age) is not underage


def test_fit_name_cuts_to_the_field_width():
    assert fit_name("SMITH", "JOHN", 12) == "SMITH<<JOHN<"
    assert fit_name("SMITH", "JOHNATHAN<PAUL", 12) == "SMITH<<JOHNA"
    assert fit_name("SMITH", "JOHN<PAUL", 12) == "SMITH<<JOHN<"  # a cut on a filler leaves padding
    assert fit_name("FEATHERSTONEHAUGH", "", 12) == "FEATHERSTONE"
