"""Repairing a zone as a whole: fitting each line to the layout's width, then every field and check digit."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from typing import Optional

from .confusions import CONFUSION_COST, INDEL_COST, force_alphabet
from .fields import (
    Candidate,
    cached_candidates,
    composite_unprotected,
    fix_composite,
    fix_optional_fillers,
    fix_unprotected,
    kind_at,
    protected_spans,
)
from .layouts import ALPHABET, CHECK, FILLER, NAME, Layout
from .reading import Reading, Repair
from .zone import parse


def normalise_line(text: str, spaces_as_fillers: bool = True) -> str:
    """OCR text -> MRZ characters: upper case, guillemets as fillers, spaces as fillers (or dropped), noise dropped."""
    text = text.upper().replace("«", "<<").replace("‹", "<").replace("(", "<").replace("[", "<").strip()
    text = text.replace(" ", FILLER if spaces_as_fillers else "")
    return "".join(c for c in text if c in ALPHABET)


def per_char(values: Optional[Sequence[float]], length: int) -> list[float]:
    if not values:
        return [1.0] * length
    if len(values) == length:
        return [float(v) for v in values]
    mean = sum(values) / len(values)
    return [mean] * length


def rank(reading: Reading) -> tuple[bool, float]:
    return (not reading.mrz.valid, reading.cost)


def repair(
    lines: Sequence[str], layout: Layout, confidences: Optional[Sequence[Sequence[float]]] = None
) -> Optional[Reading]:
    """The cheapest reading of ``lines`` as ``layout`` that satisfies every check digit.

    Falls back to the cheapest alphabet-conforming reading (``valid`` False)
    when no combination of plausible changes satisfies them. None when the
    lines cannot be fitted to the layout at all.
    """
    lines = [normalise_line(line) if set(line) - ALPHABET - {"?"} else line for line in lines]
    if len(lines) != layout.lines:
        return None
    conf = [per_char(confidences[i] if confidences else None, len(line)) for i, line in enumerate(lines)]
    per_line = [_alignments(line, c, layout, index) for index, (line, c) in enumerate(zip(lines, conf, strict=False))]
    if any(not options for options in per_line):
        return None
    best: Optional[Reading] = None
    for combination in cheapest_combinations(per_line, MAX_ALIGNMENTS):
        aligned = [option[0] for option in combination]
        aligned_conf = [option[1] for option in combination]
        indel_cost = sum(option[2] for option in combination)
        indel_repairs = [r for option in combination for r in option[3]]
        if best is not None and indel_cost >= best.cost and best.mrz.valid:
            break  # cheapest first: nothing after this can beat a valid reading
        reading = _repair_aligned(aligned, aligned_conf, layout, indel_cost, indel_repairs)
        if reading is not None and (best is None or rank(reading) < rank(best)):
            best = reading
    return best


_Alignment = tuple[str, list[float], float, list[Repair]]


#: How many ways of fitting the lines to a layout are tried, cheapest first. Three lines each two characters
#: off have over a million; text that only looks like a zone (labels of the length of a TD1 line) would
#: take minutes to rule out, a page's worth of them longer (found when the local engine began returning
#: the page's printed text, as Textract does).
MAX_ALIGNMENTS = 2000


def cheapest_combinations(per_line: list[list[_Alignment]], limit: int) -> Iterable[tuple[_Alignment, ...]]:
    """One alignment per line, in increasing total cost (each line's options sorted by cost), at most ``limit``."""
    ordered = [sorted(options, key=lambda option: option[2]) for options in per_line]
    start = (0,) * len(ordered)
    heap = [(sum(options[0][2] for options in ordered), start)]
    seen = {start}
    for _ in range(limit):
        if not heap:
            return
        _, indexes = heapq.heappop(heap)
        yield tuple(options[i] for options, i in zip(ordered, indexes, strict=True))
        for line, index in enumerate(indexes):
            if index + 1 < len(ordered[line]):
                following = indexes[:line] + (index + 1,) + indexes[line + 1 :]
                if following not in seen:
                    seen.add(following)
                    cost = sum(options[i][2] for options, i in zip(ordered, following, strict=True))
                    heapq.heappush(heap, (cost, following))


def _alignments(line: str, conf: list[float], layout: Layout, index: int) -> list[_Alignment]:
    """Ways to make a line exactly ``layout.width`` long: as is, or one or two characters dropped/added."""
    width = layout.width
    diff = len(line) - width
    if diff == 0:
        return [(line, conf, 0.0, [])]
    if abs(diff) > 2:
        return []
    # A name line's length is mostly filler at the end: pad or trim it there first.
    options: list[_Alignment] = []
    if _is_name_line(layout, index):
        options.append(_fit_filler_tail(line, conf, width, index))
        if diff > 0:
            return options
    if diff < 0:
        for positions in itertools.combinations(range(width), -diff):
            text, c, repairs, cost = line, list(conf), [], 0.0
            for position in positions:
                # Runs of fillers are where OCR loses count: a filler dropped there is the cheapest guess.
                near_filler = FILLER in text[max(0, position - 1) : position + 1]
                text = text[:position] + ("<" if near_filler else "?") + text[position:]
                c.insert(position, 1.0 if near_filler else 0.0)
                repairs.append(Repair(index, position, "", text[position]))
                cost += INDEL_COST * (0.5 if near_filler else 1.0)
            options.append((text, c, cost, repairs))
    else:
        for positions in itertools.combinations(range(len(line)), diff):
            keep = [i for i in range(len(line)) if i not in positions]
            text = "".join(line[i] for i in keep)
            c = [conf[i] for i in keep]
            repairs = [Repair(index, p, line[p], "") for p in positions]
            cost = sum(INDEL_COST * (0.5 if line[p] == FILLER else 1.0) for p in positions)
            options.append((text, c, cost, repairs))
    options.sort(key=lambda option: option[2])
    return options[:120]


def _is_name_line(layout: Layout, index: int) -> bool:
    return any(span.kind == NAME and span.line == index and span.end - span.start >= 30 for span in layout.spans)


def _fit_filler_tail(line: str, conf: list[float], width: int, index: int) -> _Alignment:
    if len(line) < width:
        missing = width - len(line)
        return (
            line + FILLER * missing,
            conf + [0.0] * missing,
            0.2 * missing,
            [Repair(index, len(line) + i, "", FILLER) for i in range(missing)],
        )
    extra = len(line) - width
    return (
        line[:width],
        conf[:width],
        0.2 * extra,
        [Repair(index, width + i, line[width + i], "") for i in range(extra)],
    )


def _repair_aligned(
    lines: list[str], conf: list[list[float]], layout: Layout, base_cost: float, base_repairs: list[Repair]
) -> Optional[Reading]:
    """Fix each field to its alphabet and its check digit, then the composite over them."""
    chars = [list(line) for line in lines]
    repairs = list(base_repairs)
    cost = base_cost
    # Unprotected fields: map into the alphabet by rule.
    protected = protected_spans(layout)
    for span in layout.spans:
        if span.name in protected:
            continue
        text = "".join(chars[span.line][span.start : span.end])
        fixed, changes = fix_unprotected(span, text, layout)
        for offset, found, new in changes:
            chars[span.line][span.start + offset] = new
            repairs.append(Repair(span.line, span.start + offset, found, new))
            cost += CONFUSION_COST
    for span in layout.spans:
        if span.name == "optional_data" and span.name in protected:
            text = "".join(chars[span.line][span.start : span.end])
            for offset, (found, new) in enumerate(zip(text, fix_optional_fillers(text), strict=False)):
                if found != new:
                    chars[span.line][span.start + offset] = new
                    repairs.append(Repair(span.line, span.start + offset, found, new))
                    cost += CONFUSION_COST
    # Protected fields: candidates per check, joined by the composite.
    groups = [check for check in layout.checks if check.name != "composite"]
    options: list[list[Candidate]] = []
    for check in groups:
        ((line, start, end),) = check.over
        spans = [s for s in layout.spans if s.line == line and start <= s.start and s.end <= end + 1]
        kinds = [kind_at(spans, start + i) for i in range(end - start)] + [CHECK]
        text = "".join(chars[line][start:end]) + chars[check.digit[0]][check.digit[1]]
        weights = conf[line][start:end] + [conf[check.digit[0]][check.digit[1]]]
        candidates = cached_candidates(text, tuple(kinds), tuple(weights), check, layout)
        if not candidates:
            candidates = [Candidate(force_alphabet(text, kinds), 10.0, [])]
        options.append(candidates)
    composite = next((c for c in layout.checks if c.name == "composite"), None)
    composite_kinds = composite_unprotected(layout, groups, composite)
    best: Optional[tuple[float, list[list[str]], list[Repair]]] = None
    # Cheapest combinations first: once their own cost reaches the best total, nothing cheaper is left.
    for choice in sorted(itertools.product(*options), key=lambda combo: sum(c.cost for c in combo)):
        if best is not None and sum(c.cost for c in choice) >= best[0]:
            break
        trial = [list(row) for row in chars]
        trial_repairs: list[Repair] = []
        trial_cost = sum(c.cost for c in choice)
        for check, candidate in zip(groups, choice, strict=False):
            ((line, start, end),) = check.over
            positions = [(line, start + i) for i in range(end - start)] + [check.digit]
            for (row, column), new in zip(positions, candidate.text, strict=False):
                trial[row][column] = new
            for offset, found, new in candidate.repairs:
                row, column = positions[offset]
                trial_repairs.append(Repair(row, column, found, new))
        if composite is not None:
            extra = fix_composite(trial, conf, composite, composite_kinds)
            if extra is None:
                trial_cost += 5.0  # still invalid; kept only as a fallback
            else:
                trial_cost += extra[0]
                trial_repairs += extra[1]
        if best is None or trial_cost < best[0]:
            best = (trial_cost, trial, trial_repairs)
    assert best is not None
    final_lines = ["".join(row) for row in best[1]]
    if "?" in "".join(final_lines):
        return None
    try:
        mrz = parse(final_lines)
    except ValueError:
        return None
    all_repairs = tuple(r for r in repairs + best[2] if r.found != r.repaired)
    return Reading(
        mrz=mrz, repairs=all_repairs, cost=round(cost + best[0], 3), field_confidence=_field_confidence(layout, conf)
    )


def _field_confidence(layout: Layout, conf: list[list[float]]) -> dict[str, float]:
    out = {}
    for span in layout.spans:
        values = conf[span.line][span.start : span.end]
        if values:
            out[span.name] = round(min(values), 3)
    return out
