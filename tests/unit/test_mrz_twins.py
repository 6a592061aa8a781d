"""A digit/letter twin in a document number (issue 19): a letter read among a number's digits is turned into its
twin digit when that alone satisfies the check digit and the composite as printed, even where putting a letter
among the digits elsewhere would too -- but never by changing a check digit, and readings as likely as each
other stay a coin toss."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import mrz
from tests.support.passports import Holder, mrz_lines

_TWIN_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B"}  # 6/G weigh the same: no check digit sees it


def _read(lines: list[str], row: int, column: int, char: str) -> list[str]:
    out = list(lines)
    out[row] = out[row][:column] + char + out[row][column + 1:]
    return out


def test_a_5_read_as_s_among_the_digits_is_settled_by_the_check_digit():
    """Seed 91019's page 2 (background, 8 px/mm): U22852144 read U228S2144. S->5 satisfies the check digit and
    the composite; so would 2->Z, 8->B or 1->I, but each of those puts a letter among digits."""
    lines = mrz_lines(Holder(document_number="U22852144"))
    read = _read(lines, 1, 4, "S")
    reading = mrz.find(read, [[0.9]] * 2)
    assert reading is not None and reading.valid, reading
    assert reading.mrz.lines == tuple(lines)
    assert [(r.line, r.column, r.found, r.repaired, r.why) for r in reading.repairs] == [
        (1, 4, "S", "5", "lookalike")
    ]


def test_the_same_misread_with_its_check_digit_printed_wrong_still_fails():
    """The repair may not make a failing check digit pass: the number's check digit altered, no twin of the
    number's characters satisfies it and the composite together, so the page is MRZ_CHECK_DIGIT."""
    lines = mrz_lines(Holder(document_number="U22852144"))
    assert lines[1][9] == "4"
    for altered in "012356789":
        read = _read(_read(lines, 1, 4, "S"), 1, 9, altered)
        reading = mrz.find(read, [[0.9]] * 2)
        assert reading is not None and not reading.valid, (altered, reading.mrz.lines)
        # 3 is U228S2144's own check digit: the number then passes as read and the composite says it is not
        assert reading.failed_checks in (("document_number",), ("composite",), ("document_number", "composite"))
        assert "document_number" in reading.failed_checks or altered == "3"
        assert reading.mrz.lines[1][9] == altered and reading.mrz.document_number == "U228S2144"


def test_a_letter_printed_among_the_digits_and_read_as_its_digit_stays_a_coin_toss():
    """U228S2144 printed, its S read as 5: putting a letter back among the digits (5->S, 2->Z...) is as likely
    one place as another, and more than one satisfies the check digit: left as read, not valid."""
    lines = mrz_lines(Holder(document_number="U228S2144"))
    reading = mrz.find(_read(lines, 1, 4, "5"), [[0.9]] * 2)
    assert reading is not None and not reading.valid
    assert "document_number" in reading.ambiguous
    assert reading.mrz.document_number == "U22852144"


@st.composite
def _numbered(draw) -> tuple[Holder, int]:
    """A number of a letter or two and digits, and a place in its digits holding a digit with a letter twin."""
    prefix = draw(st.text(alphabet="ACEFHKLMNPRTVXY", min_size=0, max_size=2))
    digits = draw(st.text(alphabet="0123456789", min_size=7 - len(prefix), max_size=9 - len(prefix)))
    number = prefix + digits
    places = [i for i, c in enumerate(number) if i >= len(prefix) and c in _TWIN_LETTER]
    if not places:
        number = number[:-1] + "5"
        places = [len(number) - 1]
    kind = draw(st.sampled_from(["passport", "id_card", "td2"]))
    return Holder(document_number=number, kind=kind), draw(st.sampled_from(places))


@settings(max_examples=300, deadline=None)
@given(_numbered(), st.sampled_from([None, 0.97, 0.85]))
def test_a_digit_read_as_its_twin_letter_is_recovered_or_flagged_never_another_valid_number(case, confidence):
    holder, place = case
    lines = mrz_lines(holder)
    layout = mrz.BY_NAME[holder.layout]
    check = next(c for c in layout.checks if c.name == "document_number")
    ((row, start, _),) = check.over
    printed = lines[row][start + place]
    read = _read(lines, row, start + place, _TWIN_LETTER[printed])
    reading = mrz.find(read, None if confidence is None else [[confidence]] * len(read))
    assert reading is not None
    assert not reading.valid or reading.mrz.lines == tuple(lines), (read, reading.mrz.lines, reading.repairs)


@pytest.mark.parametrize("number", ["533401372", "L898902C3", "X08074361"], ids=["digits", "specimen", "prefix"])
def test_a_number_read_exactly_is_never_repaired(number):
    lines = mrz_lines(Holder(document_number=number))
    reading = mrz.find(lines, [[0.9]] * 2)
    assert reading is not None and reading.valid and reading.repairs == ()


# A misread that satisfies the check digits: the visual zone's number contradicts it (mrz.finding._hidden_twins).
_GARBLED = ("M00441251", "MUW44IZ51")  # seed 133452's page 93 (background): four characters off, check digit kept
_WASHED = ("053950237", "U5395U237")  # tuning seed 24680's page 69: 0 read U under glare (U and 0 weigh 30, 0)


@pytest.mark.parametrize(("printed", "read"), [_GARBLED, _WASHED], ids=["garbled", "0-read-U"])
def test_a_valid_misread_number_contradicted_by_the_visual_zone_is_ambiguous(printed, read):
    lines = mrz_lines(Holder(kind="id_card", document_number=printed))
    misread = [lines[0].replace(printed, read), *lines[1:]]
    alone = mrz.find(misread)
    assert alone is not None and alone.valid  # the check digits cannot see it: wrong but valid, as before
    beside = mrz.find(["Document No.", printed, *misread])
    assert beside is not None and not beside.valid and beside.ambiguous == ("document_number",)
    assert beside.mrz.lines == tuple(misread)  # nothing chosen: left as read, for a person


@pytest.mark.parametrize("visual", [["Document No.", "C01X00T47"], ["IDENTITY CARD / CARTE D'IDENTITÉ", "PASSEPORT",
                                                                       "17 MAR 2031", "EMILY JANE"], []],
                         ids=["read-the-same", "other-text", "none"])
def test_a_number_with_letters_among_its_digits_read_exactly_stays_valid(visual):
    lines = mrz_lines(Holder(kind="id_card", document_number="C01X00T47"))  # ICAO's German specimen: L, T, X
    reading = mrz.find([*visual, *lines])
    assert reading is not None and reading.valid and reading.ambiguous == ()
