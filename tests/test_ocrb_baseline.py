"""The local engine's OCR-B cells placed by the line's baseline (devstack/ocrb.py, issue 19).

Every OCR-B glyph stands on the baseline; a digit rises higher than a letter, the filler stands above it.
A template placed by the line's top lands a few rows off on a line that is skewed or warped (the top of a
name line is its letters', of a number line its digits', and a tilt moves it along the line): the foot of an
E or a D falls outside the template. ``baseline_of`` fits the line's baseline under the glyphs the first look
was sure of; ``classify(..., baseline=...)`` stands every template on it at its own cell.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from devstack.ocrb import GLYPHS, Grid, baseline_of, by_baseline, classify
from tests.support.ocrb_lines import FONT, HEIGHT, line_font

pytestmark = pytest.mark.no_stack

WIDTH = 30  # a TD1 line: the rule is the same at 36 and 44


def line(text: str, tilt: float, drop: int) -> tuple[np.ndarray, Grid]:
    """``text`` printed in OCR-B at the engine's scale, ``drop`` rows lower, turned by ``tilt`` degrees."""
    font, advance, top = line_font()
    image = Image.new("L", (int(advance * len(text)) + 80, HEIGHT * 3), 255)
    draw = ImageDraw.Draw(image)
    for i, char in enumerate(text):
        draw.text((40 + i * advance, HEIGHT - top + drop), char, fill=0, font=font)
    image = image.rotate(tilt, resample=Image.BICUBIC, fillcolor=255)
    return np.asarray(image) < 128, Grid(40 + advance / 2, advance, len(text))


def read(ink: np.ndarray, grid: Grid, placed_by_baseline: bool) -> str:
    cells = classify(ink, grid, HEIGHT, FONT)
    if placed_by_baseline:
        assert baseline_of(ink, cells, grid.pitch, HEIGHT, FONT) is not None
        cells = by_baseline(ink, grid, cells, HEIGHT, FONT)
    return "".join(cell.best for cell in cells)


def test_a_skewed_name_line_is_read_by_its_baseline_and_was_not_by_its_top():
    text = "ERIKSSON<<ANNA<MARIA<DEBORAH<"
    ink, grid = line(text, tilt=0.8, drop=0)
    assert read(ink, grid, placed_by_baseline=True) == text
    assert read(ink, grid, placed_by_baseline=False) != text  # what the top-placed templates made of it


def test_the_baseline_is_where_the_glyphs_stand():
    ink, grid = line("I<UTOD231458907<<<<<<<<<<<<<<", tilt=0.0, drop=3)  # fillers carry it to the end
    fitted = baseline_of(ink, classify(ink, grid, HEIGHT, FONT), grid.pitch, HEIGHT, FONT)
    assert fitted is not None
    for cell in (0, 12, 29):  # under the I, the 9 and the last filler alike: the I's last row
        centre = grid.first_centre + cell * grid.pitch
        assert abs(fitted.at(centre) - last_row_of_ink(ink, grid.first_centre)) <= 1.5


def last_row_of_ink(ink: np.ndarray, centre: float) -> int:
    return int(np.nonzero(ink[:, int(centre - 6):int(centre + 6)].any(axis=1))[0][-1])


@settings(max_examples=5, deadline=None, derandomize=True)
@given(text=st.text(alphabet=GLYPHS, min_size=WIDTH, max_size=WIDTH).filter(lambda t: t.count("<") < WIDTH - 8),
       tilt=st.floats(-0.6, 0.6), drop=st.integers(0, 6))
def test_any_line_of_the_alphabet_skewed_or_lowered_is_read_exactly_by_its_baseline(text, tilt, drop):
    ink, grid = line(text, tilt, drop)
    assert read(ink, grid, placed_by_baseline=True) == text
