"""The identity check: is the uploaded document plausible, and does it agree
with what the applicant declared?

Rules, each a machine-readable reason (no reason at all means PASS):

* the object's true type, sniffed from its first bytes (``filetype``), must be
  JPEG, PNG or PDF, whatever its name or declared content type says;
* its size must be within the policy bounds (the local S3 does not enforce
  the presigned POST conditions, so the app checks again);
* the declared document must not be expired and the applicant must be of age;
* the declared machine-readable zone (ICAO 9303 TD3 for a passport, TD1 for
  an identity card) must have valid check digits (``mrz`` library) and agree
  with the declared number, dates, nationality, issuing state and name.

We do not OCR the image: the MRZ is what the applicant typed from the
document, and the check digits catch typing errors and casual forgery; the
image is kept for the human reviewer.

Pure domain code: no AWS, no I/O. ``today`` is a parameter so every rule is
reproducible in tests and replays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

import filetype
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker

from .checks import IDENTITY, CheckResult, Outcome, Reason
from .declaration import ApplicationRequest, DocumentType, FullName, mrz_name
from .policy import Policy

HEAD_BYTES = 4096  # the handler reads this many leading bytes of the object

FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
CONTENT_TYPE_MISMATCH = "CONTENT_TYPE_MISMATCH"
FILE_TOO_SMALL = "FILE_TOO_SMALL"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
APPLICANT_UNDERAGE = "APPLICANT_UNDERAGE"
MRZ_FORMAT = "MRZ_FORMAT"
MRZ_CHECK_DIGIT = "MRZ_CHECK_DIGIT"
MRZ_MISMATCH_DOCUMENT_NUMBER = "MRZ_MISMATCH_DOCUMENT_NUMBER"
MRZ_MISMATCH_BIRTH_DATE = "MRZ_MISMATCH_BIRTH_DATE"
MRZ_BIRTH_CENTURY_AMBIGUOUS = "MRZ_BIRTH_CENTURY_AMBIGUOUS"
MRZ_MISMATCH_EXPIRY_DATE = "MRZ_MISMATCH_EXPIRY_DATE"
MRZ_MISMATCH_NATIONALITY = "MRZ_MISMATCH_NATIONALITY"
MRZ_MISMATCH_ISSUING_COUNTRY = "MRZ_MISMATCH_ISSUING_COUNTRY"
MRZ_NAME_MISMATCH = "MRZ_NAME_MISMATCH"

ALLOWED_MIME_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
# Names clients commonly send for the same types.
_CONTENT_TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
}
# What S3 and browsers report when the uploader said nothing: not a claim to contradict.
_UNSPECIFIED_CONTENT_TYPES = frozenset({"", "binary/octet-stream", "application/octet-stream"})

# The mrz checker's report entries that are check digits; its other entries
# are judged here instead (see _format_reasons for why).
_CHECK_DIGIT_ENTRIES = (
    "document number hash",
    "birth date hash",
    "expiry date hash",
    "optional data hash",  # TD3 only
    "final hash",  # the composite check digit
)


@dataclass(frozen=True)
class DocumentSample:
    """What the handler read of the uploaded object: its head, not the whole file."""

    key: str
    size: int
    head: bytes
    content_type: Optional[str]


@dataclass(frozen=True)
class _Format:
    name: str
    lines: int
    width: int
    checker: type
    name_field: slice  # where the holder's name sits in the joined lines


_FORMATS = {
    DocumentType.PASSPORT: _Format("TD3", 2, 44, TD3CodeChecker, slice(5, 44)),
    DocumentType.ID_CARD: _Format("TD1", 3, 30, TD1CodeChecker, slice(60, 90)),  # the third line
}


@dataclass(frozen=True)
class MrzFields:
    """The MRZ as read, dates resolved to four-digit years (None if impossible)."""

    format: str
    document_type: str
    issuing_country: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: Optional[dt.date]
    expiry_date: Optional[dt.date]
    sex: str
    name: str  # the name field without its '<' padding, e.g. "ERIKSSON<<ANNA<MARIA"
    name_fills_field: bool  # no padding left: ICAO truncates long names this way
    birth_yymmdd: str
    expiry_yymmdd: str

    def to_dict(self) -> dict[str, Any]:
        """What a reviewer sees, JSON-ready."""
        return {
            "format": self.format,
            "document_type": self.document_type,
            "document_number": self.document_number,
            "issuing_country": self.issuing_country,
            "surname": self.surname,
            "given_names": self.given_names,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "sex": self.sex,
        }


def check_identity(declared: ApplicationRequest, sample: DocumentSample, policy: Policy, today: dt.date) -> CheckResult:
    """Run every identity rule; all findings are reported, not just the first."""
    mime = sniff_mime_type(sample.head)
    document = declared.identity_document
    reasons = [
        *_file_type_reasons(mime, sample.content_type),
        *_size_reasons(sample.size, policy),
        *_expiry_reasons(document.expiry_date, today),
        *_age_reasons(declared.date_of_birth, policy.minimum_age, today),
    ]
    fields, mrz_reasons = _read_mrz(document.type, document.mrz, today)
    reasons += mrz_reasons
    if fields is not None:
        reasons += _agreement_reasons(declared, fields)
    details = {
        "mime_type": mime,
        "declared_content_type": sample.content_type,
        "size": sample.size,
        "mrz": fields.to_dict() if fields else None,
    }
    return CheckResult(check=IDENTITY, reasons=tuple(reasons), details=details)


# --- the file ---------------------------------------------------------------


def sniff_mime_type(head: bytes) -> Optional[str]:
    """The type the bytes say, whatever the name or upload headers claim."""
    kind = filetype.guess(bytes(head)) if head else None
    return kind.mime if kind else None


def _file_type_reasons(mime: Optional[str], content_type: Optional[str]) -> list[Reason]:
    if mime not in ALLOWED_MIME_TYPES:
        found = mime or "of an unknown type"
        message = f"The file's content is {found}; only JPEG, PNG or PDF is accepted"
        return [Reason(FILE_TYPE_NOT_ALLOWED, Outcome.FAIL, message)]
    claimed = _normalise_content_type(content_type)
    if claimed is not None and claimed != mime:
        # An allowed file with a wrong label is odd (a renamed file, a tool
        # bug, or an attempt to slip past a filter): a human should look.
        message = f"Uploaded as {claimed} but the content is {mime}"
        return [Reason(CONTENT_TYPE_MISMATCH, Outcome.REVIEW, message)]
    return []


def _normalise_content_type(content_type: Optional[str]) -> Optional[str]:
    """'Image/JPG; foo=bar' -> 'image/jpeg'; None when the uploader claimed nothing."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value in _UNSPECIFIED_CONTENT_TYPES:
        return None
    return _CONTENT_TYPE_ALIASES.get(value, value)


def _size_reasons(size: int, policy: Policy) -> list[Reason]:
    if size < policy.document_min_bytes:
        message = f"The file has {size} bytes; at least {policy.document_min_bytes} are needed"
        return [Reason(FILE_TOO_SMALL, Outcome.FAIL, message)]
    if size > policy.document_max_bytes:
        message = f"The file has {size} bytes; at most {policy.document_max_bytes} are accepted"
        return [Reason(FILE_TOO_LARGE, Outcome.FAIL, message)]
    return []


# --- the declaration ----------------------------------------------------------


def _expiry_reasons(expiry: dt.date, today: dt.date) -> list[Reason]:
    """A document is valid up to and including its expiry date."""
    if expiry < today:
        return [Reason(DOCUMENT_EXPIRED, Outcome.FAIL, f"The document expired on {expiry.isoformat()}")]
    return []


def age_on(birth: dt.date, today: dt.date) -> int:
    """Completed years of age on ``today``.

    Someone born on 29 February completes a year on 1 March in common years
    (the rule in English law), which the tuple comparison gives for free:
    (2, 28) < (2, 29).
    """
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _age_reasons(birth: dt.date, minimum_age: int, today: dt.date) -> list[Reason]:
    if age_on(birth, today) < minimum_age:
        return [Reason(APPLICANT_UNDERAGE, Outcome.FAIL, f"The applicant is younger than {minimum_age}")]
    return []


# --- the machine-readable zone ------------------------------------------------


def _read_mrz(kind: DocumentType, lines: list[str], today: dt.date) -> tuple[Optional[MrzFields], list[Reason]]:
    """Parse and verify the MRZ; without a readable one there is nothing to compare."""
    fmt = _FORMATS[kind]
    if len(lines) != fmt.lines or any(len(line) != fmt.width for line in lines):
        message = f"A {kind.value} needs a {fmt.name} MRZ: {fmt.lines} lines of {fmt.width} characters"
        return None, [Reason(MRZ_FORMAT, Outcome.FAIL, message)]
    try:
        checker = fmt.checker("\n".join(lines))
    except ValueError as error:  # the library's FieldError / LengthError
        return None, [Reason(MRZ_FORMAT, Outcome.FAIL, f"The MRZ cannot be read: {error.args[0]}")]
    fields = _fields(fmt, checker, "".join(lines), today)
    return fields, _format_reasons(checker, fields) + _check_digit_reasons(checker)


def _fields(fmt: _Format, checker: Any, joined: str, today: dt.date) -> MrzFields:
    raw = checker.fields()
    name_field = joined[fmt.name_field]
    name = name_field.rstrip("<")
    surname, _, given = name.partition("<<")
    return MrzFields(
        format=fmt.name,
        document_type=raw.document_type,
        issuing_country=raw.country,
        document_number=raw.document_number,
        surname=_words(surname),
        given_names=_words(given),
        nationality=raw.nationality,
        birth_date=mrz_birth_date(raw.birth_date, today),
        expiry_date=mrz_expiry_date(raw.expiry_date, today),
        sex=raw.sex,
        name=name,
        name_fills_field=name == name_field,
        birth_yymmdd=raw.birth_date,
        expiry_yymmdd=raw.expiry_date,
    )


def _words(field: str) -> str:
    return " ".join(w for w in field.split("<") if w)


def _format_reasons(checker: Any, fields: MrzFields) -> list[Reason]:
    """Field formats we trust the library for, and those we judge ourselves.

    The library's own date checks compare against the machine's clock rather
    than ``today`` and resolve 2-digit years naively (an expiry in 2070 reads
    as 1970, "before birth"); it rejects sex "X", which ICAO allows; and it
    checks country codes against its own list, which lacks some ICAO codes
    (XXC, XPO, XES, ...). The declaration already constrains the codes'
    shape and the agreement rules compare them, so that list would only
    refuse genuine applicants.
    """
    problems = [
        description
        for description, ok in checker.report.fields
        if not ok and description in ("document type format", "document number format")
    ]
    if fields.birth_date is None:
        problems.append("birth date")
    if fields.expiry_date is None:
        problems.append("expiry date")
    if fields.sex not in ("M", "F", "X", "<"):
        problems.append("sex")
    if not problems:
        return []
    return [Reason(MRZ_FORMAT, Outcome.FAIL, "Invalid MRZ field(s): " + ", ".join(problems))]


def _check_digit_reasons(checker: Any) -> list[Reason]:
    wrong = [description for description, ok in checker.report.fields if not ok and description in _CHECK_DIGIT_ENTRIES]
    if not wrong:
        return []
    return [Reason(MRZ_CHECK_DIGIT, Outcome.FAIL, "Invalid MRZ check digit(s): " + ", ".join(wrong))]


def mrz_birth_date(yymmdd: str, today: dt.date) -> Optional[dt.date]:
    """A birth date is in the past: the latest century that does not put it after ``today``."""
    parts = _split_yymmdd(yymmdd)
    if parts is None:
        return None
    yy, month, day = parts
    year = today.year - (today.year - yy) % 100
    candidate = _date_or_none(year, month, day)
    if candidate is None or candidate > today:
        candidate = _date_or_none(year - 100, month, day)
    return candidate


def mrz_expiry_date(yymmdd: str, today: dt.date) -> Optional[dt.date]:
    """Documents last years, not decades: the year within -50..+49 years of ``today``."""
    parts = _split_yymmdd(yymmdd)
    if parts is None:
        return None
    yy, month, day = parts
    earliest = today.year - 50
    return _date_or_none(earliest + (yy - earliest) % 100, month, day)


def _split_yymmdd(value: str) -> Optional[tuple[int, int, int]]:
    if len(value) != 6 or not value.isdigit() or not value.isascii():
        return None
    return int(value[:2]), int(value[2:4]), int(value[4:])


def _date_or_none(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _yymmdd(date: dt.date) -> str:
    return f"{date.year % 100:02d}{date.month:02d}{date.day:02d}"


# --- agreement between the MRZ and the declaration --------------------------


def _agreement_reasons(declared: ApplicationRequest, fields: MrzFields) -> list[Reason]:
    document = declared.identity_document
    reasons = []
    if fields.document_number != document.number:
        reasons.append(_mismatch(MRZ_MISMATCH_DOCUMENT_NUMBER, "document number"))
    reasons += _birth_date_reasons(declared.date_of_birth, fields)
    if fields.expiry_date != document.expiry_date:
        reasons.append(_mismatch(MRZ_MISMATCH_EXPIRY_DATE, "expiry date"))
    if fields.nationality != _country(declared.nationality):
        reasons.append(_mismatch(MRZ_MISMATCH_NATIONALITY, "nationality"))
    if fields.issuing_country != _country(document.issuing_country):
        reasons.append(_mismatch(MRZ_MISMATCH_ISSUING_COUNTRY, "issuing country"))
    if not name_matches(declared.full_name, fields.name, fields.name_fills_field):
        # Transliteration rules differ between countries (MÜLLER may be
        # MUELLER or MULLER): a person decides, the check does not refuse.
        reasons.append(Reason(MRZ_NAME_MISMATCH, Outcome.REVIEW, "The MRZ name differs from the declared name"))
    return reasons


def _mismatch(code: str, what: str) -> Reason:
    return Reason(code, Outcome.FAIL, f"The MRZ {what} does not match the declared {what}")


def _birth_date_reasons(declared_birth: dt.date, fields: MrzFields) -> list[Reason]:
    """The MRZ only holds YYMMDD: a centenarian's birth date reads as a child's."""
    if fields.birth_yymmdd != _yymmdd(declared_birth):
        return [_mismatch(MRZ_MISMATCH_BIRTH_DATE, "birth date")]
    if fields.birth_date != declared_birth:
        return [
            Reason(
                MRZ_BIRTH_CENTURY_AMBIGUOUS,
                Outcome.REVIEW,
                "The MRZ birth date matches the declared one only a century apart",
            )
        ]
    return []


def _country(code: str) -> str:
    """'D<<' and 'D' are the same ICAO code (Germany)."""
    return code.rstrip("<")


def declared_mrz_name(full_name: FullName) -> str:
    """The declared name as an MRZ prints it: SURNAME<<GIVEN<NAMES."""
    surname, given = mrz_name(full_name.surname), mrz_name(full_name.given_names)
    return f"{surname}<<{given}" if given else surname


def name_matches(full_name: FullName, mrz: str, fills_field: bool) -> bool:
    """Exact match, or an MRZ name that was truncated to fit its field.

    ICAO 9303 truncates a long name so that it fills the field completely; a
    shorter name with padding left over was not truncated, so a mere prefix
    (a dropped middle name) is a real difference.
    """
    expected = declared_mrz_name(full_name)
    return mrz == expected or (fills_field and bool(mrz) and expected.startswith(mrz))
