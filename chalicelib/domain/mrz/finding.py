"""Finding the zone among everything OCR read on the page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Optional

from .layouts import CHECK, DIGITS, FILLER, LAYOUTS, NUM, Layout, plausible_yymmdd
from .reading import Reading
from .repairing import normalise_line, per_char, rank, repair


def _prose(raw: str) -> bool:
    """Printed text, not a zone: a zone is all capitals, so a line with many small letters is a label
    ("Date of birth / Date de naissance"), however long it is once normalised."""
    letters = [c for c in raw if c.isalpha()]
    return len(letters) >= 8 and sum(c.islower() for c in letters) * 4 > len(letters)


#: Where a layout has its dates and check digits, at least this share of what was read must be digits or
#: the letters OCR takes OCR-B digits for (O, Q, D for 0; I, L for 1; Z, S, B, G). A zone read however
#: badly has nearly all of them; printed labels of a zone's length ("DATE OF EXPIRY / DATE D'EXPIRATION")
#: have half at most, and repairing them letter by letter into a "valid" zone would both take minutes and
#: compare a label with the declaration.
MIN_DIGIT_SHARE = 0.7


_READ_AS_DIGITS = frozenset(DIGITS + "OQDILZSBG")


def _digits_where_digits_go(group: Sequence[str], layout: Layout) -> bool:
    read = [
        group[span.line][column]
        for span in layout.spans
        if span.kind in (NUM, CHECK)
        for column in range(span.start, min(span.end, len(group[span.line])))
        if group[span.line][column] != FILLER
    ]
    return bool(read) and sum(c in _READ_AS_DIGITS for c in read) >= MIN_DIGIT_SHARE * len(read)


def _mrz_like(line: str) -> bool:
    return len(line) >= 26 and (FILLER in line or sum(c.isdigit() for c in line) >= 6 or line[0] in "PIACV")


def find(lines: Sequence[str], confidences: Optional[Sequence[Sequence[float]]] = None) -> Optional[Reading]:
    """The best zone among all the lines OCR returned (any order of other text around it), or None.

    ``confidences`` (0..1), when given, holds per character or per line values
    (a single value per line is spread over it); low-confidence characters
    are cheaper to change, and each field's confidence is reported.
    """
    best: Optional[Reading] = None
    zone_at: tuple[int, int] = (0, 0)
    for layout in LAYOUTS:
        # A space may be a filler read badly or a gap OCR put between groups: the closer fit wins.
        normalised = [
            min((normalise_line(line, spaces) for spaces in (True, False)), key=lambda t: abs(len(t) - layout.width))
            for line in lines
        ]
        conf = [per_char(confidences[i] if confidences else None, len(t)) for i, t in enumerate(normalised)]
        for first in range(len(normalised) - layout.lines + 1):
            group = normalised[first : first + layout.lines]
            if not all(_mrz_like(line) for line in group) or any(
                _prose(line) for line in lines[first : first + layout.lines]
            ):
                continue
            if not _digits_where_digits_go(group, layout):
                continue
            if not all(abs(len(line) - layout.width) <= 2 for line in group):
                continue
            reading = repair(group, layout, conf[first : first + layout.lines])
            if reading is not None and (best is None or rank(reading) < rank(best)):
                best, zone_at = reading, (first, first + layout.lines)
    if best is None:
        return None
    return _hidden_twins(best, [line for i, line in enumerate(lines) if not zone_at[0] <= i < zone_at[1]])


def _hidden_twins(reading: Reading, page_text: Sequence[str]) -> Reading:
    """A document number whose check digit is satisfied by a misreading: a 0 whose top glare washed out read
    as U (U and 0 weigh 30 and 0: no check digit sees it; 053950237 read U5395U237), or garbled characters
    that satisfy it one time in ten (M00441251 read MUW44IZ51). The page prints the number a second time, in
    its visual zone: where OCR read there a number of the same length that differs from the zone's only
    where one has a letter and the other a digit (in half its characters at most: PASSEPORT is no number),
    the two readings contradict each other and the number is ambiguous (the zone is not valid: a person
    reads it) rather than a valid reading that may be wrong. A
    visual zone read the same, or not read, or read with another number, changes nothing: it never makes a
    zone valid, and never chooses the reading."""
    number = reading.mrz.document_number.rstrip(FILLER)
    if "document_number" in reading.ambiguous or len(number) < 6:
        return reading
    for line in page_text:
        for word in line.upper().split():
            word = word.strip(".,;:")
            if len(word) != len(number) or word == number:
                continue
            differ = [(a, b) for a, b in zip(number, word, strict=True) if a != b]
            if len(differ) * 2 > len(number) or not any(c.isdigit() for c in word):
                continue  # another word (PASSEPORT, a name): not the number read otherwise
            if all(a.isalpha() != b.isalpha() and (a.isdigit() or b.isdigit()) for a, b in differ):
                return replace(reading, ambiguous=(*reading.ambiguous, "document_number"))
    return reading


def find_in_text(text: str) -> Optional[Reading]:
    """Convenience: the zone in a block of text, one OCR line per text line."""
    return find([line for line in text.splitlines() if line.strip()])


def dates_plausible(values: Iterable[str]) -> bool:
    return all(plausible_yymmdd(v) for v in values)
