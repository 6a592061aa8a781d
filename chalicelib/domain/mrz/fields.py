"""Repairing one field at a time: candidates for a field and its check digit, unprotected fields by rule,
and the composite check over them."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Optional

from .confusions import (
    FILLER_LOOKALIKES,
    SWAP_COST,
    TO_DIGIT,
    TO_LETTER,
    alternatives,
    sub_cost,
)
from .layouts import (
    ALLOWED,
    ALNUM,
    ALPHA,
    CHECK,
    COUNTRY_CODES,
    DIGITS,
    FILLER,
    NAME,
    TD1,
    TD3,
    Check,
    Layout,
    Span,
    check_data,
    check_digit,
    plausible_yymmdd,
)
from .reading import Repair


@dataclass
class Candidate:
    text: str
    cost: float
    repairs: list[tuple[int, str, str]]  # (offset in the field, found, repaired)


@functools.lru_cache(maxsize=4096)
def cached_candidates(
    text: str, kinds: tuple[str, ...], conf: tuple[float, ...], check: Check, layout: Layout
) -> list[Candidate]:
    """Alignments of a line share most fields: compute each field's candidates once."""
    return _field_candidates(text, list(kinds), list(conf), check, layout)


def _field_candidates(
    text: str, kinds: list[str], conf: list[float], check: Check, layout: Layout, keep: int = 4
) -> list[Candidate]:
    """Readings of a protected field + its check digit that satisfy it, cheapest first.

    Characters outside their alphabet must change; then up to two more
    changes, the cheapest (known confusions, low-confidence characters) first.
    """
    as_read_valid = _valid_field(text, kinds, check, layout)
    per_position: list[list[tuple[str, float]]] = []
    for index, (char, kind, weight) in enumerate(zip(text, kinds, conf, strict=False)):
        options = alternatives(char, kind, weight)
        if kind == ALNUM:
            options = sorted(_in_context(options, text, kinds, index), key=lambda item: item[1])
        if char in ALLOWED[kind]:
            # A field that is valid as read stays as read: 6/G and 1/L weigh the same in the check digit.
            staying = 0.0 if as_read_valid else _keep_cost(text, kinds, index)
            options = [(char, staying)] + [o for o in options if o[0] != char]
        per_position.append(options)
    base = [options[0] for options in per_position]
    results: dict[str, Candidate] = {}

    def consider(chosen: list[tuple[str, float]]) -> None:
        candidate = "".join(c for c, _ in chosen)
        if not _valid_field(candidate, kinds, check, layout):
            return
        cost = sum(c for _, c in chosen)
        if candidate not in results or cost < results[candidate].cost:
            changes = [(i, text[i], c) for i, (c, _) in enumerate(chosen) if c != text[i]]
            results[candidate] = Candidate(candidate, cost, changes)

    consider(base)
    positions = range(len(text))
    for i in positions:
        for option in per_position[i][1:]:
            trial = list(base)
            trial[i] = option
            consider(trial)
    # Two cheap changes can beat one dear one ('S7S4' is '5754', not 'S7S8').
    cheap = [[o for o in per_position[i][1:4] if o[1] <= SWAP_COST] for i in positions]
    for i, j in itertools.combinations(positions, 2):
        for a in cheap[i]:
            for b in cheap[j]:
                trial = list(base)
                trial[i], trial[j] = a, b
                consider(trial)
    return sorted(results.values(), key=lambda c: c.cost)[:keep]


def _keep_cost(text: str, kinds: list[str], index: int) -> float:
    """A letter inside a number that is otherwise digits is itself suspect (leading letters are common)."""
    if kinds[index] != ALNUM or index == 0 or not text[index].isalpha():
        return 0.0
    field = [c for c, k in zip(text, kinds, strict=False) if k == ALNUM and c != FILLER]
    digits = sum(c.isdigit() for c in field)
    return 0.25 if digits * 3 >= len(field) * 2 and text[index] in TO_DIGIT else 0.0


def _in_context(options: list[tuple[str, float]], text: str, kinds: list[str], index: int) -> list[tuple[str, float]]:
    """In a mixed field, the field's majority and the neighbours say whether a character is likelier a digit.

    Document numbers are mostly digits, letters (if any) usually first: 'S7S4' is '5754', not 'ST54'.
    """
    field = [c for c, k in zip(text, kinds, strict=False) if k == ALNUM and c != FILLER]
    digits_majority = sum(c.isdigit() for c in field) * 2 >= len(field)
    neighbours = [text[j] for j in (index - 1, index + 1) if 0 <= j < len(text) and kinds[j] == ALNUM]
    digit_neighbours = sum(c.isdigit() for c in neighbours)
    letter_neighbours = sum(c.isalpha() for c in neighbours)
    out = []
    for new, cost in options:
        if cost and new != FILLER:
            if new.isdigit():
                cost *= 0.7 if digits_majority else 1.3
                cost *= 0.9 if digit_neighbours > letter_neighbours and digit_neighbours == 2 else 1.0
            else:
                cost *= 2.0 if digits_majority and index > 0 else 0.8
                cost *= 0.9 if letter_neighbours > digit_neighbours and letter_neighbours == 2 else 1.0
        out.append((new, cost))
    return out


def _valid_field(candidate: str, kinds: list[str], check: Check, layout: Layout) -> bool:
    data, digit = candidate[:-1], candidate[-1]
    if any(c not in ALLOWED[k] for c, k in zip(candidate, kinds, strict=False)):
        return False
    if check.name in ("birth_date", "expiry_date") and not plausible_yymmdd(data):
        return False
    if digit == FILLER:
        if layout is TD1 and check.name == "document_number":
            return True  # the long-number form: judged by the composite
        return check.may_be_filler and set(data) <= {FILLER}
    return digit == check_digit(data)


def fix_unprotected(span: Span, text: str, layout: Layout) -> tuple[str, list[tuple[int, str, str]]]:
    """Map a field without a check digit into its alphabet, and fillers by rule."""
    out = list(text)
    allowed = ALLOWED[span.kind]
    for i, char in enumerate(out):
        if char not in allowed or char == "?":
            out[i] = (
                TO_LETTER.get(char, FILLER) if span.kind in (ALPHA, NAME) else alternatives(char, span.kind, 1.0)[0][0]
            )
    if span.kind == NAME:
        out = list(_fix_name_fillers("".join(out)))
    elif span.name in ("issuing_state", "nationality"):
        out = list(_fix_country("".join(out)))
    elif span.name == "document_code":
        # A passport-size zone is a passport (or visa); the smaller ones are identity cards (I, A, C).
        if layout is TD3 and out[0] not in "PV":
            out[0] = "P"
        elif layout is not TD3 and out[0] not in "IAC":
            out[0] = "I" if out[0] in "T1LJ" or layout is TD1 else out[0]
        if out[1] in FILLER_LOOKALIKES and out[1] not in "C":
            out[1] = FILLER  # 'PK', 'PS': nobody issues those; 'P<' read badly
    elif span.name.startswith("optional_data"):
        out = list(fix_optional_fillers("".join(out)))
    elif span.name == "sex":
        out = [{"N": "M", "H": "M", "P": "F", "E": "F"}.get(out[0], out[0])]
        if out[0] in FILLER_LOOKALIKES:
            out = [FILLER]
    changes = [(i, text[i], new) for i, new in enumerate(out) if new != text[i]]
    return "".join(out), changes


def _fix_country(code: str) -> str:
    """A code ICAO knows, or the one known code a single plausible misreading away."""
    if code.rstrip(FILLER) in COUNTRY_CODES:
        return code
    if code[0] == "D" and all(c in FILLER_LOOKALIKES | {FILLER} for c in code[1:]):
        return "D" + FILLER * (len(code) - 1)
    ranked = []
    for known in COUNTRY_CODES:
        padded = (known + FILLER * 3)[:3]
        differing = [(found, want) for found, want in zip(code, padded, strict=False) if found != want]
        if len(differing) == 1:
            ranked.append((sub_cost(differing[0][0], differing[0][1], ALPHA, 1.0), padded))
    ranked.sort()
    if ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0]):
        return ranked[0][1]
    return code


def fix_optional_fillers(text: str) -> str:
    """Mostly-empty optional data: a filler lookalike between fillers is a filler."""
    if text.count(FILLER) * 2 < len(text):
        return text
    chars = list(text)
    for i, char in enumerate(chars):
        left = chars[i - 1] if i > 0 else FILLER
        right = chars[i + 1] if i + 1 < len(chars) else FILLER
        if char in FILLER_LOOKALIKES and left == FILLER and right == FILLER:
            chars[i] = FILLER
    return "".join(chars)


def _fix_name_fillers(name: str) -> str:
    """'<' read as K/S/C/E in the padding, word by word from the end of the field.

    A trailing word made of one repeated lookalike is padding when it runs to
    the end ('KKKK'), is three or more long, or stands after two fillers
    ('JANE<<<K<<') -- names separate words with one '<', and '<<' only once,
    before the given names. A run of three or more at the end of a word
    ('MARIAKKKK') is padding too. Never the first word, nor a lone letter right
    after the separator ('A<<C' is a one-letter given name).
    """
    chars = list(name)
    n = len(chars)
    separator = name.find(FILLER * 2)
    words = [(m.start(), m.end()) for m in re.finditer(r"[^<]+", name)]
    for index in range(len(words) - 1, 0, -1):
        start, end = words[index]
        word = name[start:end]
        one_lookalike = len(set(word)) == 1 and word[0] in FILLER_LOOKALIKES
        after_two = name[max(0, start - 2) : start] == FILLER * 2 and start != separator + 2
        if one_lookalike and ((end == n and len(word) >= 2) or len(word) >= 3 or after_two):
            chars[start:end] = FILLER * len(word)
            continue
        run = re.search(r"([KSCEXLZ])\1{2,}$", word)
        if run:
            chars[start + run.start() : end] = FILLER * (end - start - run.start())
        break
    return "".join(chars)


def protected_spans(layout: Layout) -> set[str]:
    names = set()
    for check in layout.checks:
        if check.name == "composite":
            continue
        ((line, start, end),) = check.over
        for span in layout.spans:
            if span.line == line and start <= span.start and span.end <= end:
                names.add(span.name)
        names.add(check.name + "_check")
    return names


def kind_at(spans: list[Span], column: int) -> str:
    for span in spans:
        if span.start <= column < span.end:
            return span.kind
    return ALNUM


def composite_unprotected(
    layout: Layout, groups: list[Check], composite: Optional[Check]
) -> list[tuple[int, int, str]]:
    """Positions the composite covers that no other check digit does (e.g. TD3's optional data when '<')."""
    if composite is None:
        return []
    covered = set()
    for check in groups:
        ((line, start, end),) = check.over
        covered |= {(line, c) for c in range(start, end)} | {check.digit}
    out = []
    for line, start, end in composite.over:
        for column in range(start, end):
            if (line, column) not in covered:
                kind = next((s.kind for s in layout.spans if s.line == line and s.start <= column < s.end), ALNUM)
                out.append((line, column, kind))
    return out


def fix_composite(
    chars: list[list[str]], conf: list[list[float]], composite: Check, free: list[tuple[int, int, str]]
) -> Optional[tuple[float, list[Repair]]]:
    """Satisfy the composite: as is, or by one plausible change at a position no other check protects, or its digit."""
    row, column = composite.digit

    def ok() -> bool:
        return chars[row][column] == check_digit(check_data(composite, ["".join(r) for r in chars]))

    if chars[row][column] not in DIGITS:
        found = chars[row][column]
        chars[row][column] = check_digit(check_data(composite, ["".join(r) for r in chars]))
        return (
            sub_cost(found, chars[row][column], CHECK, conf[row][column]),
            [Repair(row, column, found, chars[row][column])],
        )
    if ok():
        return (0.0, [])
    best: Optional[tuple[float, list[Repair]]] = None
    for line, col, kind in free:
        found = chars[line][col]
        for new, change_cost in alternatives(found, kind, conf[line][col]):
            if new == found:
                continue
            chars[line][col] = new
            if ok() and (best is None or change_cost < best[0]):
                best = (change_cost, [Repair(line, col, found, new)])
            chars[line][col] = found
    digit_found = chars[row][column]
    expected = check_digit(check_data(composite, ["".join(r) for r in chars]))
    digit_cost = sub_cost(digit_found, expected, CHECK, conf[row][column])
    if best is None or digit_cost < best[0]:
        best = (digit_cost, [Repair(row, column, digit_found, expected)])
    if best is not None and best[1][0].column == column and best[1][0].line == row:
        chars[row][column] = expected
    else:
        r = best[1][0]
        chars[r.line][r.column] = r.repaired
    return best
