"""Reading a photographed page as an MRZ reader does, for the local Textract.

``read_page`` takes the decoded page (any orientation, any background, in perspective, few pixels) and
returns its lines: the machine-readable zone read line by line, and the page's other printed text above it.

1. the page's geometry (``devstack.page_geometry``): the value channel (security printing turns light),
   the text's angle over the half turn, the zone's band at the bottom -- or at the top of a page upside
   down -- and the band mapped flat (perspective undone);
2. up or down: both candidates are read cell by cell against OCR-B's glyphs (``devstack.ocrb``), cheaply;
   the one whose glyphs match is the zone, upright;
3. each line is read twice: by Tesseract (MRZ alphabet whitelisted, the line flattened against its own
   background and binarised) and cell by cell against OCR-B at the fixed pitch; ``ocrb.fuse`` keeps the
   better of each, and where the layout allows only letters (a name) or only digits (a date) a cell is
   read among those by its shape (``ocrb.restrict``). Check digits are never consulted here: settling
   what they protect is the domain's repair, in the open.

Dev only: never imported by chalicelib.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from . import ocrb
from .deadlines import scaled
from .page_geometry import (
    WORK_WIDTH,
    Band,
    Flat,
    flatten,
    ink_map,
    level,
    map_point,
    rectify,
    text_angle,
    text_bands,
    value_channel,
    without_hairlines,
    zone_candidates,
)

WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_TESSERACT_SLOTS = threading.BoundedSemaphore(int(os.environ.get("DEVSTACK_OCR_WORKERS", "1")))
MAX_WORKING_SIDE = 2400  # more pixels than the glyphs need: faster and no worse
CELL_HEIGHT = 30  # glyph height the template matcher works at
TESSERACT_HEIGHT = 44  # glyph height Tesseract reads best at
SHAPE_PENALTY = 0.3  # taken off the score of a zone whose line count does not go with its width
FIRST_CELLS_BACKSTOP = True  # a line whose first cells disagree with the layout read again (_first_cells_backstop)
#: The backstop's looks at a line: (tracked from its end, on its own glyphs' grid, the grid moved by cells).
BACKSTOP_LOOKS = ((True, False, 0.0), (False, True, 0.0), (True, True, 0.0), (False, False, 1.0), (False, False, -1.0),
                  (True, False, 1.0), (True, False, -1.0))
BY_BASELINE = True  # the chosen zone's lines looked at again on their baseline (ocrb.by_baseline); False: A/B runs
#: The cells are matched on the line's shade, between these fractions of the way from ink to paper (darker: 1,
#: lighter: 0), rather than on the binarised line, where a faint stroke was lost (E read F, D read O); None: binary.
SHADE_RAMP: Optional[tuple[float, float]] = (0.25, 0.75)
SHADE_MIN_PITCH = 16.0  # a line photographed with fewer pixels a character is matched binarised: its grey is blur
PITCH_TOLERANCE = 0.025  # a levelled line whose pitch is further than this from OCR-B's at CELL_HEIGHT is rescaled
GOOD_ZONE_SCORE = 0.78  # a flat zone whose cells match OCR-B this well (mean best score) needs no other try
PAGE_TEXT_MIN_CONFIDENCE = 30.0  # Tesseract's words below this on a data page are guilloche and photo noise
PAGE_TEXT_MAX_WIDTH = 1600  # the printed fields are large: more pixels only cost time
# How the zone is looked for, in turn until one reads well (ink_map's strictness; one-pixel lines removed): a busy
# background's guilloche and microprint are hairlines, lighter than OCR-B's black.
INK_LOOKS = ((0.4, False), (0.4, True), (0.55, False), (0.55, True))

Point = tuple[float, float]


# numpy's BLAS on one thread in this process. The cells are matched by small matrix products (``ocrb.classify``: a
# cell's 49 windows against 37 templates), which OpenBLAS splits over a thread per core; the engine already reads
# one page per core in as many processes (``devstack.textract.PageReaders``), so those threads only wait for each
# other: at a load average of 30 on two cores a line's products took 1.9 s against 0.05 s on one thread.
threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100
    polygon: tuple[Point, Point, Point, Point]  # corners in the page as loaded: top-left, top-right, ...


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        return sum(w.confidence for w in self.words) / len(self.words)


@dataclass(frozen=True)
class PageReading:
    width: int  # of the page as loaded (EXIF orientation applied)
    height: int
    angle: float  # degrees the page was turned to read it (counter-clockwise; 180 added when upside down)
    lines: tuple[Line, ...]
    attempts: int = 0  # placements of the zone scored before one read well (or none was left): see _attempt_order


# --- Tesseract -----------------------------------------------------------------------


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def run_tesseract(image: Any, psm: int = 6, whitelist: Optional[str] = WHITELIST) -> list[dict[str, Any]]:
    """Tesseract's TSV words: text, conf, box, line numbers."""
    if not tesseract_available():
        raise RuntimeError("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-eng")
    args = ["tesseract", "stdin", "stdout", "--oem", "1", "--psm", str(psm), "-l", "eng",
            "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0"]
    if whitelist:
        args += ["-c", f"tessedit_char_whitelist={whitelist}"]
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with _TESSERACT_SLOTS:  # the timeout only catches a hung tesseract: a page takes 1-3 s
        # quiet, but tens of seconds at a load average of 40 on two cores
        done = subprocess.run(args + ["tsv"], input=buffer.getvalue(), capture_output=True,
                              timeout=scaled(180.0), env=env)
    if done.returncode != 0:
        raise RuntimeError(f"tesseract failed: {done.stderr.decode(errors='replace')[:300]}")
    words = []
    for row in done.stdout.decode("utf-8", errors="replace").splitlines()[1:]:
        parts = row.split("\t")
        if len(parts) < 12 or parts[0] != "5" or not parts[11].strip():
            continue
        left, top, width, height = (int(v) for v in parts[6:10])
        words.append({"block": int(parts[2]), "par": int(parts[3]), "line": int(parts[4]), "text": parts[11].strip(),
                      "conf": max(0.0, float(parts[10])), "box": (left, top, left + width, top + height)})
    return words


def _otsu(values: Any) -> int:
    histogram = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    total = histogram.sum()
    cumulative = np.cumsum(histogram)
    mean = np.cumsum(histogram * np.arange(256))
    between = (mean[-1] * cumulative - mean * total) ** 2 / np.maximum(cumulative * (total - cumulative), 1e-9)
    return int(np.argmax(between))


def _line_image(page: Any, band: Band, target_height: int) -> Any:
    """A line cropped with margins, scaled to a glyph height, flattened against its background, binarised."""
    return _line_crop(page, band, target_height)[0]


def _line_crop(page: Any, band: Band, target_height: float) -> tuple[Any, float, float]:
    """``_line_image``, and where it came from: the crop's left edge in ``page`` and the scale applied."""
    binary, left, scale, _ = _line_crop_shaded(page, band, target_height)
    return binary, left, scale


def _line_crop_shaded(page: Any, band: Band, target_height: float) -> tuple[Any, float, float, Any]:
    """``_line_crop``, and the line's shade (0 paper .. 1 ink, float): the flattened grey line before it is
    binarised, ramped from the binarising threshold's neighbourhood so solid ink stays 1 and paper 0 while a
    stroke that blur, glare or JPEG left faint (the foot of an E) keeps part of its weight."""
    from PIL import ImageFilter

    height = band.height
    margin_y, margin_x = int(height * 0.35) + 2, int(height * 1.2) + 4
    box = (max(0, band.left - margin_x), max(0, band.top - margin_y),
           min(page.width, band.right + margin_x), min(page.height, band.bottom + margin_y))
    crop = page.crop(box)
    scale = target_height / max(1, height)
    crop = crop.resize((max(1, int(crop.width * scale)), max(1, int(crop.height * scale))), Image.LANCZOS)
    crop = flatten(crop, target_height * 0.9).filter(ImageFilter.MedianFilter(3))
    pixels = np.asarray(crop)
    # Ink is the darkest thing on the line; security printing sits between it and the paper. Otsu would split
    # at the printing when there is a lot of it: the threshold sits a little under halfway from ink to paper.
    ink, paper = float(np.percentile(pixels, 3)), float(np.percentile(pixels, 60))
    threshold = min(_otsu(pixels), int(ink + 0.45 * (paper - ink)))
    binary = Image.fromarray(np.where(pixels > threshold, 255, 0).astype("uint8"))
    low, high = SHADE_RAMP or (0.25, 0.75)
    dark, light = ink + low * (paper - ink), ink + high * (paper - ink)
    shade = np.clip((light - pixels.astype(np.float32)) / max(1.0, light - dark), 0.0, 1.0)
    return binary, float(box[0]), scale, shade


def _stack(images: list[Any], gap: int = 24) -> tuple[Any, list[int]]:
    width = max(i.width for i in images) + 2 * gap
    height = sum(i.height for i in images) + gap * (len(images) + 1)
    sheet = Image.new("L", (width, height), 255)
    offsets, y = [], gap
    for image in images:
        sheet.paste(image, (gap, y))
        offsets.append(y)
        y += image.height + gap
    return sheet, offsets


def ocr_b_font() -> Optional[str]:
    """Debian's fonts-ocr-b; without it the reading is Tesseract's alone."""
    for path in ("/usr/share/fonts/opentype/ocr-b/OCRB.otf", "/usr/share/fonts/truetype/ocr-b/OCRB.ttf"):
        if os.path.exists(path):
            return path
    return None


# --- where things are ----------------------------------------------------------------


class _Frame:
    """The page as loaded, turned by ``angle`` (PIL rotate, expand): maps points of the turned page back."""

    def __init__(self, size: tuple[int, int], angle: float) -> None:
        self.width, self.height = size
        self.angle = angle
        theta = math.radians(angle)
        self.cos, self.sin = math.cos(theta), math.sin(theta)
        w, h = self.width, self.height
        self.turned_width = abs(w * self.cos) + abs(h * self.sin)
        self.turned_height = abs(w * self.sin) + abs(h * self.cos)

    def back(self, x: float, y: float) -> Point:
        """A point of the turned page in the page as loaded."""
        dx, dy = x - self.turned_width / 2, y - self.turned_height / 2
        return (self.width / 2 + dx * self.cos - dy * self.sin, self.height / 2 + dx * self.sin + dy * self.cos)


Cells = Optional[tuple[Any, list[Any]]]  # a line's OCR-B grid and cells, when they could be fitted


def _cells(flat: Flat, band: Band, font: str, by_baseline: bool = False, backward: bool = False,
           own_grid: bool = False, shift: float = 0.0) -> Cells:
    """The line's OCR-B grid and cells. ``by_baseline``: looked at again with every template standing on the
    line's baseline (``ocrb.baseline_of``), for the zone chosen to be read (a second look: not while zones
    are compared). ``backward``, ``own_grid`` and ``shift``: the first-cells backstop's looks
    (``_first_cells_backstop``): tracked from the line's end, on the grid fitted to this line's own glyphs
    rather than the zone's, and the grid moved by ``shift`` cells."""
    image, left, scale, shade = _line_crop_shaded(flat.image, band, CELL_HEIGHT)
    cells_ink = np.asarray(image) == 0
    if flat.count and not own_grid:  # the glyphs placed the grid: first cell, pitch and count are known
        grid: Optional[ocrb.Grid] = ocrb.Grid((flat.first_x - left) * scale, flat.pitch * scale, flat.count)
    else:
        grid = ocrb.fit_grid(cells_ink, CELL_HEIGHT)
        # Levelled, the line was scaled by its band's height: a name line's is its letters' (no digit stands
        # taller there), so its glyphs came out a tenth too large for the templates (an O scored as a 0, then
        # a U). OCR-B's pitch and height go together: scaled again by the pitch the grid measured.
        natural = ocrb.natural_pitch(CELL_HEIGHT, font)
        if grid is not None and abs(grid.pitch / natural - 1) > PITCH_TOLERANCE:
            image, left, scale, shade = _line_crop_shaded(flat.image, band, CELL_HEIGHT * natural / grid.pitch)
            cells_ink = np.asarray(image) == 0
            grid = ocrb.fit_grid(cells_ink, CELL_HEIGHT)
    if grid is None:
        return None
    if shift:
        grid = ocrb.Grid(grid.first_centre + shift * grid.pitch, grid.pitch, grid.count)
    # Matched on the shade where the photo has the pixels for it; from few pixels the grey is interpolation blur
    # and JPEG ringing, which binarising cleans (tuning seed 2718: 600 px pages read worse on the shade).
    shaded = SHADE_RAMP is not None and _source_pitch(flat, band, grid.pitch / scale) >= SHADE_MIN_PITCH
    shade = shade if shaded else None
    cells = ocrb.classify(cells_ink, grid, CELL_HEIGHT, font, shade=shade, backward=backward)
    if by_baseline and BY_BASELINE:
        cells = ocrb.by_baseline(cells_ink, grid, cells, CELL_HEIGHT, font, shade=shade, backward=backward)
    return grid, cells


def _source_pitch(flat: Flat, band: Band, flat_pitch: float) -> float:
    """The line's pitch in pixels of the page as photographed (the flat zone is drawn at a fixed pitch)."""
    middle = (band.top + band.bottom) / 2
    (x0, y0), (x1, y1) = (map_point(flat.coefficients, x, middle) for x in (band.left, band.right))
    return flat_pitch * math.hypot(x1 - x0, y1 - y0) / max(1.0, band.right - band.left)


def _zone_score(flat: Flat, font: str) -> tuple[float, list[Band], list[Cells]]:
    """How well the flat candidate's lines read as OCR-B cells (mean best score), its lines, and their cells."""
    if flat.lines:
        bands = list(flat.lines)
    else:
        ink = ink_map(flat.image, strictness=0.55)
        bands = [b for b in text_bands(ink) if b.right - b.left > flat.image.width * 0.5][:4]
    if len(bands) < 2:
        return -1.0, [], []
    cells = [_cells(flat, band, font) for band in bands]
    scores = [float(np.mean([c.score for c in found[1]])) + (0.05 if found[0].count in ocrb.WIDTHS else 0.0)
              if found is not None else -1.0 for found in cells]
    if flat.lines:
        if min(scores) <= -1.0:
            return -1.0, bands, cells
        # Two lines of 30 or three of 44: no zone ICAO prints (a line lost to, or added by, the background).
        # Kept as a last resort, below any reading of the right shape.
        shape_penalty = 0.0 if (len(bands) == 3) == (flat.count == 30) else SHAPE_PENALTY
        return float(np.mean(scores)) - shape_penalty, bands, cells
    # Levelled, not placed by its glyphs: a row of microprint or guilloche beside the zone may have been taken
    # for a line. The zone is the run of 2-3 lines that reads best as OCR-B at one ICAO width.
    best: tuple[float, list[Band], list[Cells]] = (-1.0, bands[:3], cells[:3])
    for size in (3, 2):
        for start in range(len(bands) - size + 1):
            run = range(start, start + size)
            found = [cells[k] for k in run]
            widths = {f[0].count for f in found if f is not None}
            if any(f is None for f in found) or len(widths) != 1 or (size == 3) != (widths == {30}):
                continue
            score = float(np.mean([scores[k] for k in run]))
            if score > best[0]:
                best = (score, [bands[k] for k in run], found)
    return best


def read_page(image: Any, page_text: bool = True) -> PageReading:
    """The page's lines: its printed text, then the MRZ's lines read as an MRZ reader would (see the module)."""
    loaded_size = image.size
    gray = value_channel(image)
    shrink = max(gray.width, gray.height) / MAX_WORKING_SIDE
    if shrink > 1:
        gray = gray.resize((int(gray.width / shrink), int(gray.height / shrink)), Image.LANCZOS)
    to_loaded = loaded_size[0] / gray.width
    small_scale = max(gray.width, gray.height) / WORK_WIDTH
    small = gray.resize((max(1, int(gray.width / small_scale)), max(1, int(gray.height / small_scale))), Image.LANCZOS)
    angle = text_angle(ink_map(small))
    border = int(np.median(np.concatenate([np.asarray(gray)[0], np.asarray(gray)[-1]])))
    font = ocr_b_font()
    turned = _Turns(gray, small, angle, border)
    best: Optional[tuple[float, Flat, list[Band], list[Cells], float]] = None
    attempts = 0
    for look, method, turn in _attempt_order(font is not None):
        found = turned.zone(turn, look)
        if found is None:
            continue
        ink, group = found
        page = turned.page(turn)
        flat = method(page, ink, group, scale=page.width / turned.small(turn).width)
        if flat is None:
            continue
        attempts += 1
        if font:
            score, bands, cells = _zone_score(flat, font)
            if score >= GOOD_ZONE_SCORE and _zone_score(_turned_over(flat), font)[0] > score:
                score -= 1.0  # the zone read upside down (see _attempt_order): the other turn's placements go on
        else:
            score, bands, cells = 0.0, text_bands(ink_map(flat.image))[:3], []
        if best is None or score > best[0]:
            best = (score, flat, bands, cells, turn)
        if score >= GOOD_ZONE_SCORE:
            break
    if best is None:
        frame = _Frame(gray.size, angle)
        upright = turned.page(0.0)
        text = read_page_text(upright, upright.height, frame, to_loaded) if page_text else ()
        return PageReading(loaded_size[0], loaded_size[1], angle, text, attempts)
    _, flat, bands, cells, turn = best
    turn_angle = angle + turn
    frame = _Frame(gray.size, turn_angle)
    zone = _read_zone(flat, bands, cells, frame, to_loaded, font)
    read_from = turned.page(turn)
    zone_top = min(map_point(flat.coefficients, 0, bands[0].top)[1], map_point(flat.coefficients,
                   flat.image.width, bands[0].top)[1]) if bands else read_from.height
    above_bottom = int(zone_top - (bands[0].height if bands else 0))
    above = read_page_text(read_from, above_bottom, frame, to_loaded) if page_text else ()
    return PageReading(loaded_size[0], loaded_size[1], turn_angle, above + zone, attempts)


Look = tuple[float, bool]  # an ink look: ink_map's strictness, one-pixel lines removed


def _attempt_order(with_font: bool) -> list[tuple[Look, Any, float]]:
    """The zone's placements in the order they are tried, until one reads well (``GOOD_ZONE_SCORE``): for each
    ink look, the glyph placement (``rectify``) on the page as the text's angle lays it and turned a half turn
    more, then the levelled band (``level``) on both.

    The text's angle leaves the page upright or upside down (it is known over a half turn only), and the zone is
    looked for at the bottom. Upside down, the bottom group is the page's heading: no glyphs on an MRZ grid, and
    the levelled band reads as garbage (-1.0). Every ink look of the first half turn used to be tried before
    the other: a page left upside down (half of those held sideways or upside down with no EXIF tag to turn
    them: a quarter of issue 19's combined pages) spent 4-9 placements, most of them on the zone itself read
    upside down (0.6-0.75: OCR-B's fillers and round glyphs look alike turned), before its first try the right
    way up. Taken turn and turn about, it is the second placement tried; an upright page still stops at its
    first good one, once its turned-over copy reads worse (``_turned_over``: the old order's safety was the
    other turn's first placement, always tried). The set of placements is the same, so a page where none reads
    well ends with the same best. The ink looks: ink as dark as the zone's against its neighbourhood; where
    guilloche dense enough to join the zone's lines into one band passes for ink, without hairlines, or only
    what is darker still."""
    looks = INK_LOOKS if with_font else INK_LOOKS[:1]
    turns = (0.0, 180.0) if with_font else (0.0,)
    return [(look, method, turn) for look in looks for method in (rectify, level) for turn in turns]


def _turned_over(flat: Flat) -> Flat:
    """The flat zone turned a half turn, to be scored (not read: its coefficients are the unturned one's). The
    placed grid is symmetric (as much margin after the last cell as before the first), so it turns into itself."""
    width, height = flat.image.size
    lines = tuple(Band(height - b.bottom, height - b.top, width - b.right, width - b.left) for b in flat.lines[::-1])
    first_x = width - flat.first_x - (flat.count - 1) * flat.pitch if flat.count else flat.first_x
    return Flat(flat.image.rotate(180), flat.coefficients, lines, flat.count, first_x, flat.pitch)


class _Turns:
    """The page turned by the text's angle, and a half turn more: the small copy the zone is looked for on, the
    working copy it is read from, and each ink look's zone candidate (the bottom-most group of long lines), each
    made once, when first asked for."""

    def __init__(self, gray: Any, small: Any, angle: float, border: int) -> None:
        self.gray, self._small, self.angle, self.border = gray, small, angle, border
        self._pages: dict[tuple[str, float], Any] = {}
        self._zones: dict[tuple[float, Look], Optional[tuple[Any, list[Band]]]] = {}

    def _turned(self, which: str, image: Any, turn: float) -> Any:
        key = (which, turn % 360.0)
        if key not in self._pages:
            self._pages[key] = image.rotate(self.angle + turn, resample=Image.BICUBIC, expand=True,
                                            fillcolor=self.border)
        return self._pages[key]

    def small(self, turn: float) -> Any:
        return self._turned("small", self._small, turn)

    def page(self, turn: float) -> Any:
        return self._turned("page", self.gray, turn)

    def zone(self, turn: float, look: Look) -> Optional[tuple[Any, list[Band]]]:
        """The ink of ``look`` on the small copy turned by ``turn``, and the bottom-most group of its lines (the
        top-most is the other turn's bottom-most); None when it has no such group."""
        key = (turn % 360.0, look)
        if key not in self._zones:
            strictness, hairlines_off = look
            small = self.small(turn)
            ink = ink_map(small, strictness=strictness)
            if hairlines_off:
                ink = without_hairlines(ink)
            candidates = zone_candidates(text_bands(ink), small.width)
            self._zones[key] = (ink, candidates[0][0]) if candidates else None
        return self._zones[key]


def _read_zone(flat: Flat, bands: list[Band], cells: list[Cells], frame: _Frame, to_loaded: float,
               font: Optional[str] = None) -> tuple[Line, ...]:
    """Each of the zone's lines: Tesseract and the OCR-B cells, fused, restricted to what the layout allows."""
    bands = bands[:3]
    if not bands:
        return ()
    images = [_line_image(flat.image, band, TESSERACT_HEIGHT) for band in bands]
    sheet, offsets = _stack(images)
    words = run_tesseract(sheet)
    reads = []
    for image, offset in zip(images, offsets, strict=True):
        on_line = (w for w in words if offset - 12 <= (w["box"][1] + w["box"][3]) / 2 <= offset + image.height + 12)
        mine = sorted(on_line, key=lambda w: w["box"][0])
        reads.append(("".join(w["text"] for w in mine), [w["conf"] / 100 for w in mine for _ in w["text"]]))
    lines = []
    count = len(bands)
    for index, (band, (read, confidence)) in enumerate(zip(bands, reads, strict=True)):
        text = read
        found = cells[index] if index < len(cells) else None
        if found is not None and found[0].count in ocrb.WIDTHS and font and BY_BASELINE:
            found = _cells(flat, band, font, by_baseline=True) or found
        if found is not None and found[0].count in ocrb.WIDTHS:
            grid, line_cells = found
            kinds = ocrb.kinds_of_line(grid.count, index, count)
            text, confidence = ocrb.fuse(line_cells, read)
            if font and FIRST_CELLS_BACKSTOP and ocrb.first_cells_wrong(text, kinds, index):
                line_cells, text, confidence = _first_cells_backstop(flat, band, font, (line_cells, text, confidence),
                                                                     read, kinds, index)
            text, confidence = ocrb.restrict(text, confidence, line_cells, kinds)
        if not text:
            continue
        pad = band.height * 0.1
        corners = [(band.left, band.top - pad), (band.right, band.top - pad), (band.right, band.bottom + pad),
                   (band.left, band.bottom + pad)]
        polygon = tuple(_to_loaded(frame, map_point(flat.coefficients, x, y), to_loaded) for x, y in corners)
        score = 100 * sum(confidence) / max(1, len(confidence))
        lines.append(Line((Word(text, score, polygon),)))  # type: ignore[arg-type]
    return tuple(lines)


def _first_cells_backstop(flat: Flat, band: Band, font: str, first: tuple[list[Any], str, list[float]], read: str,
                          kinds: Optional[tuple[str, ...]], index: int) -> tuple[list[Any], str, list[float]]:
    """A line whose first cells disagree with the layout (``ocrb.first_cells_wrong``: P read T, a cell slipped
    where the grid and the baseline are only extrapolated) read again: tracked from its end, where the cells
    before have placed each next one, on the grid its own glyphs fit, and on the grid a cell either way (a
    line read a cell long: a speck or a split glyph taken for its first cell); the look that disagrees with
    the layout in fewest cells is kept, the first look where none does better. Only the layout is asked (the
    alphabet each cell allows, the document code, an ICAO country code), never a check digit."""
    best, best_misses = first, len(ocrb.layout_misses(first[1], kinds, index))
    best_score = float(np.mean([c.score for c in first[0]]))
    for backward, own_grid, shift in BACKSTOP_LOOKS:
        found = _cells(flat, band, font, by_baseline=True, backward=backward, own_grid=own_grid, shift=shift)
        if found is None or len(found[1]) != len(first[0]):
            continue
        cells = found[1]
        if backward and not own_grid and not shift:
            cells = _spliced(first[0], cells, found[0].pitch)
        text, confidence = ocrb.fuse(cells, read)
        misses = len(ocrb.layout_misses(text, kinds, index))
        score = float(np.mean([c.score for c in cells]))
        if misses < best_misses or (misses == best_misses and misses < len(ocrb.layout_misses(first[1], kinds, index))
                                    and score > best_score):
            best, best_misses, best_score = (cells, text, confidence), misses, score
    return best


def _spliced(forward: list[Any], backward: list[Any], pitch: float) -> list[Any]:
    """The line's first cells as tracked from its end, the rest as tracked from its start: each look is surest
    where it has had confident cells to go by. They are joined where both place four cells in a row alike (a
    fifth of a cell); a backward look that never meets the forward one is taken whole."""
    for i in range(1, len(forward) - 3):
        if all(abs(forward[k].centre - backward[k].centre) <= pitch * 0.2 for k in range(i, i + 4)):
            return backward[:i] + forward[i:]
    return backward


def _to_loaded(frame: _Frame, point: Point, to_loaded: float) -> Point:
    x, y = frame.back(*point)
    return (x * to_loaded, y * to_loaded)


def read_page_text(turned: Any, bottom: int, frame: _Frame, to_loaded: float) -> tuple[Line, ...]:
    """The page's printed text above ``bottom`` (the zone's top): Textract returns every line, so does this.

    Tesseract's own page segmentation, no whitelist, one LINE per Tesseract line with its WORDs and each
    word's confidence. Words Tesseract is barely sure of (the background's guilloche, the photo) are left
    out, as are lines with no letter or digit.
    """
    region = turned.crop((0, 0, turned.width, max(0, min(turned.height, bottom))))
    if region.height < 24 or region.width < 24:
        return ()
    scale = min(1.0, PAGE_TEXT_MAX_WIDTH / region.width)
    if scale < 1.0:
        region = region.resize((int(region.width * scale), max(1, int(region.height * scale))), Image.LANCZOS)
    grouped: dict[tuple[int, int, int], list[tuple[float, float, Word]]] = {}
    for word in run_tesseract(region, psm=3, whitelist=None):
        if word["conf"] < PAGE_TEXT_MIN_CONFIDENCE or not any(c.isalnum() for c in word["text"]):
            continue
        left, top, right, bottom_ = (v / scale for v in word["box"])
        corners = [(left, top), (right, top), (right, bottom_), (left, bottom_)]
        polygon = tuple(_to_loaded(frame, corner, to_loaded) for corner in corners)
        grouped.setdefault((word["block"], word["par"], word["line"]), []).append(
            (top, left, Word(word["text"], word["conf"], polygon)))  # type: ignore[arg-type]
    lines = []
    for words in grouped.values():
        ordered = sorted(words, key=lambda item: item[1])
        lines.append((min(w[0] for w in words), ordered[0][1], Line(tuple(w[2] for w in ordered))))
    return tuple(line for *_, line in sorted(lines, key=lambda item: (item[0], item[1])))
