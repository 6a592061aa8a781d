"""Fixed-pitch reading of an MRZ line in OCR-B: cells and glyph templates.

ICAO 9303 prints the MRZ in OCR-B at a fixed pitch, so a line is a row of
equal cells. Tesseract's English model was never trained on the filler
``<`` (it reads it as K, S, C or E, and loses count in long runs); matching
each cell against OCR-B's own glyphs recognises it reliably and tells how
many characters the line has. The local Textract fuses this with
Tesseract's reading (see ``devstack.textract``). Dev only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .page_geometry import walk_cells

GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
WIDTHS = (44, 36, 30)


@dataclass(frozen=True)
class Cell:
    """One character position: its centre column in the line image, best glyph and score (NCC -1..1)."""

    centre: float
    best: str
    score: float
    runner_up: str
    runner_up_score: float
    blank: bool
    scores: tuple[float, ...] = ()  # every glyph's score, in GLYPHS order
    top: float = -1.0  # the first inked row of the cell in the line image (-1: none)

    def score_of(self, glyph: str) -> float:
        index = GLYPHS.find(glyph)
        return self.scores[index] if self.scores and index >= 0 else -1.0


@dataclass(frozen=True)
class Grid:
    first_centre: float
    pitch: float
    count: int


def _segments(binary: Any) -> list[tuple[int, int]]:
    """Runs of columns with ink: characters, sometimes two touching ones."""
    columns = binary.sum(axis=0) > 0
    runs, start = [], None
    for x, on in enumerate(list(columns) + [False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            runs.append((start, x))
            start = None
    return runs


def fit_grid(binary: Any, height: int) -> Optional[Grid]:
    """The fixed pitch and first cell, from the characters' centres.

    Gaps between neighbours are whole multiples of the pitch; walking the
    line neighbour to neighbour (never rounding a long distance) gives each
    character its index, and a least-squares line through (index, centre)
    the pitch and the first cell.
    """
    runs = [r for r in _segments(binary) if r[1] - r[0] >= max(2, height * 0.12)]
    if len(runs) < 10:
        return None
    widths = sorted(r[1] - r[0] for r in runs)
    typical = widths[len(widths) // 2]
    singles = [r for r in runs if r[1] - r[0] <= typical * 1.4]
    centres = [(a + b) / 2 for a, b in singles]
    diffs = np.diff(centres)
    plausible = diffs[(diffs > height * 0.45) & (diffs < height * 1.4)]
    if len(plausible) < 5:
        return None
    kept, indexes, _ = walk_cells(centres, float(np.median(plausible)))  # a merged pair is not a cell
    centres = [centres[k] for k in kept]
    slope, intercept = np.polyfit(indexes, centres, 1)
    pitch, first = float(slope), float(intercept)
    ink_left, ink_right = runs[0][0], runs[-1][1]
    first -= round((first - (ink_left + typical / 2)) / pitch) * pitch
    count = int(round((ink_right - typical / 2 - first) / pitch)) + 1
    for width in WIDTHS:
        if abs(count - width) <= 1:
            count = width
            break
    return Grid(first, pitch, count)


@functools.lru_cache(maxsize=64)
def _templates(cell_width: int, height: int, font_path: str) -> tuple[Any, Any]:
    """Each glyph rendered in a cell the size of the page's cells, its tallest glyphs ``height`` high."""
    probe = ImageFont.truetype(font_path, 100)
    left, top, right, bottom = probe.getbbox("0")
    size = max(6, int(round(100 * height / max(1, bottom - top))))
    font = ImageFont.truetype(font_path, size)
    _, top, _, _ = font.getbbox("0")
    advance = font.getlength("0")
    canvas_w = cell_width
    images, masks = [], []
    for glyph in GLYPHS:
        image = Image.new("L", (canvas_w, height + 4), 0)
        ImageDraw.Draw(image).text(((canvas_w - advance) / 2, 2 - top), glyph, fill=255, font=font)
        array = np.asarray(image, dtype=np.float32) / 255.0
        images.append(array)
        masks.append(array > 0.5)
    return np.stack(images), np.stack(masks)


@functools.lru_cache(maxsize=16)
def natural_pitch(height: int, font_path: str) -> float:
    """OCR-B's advance (the MRZ's pitch) where its digits are ``height`` high, as the templates are drawn."""
    probe = ImageFont.truetype(font_path, 100)
    _, top, _, bottom = probe.getbbox("0")
    return float(ImageFont.truetype(font_path, max(6, int(round(100 * height / max(1, bottom - top))))).getlength("0"))


def text_rows(ink: Any) -> tuple[int, int]:
    """The line's own rows: the longest run of inked rows (bits of the neighbouring lines are shorter runs)."""
    profile = ink.sum(axis=1)
    on = profile > max(1, profile.max() * 0.08)
    best, start = (0, ink.shape[0]), None
    longest = 0
    for y, value in enumerate(list(on) + [False]):
        if value and start is None:
            start = y
        elif not value and start is not None:
            if y - start > longest:
                longest, best = y - start, (start, y)
            start = None
    return best


def _normalised(rows: Any) -> Any:
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-6)


def classify(ink: Any, grid: Grid, height: int, font_path: str,
             baseline: Optional[Baseline] = None, shade: Any = None, backward: bool = False) -> list[Cell]:
    """Each cell against every glyph (normalised correlation), over small shifts for residual misalignment.

    Without ``baseline`` each template's glyph top is placed at the line's top, give or take three rows (a
    name line's top is its letters', a number line's its digits'). With ``baseline`` (from ``baseline_of``)
    every template stands on the baseline at its cell,
    give or take a row, as OCR-B's glyphs do on the page: a letter's template cannot rise to a digit's top,
    and a skewed or warped line's cells are each placed where their own glyph stands.

    ``shade`` (the line's grey, 0 paper .. 1 ink, the shape of ``ink``): the templates are matched on it, so a
    stroke left faint keeps part of its weight; rows, blanks and ink tops are still judged on ``ink``.

    ``backward``: the line is tracked from its last cell to its first, so the first cells are placed by the
    confident matches after them (the first-cells backstop, ``first_cells_wrong``); the cells are returned in
    the line's order either way.
    """
    cell_w = int(round(grid.pitch))
    templates, _ = _templates(cell_w, height, font_path)
    count_t, th, tw = templates.shape
    flat_templates = _normalised(templates.reshape(count_t, -1))
    top, bottom = text_rows(ink)
    pad = max(2, int(grid.pitch * 0.12))
    first_row = max(0, top - 4)
    inked = np.pad(ink[first_row:bottom + 4], ((th, th), (tw + pad, tw + pad)))
    band = inked.astype(np.float32) if shade is None else np.pad(
        np.asarray(shade, dtype=np.float32)[first_row:bottom + 4], ((th, th), (tw + pad, tw + pad)))
    offset_y = th + min(top, 4) - 2  # where a template's glyph top (row 2) meets the text's top
    reach = 3
    base_row = _template_rows(cell_w, height, font_path)[0]
    cells = []
    # Track the line: each confident match corrects where the next cell is, so a pitch a
    # little off (long filler runs give few clean characters to fit it on) does not drift.
    pitch = grid.pitch
    step = -1 if backward else 1
    predicted = grid.first_centre + (grid.count - 1) * grid.pitch if backward else grid.first_centre
    last_match: Optional[tuple[int, float]] = None
    for i in range(grid.count - 1, -1, -1) if backward else range(grid.count):
        centre = predicted
        x0 = int(round(centre - tw / 2)) + tw + pad
        windows, shifts = [], []
        if baseline is not None:  # the template's last row of ink on the baseline at this cell, give or take one
            offset_y = th + int(round(baseline.at(centre))) - first_row - base_row
            reach = 1
        for dy in range(offset_y - reach, offset_y + reach + 1):
            for dx in range(-pad, pad + 1):
                window = band[dy:dy + th, x0 + dx:x0 + dx + tw]
                if window.shape == (th, tw):
                    windows.append(window.ravel())
                    shifts.append(dx)
        blank = not inked[:, x0:x0 + tw].any()
        if not windows:  # past the line's end (a grid that does not fit): nothing to match
            cells.append(Cell(centre, "<", -1.0, "<", -1.0, True, tuple(-1.0 for _ in GLYPHS), -1.0))
            predicted = centre + step * pitch
            continue
        matrix = _normalised(np.stack(windows)) @ flat_templates.T
        scores = matrix.max(axis=0)
        order = np.argsort(-scores)
        matched = centre + shifts[int(np.argmax(matrix[:, order[0]]))]
        cells.append(Cell(matched, GLYPHS[order[0]], float(scores[order[0]]), GLYPHS[order[1]],
                          float(scores[order[1]]), blank, tuple(float(v) for v in scores),
                          _ink_top(ink, matched, grid.pitch, top, bottom)))
        if scores[order[0]] > 0.6 and not blank:
            if last_match is not None:
                measured = (matched - last_match[1]) / (i - last_match[0])
                if abs(measured - pitch) < pitch * 0.1:
                    pitch = 0.8 * pitch + 0.2 * measured
            last_match = (i, matched)
            predicted = matched + step * pitch
        else:
            predicted = centre + step * pitch
    return cells[::-1] if backward else cells


@functools.lru_cache(maxsize=64)
def _template_rows(cell_width: int, height: int, font_path: str) -> tuple[int, tuple[float, ...]]:
    """The templates' baseline (the last row of a digit's ink: OCR-B's glyphs all stand on it) and each glyph's
    middle row (half way between its first and last rows of ink: a filler's is a row or so above a digit's)."""
    _, masks = _templates(cell_width, height, font_path)
    middles = []
    for mask in masks:
        rows = np.nonzero(mask.any(axis=1))[0]
        middles.append((float(rows[0]) + float(rows[-1])) / 2)
    digit = np.nonzero(masks[GLYPHS.index("0")].any(axis=1))[0]
    return int(digit[-1]), tuple(middles)


@dataclass(frozen=True)
class Baseline:
    """Where the line's glyphs stand, row at column x: a straight line through the cells the first look was
    sure of, bent to follow them where the flattened line still curves (the median of the nearest sure cells'
    departures from the straight line; held at the ends)."""

    intercept: float
    slope: float
    knots: tuple[float, ...] = ()
    bends: tuple[float, ...] = ()

    def at(self, x: float) -> float:
        bend = float(np.interp(x, self.knots, self.bends)) if self.knots else 0.0
        return self.intercept + self.slope * x + bend


def baseline_of(ink: Any, cells: list[Cell], pitch: float, height: int, font_path: str) -> Optional[Baseline]:
    """The line's baseline (rows of ``ink``) from each cell whose glyph the first look was sure of: the middle
    of its ink (half way between its first and last inked rows: blur and binarising thicken a stroke on both
    sides alike, so a glyph's middle stays where it was printed and its bottom does not), less its glyph's
    middle over the templates' baseline. Fillers count too, so a long run of them carries the baseline to
    the line's end. None with too few sure cells. One round of refitting drops cells a speck or a broken
    stroke moved."""
    base_row, middles = _template_rows(int(round(pitch)), height, font_path)
    top, bottom = text_rows(ink)
    first_row = max(0, top - 4)
    xs, ys = [], []
    for cell in cells:
        if cell.blank or cell.score < 0.55 or cell.score - cell.runner_up_score < 0.03:
            continue
        x0, x1 = int(round(cell.centre - pitch * 0.3)), int(round(cell.centre + pitch * 0.3))
        rows = np.nonzero(ink[first_row:bottom + 4, max(0, x0):max(0, x1)].sum(axis=1) >= 2)[0]
        if len(rows):
            xs.append(cell.centre)
            middle = (float(rows[0]) + float(rows[-1])) / 2
            ys.append(first_row + middle + base_row - middles[GLYPHS.index(cell.best)])
    if len(xs) < 6:
        return None
    x, y = np.array(xs), np.array(ys)
    slope, intercept = np.polyfit(x, y, 1)
    keep = np.abs(y - (intercept + slope * x)) <= 1.5
    if keep.sum() < 6:
        return Baseline(float(intercept), float(slope))
    x, y = x[keep], y[keep]
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    near = max(2.0, pitch) * 5  # about five cells either side
    bends = [float(np.median(residual[np.abs(x - at) <= near])) for at in x]
    return Baseline(float(intercept), float(slope), tuple(float(v) for v in x), tuple(bends))


BASELINE_WORSE = 0.12  # a cell whose best match on the baseline scores this much under its first look keeps the first


def by_baseline(ink: Any, grid: Grid, cells: list[Cell], height: int, font_path: str,
                shade: Any = None, backward: bool = False) -> list[Cell]:
    """The line looked at again, every template standing on the line's baseline (``baseline_of``). A cell whose
    glyph fits the baseline far worse than it fitted freely (the baseline misjudged there: a smudge, the
    line's broken end) keeps its first look."""
    baseline = baseline_of(ink, cells, grid.pitch, height, font_path)
    if baseline is None:
        return cells
    again = classify(ink, grid, height, font_path, baseline=baseline, shade=shade, backward=backward)
    return [new if new.score >= old.score - BASELINE_WORSE else old for old, new in zip(cells, again, strict=True)]


TEMPLATE_MARGIN = 0.04  # see fuse(); tuned on ./dev bench ocr_read_rate (seed 0)


def _ink_top(ink: Any, centre: float, pitch: float, top: int, bottom: int) -> float:
    """The first row of the cell's own ink (its middle columns): OCR-B's digits stand taller than its letters."""
    x0, x1 = int(round(centre - pitch * 0.3)), int(round(centre + pitch * 0.3))
    rows = np.nonzero(ink[max(0, top - 4):bottom + 4, max(0, x0):max(0, x1)].sum(axis=1) >= 2)[0]
    return float(rows[0]) if len(rows) else -1.0


# Where each OCR-B glyph's ink begins, from the top of its em box (Debian's OCRB.otf at 100 px; all share the
# baseline): the digits stand taller than the flat letters, round letters overshoot a little. A cell's ink top
# therefore tells a digit from its letter look-alike (0/O, 6/G, 8/B, 5/S, 2/Z, 1/I) where shapes hardly can.
GLYPH_TOPS = {"A": 33, "B": 34, "C": 32, "D": 34, "E": 34, "F": 34, "G": 33, "H": 33, "I": 34, "J": 33, "K": 33,
              "L": 33, "M": 33, "N": 33, "O": 32, "P": 34, "Q": 32, "R": 34, "S": 32, "T": 34, "U": 33, "V": 33,
              "W": 33, "X": 33, "Y": 33, "Z": 34, "0": 27, "1": 27, "2": 27, "3": 28, "4": 27, "5": 28, "6": 27,
              "7": 28, "8": 27, "9": 27}
_TWINS = {frozenset(pair) for pair in ("0O", "0Q", "0D", "1I", "2Z", "5S", "8S", "6G", "8B")}


def _height_model(cells: list[Cell]) -> Optional[tuple[float, float, float]]:
    """The line's ink top as ``a + b * GLYPH_TOPS[glyph] + c * column``, fitted on the cells the template is
    sure of (the column term takes a residual tilt). Needs sure digits and sure letters on the line: a name
    line has no digits, so nothing to fit and nothing settled by height there.
    """
    def sure(cell: Cell) -> bool:
        twins = [o for o in GLYPH_TOPS if frozenset((cell.best, o)) in _TWINS]
        return (cell.best in GLYPH_TOPS and cell.top >= 0 and cell.score - cell.runner_up_score >= 0.08
                and all(cell.score - cell.score_of(twin) >= 0.1 for twin in twins))

    chosen = [c for c in cells if sure(c)]
    if sum(c.best.isdigit() for c in chosen) < 3 or sum(c.best.isalpha() for c in chosen) < 2:
        return None
    design = np.array([[1.0, GLYPH_TOPS[c.best], c.centre] for c in chosen], dtype=np.float64)
    tops = np.array([c.top for c in chosen], dtype=np.float64)
    (intercept, slope, tilt), *_ = np.linalg.lstsq(design, tops, rcond=None)
    if slope <= 0.1:  # the digits do not stand taller here: no height to go by
        return None
    return float(intercept), float(slope), float(tilt)


def _by_height(char: str, cell: Cell, model: Optional[tuple[float, float, float]], offered: set[str]) -> str:
    """A digit/letter look-alike that the readers offered both ways, settled by the cell's ink top."""
    if model is None or cell.top < 0 or char not in GLYPH_TOPS:
        return char
    twins = [o for o in offered if o != char and frozenset((char, o)) in _TWINS]
    if not twins:
        return char
    other = max(sorted(twins), key=cell.score_of)  # 0 offered as O and Q: the one the template scores higher
    intercept, slope, tilt = model
    base = intercept + tilt * cell.centre
    mine, theirs = base + slope * GLYPH_TOPS[char], base + slope * GLYPH_TOPS[other]
    if abs(mine - theirs) < 0.8:
        return char
    # The other one only where the ink is clearly nearer its height (a third of the way past the middle).
    if abs(cell.top - theirs) + abs(mine - theirs) / 3 < abs(cell.top - mine):
        return other
    return char


_CONFUSABLE = {frozenset(pair) for pair in ("0O", "0D", "0Q", "1I", "2Z", "5S", "8B", "8S", "6G", "4A", "7T", "MN",
                                             "MH")}
_FILLER_LOOKALIKES = set("KSCEXLZ<")


def _substitution_cost(cell: str, read: str) -> float:
    if cell == read:
        return 0.0
    if cell == "<" and read in _FILLER_LOOKALIKES:
        return 0.2
    if frozenset((cell, read)) in _CONFUSABLE:
        return 0.3
    return 1.0


def fuse(cells: list[Cell], read: str) -> tuple[str, list[float]]:
    """One character per cell: Tesseract's letters and digits, the template's fillers and count.

    Tesseract's reading is aligned to the cells (edit distance, cheap for
    known confusions); a cell keeps Tesseract's character unless that is a
    filler lookalike where the template sees a filler, or Tesseract has
    nothing there. Returns the text and a confidence (0..1) per character.
    """
    template = [cell.best for cell in cells]
    n, m = len(template), len(read)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + _substitution_cost(template[i - 1], read[j - 1]),
                             cost[i - 1, j] + 1.0, cost[i, j - 1] + 1.0)
    aligned: list[Optional[str]] = [None] * n
    i, j = n, m
    while i > 0 and j > 0:
        if np.isclose(cost[i, j], cost[i - 1, j - 1] + _substitution_cost(template[i - 1], read[j - 1])):
            aligned[i - 1] = read[j - 1]
            i, j = i - 1, j - 1
        elif np.isclose(cost[i, j], cost[i - 1, j] + 1.0):
            i -= 1
        else:
            j -= 1
    out, confidence = [], []
    model = _height_model(cells)
    for cell, tess in zip(cells, aligned, strict=True):
        if cell.best == "<" and (tess is None or tess in _FILLER_LOOKALIKES or cell.score > 0.5):
            out.append("<")
            confidence.append(max(0.0, cell.score))
        elif (not cell.blank and tess is not None and tess != "<" and frozenset((tess, cell.best)) not in _TWINS
              and cell.score - cell.score_of(tess) >= TEMPLATE_MARGIN):
            # Where they disagree, the template's own score of Tesseract's reading says how sure it is: O over
            # D, 5 over 8, 0 over S by this much is right far more often than Tesseract (measured on ./dev
            # bench ocr_read_rate). Look-alike twins (0/O, 8/S...) the template cannot tell: the heights do.
            out.append(cell.best)
            confidence.append(max(0.0, cell.score) * 0.9)
        elif cell.score - cell.runner_up_score >= 0.15 and not cell.blank:
            out.append(cell.best)  # measured: at this margin the template is right where they disagree
            confidence.append(max(0.0, cell.score))
        elif tess is not None and tess != "<":
            out.append(tess)
            confidence.append(1.0 if tess == cell.best else 0.6)
        elif tess == "<" and cell.best != "<" and cell.score - cell.runner_up_score < 0.05:
            out.append("<")
            confidence.append(0.5)
        else:
            out.append(cell.best)
            confidence.append(max(0.0, cell.score) * (0.8 if tess is None else 0.6))
        if out[-1] != "<":
            settled = _by_height(out[-1], cell, model, {tess or "", cell.best, cell.runner_up})
            if settled != out[-1]:
                out[-1] = settled
                confidence[-1] *= 0.9
    return "".join(out), confidence


def kinds_of_line(count: int, index: int, lines: int) -> Optional[tuple[str, ...]]:
    """What each position of an MRZ line may hold (``mrz`` span kinds), from its width and place in the zone;
    None when the zone's shape is not one ICAO prints (then nothing is restricted)."""
    from chalicelib.domain import mrz

    layout = next((layout for layout in mrz.LAYOUTS if layout.width == count), None)
    if layout is None or layout.lines != lines or not 0 <= index < lines:
        return None
    kinds = [mrz.ALNUM] * count
    for span in layout.spans:
        if span.line == index:
            for column in range(span.start, span.end):
                kinds[column] = span.kind
    return tuple(kinds)


_ALLOWED_BY_KIND = {
    "num": "0123456789",
    "check": "0123456789<",
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZ<",
    "name": "ABCDEFGHIJKLMNOPQRSTUVWXYZ<",
    "sex": "MFX<",
}


def restrict(text: str, confidence: list[float], cells: list[Cell], kinds: Optional[tuple[str, ...]]
             ) -> tuple[str, list[float]]:
    """Where the layout allows only letters (a name, a country) or only digits (a date), a character outside
    them is read again among those alone, by the glyph's own shape (the template's best score): a G in a name
    that Tesseract took for 0 is a G, not the O a rule would make of it. Never by a check digit."""
    if kinds is None or len(text) != len(cells) or len(kinds) != len(text):
        return text, confidence
    out, sure = list(text), list(confidence)
    for i, (char, kind, cell) in enumerate(zip(text, kinds, cells, strict=True)):
        allowed = _ALLOWED_BY_KIND.get(kind)
        if allowed is None or char in allowed or not cell.scores:
            continue
        out[i] = max(allowed, key=cell.score_of)
        sure[i] = sure[i] * 0.8
    return "".join(out), sure


FIRST_CELLS = 15  # the first cells of a line (to the first field's check digit on a TD1 card, the nationality on TD3)


def layout_misses(text: str, kinds: Optional[tuple[str, ...]], index: int) -> list[int]:
    """The columns of ``text`` (one character a cell, before ``restrict``) that disagree with what the layout
    requires there: a letter where only digits stand (a date, a check digit), a digit where only letters do (a
    name, a country, the sex), and on the first line a document code no ICAO zone of that width starts with or
    an issuing state that is no ICAO code. Never a check digit's value: that is the domain's to judge."""
    from chalicelib.domain import mrz

    if kinds is None or len(text) != len(kinds):
        return []
    missed = [i for i, (char, kind) in enumerate(zip(text, kinds, strict=True))
              if char not in _ALLOWED_BY_KIND.get(kind, GLYPHS)]
    if index == 0:
        if text[0] not in ("PV" if len(text) == 44 else "IACV"):
            missed.append(0)
        if text[2:5].rstrip("<") not in mrz.COUNTRY_CODES:
            missed += [2, 3, 4]
    return sorted(set(missed))


def first_cells_wrong(text: str, kinds: Optional[tuple[str, ...]], index: int) -> bool:
    """Whether the line's first cells disagree with the layout (``layout_misses`` among the first
    ``FIRST_CELLS``): the sign of a grid misplaced where the line begins (a cell slipped, P read T)."""
    return any(i < FIRST_CELLS for i in layout_misses(text, kinds, index))
