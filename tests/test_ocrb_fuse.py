"""The local engine's fusion of Tesseract with OCR-B cell matching (devstack/ocrb.py), on synthetic cells.

Two rules added for issue 9's read rate: where the two readers disagree on a character, the template's
own score of Tesseract's character decides; and a digit/letter look-alike both readers offered (0/O,
6/G, 8/B...) is settled by the glyph's height, since OCR-B's digits stand taller than its letters.
"""
from __future__ import annotations

import pytest

from devstack.ocrb import GLYPHS, Cell, fuse

pytestmark = pytest.mark.no_stack

DIGIT_TOP, LETTER_TOP = 4.0, 6.0


def cell(best: str, score: float = 0.9, runner_up: str = "<", runner_up_score: float = 0.5, top: float = -1.0,
         **others: float) -> Cell:
    scores = [0.3] * len(GLYPHS)
    for glyph, value in {runner_up: runner_up_score, **others, best: score}.items():
        scores[GLYPHS.index(glyph)] = value
    if top < 0:
        top = DIGIT_TOP if best.isdigit() else LETTER_TOP
    return Cell(0.0, best, score, runner_up, runner_up_score, False, tuple(scores), top)


def context() -> list[Cell]:
    """Confident digits and letters without look-alikes, so the line's two heights are known."""
    return [cell(c) for c in "UTA"] + [cell(c) for c in "34797"]


def test_the_template_wins_where_it_scores_tesseracts_character_clearly_lower():
    cells = [*context(), cell("O", 0.85, "0", 0.78, top=LETTER_TOP, D=0.70)]
    text, _ = fuse(cells, "UTA34797D")
    assert text[-1] == "O"


def test_tesseract_wins_where_the_template_hardly_prefers_its_own():
    cells = [*context(), cell("T", 0.80, "I", 0.78, top=LETTER_TOP, **{"7": 0.79})]
    text, _ = fuse(cells, "UTA347977")
    assert text[-1] == "7"


@pytest.mark.parametrize(("top", "expected"), [(DIGIT_TOP, "0"), (LETTER_TOP, "O"), (5.0, "O")])
def test_zero_or_oh_is_settled_by_the_glyphs_height(top, expected):
    """The template can hardly tell O from 0 (its scores 0.82 vs 0.81); the height can. Halfway: as read."""
    cells = [*context(), cell("O", 0.82, "0", 0.81, top=top)]
    text, _ = fuse(cells, "UTA34797O")
    assert text[-1] == expected


def test_six_or_g_is_settled_by_the_glyphs_height():
    cells = [*context(), cell("G", 0.83, "O", 0.75, top=DIGIT_TOP, **{"6": 0.74})]
    assert fuse(cells, "UTA347976")[0][-1] == "6"
    cells = [*context(), cell("G", 0.83, "O", 0.75, top=LETTER_TOP, **{"6": 0.74})]
    assert fuse(cells, "UTA347976")[0][-1] == "G"


def test_a_look_alike_nobody_read_is_not_invented():
    """A short O that neither reader took for a zero stays O; a tall 7 is no look-alike at all."""
    cells = [*context(), cell("O", 0.9, "Q", 0.7, top=DIGIT_TOP), cell("7", 0.9, "T", 0.6)]
    assert fuse(cells, "UTA34797O7")[0][-2:] == "O7"


def test_without_both_heights_on_the_line_nothing_is_settled_by_height():
    """A name line has no digits: its O stays as read."""
    cells = [cell(c) for c in "CARTER"] + [cell("O", 0.82, "0", 0.81, top=DIGIT_TOP)]
    assert fuse(cells, "CARTERO")[0] == "CARTERO"


def test_s_or_eight_in_a_name_is_tesseracts_the_template_cannot_tell_them():
    """ROSSI, not RO88I: the template's 8 beats its S by a hair, and a name line has no heights to go by."""
    cells = [cell(c) for c in "RO"] + [cell("8", 0.76, "S", 0.73), cell("8", 0.75, "S", 0.72), cell("I")]
    assert fuse(cells, "ROSSI")[0] == "ROSSI"


def test_a_character_tesseract_took_for_another_class_is_the_templates_when_clearly_scored():
    """A check digit 0 that Tesseract read as S (not a look-alike of 0): the template's 0 wins."""
    cells = [*context(), cell("0", 0.83, "O", 0.80, S=0.62)]
    assert fuse(cells, "UTA34797S")[0][-1] == "0"


def test_a_zero_short_as_a_letter_becomes_the_letter_the_template_scores_higher():
    """Offered as both O and Q, a 0 the height says is a letter is the template's O: never a coin toss
    (the offers are a set, whose order changes from one process to the next)."""
    cells = [*context(), cell("O", 0.87, "Q", 0.85, top=LETTER_TOP)]
    for _ in range(5):
        assert fuse(cells, "UTA347970")[0][-1] == "O"
