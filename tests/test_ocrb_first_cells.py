"""The local engine's first-cells backstop (devstack/ocrb.py, devstack/mrz_reader.py, issue 19).

A line's cells are tracked from its first cell on: each confident match places the next. The first cells have
no match before them, so where the grid is off at the line's start -- a phone photo in perspective whose
homography is extrapolated there, a pitch a little smaller over the first glyphs -- they are read a fraction
of a cell off (P read T, a number's first digits garbled, a cell slipped). Where the first cells disagree with
what the layout requires (``layout_misses``: a letter in a date, a digit in a country, a document code or
issuing state ICAO does not print), the line is read again tracked from its end (``classify(backward=True)``)
and on its own glyphs' grid, and the look that disagrees with the layout in fewest cells is kept. Check digits
are never asked.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from devstack.ocrb import Grid, classify, first_cells_wrong, kinds_of_line, layout_misses
from tests.support.ocrb_lines import FONT, HEIGHT, line_font

pytestmark = pytest.mark.no_stack

TD3_NAMES = "P<GBRCARTER<<EMILY<JANE<<<<<<<<<<<<<<<<<<<<<"
TD3_NUMBERS = "5334013724GBR9005171F3101013<<<<<<<<<<<<<<<2"
TD1_DATES = "9005171F3101013GBR<<<<<<<<<<<6"


@pytest.mark.parametrize(("text", "lines", "index", "missed"), [
    (TD3_NAMES, 2, 0, []),
    ("T<GBRCARTER<<EMILY<JANE<<<<<<<<<<<<<<<<<<<<<", 2, 0, [0]),  # P read T: no passport zone starts so
    ("P<GBTCARTER<<EMILY<JANE<<<<<<<<<<<<<<<<<<<<<", 2, 0, [2, 3, 4]),  # GBT: no ICAO code
    ("P<D<<CARTER<<EMILY<JANE<<<<<<<<<<<<<<<<<<<<<", 2, 0, []),  # Germany's D, padded
    ("P<GBRCARTER<<EMILY<JANE<<<<<<<<<<<<<<<<<<<<<"[:43], 2, 0, []),  # not a line of the layout: not judged
    (TD3_NUMBERS, 2, 1, []),
    ("53340137246BR9005171F3101013<<<<<<<<<<<<<<<2", 2, 1, [10]),  # a digit in the nationality
    ("5334013724GBR9OO5171F3101013<<<<<<<<<<<<<<<2", 2, 1, [14, 15]),  # letters in the birth date
    (TD1_DATES, 3, 1, []),
    ("9OO5171F3101013GBR<<<<<<<<<<<6", 3, 1, [1, 2]),
], ids=["td3-names", "code-T", "state-GBT", "state-D", "wrong-width", "td3-numbers", "nationality-digit",
        "birth-letters", "td1-dates", "td1-birth-letters"])
def test_layout_misses_are_the_cells_the_layout_does_not_allow(text, lines, index, missed):
    assert layout_misses(text, kinds_of_line(len(text), index, lines), index) == missed


def test_only_misses_among_the_first_cells_call_the_backstop():
    kinds = kinds_of_line(44, 1, 2)
    assert first_cells_wrong("5334013724GB89005171F3101013<<<<<<<<<<<<<<<2", kinds, 1)  # column 12
    assert not first_cells_wrong("5334013724GBR9005171F31O1013<<<<<<<<<<<<<<<2", kinds, 1)  # column 23: later
    assert not first_cells_wrong(TD3_NUMBERS, kinds, 1)


def squeezed_line(text: str, squeeze: float, first: int) -> tuple[np.ndarray, Grid]:
    """``text`` in OCR-B at the engine's scale, its first ``first`` glyphs ``squeeze`` times the pitch apart (the
    start of a line in perspective, flattened by a homography extrapolated there), and the grid a zone's
    glyphs would give it: the pitch of the rest of the line, from its last cell back."""
    font, advance, top = line_font()
    lefts = [i * advance * squeeze if i <= first else first * advance * squeeze + (i - first) * advance
             for i in range(len(text))]
    image = Image.new("L", (int(lefts[-1] + advance) + 80, HEIGHT * 3), 255)
    draw = ImageDraw.Draw(image)
    for left, char in zip(lefts, text, strict=True):
        draw.text((40 + left, HEIGHT - top), char, fill=0, font=font)
    last = 40 + lefts[-1] + advance / 2
    return np.asarray(image) < 128, Grid(last - (len(text) - 1) * advance, advance, len(text))


def test_a_line_squeezed_at_its_start_is_read_from_its_end_and_was_not_from_its_start():
    ink, grid = squeezed_line(TD3_NUMBERS, squeeze=0.93, first=10)
    forward = "".join(cell.best for cell in classify(ink, grid, HEIGHT, FONT))
    backward = "".join(cell.best for cell in classify(ink, grid, HEIGHT, FONT, backward=True))
    assert backward == TD3_NUMBERS
    assert forward[:10] != TD3_NUMBERS[:10]  # what tracking from the first cell made of it


def test_a_line_on_its_grid_reads_the_same_either_way():
    ink, grid = squeezed_line(TD3_NAMES, squeeze=1.0, first=0)
    cells = classify(ink, grid, HEIGHT, FONT)
    again = classify(ink, grid, HEIGHT, FONT, backward=True)
    assert "".join(c.best for c in cells) == "".join(c.best for c in again) == TD3_NAMES
    assert max(abs(a.centre - b.centre) for a, b in zip(cells, again, strict=True)) <= 1.5  # a pixel's rounding
