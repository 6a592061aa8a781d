"""The identity check: is the uploaded file a document we could read, and does what it
says agree with what the applicant declared?

The document is read, never taken on the applicant's word. Rules, each a
machine-readable reason (no reason at all means PASS):

* the file (``document_file.py``): its true type by its bytes (``filetype``) must be JPEG, PNG or
  PDF whatever its label; its size within the policy bounds; and its
  structure sound before any OCR runs on it (an image's dimensions within the
  pixel limit, read from its header, so a decompression bomb costs nothing;
  the stream not truncated);
* the page: OCR (Textract ``DetectDocumentText``; on the local stack a
  compatible engine) returns its lines; the machine-readable zone (ICAO 9303
  TD1/TD2/TD3) is found among them and repaired where OCR confused characters
  (``mrz.find``: check digits tell which reading is right). No valid zone, or
  one read with a confidence under the policy's threshold, or a page the OCR
  service refused: REVIEW (``DOCUMENT_UNREADABLE`` / ``DOCUMENT_REJECTED_BY_OCR``)
  with what was read, so a person looks. A zone whose check digits do not
  agree with what they protect (as printed, or as read where no honest
  repair settles it: ``mrz.checked``): REVIEW ``MRZ_CHECK_DIGIT`` naming each
  field, and nothing read from it is trusted (its differences go to a person);
* the agreement: document type, number, birth date, expiry, nationality,
  issuing state and name compared with the declaration, names in every
  spelling ICAO 9303 part 3 allows (transliteration, truncation); each
  difference FAILs naming the field (``MRZ_MISMATCH_...``), except a name one
  or two letters apart (OCR on a field no check digit protects) and a number
  that differs only by look-alikes: REVIEW, saying which kind. A name has
  no check digit, so it is compared aware of what OCR confuses, never
  rewritten: a character OCR could not have read right (a digit in a name)
  agrees with any letter it may have been, and an OCR-B look-alike letter
  (G/O, S/B, I/L...) with the declared one, for a few of its letters
  (``mrz.compare_name``; the differences are kept in the details);
* the rules: the document not expired, the applicant of age.

Pure domain code: no AWS, no I/O. ``today`` is a parameter so every rule is
reproducible in tests and replays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional, Union

from . import mrz
from .checks import IDENTITY, CheckResult, Outcome, Reason
from .declaration import ApplicationRequest, DocumentType
from .document_file import DocumentSample, check_file
from .policy import (
    APPLICANT_UNDERAGE,
    DOCUMENT_EXPIRED,
    DOCUMENT_EXPIRY_IMPLAUSIBLE,
    NATIONALITY_NOT_SERVED,
    Broken,
    Policy,
    age_on,
    age_rule,
    expiry_rule,
    nationality_rule,
)

__all__ = [
    "APPLICANT_UNDERAGE",
    "DOCUMENT_EXPIRED",
    "DOCUMENT_EXPIRY_IMPLAUSIBLE",
    "NATIONALITY_NOT_SERVED",
    "age_on",
    "check_identity",
]


DOCUMENT_UNREADABLE = "DOCUMENT_UNREADABLE"
DOCUMENT_REJECTED_BY_OCR = "DOCUMENT_REJECTED_BY_OCR"
MRZ_MISMATCH_DOCUMENT_TYPE = "MRZ_MISMATCH_DOCUMENT_TYPE"
MRZ_MISMATCH_DOCUMENT_NUMBER = "MRZ_MISMATCH_DOCUMENT_NUMBER"
MRZ_MISMATCH_BIRTH_DATE = "MRZ_MISMATCH_BIRTH_DATE"
MRZ_BIRTH_CENTURY_AMBIGUOUS = "MRZ_BIRTH_CENTURY_AMBIGUOUS"
MRZ_MISMATCH_EXPIRY_DATE = "MRZ_MISMATCH_EXPIRY_DATE"
MRZ_MISMATCH_NATIONALITY = "MRZ_MISMATCH_NATIONALITY"
MRZ_MISMATCH_ISSUING_COUNTRY = "MRZ_MISMATCH_ISSUING_COUNTRY"
MRZ_MISMATCH_NAME = "MRZ_MISMATCH_NAME"
MRZ_CHECK_DIGIT = "MRZ_CHECK_DIGIT"

_LAYOUTS_OF = {DocumentType.PASSPORT: ("TD3",), DocumentType.ID_CARD: ("TD1", "TD2")}


@dataclass(frozen=True)
class PageText:
    """What OCR read on the page: its lines, top to bottom, and each line's confidence (0-100)."""

    lines: tuple[str, ...] = ()
    confidences: tuple[float, ...] = ()


@dataclass(frozen=True)
class OcrRefusal:
    """The OCR service would not read the document (unsupported, bad, too large): its code and message."""

    code: str
    message: str


Reading = Union[PageText, OcrRefusal, None]  # None: not read (the file itself was refused)


def worth_reading(reasons: list[Reason]) -> bool:
    """OCR only a file nothing has failed yet: it costs money and a bad file would waste it."""
    return not any(reason.outcome == Outcome.FAIL for reason in reasons)


def check_identity(
    declared: ApplicationRequest, sample: DocumentSample, policy: Policy, today: dt.date, page: Reading = None
) -> CheckResult:
    """Run every identity rule; all findings are reported, not just the first."""
    mime, reasons = check_file(sample, policy)
    reasons += _declaration_reasons(declared, policy, today)
    details: dict[str, Any] = {
        "mime_type": mime,
        "declared_content_type": sample.content_type,
        "size": sample.size,
        "document_version": sample.version,
    }
    if isinstance(page, OcrRefusal):
        details["ocr"] = {"error": page.code, "message": page.message}
        message = f"The OCR service refused the document ({page.code}): {page.message}"
        reasons.append(Reason(DOCUMENT_REJECTED_BY_OCR, Outcome.REVIEW, message))
    elif isinstance(page, PageText):
        details["ocr"] = {"lines": list(page.lines), "confidences": [round(c, 1) for c in page.confidences]}
        reading = mrz.find(page.lines, [[c / 100] for c in page.confidences])
        details["mrz"] = _mrz_details(reading, today) if reading else None
        if reading is not None and details["mrz"] is not None:
            surname, given = declared.full_name.surname, declared.full_name.given_names
            details["mrz"]["name_comparison"] = mrz.compare_name(
                surname, given, reading.mrz, reading.name_doubts()
            ).to_dict()
        reasons += _reading_reasons(declared, reading, policy, today, reasons)
    return CheckResult(check=IDENTITY, reasons=tuple(reasons), details=details)


# --- the declaration ----------------------------------------------------------


def _rule_reasons(broken: list[Optional[Broken]], already: list[Reason]) -> list[Reason]:
    """The domain's rules (policy.py) as FAIL reasons, each code once."""
    seen = {reason.code for reason in already}
    reasons = []
    for rule in broken:
        if rule is not None and rule.code not in seen:
            seen.add(rule.code)
            reasons.append(Reason(rule.code, Outcome.FAIL, rule.message))
    return reasons


def _declaration_reasons(declared: ApplicationRequest, policy: Policy, today: dt.date) -> list[Reason]:
    """The rules the declaration settles, applied again: Parameter Store may have changed since the create."""
    document = declared.identity_document
    return _rule_reasons(
        [
            expiry_rule(document.expiry_date, today),
            age_rule(declared.date_of_birth, policy, today),
            nationality_rule(declared.nationality, policy),
        ],
        [],
    )


# --- the machine-readable zone, as read ------------------------------------------


def _reading_reasons(
    declared: ApplicationRequest,
    reading: Optional[mrz.Reading],
    policy: Policy,
    today: dt.date,
    already: list[Reason],
) -> list[Reason]:
    if reading is None:
        message = "The document was read but no machine-readable zone was found: a person reads it"
        return [Reason(DOCUMENT_UNREADABLE, Outcome.REVIEW, message)]
    compared = [v for k, v in reading.field_confidence.items() if not k.endswith("_check") and k != "optional_data"]
    confidence = 100 * min(compared) if compared else 100.0
    if confidence < policy.ocr_min_confidence:
        message = f"The zone was read with confidence {confidence:.0f} (< {policy.ocr_min_confidence}): a person checks"
        return [Reason(DOCUMENT_UNREADABLE, Outcome.REVIEW, message)]
    if not reading.valid:
        return _check_digit_reasons(reading) + [
            Reason(r.code, Outcome.REVIEW, r.message + " (read from a zone its check digits do not confirm)")
            for r in _agreement_reasons(declared, reading, today)
        ]
    agreement = _agreement_reasons(declared, reading, today)
    return agreement + _read_rule_reasons(declared, reading.mrz, policy, today, already + agreement)


_CHECKED_FIELD = {
    "document_number": "document number",
    "birth_date": "birth date",
    "expiry_date": "expiry date",
    "optional_data": "optional data",
    "composite": "zone's composite",
}


def _check_digit_reasons(reading: mrz.Reading) -> list[Reason]:
    """One REVIEW per check digit that disagrees: printed wrong, altered, or misread -- a person compares."""
    if reading.failed_checks and len(reading.failed_checks) == len(reading.mrz.checks):
        message = "A zone was found but none of its check digits agrees with what it protects: a person reads it"
        return [Reason(DOCUMENT_UNREADABLE, Outcome.REVIEW, message)]
    reasons = []
    for name in reading.failed_checks:
        what = _CHECKED_FIELD.get(name, name.replace("_", " "))
        message = (
            f"The {what} check digit does not agree with the {what} as read: printed wrong, altered, or misread;"
            " a person compares the zone with the image"
        )
        reasons.append(Reason(MRZ_CHECK_DIGIT, Outcome.REVIEW, message))
    for name in reading.ambiguous:
        if name in reading.failed_checks:
            continue
        what = _CHECKED_FIELD.get(name, name.replace("_", " "))
        message = (
            f"The {what} reads two ways that its check digits cannot tell apart (characters OCR was unsure of,"
            " or the page's printed zone reads it otherwise): a person compares the zone with the image"
        )
        reasons.append(Reason(MRZ_CHECK_DIGIT, Outcome.REVIEW, message))
    return reasons


def _read_rule_reasons(
    declared: ApplicationRequest, zone: mrz.Mrz, policy: Policy, today: dt.date, already: list[Reason]
) -> list[Reason]:
    """The same rules on what the document says: its own nationality, and its expiry and birth date where
    they differ from the declared ones (where they agree the declaration's were judged, with their century).

    A document that differs from the declaration already FAILs; this names what else is wrong with it,
    and catches a value that agrees with the declaration but whose rule changed since the create.
    """
    document = declared.identity_document
    expiry = mrz_expiry_date(zone.expiry_date, today) if zone.expiry_date != _yymmdd(document.expiry_date) else None
    birth = mrz_birth_date(zone.birth_date, today) if zone.birth_date != _yymmdd(declared.date_of_birth) else None
    reasons = _rule_reasons(
        [
            expiry_rule(expiry, today, "mrz.expiry_date") if expiry else None,
            age_rule(birth, policy, today, "mrz.birth_date") if birth else None,
        ],
        already,
    )
    refused = nationality_rule(zone.nationality, policy, "mrz.nationality")
    if refused is not None and not any(r.code == refused.code for r in already + reasons):
        # Read otherwise than declared (a declared refused nationality FAILed at the declaration's rules): no check
        # digit protects the code, so a misread must not refuse the applicant -- nor pass them. A person looks.
        message = f"{refused.message} (as read on the document, where no check digit protects it): a person looks"
        reasons.append(Reason(refused.code, Outcome.REVIEW, message))
    return reasons


def _mrz_details(reading: mrz.Reading, today: dt.date) -> dict[str, Any]:
    """What a reviewer sees: the fields read, how sure, and what was repaired."""
    birth = mrz_birth_date(reading.mrz.birth_date, today)
    expiry = mrz_expiry_date(reading.mrz.expiry_date, today)
    zone = reading.mrz
    return {
        **reading.to_dict(),
        "format": zone.layout,
        "document_type": zone.document_type,
        "issuing_country": zone.issuing_state,
        "birth_date": birth.isoformat() if birth else zone.birth_date,  # YYMMDD when no real date
        "expiry_date": expiry.isoformat() if expiry else zone.expiry_date,
        "birth_date_yymmdd": zone.birth_date,
        "expiry_date_yymmdd": zone.expiry_date,
    }


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


def _agreement_reasons(declared: ApplicationRequest, reading: mrz.Reading, today: dt.date) -> list[Reason]:
    document = declared.identity_document
    zone = reading.mrz
    reasons = []
    if zone.layout not in _LAYOUTS_OF[document.type]:
        reasons.append(_mismatch(MRZ_MISMATCH_DOCUMENT_TYPE, "document type"))
    reasons += _number_reasons(document.number, reading, _rest_is_the_declared_document(declared, reading))
    reasons += _birth_date_reasons(declared.date_of_birth, zone, today)
    if zone.expiry_date != _yymmdd(document.expiry_date):
        reasons.append(_mismatch(MRZ_MISMATCH_EXPIRY_DATE, "expiry date"))
    reasons += _code_reasons(MRZ_MISMATCH_NATIONALITY, "nationality", zone.nationality, declared.nationality)
    reasons += _code_reasons(
        MRZ_MISMATCH_ISSUING_COUNTRY, "issuing country", zone.issuing_state, document.issuing_country
    )
    reasons += _name_reasons(declared, reading, _protected_fields_agree(declared, reading, today))
    return reasons


def _code_reasons(code: str, what: str, read: str, declared_code: str) -> list[Reason]:
    """A nationality or issuing state read otherwise than declared: REVIEW, never FAIL, with both codes.

    No check digit protects either code, so a difference may be OCR's (UKR read as UKB, IRL as TRL) as well as
    the document's: only a person looking at the image can tell, and approving is out of the question too.
    Another person's document still fails on the fields its check digits confirm (number, dates).
    """
    if read == _country(declared_code):
        return []
    message = (
        f"The document's {what} was read as {read.replace(mrz.FILLER, '') or '(nothing)'!r}, declared"
        f" {_country(declared_code)!r}: no check digit protects it, so a person compares the image"
    )
    return [Reason(code, Outcome.REVIEW, message)]


def _protected_fields_agree(declared: ApplicationRequest, reading: mrz.Reading, today: dt.date) -> bool:
    """The zone's check digits confirm it, and every field they protect (number, birth date, expiry) is the
    declared one: the document is the declared document, whatever its unprotected fields were read as."""
    zone, document = reading.mrz, declared.identity_document
    return (
        reading.valid
        and zone.document_number == document.number
        and zone.birth_date == _yymmdd(declared.date_of_birth)
        and zone.expiry_date == _yymmdd(document.expiry_date)
    )


_LOOKALIKE_PAIRS = frozenset(frozenset(pair) for pair in ("0O", "0D", "0Q", "1I", "1L", "2Z", "5S", "6G", "8B", "8S"))
#: Look-alikes whose values are equal modulo 10: a check digit cannot tell which one is printed.
_UNSEEN_BY_CHECKS = frozenset(frozenset(pair) for pair in ("6G", "1L", "8S", "0U", "5Z"))


#: A read number this many edits or fewer from the declared one is another number, not a garbled reading of it.
GARBLED_NUMBER_DISTANCE = 2


def _rest_is_the_declared_document(declared: ApplicationRequest, reading: mrz.Reading) -> bool:
    """Birth date and expiry, each confirmed by its own check digit, are the declared ones, and the name is the
    declared one or a letter or two from it: only the number can tell this document from the declared one."""
    zone, document = reading.mrz, declared.identity_document
    if not (
        reading.valid
        and zone.birth_date == _yymmdd(declared.date_of_birth)
        and zone.expiry_date == _yymmdd(document.expiry_date)
    ):
        return False
    surname, given = declared.full_name.surname, declared.full_name.given_names
    if mrz.compare_name(surname, given, zone, reading.name_doubts()).level is not None:
        return True
    return min(_distance(zone.name_field, form[: len(zone.name_field)]) for form in mrz.name_forms(surname, given)) <= 2


def _number_reasons(declared_number: str, reading: mrz.Reading, rest_agrees: bool = False) -> list[Reason]:
    """The number read against the declared one. Where they differ only by look-alikes, say honestly which kind:
    ones the check digit tells apart (so the printed number is not the declared one: a typing slip?) or ones it
    cannot (6/G: only the image tells). Where OCR itself doubted a character, the declared one it could be agrees.

    A number garbled beyond a typing slip (more than ``GARBLED_NUMBER_DISTANCE`` characters off) on a document
    whose birth date, expiry and name are the declared ones (``rest_agrees``) is REVIEW, not FAIL, and so is one
    whose every difference is a letter for a digit or a digit for a letter (``_misread_not_typed``: 46 read as
    QS). A number one or two characters off as a typist would slip (a digit for a digit) is another number:
    FAIL. Its one check digit passes a garbled reading one time in ten, and the composite cannot catch what it
    passes (the number and its check digit open the composite at the same weights). Measured: a card's
    868212574 read as OC0ZI2D74 satisfied both and rejected the holder's own document. 0/U and 5/Z weigh the
    same modulo 10 as 6/G: look-alikes no check digit sees.
    """
    read = reading.mrz.document_number
    if read == declared_number:
        return []
    if rest_agrees and _distance(read, declared_number) > GARBLED_NUMBER_DISTANCE:
        message = (
            f"The document number was read as {read!r}, declared {declared_number!r}; the birth date, expiry and"
            " name are the declared ones and a misread number passes its check digit one time in ten:"
            " a person compares the image"
        )
        return [Reason(MRZ_MISMATCH_DOCUMENT_NUMBER, Outcome.REVIEW, message)]
    if len(read) != len(declared_number) or not reading.mrz.checks.get("document_number", False):
        return [_mismatch(MRZ_MISMATCH_DOCUMENT_NUMBER, "document number")]
    span = next(s for s in mrz.BY_NAME[reading.mrz.layout].spans if s.name == "document_number")
    doubts = {(u.line, u.column): u.could_be for u in reading.uncertain}
    pairs = [
        (a, b, doubts.get((span.line, span.start + i), ""))
        for i, (a, b) in enumerate(zip(read, declared_number, strict=True))
        if a != b
    ]
    if all(b in could_be for _, b, could_be in pairs):
        return []  # only where OCR was unsure, and the declared character is one it could have been
    if not all(frozenset((a, b)) in _LOOKALIKE_PAIRS | _UNSEEN_BY_CHECKS for a, b, _ in pairs):
        if rest_agrees and _misread_not_typed(read, declared_number):
            message = (
                f"The document number was read as {read!r}, declared {declared_number!r}: letters read for digits"
                " or digits for letters (a misreading, not a typing slip) on a document whose birth date, expiry"
                " and name are the declared ones; such changes can cancel in the check digit: a person compares"
                " the image"
            )
            return [Reason(MRZ_MISMATCH_DOCUMENT_NUMBER, Outcome.REVIEW, message)]
        return [_mismatch(MRZ_MISMATCH_DOCUMENT_NUMBER, "document number")]
    if all(frozenset((a, b)) in _UNSEEN_BY_CHECKS for a, b, _ in pairs):
        message = (
            "The document number read differs from the declared one only by look-alikes no check digit can tell"
            " apart (6/G, 8/S, 1/L, 0/U, 5/Z): a person compares the image"
        )
    else:
        message = (
            "The document number, confirmed by its check digit, differs from the declared one only by look-alike"
            " characters (0/O, 1/I, 5/S...): the number typed may hold one for the other"
        )
    return [Reason(MRZ_MISMATCH_DOCUMENT_NUMBER, Outcome.REVIEW, message)]


def _misread_not_typed(read: str, declared_number: str) -> bool:
    """As long as the declared number, and every character that differs is a letter read for a digit or a digit
    for a letter: OCR's kind of difference (46 read as QS under glare), not a typist's (a slip or a swap keeps a
    digit a digit). Two such changes can cancel in the check digit and the composite (Q and S weigh 2 more than
    4 and 6 modulo 10: 7 x 2 + 3 x 2 = 20)."""
    if len(read) != len(declared_number):
        return False
    changed = [(a, b) for a, b in zip(read, declared_number, strict=True) if a != b]
    return bool(changed) and all(a.isdigit() != b.isdigit() for a, b in changed)


def _mismatch(code: str, what: str) -> Reason:
    return Reason(code, Outcome.FAIL, f"The document's {what} does not match the declared {what}")


def _birth_date_reasons(declared_birth: dt.date, zone: mrz.Mrz, today: dt.date) -> list[Reason]:
    """The MRZ only holds YYMMDD: a centenarian's birth date reads as a child's."""
    if zone.birth_date != _yymmdd(declared_birth):
        return [_mismatch(MRZ_MISMATCH_BIRTH_DATE, "birth date")]
    if mrz_birth_date(zone.birth_date, today) != declared_birth:
        message = "The document's birth date matches the declared one only a century apart"
        return [Reason(MRZ_BIRTH_CENTURY_AMBIGUOUS, Outcome.REVIEW, message)]
    return []


def _name_reasons(declared: ApplicationRequest, reading: mrz.Reading, protected_agree: bool) -> list[Reason]:
    """Any ICAO spelling of the declared name passes, and so does one read with look-alikes (``mrz.compare_name``:
    a digit where a letter must be, or an OCR-B look-alike letter -- G/O, S/B, I/L -- for a few of its letters;
    no check digit protects a name, so the declaration tells which was printed; nothing read is rewritten). All
    look-alikes but more than a misread explains, or one or two other letters off: a person's call. More fails --
    unless every field the check digits protect is the declared one (``protected_agree``): then the document is
    the declared document and its name, which nothing protects, was misread or typed otherwise; a person looks.
    """
    surname, given = declared.full_name.surname, declared.full_name.given_names
    zone = reading.mrz
    comparison = mrz.compare_name(surname, given, zone, reading.name_doubts())
    if comparison.level is not None:
        return []
    read = f"read as {zone.name_field!r}"
    if comparison.too_many:
        message = (
            f"The document's name ({read}) differs from the declared name only by look-alike characters, but in"
            f" {len(comparison.differences)} places: a person compares the image"
        )
        return [Reason(MRZ_MISMATCH_NAME, Outcome.REVIEW, message)]
    nearest = min(_distance(zone.name_field, form[: len(zone.name_field)]) for form in mrz.name_forms(surname, given))
    if nearest <= 2:
        message = f"The document's name ({read}) differs from the declared name by a letter or two (a misread?)"
        return [Reason(MRZ_MISMATCH_NAME, Outcome.REVIEW, message)]
    if protected_agree:
        message = (
            f"The document's name ({read}) differs from the declared name, but its number, birth date and expiry,"
            " confirmed by their check digits, are the declared ones: a person compares the image"
        )
        return [Reason(MRZ_MISMATCH_NAME, Outcome.REVIEW, message)]
    return [_mismatch(MRZ_MISMATCH_NAME, "name")]


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: small names, a small table."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _country(code: str) -> str:
    """'D<<' and 'D' are the same ICAO code (Germany)."""
    return code.rstrip("<")
