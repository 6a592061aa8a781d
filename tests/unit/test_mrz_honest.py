"""Honest repair (issue 19): a repair changes only what OCR was unsure of, never a check digit, and never turns
a zone whose check digits fail as printed into a valid one; where two readings fit equally, it picks neither."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import mrz
from tests.support.passports import Holder, mrz_lines

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_NAME = st.text(alphabet="ABDFGHJMNOPRTUVWY", min_size=2, max_size=12)
_DATE = st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2045, 12, 31))


@st.composite
def _number(draw) -> str:
    """Real numbers: digits, often a letter or two in front, sometimes letters anywhere (L898902C3)."""
    body = draw(st.text(alphabet=_DIGITS, min_size=5, max_size=8))
    shape = draw(st.sampled_from(["digits", "prefix", "anywhere"]))
    if shape == "prefix":
        return draw(st.text(alphabet=_LETTERS, min_size=1, max_size=2)) + body[:7]
    if shape == "anywhere":
        chars = list(body)
        for _ in range(draw(st.integers(1, 3))):
            chars[draw(st.integers(0, len(chars) - 1))] = draw(st.sampled_from(_LETTERS))
        return "".join(chars)
    return body


@st.composite
def holders(draw) -> Holder:
    kind = draw(st.sampled_from(["passport", "id_card", "td2"]))
    optional = draw(st.sampled_from(["", "", draw(st.text(alphabet=_DIGITS + _LETTERS, min_size=3, max_size=7))]))
    return Holder(
        surname=draw(_NAME), given_names=" ".join(draw(st.lists(_NAME, min_size=0, max_size=2))),
        nationality=draw(st.sampled_from(["GBR", "FRA", "D", "UTO", "NLD", "USA", "CHN", "KOR"])),
        issuing_state=draw(st.sampled_from(["GBR", "FRA", "D", "UTO"])),
        document_number=draw(_number()), birth_date=draw(_DATE), sex=draw(st.sampled_from("MF<")),
        expiry_date=draw(_DATE), kind=kind, optional_data=optional if kind != "td2" else "",
    )


def _digit_positions(layout: mrz.Layout, lines: list[str]) -> list[mrz.Check]:
    return [check for check in layout.checks if lines[check.digit[0]][check.digit[1]].isdigit()]


@settings(max_examples=300, deadline=None)
@given(holders(), st.data())
def test_a_zone_with_one_check_digit_altered_is_never_valid(holder, data):
    lines = mrz_lines(holder)
    layout = mrz.BY_NAME[holder.layout]
    check = data.draw(st.sampled_from(_digit_positions(layout, lines)))
    row, column = check.digit
    printed = lines[row][column]
    altered = data.draw(st.sampled_from([d for d in _DIGITS if d != printed]))
    lines[row] = lines[row][:column] + altered + lines[row][column + 1:]
    confidence = data.draw(st.sampled_from([None, 0.97, 0.85]))  # as sure as OCR usually says it is
    reading = mrz.find(lines, None if confidence is None else [[confidence]] * len(lines))
    assert reading is not None
    assert not reading.valid, (lines, reading.mrz.lines, reading.repairs)
    assert check.name in reading.failed_checks
    assert not any(r.why == "lookalike" and (r.line, r.column) == check.digit for r in reading.repairs)
    assert reading.mrz.lines[row][column] == altered  # a check digit read as a digit is never rewritten


# --- OCR-style confusions, injected where no check digit is ---------------------------------------------

_DIGIT_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"}
_LETTER_TO_DIGIT = {"O": "0", "I": "1", "Z": "2", "S": "5", "B": "8", "G": "0", "D": "0", "Q": "0"}
_DIGIT_SWAPS = {"0": "86", "1": "47", "3": "8", "5": "6", "6": "5", "8": "3", "9": "8", "7": "1"}


def _confuse(lines: list[str], layout: mrz.Layout, rng: random.Random) -> tuple[list[str], list[list[float]]]:
    """What an OCR engine does where it is unsure: look-alikes of the wrong alphabet, twins in numbers, digit
    swaps it gives a low confidence, K for the padding. Check digits themselves are left as printed."""
    chars = [list(line) for line in lines]
    conf = [[0.95] * len(line) for line in lines]
    check_digits = {check.digit for check in layout.checks}
    sure_twins: set[str] = set()
    for span in layout.spans:
        for column in range(span.start, span.end):
            if (span.line, column) in check_digits or rng.random() > 0.15:
                continue
            char = chars[span.line][column]
            if span.kind == mrz.NUM and char in _DIGIT_TO_LETTER:
                chars[span.line][column] = _DIGIT_TO_LETTER[char]  # cannot stand: sure or not
            elif span.kind == mrz.NUM and char in _DIGIT_SWAPS:
                chars[span.line][column] = rng.choice(_DIGIT_SWAPS[char])
                conf[span.line][column] = 0.3  # an in-alphabet misread OCR was unsure of
            elif span.kind == mrz.ALNUM and char in _DIGIT_TO_LETTER and rng.random() < 0.5:
                chars[span.line][column] = _DIGIT_TO_LETTER[char]
                # A twin: OCR may or may not say so -- once a field: a check digit catches any one error, but
                # two or three sure ones can cancel out, which nothing could tell. 6/G (equal modulo 10: no
                # check digit sees it) only OCR's own doubt can reveal.
                sure_twin = char != "6" and span.name not in sure_twins and rng.random() < 0.5
                conf[span.line][column] = 0.95 if sure_twin else 0.3
                sure_twins |= {span.name} if sure_twin else set()
            elif span.kind == mrz.NAME and char in _LETTER_TO_DIGIT:
                chars[span.line][column] = _LETTER_TO_DIGIT[char]  # G read as 0, S as 5 ...
            elif span.kind == mrz.NAME and char == "<" and span.end - 4 < column < span.end - 1 and set(
                    chars[span.line][column - 1:span.end]) <= {"<"}:  # two Ks or more, after a filler
                # (a lone letter after one filler could be an initial: the rule keeps it, and so it should)
                chars[span.line][column:span.end] = ["K"] * (span.end - column)  # the padding's end read as KKK
    return ["".join(row) for row in chars], conf


def _explained(reading: mrz.Reading, truth: list[str]) -> bool:
    """Every character equals the printed one, or is a name character the reading itself reports uncertain
    with the printed letter among what it could be."""
    doubts = {(u.line, u.column): u.could_be for u in reading.uncertain}
    return all(
        mine == theirs or theirs in doubts.get((row, column), "")
        for row, (read_line, printed_line) in enumerate(zip(reading.mrz.lines, truth, strict=True))
        for column, (mine, theirs) in enumerate(zip(read_line, printed_line, strict=True))
    )


@settings(max_examples=300, deadline=None)
@given(holders(), st.randoms(use_true_random=False))
def test_ocr_confusions_are_recovered_or_flagged_never_read_as_another_valid_zone(holder, rng):
    truth = mrz_lines(holder)
    layout = mrz.BY_NAME[holder.layout]
    confused, confidence = _confuse(truth, layout, rng)
    reading = mrz.find(confused, confidence)
    assert reading is not None
    if reading.valid:
        assert _explained(reading, truth), (confused, reading.mrz.lines, reading.repairs)


@settings(max_examples=150, deadline=None)
@given(holders())
def test_a_zone_read_exactly_comes_back_exactly_and_unrepaired(holder):
    lines = mrz_lines(holder)
    reading = mrz.find(lines)
    assert reading is not None and reading.valid and reading.mrz.lines == tuple(lines)
    assert reading.repairs == () and reading.uncertain == ()


# --- the cases the outside run found ---------------------------------------------------------------------


def test_the_number_check_digit_altered_is_not_repaired_by_rewriting_the_number_and_the_composite():
    holder = Holder(document_number="L898902C3", surname="Eriksson", given_names="Anna Maria")
    lines = mrz_lines(holder)
    assert lines[1][9] == "6"
    altered = [lines[0], lines[1][:9] + "1" + lines[1][10:]]  # '6' printed as '1'
    reading = mrz.find(altered)
    assert reading is not None and not reading.valid
    assert reading.mrz.document_number == "L898902C3"  # the number stays as printed
    assert reading.failed_checks == ("document_number", "composite")
    assert reading.repairs == ()


def test_a_check_digit_read_as_a_letter_is_read_by_its_shape_not_by_what_would_pass():
    lines = mrz_lines(Holder(document_number="533401372"))
    number_check = lines[1][9]
    assert number_check == "0"
    as_o = [lines[0], lines[1][:9] + "O" + lines[1][10:]]
    reading = mrz.find(as_o)
    assert reading is not None and reading.valid and reading.mrz.lines == tuple(lines)
    as_b = [lines[0], lines[1][:9] + "B" + lines[1][10:]]  # B is 8 (or 3) by its shape: never 0
    reading = mrz.find(as_b)
    assert reading is not None and not reading.valid and reading.mrz.lines[1][9] == "8"


def test_two_readings_that_fit_equally_are_a_coin_toss_left_as_read():
    """Bs at a date's first two places could be 88 or 33: both satisfy its check digit and the composite."""
    holder = Holder(birth_date=dt.date(1933, 5, 17))  # 330517
    lines = mrz_lines(holder)
    assert lines[1][13:19] == "330517"
    read = [lines[0], lines[1][:13] + "BB" + lines[1][15:]]
    reading = mrz.find(read)
    assert reading is not None and not reading.valid
    assert "birth_date" in reading.ambiguous and reading.mrz.birth_date == "BB0517"


@pytest.mark.parametrize("letter", ["G", "S", "B", "O", "I", "Z"])
def test_a_digit_in_a_name_is_reported_uncertain_with_the_letters_it_could_be(letter):
    digit = {"G": "0", "S": "5", "B": "8", "O": "0", "I": "1", "Z": "2"}[letter]
    holder = Holder(surname="Liu", given_names=f"Ya{letter}n")
    lines = mrz_lines(holder)
    column = lines[0].index(f"YA{letter}N") + 2
    read = [lines[0][:column] + digit + lines[0][column + 1:], lines[1]]
    reading = mrz.find(read)
    assert reading is not None and reading.valid
    (doubt,) = reading.uncertain
    assert (doubt.line, doubt.column, doubt.found) == (0, column, digit) and letter in doubt.could_be
    assert mrz.name_agreement("Liu", f"Ya{letter}n", reading.mrz, reading.name_doubts()) in ("exact", "lookalike")
    assert mrz.name_agreement("Liu", "Yaxn", reading.mrz, reading.name_doubts()) is None


def test_a_letter_read_as_another_letter_is_not_a_lookalike_of_the_declared_name():
    """JAMEB is not JAMES: B was read as a letter, so nothing says it could be an S: another person's name."""
    reading = mrz.find(mrz_lines(Holder(surname="Jameb", given_names="Anna")))
    assert reading is not None and reading.uncertain == ()
    assert mrz.name_agreement("James", "Anna", reading.mrz, reading.name_doubts()) is None
