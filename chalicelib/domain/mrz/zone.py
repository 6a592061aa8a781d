"""A parsed zone: the fields of a well-shaped zone as printed, and which check digits agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from .layouts import ALLOWED, ALPHABET, FILLER, LAYOUTS, TD1, Check, Layout, check_data, check_digit


@dataclass(frozen=True)
class Mrz:
    """A zone's fields as printed (dates stay YYMMDD: the century is a rule, not a reading)."""

    layout: str
    lines: tuple[str, ...]
    document_code: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    name_field: str  # SURNAME<<GIVEN<NAMES without the padding
    name_truncated: bool  # no padding left: ICAO truncates long names so
    nationality: str
    birth_date: str
    sex: str
    expiry_date: str
    optional_data: str
    optional_data_2: str
    checks: Mapping[str, bool]

    @property
    def valid(self) -> bool:
        """Every check digit agrees."""
        return all(self.checks.values())

    @property
    def document_type(self) -> str:
        """'P' passport, 'I'/'A'/'C' identity cards, 'V' visa (the code's first letter)."""
        return self.document_code[:1]

    def to_dict(self) -> dict[str, object]:
        return {
            "layout": self.layout,
            "lines": list(self.lines),
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "surname": self.surname,
            "given_names": self.given_names,
            "nationality": self.nationality,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "expiry_date": self.expiry_date,
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
            "checks": dict(self.checks),
        }


def layout_for(lines: Sequence[str]) -> Optional[Layout]:
    """The layout whose shape (line count and width) the lines have exactly."""
    for layout in LAYOUTS:
        if len(lines) == layout.lines and all(len(line) == layout.width for line in lines):
            return layout
    return None


def parse(lines: Sequence[str]) -> Mrz:
    """Split a well-shaped zone into fields; check digits are reported, not enforced."""
    layout = layout_for(lines)
    if layout is None:
        raise ValueError("not an MRZ: expected 2x44 (TD3), 2x36 (TD2) or 3x30 (TD1) characters")
    bad = set("".join(lines)) - ALPHABET
    if bad:
        raise ValueError(f"not MRZ characters: {''.join(sorted(bad))!r}")
    raw = {span.name: lines[span.line][span.start : span.end] for span in layout.spans}
    number = raw["document_number"]
    if layout is TD1 and raw["document_number_check"] == FILLER:
        # ICAO 9303 part 5: a number over 9 characters continues in the optional
        # data, followed by its check digit.
        extension = raw["optional_data"].split(FILLER, 1)[0]
        number = number + extension[:-1]
    name_field = raw["names"]
    names = name_field.rstrip(FILLER)
    surname, _, given = names.partition(FILLER * 2)
    return Mrz(
        layout=layout.name,
        lines=tuple(lines),
        document_code=raw["document_code"].rstrip(FILLER) or FILLER,
        issuing_state=raw["issuing_state"].rstrip(FILLER),
        document_number=number.rstrip(FILLER),
        surname=_words(surname),
        given_names=_words(given),
        name_field=names,
        name_truncated=names == name_field,
        nationality=raw["nationality"].rstrip(FILLER),
        birth_date=raw["birth_date"],
        sex=raw["sex"],
        expiry_date=raw["expiry_date"],
        optional_data=raw["optional_data"].rstrip(FILLER),
        optional_data_2=raw.get("optional_data_2", "").rstrip(FILLER),
        checks={check.name: _check_ok(layout, check, lines) for check in layout.checks},
    )


def _words(text: str) -> str:
    return " ".join(word for word in text.split(FILLER) if word)


def _check_ok(layout: Layout, check: Check, lines: Sequence[str]) -> bool:
    """The check digit agrees with what it protects, and that is in its fields' alphabets (a letter in a date
    is no date, whatever its value sums to)."""
    if not _in_alphabet(layout, check, lines):
        return False
    data = check_data(check, lines)
    found = lines[check.digit[0]][check.digit[1]]
    if found == FILLER:
        if layout is TD1 and check.name == "document_number":
            return _td1_long_number_ok(lines)
        return check.may_be_filler and set(data) <= {FILLER}
    return found == check_digit(data)


def _in_alphabet(layout: Layout, check: Check, lines: Sequence[str]) -> bool:
    for line, start, end in check.over:
        for span in layout.spans:
            if span.line != line or span.end <= start or span.start >= end:
                continue
            allowed = ALLOWED[span.kind]
            if any(char not in allowed for char in lines[line][max(start, span.start) : min(end, span.end)]):
                return False
    return True


def _td1_long_number_ok(lines: Sequence[str]) -> bool:
    extension = lines[0][15:30].split(FILLER, 1)[0]
    if len(extension) < 2:
        return False
    return extension[-1] == check_digit(lines[0][5:14] + extension[:-1])
