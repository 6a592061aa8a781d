"""The local engine's glyph grid: each glyph's cell, and the zone's line spacing (devstack/page_geometry.py).

Two causes of the misses at a line's first cells (issue 19, tuning seed 7001 of bench/_ocr_misses.py):

- on a page with few pixels two glyphs merge into one run of ink narrow enough to pass for one; its centre
  sits half a cell off the grid, the walk along the line rounded that step either way and every glyph after
  it sat a cell off. The homography fitted to those cells stretched the line unevenly, so the first cells
  were read a third of a cell off (a 600 px page's 938 read LIT);
- the line spacing was measured at each line's first glyph found (not the same cell on two lines) against
  a pitch taken over the whole line, so a card in perspective came out four fifths of its height in the
  flat zone, and 2 scored as R, 3 as S.
"""
from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import mrz
from devstack.page_geometry import _spacing_in_pitches, walk_cells
from tests.support.passports import Holder, Look, make_document, mrz_lines

pytestmark = pytest.mark.no_stack


def test_a_merged_pair_half_a_cell_off_the_grid_does_not_move_the_cells_after_it():
    pitch = 20.0
    centres = [10 + pitch * i for i in range(12)]
    centres[5] += pitch * 0.5  # cells 5 and 6 merged into one run: its centre between them
    del centres[6]
    kept, indexes, _ = walk_cells(centres, pitch * 1.03)
    assert [round((centres[k] - 10) / pitch) for k in kept] == indexes  # every kept glyph in its own cell
    assert indexes[-1] == 11 and 4 not in [indexes[i] - indexes[i - 1] for i in range(1, len(indexes))]


def test_a_first_glyph_off_the_grid_is_dropped_and_the_walk_starts_at_the_next():
    pitch = 20.0
    centres = [10 + pitch * 0.5] + [10 + pitch * i for i in range(2, 14)]
    kept, indexes, _ = walk_cells(centres, pitch)
    assert kept[0] == 1 and indexes == list(range(len(kept)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(pitch=st.floats(12.0, 40.0), growth=st.floats(-0.004, 0.004), cells=st.integers(20, 44),
       merged=st.integers(1, 18), skipped=st.sets(st.integers(1, 43), max_size=6), jitter=st.floats(0.0, 0.08))
def test_cells_are_counted_exactly_along_a_line_in_perspective(pitch, growth, cells, merged, skipped, jitter):
    """A pitch changing along the line (perspective), glyphs missing (fillers merged into runs, not counted),
    small jitter, and one merged pair half a cell off: every glyph kept is in its own cell."""
    def x(i: float) -> float:
        return pitch * i * (1 + growth * i)

    present = [i for i in range(cells) if i == 0 or i not in skipped]
    pair = merged if merged in present and merged + 1 in present else None
    centres: list[float] = []
    truth: list[int | None] = []
    for n, i in enumerate(present):
        if pair is not None and i == pair + 1:
            continue  # merged into the run before it
        wobble = jitter * pitch * (1 if n % 2 else -1)
        centres.append(x(i + 0.5 if i == pair else i) + wobble)  # a merged pair's centre lies between its cells
        truth.append(None if i == pair else i)
    kept, indexes, _ = walk_cells(centres, pitch)
    assert all(truth[k] is not None for k in kept)  # the merged centre is dropped
    assert [truth[k] - truth[kept[0]] for k in kept] == indexes  # type: ignore[operator]


def _glyphs(count: int, pitch: float, tilt: float, y0: float, first: int) -> list[tuple[int, float, float]]:
    """A line's glyphs from cell ``first`` on: (cell, x, y), the line turned by ``tilt`` radians."""
    return [(i, 50 + i * pitch * math.cos(tilt), y0 + i * pitch * math.sin(tilt) + (0.8 if i % 3 else -0.6))
            for i in range(first, count)]


@pytest.mark.parametrize("tilt_degrees", [0.0, 1.5, -2.0])
def test_the_line_spacing_is_measured_at_the_same_cell_of_each_line(tilt_degrees):
    pitch, spacing, count = 19.8, 1.535, 30  # a card's lines, 3.9 mm apart at a 2.54 mm pitch
    tilt = math.radians(tilt_degrees)
    lines = [(k, (count, _glyphs(count, pitch, tilt, 100 + k * spacing * pitch, first)))
             for k, first in ((0, 0), (1, 6), (2, 2))]  # each line's first glyph found at another cell
    assert abs(_spacing_in_pitches(lines, count) / spacing - 1) < 0.03


# Two pages of the tuning seed (7001) that these fixes read and the engine before them did not.
_LOW_RES = (Holder(surname="Zhukova", given_names="Roman", nationality="D", issuing_state="D",
                   document_number="938357771", birth_date=dt.date(1975, 2, 27), sex="M",
                   expiry_date=dt.date(2033, 5, 10)),
            Look(rotation=2.6592624251243615, blur=0.6, quality=73, fmt="png", px_per_mm=10.0, seed=825232,
                 width_px=600))
_CARD = (Holder(kind="id_card", surname="Pacheco", given_names="Albina", nationality="NLD", issuing_state="NLD",
                document_number="932884921", birth_date=dt.date(1979, 10, 12), sex="F",
                expiry_date=dt.date(2031, 9, 26)),
         Look(rotation=5.502297307677557, blur=0.6, quality=50, fmt="jpeg", px_per_mm=8.0, seed=411693,
              background="security", perspective=0.6796865106346388, shadow=0.22508021948884205, orientation=270,
              exif=True))


@pytest.mark.parametrize(("holder", "look"), [_LOW_RES, _CARD], ids=["600px-merged-glyphs", "td1-perspective"])
def test_the_tuning_pages_are_read_exactly(holder, look):
    from devstack.mrz_reader import read_page
    from devstack.textract import load_page

    reading = read_page(load_page(make_document(holder, look)), page_text=False)
    lines = [line.text for line in reading.lines]
    assert lines[-len(mrz_lines(holder)):] == list(mrz_lines(holder))  # as the engine read it, before repair
    found = mrz.find(lines, [[line.confidence / 100] for line in reading.lines])
    assert found is not None and found.valid
