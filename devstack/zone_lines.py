"""Which rows of a levelled page are the machine-readable zone's lines (``devstack.page_geometry`` step 3).

ICAO 9303 prints a zone's lines at one pitch, of one length, from one left margin: two lines (TD3, TD2) or
three (TD1) at the bottom of the page; the zone is a run of long lines of like height at an even pitch. On a
busy background a row of microprint between two lines merges into one of them (moving its top or its bottom,
not both) or, once the hairlines are gone, stands between them as a thin row of its own; neither is a line
of the zone, and neither may hide the third line of a card.

Dev only: never imported by chalicelib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np


@dataclass(frozen=True)
class Band:
    """One text line in an image: rows top..bottom, columns left..right."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def text_bands(ink: Any) -> list[Band]:
    """Runs of rows with ink, and how far each runs across."""
    height, width = ink.shape
    rows = ink.sum(axis=1)
    threshold = max(3, int(width * 0.02))
    bands: list[Band] = []
    start: Optional[int] = None
    for y in range(height + 1):
        on = y < height and rows[y] >= threshold
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= max(3, height // 120):
                columns = np.nonzero(ink[start:y].sum(axis=0) > 0)[0]
                if len(columns):
                    left, right = int(np.percentile(columns, 1)), int(np.percentile(columns, 99))
                    bands.append(Band(start, y, left, right))
            start = None
    return bands


def _runs(lines: list[Band], count: int) -> list[tuple[list[Band], bool]]:
    """Every run of ``count`` lines in turn, and whether it passed over a row: within a run of three, a row less
    than half as tall as the lines either side of it (microprint between a card's lines, split off them where the
    hairlines went) is passed over, as no line of the zone."""
    runs = []
    for i in range(len(lines) - count + 1):
        runs.append((lines[i : i + count], False))
        run, k = [lines[i]], i + 1
        while count == 3 and len(run) < count and k < len(lines):
            thin = k + 1 < len(lines) and 2 * lines[k].height < min(run[-1].height, lines[k + 1].height)
            run.append(lines[k + 1] if thin else lines[k])
            k += 2 if thin else 1
        if len(run) == count and run != runs[-1][0]:
            runs.append((run, True))
    return runs


def _gaps(group: list[Band]) -> list[float]:
    """The steps between a group's lines by their tops, bottoms or middles, whichever are the most even: ICAO's
    lines sit at one pitch, and a row of microprint merged into a line moves its top or its bottom, not both."""
    edges = ([b.top for b in group], [b.bottom for b in group], [(b.top + b.bottom) / 2 for b in group])
    steps = [[b - a for a, b in zip(e, e[1:])] for e in edges]
    return min(steps, key=lambda gaps: max(gaps) / max(1, min(gaps)))


def _groups(bands: list[Band], page_width: int, min_length: float) -> list[list[Band]]:
    """Every run of 2-3 long lines of like height, evenly spaced. A run of three that passed over a row must look
    all the more like a zone: its lines' heights within 30 %, its steps within 20 %, one left margin."""
    long_lines = [b for b in bands if (b.right - b.left) >= page_width * min_length and b.height >= page_width / 160]
    found = []
    for count in (3, 2):
        for group, passed_over in _runs(long_lines, count):
            heights = [b.height for b in group]
            if max(heights) > (1.3 if passed_over else 1.8) * min(heights):
                continue
            gaps = _gaps(group) if count == 3 else [group[1].top - group[0].top]
            if any(gap > 3.0 * max(heights) or gap < 0.9 * min(heights) for gap in gaps):
                continue
            if count == 3 and max(gaps) > (1.2 if passed_over else 1.35) * min(gaps):
                continue
            lengths = [b.right - b.left for b in group]
            if min(lengths) < 0.55 * max(lengths):
                continue
            if passed_over and max(b.left for b in group) - min(b.left for b in group) > min(heights):
                continue
            found.append(group)
    return found


def zone_candidates(bands: list[Band], page_width: int, min_length: float = 0.4) -> list[tuple[list[Band], bool]]:
    """Where the zone may be: the bottom-most group as is, and the top-most one (an upside-down page's zone)."""
    groups = _groups(bands, page_width, min_length)
    if not groups:
        return []
    bottom = max(groups, key=lambda g: (g[-1].bottom, len(g)))
    top = min(groups, key=lambda g: (g[0].top, -len(g)))
    out = [(bottom, False)]
    if top is not bottom:
        out.append((top, True))
    return out
