"""The identity check: the file, what OCR read on the page (ICAO 9303 MRZ), expiry and age."""
from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain import mrz
from chalicelib.domain.checks import CheckResult, Outcome
from chalicelib.domain.declaration import ApplicationRequest
from chalicelib.domain.identity import (
    APPLICANT_UNDERAGE,
    DOCUMENT_EXPIRED,
    DOCUMENT_REJECTED_BY_OCR,
    DOCUMENT_UNREADABLE,
    MRZ_BIRTH_CENTURY_AMBIGUOUS,
    MRZ_CHECK_DIGIT,
    MRZ_MISMATCH_BIRTH_DATE,
    MRZ_MISMATCH_DOCUMENT_NUMBER,
    MRZ_MISMATCH_DOCUMENT_TYPE,
    MRZ_MISMATCH_EXPIRY_DATE,
    MRZ_MISMATCH_ISSUING_COUNTRY,
    MRZ_MISMATCH_NAME,
    MRZ_MISMATCH_NATIONALITY,
    NATIONALITY_NOT_SERVED,
    OcrRefusal,
    PageText,
    age_on,
    check_identity,
    mrz_birth_date,
    mrz_expiry_date,
    worth_reading,
)
from chalicelib.domain.document_file import (
    CONTENT_TYPE_MISMATCH,
    FILE_CORRUPT,
    FILE_TOO_LARGE,
    FILE_TOO_SMALL,
    FILE_TYPE_NOT_ALLOWED,
    HEAD_BYTES,
    IMAGE_TOO_LARGE,
    TAIL_BYTES,
    DocumentSample,
    check_file,
)
from chalicelib.domain.policy import Policy
from tests.support.documents import (
    exe_bytes,
    fit_name,
    jpeg_bytes,
    make_declared,
    mrz_lines,
    mrz_name,
    passport_bytes,
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


@dataclass
class Case:
    """A declaration, and the lines OCR reads on the uploaded page."""

    request: ApplicationRequest
    lines: list[str]


def declared(body: dict[str, Any] | None = None, *, mrz: list[str] | None = None, mrz_overrides=None, **kwargs) -> Case:
    """By default the page carries the zone of the declared document itself."""
    body = body if body is not None else make_declared(**kwargs)
    lines = mrz if mrz is not None else mrz_lines(body, **dict(mrz_overrides or {}))
    return Case(ApplicationRequest.model_validate(body), lines)


def sample(
    data: bytes | None = None, content_type: str | None = "image/jpeg", size: int | None = None
) -> DocumentSample:
    data = jpeg_bytes() if data is None else data
    return DocumentSample(
        key="documents/app-1/passport",
        size=len(data) if size is None else size,
        head=data[:HEAD_BYTES],
        content_type=content_type,
        tail=data[-TAIL_BYTES:],
    )


def run(
    case: Case | None = None,
    document: DocumentSample | None = None,
    today: dt.date = TODAY,
    policy: Policy = POLICY,
    page: Any = "read",
) -> CheckResult:
    case = case or declared()
    if page == "read":
        page = PageText(tuple(case.lines), tuple(99.0 for _ in case.lines))
    return check_identity(case.request, document or sample(), policy, today, page)


def codes(result) -> set[str]:
    return {reason.code for reason in result.reasons}


def with_char(lines: list[str], line: int, column: int, char: str) -> list[str]:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return changed


def specimen(kind: str) -> Case:
    """The ICAO 9303 specimen holder, Anna Maria Eriksson of Utopia, and her document's zone."""
    body = make_declared(
        full_name={"given_names": "Anna Maria", "surname": "Eriksson"},
        date_of_birth="1974-08-12",
        nationality="UTO",
        doc_overrides={
            "type": kind,
            "number": "L898902C3" if kind == "passport" else "D23145890",
            "issuing_country": "UTO",
            "expiry_date": "2012-04-15",
        },
    )
    return declared(body, mrz=TD3_SPECIMEN if kind == "passport" else TD1_SPECIMEN)


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


# --- file type, size and structure ------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/pdf", None])
def test_an_executable_is_refused_whatever_it_claims_to_be(content_type):
    result = run(document=DocumentSample("documents/app-1/passport.jpg", 4096, exe_bytes(), content_type), page=None)

    assert codes(result) == {FILE_TYPE_NOT_ALLOWED}
    assert result.outcome is Outcome.FAIL
    assert result.details["mime_type"] == "application/x-msdownload"


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a" + bytes(4000), b"PK\x03\x04" + bytes(4000), b"just some text " * 300],
    ids=["empty", "gif", "zip", "text"],
)
def test_other_file_types_are_refused(data):
    result = run(document=sample(data, content_type="image/jpeg", size=4096), page=None)

    assert FILE_TYPE_NOT_ALLOWED in codes(result)
    assert result.outcome is Outcome.FAIL


def test_an_allowed_file_with_the_wrong_label_goes_to_review():
    result = run(document=sample(png_bytes(), content_type="image/jpeg"))

    assert codes(result) == {CONTENT_TYPE_MISMATCH}
    assert result.outcome is Outcome.REVIEW


@pytest.mark.parametrize(
    "content_type",
    [None, "", "binary/octet-stream", "application/octet-stream", "image/jpg", "IMAGE/JPEG", "image/jpeg; q=1"],
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


def _png_header(width: int, height: int) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


def test_a_decompression_bomb_is_refused_from_its_header_alone():
    """65535 x 65535 pixels declared in 33 bytes, the stream truncated: nothing is decoded."""
    data = _png_header(65535, 65535) + bytes(4000)

    result = run(document=sample(data, "image/png"), page=None)

    assert IMAGE_TOO_LARGE in codes(result)
    assert result.outcome is Outcome.FAIL


def test_the_pixel_limit_comes_from_the_policy():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 200, 200)).save(buffer, "PNG")

    assert IMAGE_TOO_LARGE in codes(run(document=sample(buffer.getvalue(), "image/png", size=2048),
                                        policy=Policy(document_max_pixels=100_000)))
    assert IMAGE_TOO_LARGE not in codes(run(document=sample(buffer.getvalue(), "image/png", size=2048),
                                            policy=Policy(document_max_pixels=120_000)))


@pytest.mark.parametrize(
    "data, content_type",
    [
        (jpeg_bytes(8000)[:-500], "image/jpeg"),
        (png_bytes(8000)[:-500], "image/png"),
        (pdf_bytes(8000)[:-200], "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"then just text, no image at all " * 100, "image/jpeg"),
    ],
    ids=["jpeg", "png", "pdf", "jpeg-magic-then-text"],
)
def test_a_truncated_or_fake_stream_is_refused_before_ocr(data, content_type):
    result = run(document=sample(data, content_type), page=None)

    assert FILE_CORRUPT in codes(result)
    assert result.outcome is Outcome.FAIL


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


# --- agreement between what was read and what was declared ---------------------------


def test_a_passport_declared_but_an_identity_card_read_fails():
    card = mrz_lines(make_declared(doc_overrides={"type": "id_card"}))

    result = run(declared(mrz=card))

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_TYPE}
    assert result.outcome is Outcome.FAIL


@pytest.mark.parametrize(
    "mrz_overrides, code",
    [
        ({"document_number": "533401373"}, MRZ_MISMATCH_DOCUMENT_NUMBER),
        ({"birth_date": dt.date(1990, 5, 18)}, MRZ_MISMATCH_BIRTH_DATE),
        ({"expiry_date": TODAY + dt.timedelta(days=400)}, MRZ_MISMATCH_EXPIRY_DATE),
    ],
)
@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_each_field_its_check_digits_protect_must_agree_with_the_declaration(kind, mrz_overrides, code):
    result = run(declared(doc_overrides={"type": kind}, mrz_overrides=mrz_overrides))

    assert codes(result) == {code}
    assert result.outcome is Outcome.FAIL


@pytest.mark.parametrize(
    "mrz_overrides, code, read",
    [
        ({"nationality": "IRL"}, MRZ_MISMATCH_NATIONALITY, "IRL"),
        ({"country_code": "IRL"}, MRZ_MISMATCH_ISSUING_COUNTRY, "IRL"),
        ({"nationality": "GBP"}, MRZ_MISMATCH_NATIONALITY, "GBP"),  # B read as P: no such code
        ({"country_code": "GBP"}, MRZ_MISMATCH_ISSUING_COUNTRY, "GBP"),
    ],
)
@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_nationality_or_issuing_state_read_otherwise_goes_to_a_person_with_what_was_read(
    kind, mrz_overrides, code, read
):
    """No check digit protects either code: OCR may have misread it, so it is never a rejection (nor a pass),
    and the reviewer is told what was read against what was declared."""
    result = run(declared(doc_overrides={"type": kind}, mrz_overrides=mrz_overrides))

    assert codes(result) == {code}
    assert result.outcome is Outcome.REVIEW
    assert f"{read!r}" in result.reasons[0].message
    assert "'GBR'" in result.reasons[0].message


def test_a_nationality_misread_as_a_refused_one_goes_to_a_person_not_a_rejection():
    result = run(declared(nationality="IRL", mrz_overrides={"nationality": "IRN"}))

    assert codes(result) == {MRZ_MISMATCH_NATIONALITY, NATIONALITY_NOT_SERVED}
    assert result.outcome is Outcome.REVIEW
    assert all(reason.outcome is Outcome.REVIEW for reason in result.reasons)


def test_a_declared_refused_nationality_still_fails_whatever_was_read():
    result = run(declared(nationality="IRN"))

    assert NATIONALITY_NOT_SERVED in codes(result) and result.outcome is Outcome.FAIL


def test_a_name_read_far_from_the_declared_one_on_the_declared_document_goes_to_a_person():
    """Number, birth date and expiry confirmed by their check digits and the declared ones: the document is the
    declared document, so a name read three or more letters apart (no check digit) is a person's call."""
    result = run(declared(mrz_overrides={"surname": "CAFTFP", "given_names": "EMTLY<JANF"}))

    assert codes(result) == {MRZ_MISMATCH_NAME}
    assert result.outcome is Outcome.REVIEW
    assert "CAFTFP<<EMTLY<JANF" in result.reasons[0].message


def test_another_name_on_another_number_still_fails():
    result = run(declared(mrz_overrides={"surname": "JOHNSON", "given_names": "PETER", "document_number": "533401373"}))

    assert codes(result) == {MRZ_MISMATCH_NAME, MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.FAIL
    assert next(r for r in result.reasons if r.code == MRZ_MISMATCH_NAME).outcome is Outcome.FAIL


def test_a_number_read_with_look_alike_characters_goes_to_a_person_not_a_rejection():
    """6/G and 1/L weigh the same in the check digit, so a valid zone can still hold a misread number."""
    case = declared(doc_overrides={"number": "G90587241"}, mrz_overrides={"document_number": "690587241"})

    result = run(case)

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.REVIEW
    assert "no check digit can tell" in result.reasons[0].message


def test_a_declared_number_typed_with_o_for_0_is_said_to_differ_as_printed():
    """The check digit confirms 0 is printed: the declaration holds O. That, and only that, is 'look-alike'."""
    case = declared(doc_overrides={"number": "C0LX0OT47"}, mrz_overrides={"document_number": "C0LX00T47"})

    result = run(case)

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER} and result.outcome is Outcome.REVIEW
    assert "confirmed by its check digit" in result.reasons[0].message


@pytest.mark.parametrize(("surname", "given", "printed", "misread"), [
    ("Liu", "Yang", "LIU<<YANG", "LIU<<YAN0"),  # G read as 0
    ("Yeo", "Jeong", "YEO<<JEONG", "YEO<<JE0NG"),
    ("James", "Anna", "JAMES<<ANNA", "JAME5<<ANNA"),  # S read as 5
    ("Zhu", "Bo", "ZHU<<BO", "2HU<<B0"),
])
def test_a_digit_read_in_a_name_agrees_with_the_letter_it_could_have_been(surname, given, printed, misread):
    body = make_declared(full_name={"surname": surname, "given_names": given})
    case = declared(body)
    assert case.lines[0][5:5 + len(printed)] == printed
    read = [case.lines[0].replace(printed, misread), case.lines[1]]

    result = run(Case(case.request, read))

    assert result.reasons == ()
    assert {u["found"] for u in result.details["mrz"]["uncertain"]} <= set("0125")


@pytest.mark.parametrize(("surname", "given", "printed", "misread"), [
    ("James", "Anna", "JAMES<<ANNA", "JAMEB<<ANNA"),  # S read as B
    ("Liu", "Yang", "LIU<<YANG", "LIU<<YANO"),  # G read as O
    ("Yeo", "Jeong", "YEO<<JEONG", "YEO<<JEONO"),
    ("Wang", "Jing", "WANG<<JING", "WANO<<JINO"),
    ("Gill", "Isla", "GILL<<ISLA", "OILL<<LSLA"),
    ("Ivanova", "Elena", "IVANOVA<<ELENA", "TVANOVA<<ELFNA"),  # a stroke lost: I read as T, E as F
])
def test_a_letter_read_as_its_ocr_b_look_alike_agrees_and_says_so(surname, given, printed, misread):
    """No check digit protects a name: G printed and read as O is the declared name read with a look-alike. The
    comparison knows what OCR confuses; nothing read is rewritten, and the reviewer's details say what differed."""
    body = make_declared(full_name={"surname": surname, "given_names": given})
    case = declared(body)
    read = [case.lines[0].replace(printed, misread), case.lines[1]]

    result = run(Case(case.request, read))

    assert result.reasons == ()
    comparison = result.details["mrz"]["name_comparison"]
    assert comparison["level"] == "lookalike_letters" and misread in result.details["mrz"]["lines"][0]
    assert {(d["read"], d["declared"]) for d in comparison["differences"]} <= {
        ("B", "S"), ("O", "G"), ("L", "I"), ("T", "I"), ("F", "E"),
    }


def test_a_letter_read_as_another_letter_that_does_not_look_like_it_goes_to_a_person():
    """JAMEX is not JAMES: X is no misread of S; one letter off is a person's call."""
    body = make_declared(full_name={"surname": "James", "given_names": "Anna"})
    case = declared(body)
    read = [case.lines[0].replace("JAMES", "JAMEX"), case.lines[1]]

    result = run(Case(case.request, read))

    assert codes(result) == {MRZ_MISMATCH_NAME} and result.outcome is Outcome.REVIEW


def test_a_name_all_look_alikes_but_in_too_many_places_goes_to_a_person():
    body = make_declared(full_name={"surname": "Gogo", "given_names": "Bob"})
    case = declared(body)
    read = [case.lines[0].replace("GOGO<<BOB", "OGOG<<SOS"), case.lines[1]]

    result = run(Case(case.request, read))

    assert codes(result) == {MRZ_MISMATCH_NAME} and result.outcome is Outcome.REVIEW
    assert "look-alike" in result.reasons[0].message


def test_a_digit_in_another_persons_name_does_not_make_it_the_declared_one():
    body = make_declared(full_name={"surname": "Liu", "given_names": "Yang"})
    case = declared(body)
    read = [case.lines[0].replace("LIU<<YANG", "LIN<<YAN0"), case.lines[1]]

    assert codes(run(Case(case.request, read))) == {MRZ_MISMATCH_NAME}


def test_another_persons_document_fails_naming_every_field_that_differs():
    other = make_declared(full_name={"given_names": "Oliver", "surname": "Nguyen"}, date_of_birth="1985-02-03",
                          nationality="FRA", doc_overrides={"number": "X12345678", "issuing_country": "FRA"})

    result = run(declared(mrz=mrz_lines(other)))

    assert {MRZ_MISMATCH_NAME, MRZ_MISMATCH_BIRTH_DATE, MRZ_MISMATCH_DOCUMENT_NUMBER, MRZ_MISMATCH_NATIONALITY,
            MRZ_MISMATCH_ISSUING_COUNTRY} <= codes(result)
    assert result.outcome is Outcome.FAIL


def test_a_name_a_letter_off_goes_to_a_person():
    """Names carry no check digit: one letter off may be a misread, so a person decides."""
    result = run(declared(mrz_overrides={"given_names": "EMILY<JANX"}))

    assert codes(result) == {MRZ_MISMATCH_NAME}
    assert result.outcome is Outcome.REVIEW


def test_a_dropped_middle_name_is_a_difference_not_a_truncation():
    result = run(declared(mrz_overrides={"given_names": "EMILY"}))

    assert codes(result) == {MRZ_MISMATCH_NAME}
    assert result.outcome is not Outcome.PASS


@pytest.mark.parametrize("surname, given", [("MUELLER", "JUERGEN"), ("MULLER", "JURGEN")])
def test_every_icao_transliteration_of_the_declared_name_passes(surname, given):
    body = make_declared(full_name={"given_names": "Jürgen", "surname": "Müller"})

    assert run(declared(body, mrz_overrides={"surname": surname, "given_names": given})).reasons == ()


def test_accents_and_punctuation_are_normalised_as_an_mrz_prints_them():
    body = make_declared(full_name={"given_names": "Zoë Anne-Marie", "surname": "O'Brien Müller"})

    assert run(declared(body, mrz_overrides={"given_names": "ZOE<ANNE<MARIE", "surname": "OBRIEN<MUELLER"})).reasons == ()


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_long_name_truncated_to_fill_the_mrz_field_passes(kind):
    case = declared(
        full_name={"given_names": "Bartholomew Maximilian", "surname": "Featherstonehaugh"},
        doc_overrides={"type": kind},
    )
    name_line = case.lines[0 if kind == "passport" else 2]
    assert not name_line.endswith("<")  # really truncated

    assert run(case).reasons == ()


def test_icao_codes_outside_iso_are_accepted():
    """XXC (refugee, other) is ICAO's, not ISO's: it must not be refused."""
    assert run(declared(nationality="XXC")).reasons == ()


@pytest.mark.parametrize("declared_code", ["D", "D<<"])
def test_germany_is_d_with_or_without_filler(declared_code):
    case = declared(nationality=declared_code, doc_overrides={"issuing_country": declared_code})
    assert case.lines[0].startswith("P<D<<")

    assert run(case).reasons == ()


@pytest.mark.parametrize("sex", ["M", "F", "X", "<"])
def test_every_icao_sex_marker_is_accepted(sex):
    assert run(declared(mrz_overrides={"sex": sex})).reasons == ()


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
def test_property_a_document_that_agrees_passes(body):
    assert run(declared(body)).reasons == ()


@PROPERTY
@given(body=valid_declarations(), other=valid_declarations())
def test_property_another_declarations_document_never_passes(body, other):
    """Whatever two people declare, one's document under the other's declaration passes only if they agree."""
    differs = (
        other["identity_document"]["number"] != body["identity_document"]["number"]
        or other["date_of_birth"] != body["date_of_birth"]
        or other["full_name"] != body["full_name"]
    )
    assume(differs)

    result = run(declared(body, mrz=mrz_lines(other)))

    assert result.outcome is not Outcome.PASS


@PROPERTY
@given(body=valid_declarations(), data=st.data())
def test_property_a_number_misread_against_its_check_digit_is_reviewed_never_rejected_nor_approved(body, data):
    """A number its own check digit says was misread is no evidence of another number: a person looks (the
    zone is not valid), never a rejection, never an approval. (Held before issue 19's 0/U change; kept as its
    guard beside the look-alikes the check digit cannot see.)"""
    case = declared(body)
    kind = "passport" if body["identity_document"]["type"] == "passport" else "id_card"
    span = next(s for s in mrz.BY_NAME["TD3" if kind == "passport" else "TD1"].spans if s.name == "document_number")
    number = body["identity_document"]["number"]
    column = span.start + data.draw(st.integers(0, len(number) - 1))
    printed = case.lines[span.line][column]
    misread = data.draw(st.sampled_from([c for c in "VWXYHKMN" if c != printed]))  # no digit's look-alike
    lines = with_char(case.lines, span.line, column, misread)
    found = mrz.find(lines, [[0.99] for _ in lines])
    assume(found is not None and not found.mrz.checks.get("document_number", False))  # K for 0 passes it

    result = run(Case(case.request, lines))

    assert result.outcome is not Outcome.FAIL
    assert result.outcome is not Outcome.PASS
    assert MRZ_MISMATCH_DOCUMENT_NUMBER in codes(result)


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_zero_read_as_u_on_the_declared_document_is_flagged_not_rejected(kind):
    """Issue 19's bench: a 0 whose top glare took read as U. U and 0 weigh the same modulo 10, so the number's
    check digit and the composite pass: a look-alike no check digit can tell apart (as 6/G), for a person."""
    body = make_declared(doc_overrides={"type": kind, "number": "C92178109"})
    misread = mrz_lines(body, document_number="C921781U9")

    result = run(declared(body, mrz=misread))

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.REVIEW
    assert "no check digit can tell" in result.reasons[0].message


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_two_digits_read_as_letters_whose_changes_cancel_on_the_declared_document_are_flagged_not_rejected(kind):
    """Issue 19's bench (seed 86421): 46 read as QS under glare. Q and S each weigh 2 more than 4 and 6 modulo
    10, and 7 x 2 + 3 x 2 = 20: the number's check digit and the composite pass. Letters for digits are OCR's
    kind of difference, not a typist's: a person compares the image; the holder is not rejected."""
    body = make_declared(doc_overrides={"type": kind, "number": "462178109"})
    assert mrz.check_digit("462178109") == mrz.check_digit("QS2178109")
    misread = mrz_lines(body, document_number="QS2178109")

    result = run(declared(body, mrz=misread))

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.REVIEW
    assert "not a typing slip" in result.reasons[0].message


def test_a_number_two_digits_off_as_a_typist_slips_is_still_another_number():
    """Two digits swapped (50 for 05: 7 x 5 + 3 x 0 and 7 x 0 + 3 x 5 are both 5 modulo 10, so the check digits
    pass) on an otherwise declared document: digits for digits, the printed number is not the declared one:
    FAIL, as before."""
    body = make_declared(doc_overrides={"number": "052178109"})
    assert mrz.check_digit("052178109") == mrz.check_digit("502178109")

    result = run(declared(body, mrz=mrz_lines(body, document_number="502178109")))

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.FAIL


_DIGITS, _ALPHA = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@PROPERTY
@given(body=valid_declarations(), data=st.data())
def test_property_a_number_one_or_two_characters_off_is_never_approved_and_fails_only_as_typed(body, data):
    """On a zone whose birth date, expiry and name are the declared ones, a number one or two characters off is
    never approved; it is rejected only where each change keeps a digit a digit and a letter a letter (what a
    typist does; look-alikes such as 0/O aside); letters for digits or digits for letters go to a person."""
    number = body["identity_document"]["number"]
    columns = data.draw(st.lists(st.integers(0, len(number) - 1), min_size=1, max_size=2, unique=True))
    crossing = data.draw(st.booleans())
    changed = list(number)
    for column in columns:
        same = _DIGITS if number[column].isdigit() else _ALPHA
        pool = (_ALPHA if number[column].isdigit() else _DIGITS) if crossing else same
        choices = [c for c in pool if c != number[column] and frozenset((c, number[column])) not in _LOOKS_ALIKE]
        changed[column] = data.draw(st.sampled_from(choices))
    read = "".join(changed)

    result = run(declared(body, mrz=mrz_lines(body, document_number=read)))

    assert MRZ_MISMATCH_DOCUMENT_NUMBER in codes(result)
    assert result.outcome is (Outcome.REVIEW if crossing else Outcome.FAIL)


_LOOKS_ALIKE = {frozenset(p) for p in ("0O", "0D", "0Q", "1I", "1L", "2Z", "5S", "6G", "8B", "8S", "0U", "5Z")}


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"%PDF", b"\xef\xbb\xbf%PDF")


@PROPERTY
@given(
    data=st.binary(max_size=64),
    content_type=st.sampled_from(["image/jpeg", "image/png", "application/pdf", None]),
)
def test_property_bytes_that_are_not_jpeg_png_or_pdf_always_fail(data, content_type):
    assume(not data.startswith(_SIGNATURES))

    result = run(document=sample(data, content_type, size=4096), page=None)

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
    case = declared(date_of_birth=born, doc_overrides={"expiry_date": today + dt.timedelta(days=365)})

    result = run(case, today=today, policy=Policy(minimum_age=minimum_age))

    underage = today < _reference_birthday(born, minimum_age)
    assert (APPLICANT_UNDERAGE in codes(result)) is underage
    assert (age_on(born, today) >= minimum_age) is not underage


def test_fit_name_cuts_to_the_field_width():
    assert fit_name("SMITH", "JOHN", 12) == "SMITH<<JOHN<"
    assert fit_name("SMITH", "JOHNATHAN<PAUL", 12) == "SMITH<<JOHNA"
    assert fit_name("SMITH", "JOHN<PAUL", 12) == "SMITH<<JOHN<"  # a cut on a filler leaves padding
    assert fit_name("FEATHERSTONEHAUGH", "", 12) == "FEATHERSTONE"


# --- issue 18 item 8: an image's size where it can be read, and nothing after its end ------------------------


def _padded_before_the_frame_header(data: bytes, padding: int) -> bytes:
    """The same JPEG with APP15 segments (64 KiB each at most) inserted before its first segment."""
    segments = b""
    while padding > 0:
        body = b"\x00" * min(padding, 65533)
        segments += b"\xff\xef" + struct.pack(">H", len(body) + 2) + body
        padding -= len(body)
    return data[:2] + segments + data[2:]


def test_a_jpeg_whose_frame_header_lies_past_the_first_64_kib_is_refused_unread():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (9000, 9000), (200, 200, 200)).save(buffer, "JPEG", quality=20)  # 81 Mpx: over the limit
    huge = buffer.getvalue()
    assert IMAGE_TOO_LARGE in codes(run(document=sample(huge)))
    padded = _padded_before_the_frame_header(huge, 70_000)
    result = run(document=sample(padded))
    assert FILE_CORRUPT in codes(result) and result.outcome is Outcome.FAIL
    assert not worth_reading(check_file(sample(padded), POLICY)[1])  # never handed to OCR


@pytest.mark.parametrize("trailer", [b"<html><script>alert(1)</script></html>", b"PK\x03\x04" + b"x" * 200,
                                     b"\xff\xd8\xff" + b"\x00" * 10])
def test_data_after_the_end_of_the_image_is_refused(trailer):
    data = passport_bytes()
    assert FILE_CORRUPT not in codes(run(document=sample(data)))
    result = run(document=sample(data + trailer))
    assert FILE_CORRUPT in codes(result) and result.outcome is Outcome.FAIL
    assert FILE_CORRUPT not in codes(run(document=sample(data + b"\x00\x00\r\n")))  # an encoder's padding


def test_a_long_name_whose_cut_lands_between_words_passes():
    """ICAO cuts a long name to its field; when the cut falls on a filler, the field ends in padding that no
    letter of the next word could fill -- the declared name, truncated, not a dropped name."""
    body = make_declared(full_name={"surname": "Oseguera Cervantes", "given_names": "Nemesio Ruben Abcd Efgh"})
    case = declared(body)
    cut = "OSEGUERA<CERVANTES<<NEMESIO<RUBEN<ABCD<"  # 39: EFGH does not fit, not even its initial
    assert len(cut) == 39
    read = [case.lines[0][:5] + cut, case.lines[1]]

    assert run(Case(case.request, read)).reasons == ()
    dropped = [case.lines[0][:5] + "OSEGUERA<CERVANTES<<NEMESIO<<<<<<<<<<<<", case.lines[1]]
    assert MRZ_MISMATCH_NAME in codes(run(Case(case.request, dropped)))  # room was left: a name is missing


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_number_garbled_by_ocr_on_the_declared_document_is_flagged_not_rejected(kind):
    """Measured on the read-rate bench: a card's number 868212574 read as OC0ZI2D74 satisfied its check digit (one
    garbled reading in ten does) and the composite (which repeats the number's weights), and the holder's own
    document was rejected. Birth date, expiry and name are the declared ones: a person looks; never approved."""
    body = make_declared(doc_overrides={"type": kind, "number": "868212574"})
    garbled = mrz_lines(body, document_number="OC0ZI2D74")
    assert garbled != mrz_lines(body)

    result = run(declared(body, mrz=garbled))

    assert codes(result) == {MRZ_MISMATCH_DOCUMENT_NUMBER}
    assert result.outcome is Outcome.REVIEW
    # another person's document (other birth date) with that number still fails
    other = run(declared(body, mrz=mrz_lines(body, document_number="OC0ZI2D74", birth_date=dt.date(1990, 5, 18))))
    assert other.outcome is Outcome.FAIL
