"""Where the machine-readable zone is on a photographed page, and how to see it flat and upright.

The local Textract (``devstack.textract``) reads like an MRZ reader does:

1. ink: the zone is printed in black; security printing (rainbow backgrounds, guilloche, holograms,
   watermarks) is in colour and lighter. The page's value channel (the brightest of R, G, B) keeps the
   black ink dark and turns colour light; the ink is what is much darker than its neighbourhood
   (the neighbourhood's brightness follows shadows and glare);
2. orientation: text runs along rows. The angle (any, 0-180 degrees) whose rotation makes the ink's row
   profile sharpest is the text's; up or down (0 or 180) is settled later by reading;
3. the zone: the group of two or three long, evenly spaced lines of like height at the bottom of the
   page -- or at its top when the page is upside down (``devstack.zone_lines``);
4. perspective: a phone sees the page at an angle, so the zone's lines converge. Each line's centre is
   fitted, the zone's four corners taken from its first and last lines' ends, and the band is mapped to
   a flat rectangle (a homography): lines straight and parallel, the pitch even.

Everything here is numpy and Pillow. Dev only: never imported by chalicelib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from PIL import Image, ImageFilter

from .zone_lines import Band as Band
from .zone_lines import text_bands as text_bands
from .zone_lines import zone_candidates as zone_candidates

WORK_WIDTH = 900  # the orientation and the zone are found on a page this wide: enough for lines, cheap


def value_channel(image: Any) -> Any:
    """The brightest of R, G and B per pixel (an L image): black ink stays dark, printed colour turns light."""
    if image.mode == "L":
        return image
    rgb = np.asarray(image.convert("RGB"))
    return Image.fromarray(rgb.max(axis=2).astype(np.uint8), "L")


def _extreme(pixels: Any, size: int, op: Any) -> Any:
    """A separable max or min filter (``op``: np.max, np.min) over a size x size square: numpy's sliding windows,
    O(size) a pixel where Pillow's filters are O(size squared)."""
    from numpy.lib.stride_tricks import sliding_window_view

    half = size // 2
    out = pixels
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (half, half)
        padded = np.pad(out, pad, mode="edge")
        out = op(sliding_window_view(padded, size, axis=axis), axis=-1)
    return out


def flatten(gray: Any, radius: float) -> Any:
    """The image divided by its local background (the local brightest, smoothed): shadows and glare evened out,
    ink as dark as its contrast. The background is measured on a copy a few times smaller: it changes slowly."""
    factor = max(1, int(radius // 3))
    small = gray
    if factor > 1:
        small = gray.resize((max(1, gray.width // factor), max(1, gray.height // factor)), Image.BOX)
    size = max(3, int(radius / factor) | 1)
    background = Image.fromarray(_extreme(np.asarray(small), size, np.max).astype(np.uint8), "L")
    background = background.filter(ImageFilter.GaussianBlur(max(1.0, radius / factor / 2)))
    if factor > 1:
        background = background.resize(gray.size, Image.BILINEAR)
    pixels = np.asarray(gray, dtype=np.float32)
    base = np.maximum(np.asarray(background, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(pixels / base * 255.0, 0, 255).astype(np.uint8), "L")


def ink_map(gray: Any, size: Optional[int] = None, strictness: float = 0.4, tile: int = 0) -> Any:
    """Dark, thin strokes: what a closing (the local brightest, then darkest, over a few stroke widths) lifts.
    The table around a page is dark too, but wide: a closing leaves it, so the page's edges are not ink.

    ``tile`` (pixels, about a line's height; 0: off): the ink is judged against the darkest ink near it rather
    than the whole image's. A lamp's glare washes the zone's ink toward white -- black print under it lifts a
    third as much as elsewhere -- and a global level lost every glyph under it (a zone's line broken in two, its
    glyphs no longer on one grid). Near the zone every tile's neighbourhood holds glyphs, so printing lighter
    than the ink stays out; the local level is never under a quarter of the image's."""
    size = size or max(3, (gray.width // 180) | 1)
    pixels = np.asarray(gray)
    closed = _extreme(_extreme(pixels, size, np.max), size, np.min)
    lift = closed.astype(np.int16) - pixels.astype(np.int16)
    level = float(np.percentile(lift, 99.5))
    if tile <= 0:
        return lift > max(30.0, strictness * level)
    height, width = lift.shape
    th, tw = max(4, int(tile * 1.5)), max(4, int(tile * 3))
    rows, cols = -(-height // th), -(-width // tw)
    padded = np.pad(lift, ((0, rows * th - height), (0, cols * tw - width)), mode="edge")
    tiles = padded.reshape(rows, th, cols, tw).transpose(0, 2, 1, 3).reshape(rows, cols, th * tw)
    local = np.percentile(tiles, 99.0, axis=2)
    local = _extreme(local, 3, np.max)  # a gap between lines takes its neighbours' level
    local = np.clip(local, 0.25 * level, level)
    threshold = np.maximum(16.0, strictness * np.repeat(np.repeat(local, th, axis=0), tw, axis=1)[:height, :width])
    return lift > threshold


def thick_strokes(ink: Any, line_height: float) -> Any:
    """The ink with strokes thinner than OCR-B's gone: an opening by a square about a third of a zone stroke wide.

    OCR-B's strokes are about a seventh of its glyph height; guilloche lines, microprint and a hologram's
    edges are hairlines. Left in, they join the zone's glyphs into one run of columns and hide the grid.
    """
    side = int(line_height / 25) | 1  # 3 for a zone line 75-124 pixels high (a stroke of 5-8 pixels), ...
    if side < 3:
        return ink  # few pixels: hairlines and strokes are alike; the grid is found without this
    pixels = ink.astype(np.uint8)
    return _extreme(_extreme(pixels, side, np.min), side, np.max) > 0


def without_hairlines(ink: Any) -> Any:
    """The ink less what a 2 x 2 square does not fit in: one-pixel lines (guilloche, microprint, at the size the
    zone is looked for) go, strokes two pixels wide or more stay."""
    core = ink[:-1, :-1] & ink[1:, :-1] & ink[:-1, 1:] & ink[1:, 1:]
    out = np.zeros_like(ink)
    out[:-1, :-1] |= core
    out[1:, :-1] |= core
    out[:-1, 1:] |= core
    out[1:, 1:] |= core
    return out


def _sharpness(ink_image: Any, angle: float) -> float:
    rows = np.asarray(ink_image.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=0), dtype=np.float64)
    profile = rows.sum(axis=1)
    return float((profile**2).sum())


def text_angle(ink: Any) -> float:
    """The rotation (degrees, counter-clockwise as PIL's) that lays the text's rows horizontal: coarse over the
    half turn on a smaller copy, then fine. The result is in (-90, 90]; up or down is not decided here."""
    image = Image.fromarray((ink * 255).astype(np.uint8))
    half = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.BILINEAR)
    coarse = max((float(a) for a in range(-88, 92, 4)), key=lambda a: _sharpness(half, a))
    fine = max((coarse + step * 0.5 for step in range(-5, 6)), key=lambda a: _sharpness(image, a))
    best = max((fine + step * 0.1 for step in range(-4, 5)), key=lambda a: _sharpness(image, a))
    return ((best + 90.0) % 180.0) - 90.0


# --- perspective ------------------------------------------------------------------


def _line_fit(ink: Any, band: Band) -> Optional[tuple[float, float]]:
    """The line's centre as y = a + b * x (in the image), from the ink's vertical centre in column chunks."""
    margin = band.height
    top = max(0, band.top - margin // 2)
    rows = ink[top : band.bottom + margin // 2, band.left : band.right + 1]
    if rows.size == 0:
        return None
    xs, ys = [], []
    chunk = max(6, rows.shape[1] // 24)
    for x in range(0, rows.shape[1] - chunk + 1, chunk):
        profile = rows[:, x : x + chunk].sum(axis=1)
        if profile.sum() > chunk * 0.5:
            xs.append(band.left + x + chunk / 2)
            ys.append(top + float((profile * np.arange(len(profile))).sum() / profile.sum()))
    if len(xs) < 4:
        return None
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = np.abs(np.array(ys) - (intercept + slope * np.array(xs)))
    keep = residual < max(2.0, band.height * 0.4)
    if keep.sum() >= 4:
        slope, intercept = np.polyfit(np.array(xs)[keep], np.array(ys)[keep], 1)
    return float(intercept), float(slope)


def _ends(ink: Any, band: Band, fit: tuple[float, float]) -> tuple[float, float]:
    """The first and last inked columns along the fitted centre line (a strip of half a line's height)."""
    intercept, slope = fit
    half = max(2, band.height // 3)
    width = ink.shape[1]
    lo, hi = max(0, band.left - band.height * 3), min(width, band.right + band.height * 3)
    columns = []
    for x in range(lo, hi):
        y = int(round(intercept + slope * x))
        strip = ink[max(0, y - half) : y + half + 1, x]
        if strip.any():
            columns.append(x)
    if not columns:
        return float(band.left), float(band.right)
    cols = np.array(columns)
    # Ignore specks: the ends are where the ink runs with gaps no wider than about two characters.
    gaps = np.diff(cols)
    limit = band.height * 2.5
    start, end = 0, len(cols) - 1
    centre = int(np.searchsorted(cols, (band.left + band.right) / 2))
    for i in range(min(centre, len(gaps)) - 1, -1, -1):
        if gaps[i] > limit:
            start = i + 1
            break
    for i in range(min(centre, len(gaps)), len(gaps)):
        if gaps[i] > limit:
            end = i
            break
    return float(cols[start]), float(cols[end])


def _homography(source: list[tuple[float, float]], target: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping each output pixel (``target``) to its input one (``source``): exact
    for four points, least squares for more (coordinates normalised for a well-conditioned system)."""
    src, tgt = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    s_mean, s_scale = src.mean(axis=0), max(1e-9, float(np.abs(src - src.mean(axis=0)).mean()))
    t_mean, t_scale = tgt.mean(axis=0), max(1e-9, float(np.abs(tgt - tgt.mean(axis=0)).mean()))
    xs, us = (src - s_mean) / s_scale, (tgt - t_mean) / t_scale
    rows, rhs = [], []
    for (x, y), (u, v) in zip(xs, us, strict=True):
        rows.append([u, v, 1, 0, 0, 0, -u * x, -v * x])
        rows.append([0, 0, 0, u, v, 1, -u * y, -v * y])
        rhs += [x, y]
    h, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    normalised = np.array([[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]])
    denormalise_src = np.array([[s_scale, 0, s_mean[0]], [0, s_scale, s_mean[1]], [0, 0, 1]])
    normalise_tgt = np.array([[1 / t_scale, 0, -t_mean[0] / t_scale], [0, 1 / t_scale, -t_mean[1] / t_scale],
                              [0, 0, 1]])
    full = denormalise_src @ normalised @ normalise_tgt
    full /= full[2, 2]
    return [float(c) for c in full.ravel()[:8]]


@dataclass(frozen=True)
class Flat:
    """The zone mapped flat: the image, how its pixels map back to the turned page's (PIL coefficients), and
    where its lines are when the glyphs placed them (each line's band)."""

    image: Any
    coefficients: tuple[float, ...]
    lines: tuple[Band, ...] = ()
    count: int = 0  # characters a line, when the glyphs placed them
    first_x: float = 0.0  # the first cell's centre
    pitch: float = 0.0


WIDTHS = (44, 36, 30)
FLAT_PITCH = 28.0  # the flat zone's pitch in pixels: OCR-B glyphs about 30 pixels high


def glyph_positions(ink: Any, band: Band) -> Optional[tuple[int, list[tuple[int, float, float]]]]:
    """Where the line's characters are: (cell index, x, y) of each single glyph, and the line's cell count.

    A line of an MRZ starts and ends with a character in its first and last cells. Gaps between neighbours
    are whole multiples of the (slowly changing, in perspective) pitch: walking neighbour to neighbour with
    the pitch measured over the last few gives each glyph its cell. Specks of the background beside the line
    (guilloche, microprint) are light or stray: the line is the longest chain of glyphs at the pitch, and a
    few faint runs at its ends are dropped if that makes the count one ICAO prints.
    """
    margin = max(2, band.height // 3)
    top = max(0, band.top - margin)
    strip = ink[top : band.bottom + margin]
    column_mass = strip.sum(axis=0)
    runs, start = [], None
    for x, on in enumerate(list(column_mass > 0) + [False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            if x - start >= max(2, band.height * 0.1):
                runs.append((start, x, float(column_mass[start:x].sum())))
            start = None
    if len(runs) < 10:
        return None
    masses = sorted(r[2] for r in runs)
    runs = [r for r in runs if r[2] >= 0.2 * masses[len(masses) // 2]]
    widths = sorted(b - a for a, b, _ in runs)
    typical = widths[len(widths) // 2]
    singles = [r for r in runs if r[1] - r[0] <= typical * 1.5]
    if len(singles) < 10:
        return None
    centres = [(a + b) / 2 for a, b, _ in singles]
    diffs = np.diff(centres)
    plausible = diffs[(diffs > band.height * 0.5) & (diffs < band.height * 1.6)]
    if len(plausible) < 5:
        return None
    pitch0 = float(np.median(plausible))
    # The longest chain of singles with gaps of at most three cells (a run of fillers may merge into one run).
    chains, current = [], [0]
    for k in range(1, len(centres)):
        if centres[k] - centres[k - 1] <= pitch0 * 3.6:
            current.append(k)
        else:
            chains.append(current)
            current = [k]
    chains.append(current)
    chain = max(chains, key=len)
    singles = [singles[k] for k in chain]
    centres = [centres[k] for k in chain]
    kept, indexes, pitch = walk_cells(centres, pitch0)
    singles = [singles[k] for k in kept]
    centres = [centres[k] for k in kept]
    # Merged runs (fillers touching) before the first or after the last single add cells.
    left_edge = min(r[0] for r in runs if r[1] >= singles[0][0] - pitch * 3.6 and r[1] <= singles[0][1])
    right_edge = max(r[1] for r in runs if r[0] <= singles[-1][1] + pitch * 3.6 and r[0] >= singles[-1][0])
    first_offset = max(0, int(round((centres[0] - (left_edge + typical / 2)) / pitch)))
    last_offset = max(0, int(round(((right_edge - typical / 2) - centres[-1]) / pitch)))
    indexes = [i + first_offset for i in indexes]
    count = indexes[-1] + last_offset + 1
    if count not in WIDTHS:
        fitted = _trim_to_width(indexes, [r[2] for r in singles], count)
        if fitted is None:
            return None
        keep, shift, count = fitted
        singles = [singles[k] for k in keep]
        centres = [centres[k] for k in keep]
        indexes = [indexes[k] - shift for k in keep]
    out = []
    for (a, b, _), index, x in zip(singles, indexes, centres, strict=True):
        profile = strip[:, a:b].sum(axis=1)
        y = top + float((profile * np.arange(len(profile))).sum() / max(1, profile.sum()))
        out.append((index, x, y))
    return count, out


OFF_GRID = 0.3  # a step this far (in pitches) from a whole number of cells: one of its two centres is off the grid


def walk_cells(centres: list[float], pitch: float, adapt: float = 0.3) -> tuple[list[int], list[int], float]:
    """Each glyph's cell, walking the line neighbour to neighbour (the pitch measured over the last steps, so a
    pitch that changes along a line in perspective is followed): (the centres kept, their cell indexes, the
    pitch at the end).

    A centre half a cell off the grid -- two glyphs merged into one run of ink at few pixels, narrow enough to
    pass for one -- made a step of one and a half cells, rounded either way, and every glyph after it sat a
    cell off (a 600 px page's homography then stretched the line unevenly and its first cells read wrong). A
    step more than ``OFF_GRID`` from a whole number of cells drops the centre that its other neighbour does not
    agree with: the new one, or the last kept when the new one and the one before it agree.
    """
    def whole(distance: float) -> bool:
        ratio = distance / pitch
        return abs(ratio - round(ratio)) <= OFF_GRID

    kept, indexes = [0], [0]
    for k in range(1, len(centres)):
        if not whole(centres[k] - centres[kept[-1]]):
            nxt = k + 1 < len(centres) and whole(centres[k + 1] - centres[k])
            before = kept[-2] if len(kept) > 1 else None
            if not nxt or (before is not None and not whole(centres[k] - centres[before])):
                continue  # the new centre is the one off the grid
            if before is None and len(centres) > k + 1:
                kept, indexes = [k], [0]  # the first centre was off the grid: start again here
                continue
            kept.pop()
            indexes.pop()
        step = max(1, int(round((centres[k] - centres[kept[-1]]) / pitch)))
        if step == 1:
            pitch = (1 - adapt) * pitch + adapt * (centres[k] - centres[kept[-1]])
        kept.append(k)
        indexes.append(indexes[-1] + step)
    return kept, indexes, pitch


def _own_rows(ink: Any, band: Band) -> Band:
    """The band narrowed to its glyphs' rows in ``ink`` (hairlines gone): a row of microprint touching the line
    on the small copy made the band taller than its glyphs, and the pitch is judged against the glyph height."""
    rows = ink[max(0, band.top) : band.bottom, max(0, band.left) : band.right + 1].sum(axis=1)
    if rows.size == 0 or rows.max() == 0:
        return band
    on = list(rows > rows.max() * 0.15) + [False]
    best, start = (0, 0), None
    for y, value in enumerate(on):
        if value and start is None:
            start = y
        elif not value and start is not None:
            if y - start > best[1] - best[0]:
                best = (start, y)
            start = None
    if best[1] - best[0] < band.height * 0.25:
        return band
    return Band(max(0, band.top) + best[0], max(0, band.top) + best[1], band.left, band.right)


def _trim_to_width(indexes: list[int], masses: list[float], count: int) -> Optional[tuple[list[int], int, int]]:
    """Drop up to three faint glyphs at either end so that the line holds a count ICAO prints: (kept positions,
    the index shift, the count), the lightest drop first; None when no such trim exists."""
    typical = float(np.median(masses))
    best: Optional[tuple[float, list[int], int, int]] = None
    n = len(indexes)
    for head in range(0, 4):
        for tail in range(0, 4):
            if head + tail >= n - 10:
                continue
            kept = list(range(head, n - tail))
            first, last = indexes[kept[0]], indexes[kept[-1]]
            width = last - first + 1
            if width not in WIDTHS:
                continue
            dropped = [masses[k] for k in range(head)] + [masses[k] for k in range(n - tail, n)]
            cost = sum(min(1.0, m / typical) for m in dropped) + 0.5 * len(dropped)
            if best is None or cost < best[0]:
                best = (cost, kept, first, width)
    if best is None:
        return None
    return best[1], best[2], best[3]


def _spacing_in_pitches(lines: list[tuple[int, tuple[int, list[tuple[int, float, float]]]]], count: int) -> float:
    """The zone's line spacing over its pitch, both measured at the lines' middle cell: each line's glyphs give
    x and y as straight lines of the cell index. (Measured at each line's first glyph found, which need not be
    the same cell on two lines, a tilt still in the levelled page and a pitch taken over the whole line put a
    card's spacing at 1.2 pitches instead of 1.5: the flat zone squashed its glyphs to four fifths of their
    height, and a 2 scored as an R.)"""
    middle = (count - 1) / 2
    ys, pitches = [], []
    for _, (_, glyphs) in lines:
        index = np.array([g[0] for g in glyphs], dtype=np.float64)
        if index.max() - index.min() < 4:
            return 1.6
        pitch, _ = np.polyfit(index, [g[1] for g in glyphs], 1)
        slope, intercept = np.polyfit(index, [g[2] for g in glyphs], 1)
        ys.append(intercept + slope * middle)
        pitches.append(math.hypot(pitch, slope))
    spacing = (ys[-1] - ys[0]) / max(1, lines[-1][0] - lines[0][0])
    return float(spacing / float(np.median(pitches)))


def rectify(page: Any, ink: Any, bands: list[Band], scale: float = 1.0) -> Optional[Flat]:
    """The zone as a flat rectangle (lines level and parallel, the pitch even), with a margin around it.

    ``ink`` and ``bands`` are measured on a copy of ``page`` ``scale`` times smaller; the glyphs themselves are
    measured on ``page``: each line's characters sit on a fixed grid (cell i of line k), so every glyph is a
    correspondence between the photo and the flat zone, and a homography fitted to all of them undoes the
    perspective without trusting any single edge.
    """
    if len(bands) < 2:
        return None
    height = float(np.median([b.height for b in bands])) * scale
    left = min(b.left for b in bands) * scale - height * 3
    right = max(b.right for b in bands) * scale + height * 3
    upper = bands[0].top * scale - height * 2
    lower = bands[-1].bottom * scale + height * 2
    box = (int(max(0, left)), int(max(0, upper)), int(min(page.width, right)), int(min(page.height, lower)))
    region = page.crop(box)
    grow = 40.0 / max(1.0, height) if height < 20 else 1.0  # few pixels: measure glyphs on a larger copy
    if grow > 1:
        region = region.resize((int(region.width * grow), int(region.height * grow)), Image.LANCZOS)
    line_height = height * grow
    region_ink = thick_strokes(ink_map(region, size=max(3, int(line_height / 3) | 1), strictness=0.55,
                                       tile=int(line_height)), line_height)
    lines = []
    for band in bands:
        local = Band(int((band.top * scale - box[1]) * grow), int((band.bottom * scale - box[1]) * grow),
                     int((band.left * scale - box[0]) * grow), int((band.right * scale - box[0]) * grow))
        found = glyph_positions(region_ink, _own_rows(region_ink, local))
        if found is not None:
            lines.append((bands.index(band), found))
    counts = {count for _, (count, _) in lines}
    if len(lines) < 2 or len(counts) != 1:
        return None
    (count,) = counts
    if count in (44, 36) and len(bands) == 3 and len(lines) == 2 and lines[1][0] - lines[0][0] == 1:
        # Two lines of a passport's (or TD2's) width and a third band with no OCR-B glyphs on the grid: a row of
        # microprint or guilloche beside the zone, taken for a line. The zone is the two lines.
        bands = [bands[lines[0][0]], bands[lines[1][0]]]
        lines = [(0, lines[0][1]), (1, lines[1][1])]
    ratio = _spacing_in_pitches(lines, count)
    gap = FLAT_PITCH * min(2.2, max(1.2, ratio))
    pad_x, pad_y = FLAT_PITCH * 3, FLAT_PITCH * 2
    source, target = [], []
    for k, (_, glyphs) in lines:
        for index, x, y in glyphs:
            source.append((x / grow + box[0], y / grow + box[1]))
            target.append((pad_x + index * FLAT_PITCH, pad_y + k * gap))
    coefficients = _homography(source, target)
    # One round against stragglers (a glyph given the wrong cell): refit on the ones that agree.
    errors = [math.dist(map_point(tuple(coefficients), u, v), xy) for (u, v), xy in zip(target, source, strict=True)]
    limit = max(1.5, float(np.median(errors)) * 3)
    kept = [(s, t) for s, t, e in zip(source, target, errors, strict=True) if e <= limit]
    if len(kept) >= 8:
        coefficients = _homography([s for s, _ in kept], [t for _, t in kept])
    out_w = int(pad_x * 2 + (count - 1) * FLAT_PITCH)
    out_h = int(pad_y * 2 + gap * (len(bands) - 1))
    fill = 255 if page.mode == "L" else (255, 255, 255)
    flat = page.transform((out_w, out_h), Image.PERSPECTIVE, coefficients, resample=Image.BICUBIC, fillcolor=fill)
    half = FLAT_PITCH * 0.55
    placed = tuple(
        Band(int(pad_y + k * gap - half), int(pad_y + k * gap + half), int(pad_x - FLAT_PITCH * 0.5),
             int(pad_x + (count - 0.5) * FLAT_PITCH))
        for k in range(len(bands))
    )
    return Flat(flat, tuple(coefficients), placed, count, pad_x, FLAT_PITCH)


def map_point(coefficients: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    """Where a point of the flat image lies in the page it was taken from."""
    a, b, c, d, e, f, g, h = coefficients
    w = g * x + h * y + 1.0
    return ((a * x + b * y + c) / w, (d * x + e * y + f) / w)


def level(page: Any, ink: Any, bands: list[Band], scale: float = 1.0) -> Optional[Flat]:
    """The zone's band straightened without perspective (its glyphs could not be placed on the grid): the mean
    slope of its lines' centres, their common ends, an affine map."""
    fits = [_line_fit(ink, band) for band in bands]
    if len(bands) < 2 or any(fit is None for fit in fits):
        return None
    slope = float(np.median([fit[1] for fit in fits if fit is not None]))
    ends = [_ends(ink, band, fit) for band, fit in zip(bands, fits, strict=True) if fit is not None]
    left, right = min(e[0] for e in ends), max(e[1] for e in ends)
    first, last = fits[0], fits[-1]
    assert first is not None and last is not None
    mid = (left + right) / 2
    y_first, y_last = first[0] + first[1] * mid, last[0] + last[1] * mid
    corners = [(left, y_first + slope * (left - mid)), (right, y_first + slope * (right - mid)),
               (right, y_last + slope * (right - mid)), (left, y_last + slope * (left - mid))]
    corners = [(x * scale, y * scale) for x, y in corners]
    length, rise = math.dist(corners[0], corners[1]), math.dist(corners[0], corners[3])
    if length < 10 or rise < 1:
        return None
    line_height = float(np.median([b.height for b in bands])) * scale
    pad_x, pad_y = line_height * 4.0, line_height * 1.6
    target = [(pad_x, pad_y), (pad_x + length, pad_y), (pad_x + length, pad_y + rise), (pad_x, pad_y + rise)]
    coefficients = _homography(corners, target)
    fill = 255 if page.mode == "L" else (255, 255, 255)
    size = (int(length + 2 * pad_x), int(rise + 2 * pad_y))
    return Flat(page.transform(size, Image.PERSPECTIVE, coefficients, resample=Image.BICUBIC, fillcolor=fill),
                tuple(coefficients))
