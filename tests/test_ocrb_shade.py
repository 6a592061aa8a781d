"""The local engine matches OCR-B cells on the line's shade, not only on the binarised line (devstack/ocrb.py,
issue 19).

Blur, glare and JPEG leave a stroke fainter than the rest of its glyph: the foot of an E. Binarised, the
foot is gone and the E is an F (the bench's most frequent name confusion). Matched on the line's grey
(``classify(..., shade=...)``: 0 paper .. 1 ink), the faint foot keeps part of its weight and the E stays
an E; a line printed clean reads the same either way.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from devstack.ocrb import GLYPHS, Grid, by_baseline, classify
from tests.support.ocrb_lines import FONT, HEIGHT, line_font

pytestmark = pytest.mark.no_stack

INK, PAPER = 0, 255


def printed(text: str, faint_feet: int = INK) -> tuple[np.ndarray, Grid]:
    """``text`` in OCR-B at the engine's scale (grey, 0 ink .. 255 paper); each E's foot (its last five rows of
    ink right of its stem) printed ``faint_feet`` grey instead of black."""
    font, advance, top = line_font()
    image = Image.new("L", (int(advance * len(text)) + 80, HEIGHT * 3), PAPER)
    draw = ImageDraw.Draw(image)
    for i, char in enumerate(text):
        draw.text((40 + i * advance, HEIGHT - top), char, fill=INK, font=font)
    grey = np.asarray(image).copy()
    for i, char in enumerate(text):
        if char == "E":
            x0, x1 = int(40 + i * advance + advance * 0.35), int(40 + (i + 1) * advance)
            rows = np.nonzero((grey[:, x0:x1] < 128).any(axis=1))[0]
            foot = grey[rows[-5]:rows[-1] + 1, x0:x1]
            foot[...] = np.maximum(foot, faint_feet)
    return grey, Grid(40 + advance / 2, advance, len(text))


def shade_of(grey: np.ndarray) -> np.ndarray:
    """As the engine ramps it: darker than a quarter of the way to paper is ink (1), lighter than three quarters
    is paper (0)."""
    dark, light = INK + 0.25 * (PAPER - INK), INK + 0.75 * (PAPER - INK)
    return np.clip((light - grey.astype(np.float32)) / (light - dark), 0.0, 1.0)


def read(grey: np.ndarray, grid: Grid, shaded: bool) -> str:
    ink = grey < 128  # the binarised line, as the engine thresholds it
    shade = shade_of(grey) if shaded else None
    cells = classify(ink, grid, HEIGHT, FONT, shade=shade)
    cells = by_baseline(ink, grid, cells, HEIGHT, FONT, shade=shade)
    return "".join(cell.best for cell in cells)


@pytest.mark.parametrize("foot", [140, 155])
def test_an_e_whose_foot_is_faint_is_read_e_on_the_shade_and_was_f_binarised(foot):
    text = "EERIKSSON<<ELENE<EVE<<<<<<<<<<"
    grey, grid = printed(text, faint_feet=foot)
    assert read(grey, grid, shaded=True) == text
    assert read(grey, grid, shaded=False) == text.replace("E", "F")  # the foot binarised away


@settings(max_examples=5, deadline=None, derandomize=True)
@given(text=st.text(alphabet=GLYPHS, min_size=30, max_size=30).filter(lambda t: t.count("<") < 22))
def test_any_line_printed_clean_reads_the_same_on_its_shade(text):
    grey, grid = printed(text)
    assert read(grey, grid, shaded=True) == text
