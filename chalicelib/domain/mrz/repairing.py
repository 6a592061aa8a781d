"""Repairing a zone as a whole: fitting each line to the layout's width, then every field and check digit."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Optional

from .checked import AMBIGUITY_MARGIN, UNSURE_BELOW, composite_digit, solve
from .confusions import CONFUSION_COST, INDEL_COST, INVISIBLE_TWIN
from .layouts import ALNUM, ALPHABET, BY_NAME, FILLER, NAME, Layout, check_data
from .reading import DROPPED_OR_ADDED, FILLER_RULE, NOT_IN_ALPHABET, Reading, Repair, Uncertain
from .rules import fix_optional_fillers, fix_unprotected, protected_spans
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
    return (not reading.valid, reading.cost)


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
    best: Optional[Reading] = None  # the cheapest valid reading
    rival: Optional[Reading] = None  # the cheapest valid one that says something else
    fallback: Optional[Reading] = None  # the cheapest invalid one
    for combination in cheapest_combinations(per_line, MAX_ALIGNMENTS):
        aligned = [option[0] for option in combination]
        aligned_conf = [option[1] for option in combination]
        indel_cost = sum(option[2] for option in combination)
        indel_repairs = [r for option in combination for r in option[3]]
        if best is not None and indel_cost > best.cost + AMBIGUITY_MARGIN:
            break  # cheapest first: nothing after this can beat, or rival, the valid reading
        reading = _repair_aligned(aligned, aligned_conf, layout, indel_cost, indel_repairs)
        if reading is None:
            continue
        if not reading.valid:
            if fallback is None or _fallback_rank(reading) < _fallback_rank(fallback):
                fallback = reading
        elif best is None or reading.cost < best.cost:
            if best is not None and _protected(best) != _protected(reading):
                rival = best
            best = reading
        elif _protected(reading) != _protected(best) and (rival is None or reading.cost < rival.cost):
            rival = reading
    if best is not None and rival is not None and rival.cost <= best.cost + AMBIGUITY_MARGIN:
        # Two ways of fitting the lines give two different valid zones: which character OCR lost is a guess.
        layout_checks = BY_NAME[best.mrz.layout].checks
        differing = tuple(
            check.name
            for check in layout_checks
            if check_data(check, best.mrz.lines) != check_data(check, rival.mrz.lines)
            or best.mrz.lines[check.digit[0]][check.digit[1]] != rival.mrz.lines[check.digit[0]][check.digit[1]]
        )
        return replace(best, ambiguous=differing or ("composite",))
    return best or fallback


def _fallback_rank(reading: Reading) -> tuple[int, float]:
    """Of the readings that fail, the one that fails least: a coin toss in one field beats a misfit line."""
    return (len(reading.failed_checks), reading.cost)


def _protected(reading: Reading) -> str:
    """What the zone's check digits cover, as read: two fittings that differ elsewhere are no coin toss for them
    (the fields they differ in are fixed by rule, the cheaper fitting's reading stands)."""
    layout = BY_NAME[reading.mrz.layout]
    lines = reading.mrz.lines
    return "".join(lines[line][start:end] for check in layout.checks for line, start, end in check.over) + "".join(
        lines[check.digit[0]][check.digit[1]] for check in layout.checks
    )


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
                repairs.append(Repair(index, position, "", text[position], DROPPED_OR_ADDED))
                cost += INDEL_COST * (0.5 if near_filler else 1.0)
            options.append((text, c, cost, repairs))
    else:
        for positions in itertools.combinations(range(len(line)), diff):
            keep = [i for i in range(len(line)) if i not in positions]
            text = "".join(line[i] for i in keep)
            c = [conf[i] for i in keep]
            repairs = [Repair(index, p, line[p], "", DROPPED_OR_ADDED) for p in positions]
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
            0.1 * missing,
            [Repair(index, len(line) + i, "", FILLER, DROPPED_OR_ADDED) for i in range(missing)],
        )
    extra = len(line) - width
    return (
        line[:width],
        conf[:width],
        0.1 * extra,
        [Repair(index, width + i, line[width + i], "", DROPPED_OR_ADDED) for i in range(extra)],
    )


def _repair_aligned(
    lines: list[str], conf: list[list[float]], layout: Layout, base_cost: float, base_repairs: list[Repair]
) -> Optional[Reading]:
    """Fields without a check digit by rule; then the protected fields by their check digits and the composite
    (``checked.solve``: honest limits, never a check digit changed, a coin toss left as read)."""
    chars = [list(line) for line in lines]
    repairs = list(base_repairs)
    cost = base_cost
    uncertain: list[Uncertain] = []
    protected = protected_spans(layout)
    for span in layout.spans:
        if span.name in protected and span.name != "optional_data":
            continue
        text = "".join(chars[span.line][span.start : span.end])
        if span.name in protected:  # TD3's optional data has a check digit, and its padding a rule
            padded = fix_optional_fillers(text)
            changes = [(i, a, b, FILLER_RULE) for i, (a, b) in enumerate(zip(text, padded, strict=True)) if a != b]
            doubts: list[Uncertain] = []
        else:
            _, changes, doubts = fix_unprotected(span, text, layout)
        for offset, found, new, why in changes:
            chars[span.line][span.start + offset] = new
            repairs.append(Repair(span.line, span.start + offset, found, new, why))
            cost += CONFUSION_COST
        uncertain += doubts
    digit = composite_digit(["".join(row) for row in chars], layout)
    if digit is not None and digit[0] != digit[1]:
        row, column = next(c.digit for c in layout.checks if c.name == "composite")
        chars[row][column] = digit[1]
        repairs.append(Repair(row, column, digit[0], digit[1], NOT_IN_ALPHABET))
        cost += CONFUSION_COST
    settled = ["".join(row) for row in chars]
    fields, solution = solve(layout, settled, conf)
    for field, candidate in zip(fields, solution.chosen, strict=True):
        for (row, column), new in zip(field.positions, candidate.text, strict=True):
            chars[row][column] = new
        for offset, found, new, why in candidate.changes:
            row, column = field.positions[offset]
            repairs.append(Repair(row, column, found, new, why))
    # What OCR was unsure of and no check digit can settle (6/G weigh the same): the reading says so.
    alphanumeric = {(span.line, c) for span in layout.spans if span.kind == ALNUM for c in range(span.start, span.end)}
    for row, column in sorted(alphanumeric):
        char = chars[row][column]
        if char in INVISIBLE_TWIN and conf[row][column] < UNSURE_BELOW:
            uncertain.append(Uncertain(row, column, lines[row][column], char, INVISIBLE_TWIN[char]))
    final_lines = ["".join(row) for row in chars]
    if "?" in "".join(final_lines):
        return None
    try:
        mrz = parse(final_lines)
    except ValueError:
        return None
    return Reading(
        mrz=mrz,
        repairs=tuple(r for r in repairs if r.found != r.repaired),
        cost=round(cost + solution.cost, 3),
        field_confidence=_field_confidence(layout, conf),
        uncertain=tuple(uncertain),
        ambiguous=solution.ambiguous,
    )


def _field_confidence(layout: Layout, conf: list[list[float]]) -> dict[str, float]:
    out = {}
    for span in layout.spans:
        values = conf[span.line][span.start : span.end]
        if values:
            out[span.name] = round(min(values), 3)
    return out
