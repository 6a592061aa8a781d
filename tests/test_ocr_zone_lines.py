"""The local engine's zone finder keeps all three lines of a TD1 card on a busy background (devstack/zone_lines.py).

Issue 19, held-out seed 52903: on security printing a card's zone was found with two of its three lines --
a row of microprint between two lines merged into one of them (its top moved, its bottom not: the steps
between the lines' tops looked uneven) or, with the hairlines removed, stood between them as a thin row of
its own (no run of three consecutive rows of like height) -- and the reading fell back to another look or
lost the line. ICAO's lines sit at one pitch, of one length, from one left margin: that is what is asked.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import Image

from devstack import mrz_reader
from devstack.page_geometry import WORK_WIDTH, ink_map, text_angle, value_channel, without_hairlines
from devstack.textract import load_page
from devstack.zone_lines import Band, text_bands, zone_candidates
from tests.support.passports import Holder, Look, make_document

pytestmark = pytest.mark.no_stack

# A card of held-out seed 52903 (page 30 of 120): microprint rows run between its zone's lines.
CARD = Holder(surname="TOPCHI", given_names="Tamara Aleksandrovna", nationality="USA", issuing_state="USA",
              document_number="732030520", birth_date=dt.date(1991, 1, 2), sex="F",
              expiry_date=dt.date(2029, 2, 12), kind="id_card")
BUSY = Look(rotation=-2.5676197275017394, quality=63, fmt="jpeg", px_per_mm=10.0, seed=332435,
            background="security")


def _levelled(data: bytes) -> Image.Image:
    """The page as the engine looks for its zone: value channel, WORK_WIDTH wide, its text levelled."""
    gray = value_channel(load_page(data))
    scale = max(gray.size) / WORK_WIDTH
    small = gray.resize((int(gray.width / scale), int(gray.height / scale)), Image.LANCZOS)
    border = int(np.median(np.asarray(small)[0]))
    return small.rotate(text_angle(ink_map(small)), resample=Image.BICUBIC, expand=True, fillcolor=border)


@pytest.mark.parametrize("strictness,hairlines_off", mrz_reader.INK_LOOKS,
                         ids=[f"ink{s}-{'nohair' if h else 'all'}" for s, h in mrz_reader.INK_LOOKS])
def test_a_td1_card_on_security_printing_is_found_with_all_three_lines(strictness, hairlines_off):
    page = _levelled(make_document(CARD, BUSY))
    ink = ink_map(page, strictness=strictness)
    if hairlines_off:
        ink = without_hairlines(ink)
    bottom, upside_down = zone_candidates(text_bands(ink), page.width)[0]
    assert not upside_down
    assert len(bottom) == 3, [(b.top, b.bottom) for b in bottom]
    # the zone, at the card's foot: its last line is the page's last long line
    assert bottom[-1].bottom > 0.7 * page.height
    pitches = [b.bottom - a.bottom for a, b in zip(bottom, bottom[1:])]
    assert max(pitches) <= 1.2 * min(pitches)


def _line(top: int, height: int = 24, left: int = 100, right: int = 800) -> Band:
    return Band(top, top + height, left, right)


def test_a_row_of_microprint_merged_into_a_line_does_not_hide_the_third():
    # tops 434, 463, 509 (uneven: the middle line's top is the microprint's); bottoms 36 apart, as printed
    lines = [_line(434, 26), Band(463, 497, 70, 855), _line(509, 24)]
    assert zone_candidates(lines, 900)[0] == (lines, False)


def test_a_thin_row_between_a_cards_lines_is_passed_over():
    lines = [_line(434, 26), _line(463, 7), _line(471, 26), _line(509, 24)]
    assert zone_candidates(lines, 900)[0] == ([lines[0], lines[2], lines[3]], False)


def test_a_thin_row_is_passed_over_only_for_lines_of_one_height_pitch_and_margin():
    # a passport's two lines under a printed field of another margin: no zone of three
    field, thin, first, second = _line(381, 15, left=68), _line(404, 6), _line(420, 16, left=112), _line(460, 16)
    bottom, _ = zone_candidates([field, thin, first, second], 900)[0]
    assert bottom == [first, second]
