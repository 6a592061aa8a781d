"""Repairing what check digits protect, honestly.

A check digit is evidence only as long as it is not spent. So a repair:

* never changes a check digit (nor the composite) that was read as a digit. A check digit read as a letter
  is read as its one look-alike digit (O is 0, S is 5, B is 8), chosen by its shape and never by what would
  make the check pass; one read as nothing at all is not guessed;
* changes only characters OCR was unsure of: ones that cannot stand as read (a letter in a date), at most
  one digit/letter twin in a field that takes both (0/O, 1/I, 2/Z, 5/S, 8/B, 6/G -- every flip moves the
  value by 3, 4, 6 or 7, so one flip and an untouched check digit and composite cannot together hide an
  altered check digit), and characters OCR gave a low confidence (at most two a field);
* keeps the composite as a second, unspent witness: the fields' candidates must satisfy it as read;
* refuses to choose: when two different readings satisfy every check digit and explain what was read as
  well (two Bs in a date that could be 8 8 or 3 3; two digits OCR was unsure of, either reading of which
  fits), the field stays as read and fails.

A zone whose check digits fail as printed therefore stays invalid, naming the field, however it is read.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

from .confusions import ANY_COST, CONFUSION_COST, FILLER_LOOKALIKES, TO_DIGIT, TWIN, sub_cost
from .layouts import ALLOWED, ALNUM, CHECK, DIGITS, FILLER, TD1, Check, Layout, check_digit, plausible_yymmdd
from .reading import LOOKALIKE, NOT_IN_ALPHABET, UNSURE

#: A character OCR gave less confidence than this (0..1) may be changed into one of its known confusions.
UNSURE_BELOW = 0.5
#: Look-alike twins a field may flip where OCR was sure: one (see the module's docstring for why not two).
MAX_LOOKALIKE_FLIPS = 1
#: Low-confidence characters a field may change -- and have: a field with more is not vouched for.
MAX_UNSURE_CHANGES = 2
#: Two ways of fitting lines (characters lost or added) whose costs are this close are a coin toss.
AMBIGUITY_MARGIN = 0.35
#: How many combinations of per-character options a field's search looks at, cheapest first.
FIELD_SEARCH_LIMIT = 3000
#: How many valid readings of a field are kept for the composite to judge.
FIELD_KEEP = 6

KEEP = "keep"


@dataclass(frozen=True)
class Option:
    char: str
    cost: float
    why: str  # KEEP, or the Repair.why of the change


@dataclass(frozen=True)
class Candidate:
    """A reading of a field and its check digit: its text, cost, and the changes (offset, found, new, why)."""

    text: str
    cost: float
    changes: tuple[tuple[int, str, str, str], ...]

    @property
    def flips(self) -> int:
        """Look-alike twins flipped where OCR was sure: the only changes that are a choice, not a doubt."""
        return sum(why == LOOKALIKE for *_, why in self.changes)


@dataclass(frozen=True)
class Field:
    """A check digit's field as read: its positions (line, column), kinds, characters and confidences."""

    check: Check
    positions: tuple[tuple[int, int], ...]  # the protected characters, then the check digit
    kinds: tuple[str, ...]
    text: str
    confidence: tuple[float, ...]


def fields_of(layout: Layout, lines: Sequence[str], conf: Sequence[Sequence[float]]) -> list[Field]:
    """Every check digit's own field (not the composite) as read."""
    out = []
    for check in layout.checks:
        if check.name == "composite":
            continue
        ((line, start, end),) = check.over
        positions = tuple((line, column) for column in range(start, end)) + (check.digit,)
        kinds = tuple(_kind(layout, line, column) for line, column in positions[:-1]) + (CHECK,)
        text = "".join(lines[row][column] for row, column in positions)
        confidence = tuple(conf[row][column] for row, column in positions)
        out.append(Field(check, positions, kinds, text, confidence))
    return out


def _kind(layout: Layout, line: int, column: int) -> str:
    for span in layout.spans:
        if span.line == line and span.start <= column < span.end:
            return span.kind
    return ALNUM


def options_at(found: str, kind: str, confidence: float, field_text: str, index: int) -> list[Option]:
    """What the character at ``index`` of a field may be, cheapest first; empty when it cannot be read at all."""
    if kind == CHECK:
        if found in DIGITS or found == FILLER:
            return [Option(found, 0.0, KEEP)]
        if found in TO_DIGIT:  # by its shape: the one digit it looks like, whatever the check would like
            return [Option(TO_DIGIT[found][0], CONFUSION_COST, NOT_IN_ALPHABET)]
        if found in FILLER_LOOKALIKES:
            return [Option(FILLER, CONFUSION_COST, NOT_IN_ALPHABET)]
        return []  # a check digit not read is not a check digit we may invent
    allowed = ALLOWED[kind]
    if found == "?" or found not in allowed:
        forced = [Option(new, sub_cost(found, new, kind, confidence), NOT_IN_ALPHABET) for new in sorted(allowed)]
        known = [o for o in forced if found == "?" or sub_cost(found, o.char, kind, 1.0) < ANY_COST]
        return sorted(known or forced, key=lambda o: o.cost)
    options = [Option(found, 0.0, KEEP)]
    unsure = confidence < UNSURE_BELOW
    if kind == ALNUM and found in TWIN:  # where OCR was unsure too, a twin is one of its unsure changes
        options.append(Option(TWIN[found], _twin_cost(found, field_text, index), UNSURE if unsure else LOOKALIKE))
    if unsure:
        for new in sorted(allowed):
            cost = sub_cost(found, new, kind, confidence)
            if new != found and sub_cost(found, new, kind, 1.0) < ANY_COST and all(o.char != new for o in options):
                options.append(Option(new, cost, UNSURE))
    return sorted(options, key=lambda o: o.cost)


def _twin_cost(found: str, text: str, index: int) -> float:
    """Document numbers are mostly digits, letters (if any) first: a letter among digits is the likelier misread."""
    field = [c for c in text[:-1] if c != FILLER]
    digits_majority = sum(c.isdigit() for c in field) * 2 >= len(field)
    if found.isdigit():
        return CONFUSION_COST * (2.0 if digits_majority and index > 0 else 1.0)
    return CONFUSION_COST * (0.7 if digits_majority else 1.3)


def valid_field(candidate: str, check: Check, layout: Layout) -> bool:
    """The field satisfies its check digit (and a date is a date)."""
    data, digit = candidate[:-1], candidate[-1]
    if check.name in ("birth_date", "expiry_date") and not plausible_yymmdd(data):
        return False
    if check.name == "document_number" and FILLER in data.rstrip(FILLER):
        return False  # a number is written from the left and padded on the right
    if digit == FILLER:
        if layout is TD1 and check.name == "document_number":
            return True  # the long-number form: judged by the composite
        return check.may_be_filler and set(data) <= {FILLER}
    return digit in DIGITS and digit == check_digit(data)


def field_candidates(field: Field, layout: Layout) -> list[Candidate]:
    """Readings of the field that satisfy its check digit, cheapest first, within the honest limits."""
    per_position = [
        options_at(char, kind, weight, field.text, index)
        for index, (char, kind, weight) in enumerate(zip(field.text, field.kinds, field.confidence, strict=True))
    ]
    if any(not options for options in per_position):
        return []
    if _too_doubtful(field):
        return []
    found: list[Candidate] = []
    for chosen in _cheapest(per_position, FIELD_SEARCH_LIMIT):
        flips = sum(o.why == LOOKALIKE for o in chosen)
        unsure = sum(o.why == UNSURE for o in chosen)
        if flips > MAX_LOOKALIKE_FLIPS or unsure > MAX_UNSURE_CHANGES:
            continue
        cost = sum(o.cost for o in chosen)
        if len(found) >= FIELD_KEEP:
            break
        text = "".join(o.char for o in chosen)
        if valid_field(text, field.check, layout):
            changes = tuple((i, field.text[i], o.char, o.why) for i, o in enumerate(chosen) if o.char != field.text[i])
            found.append(Candidate(text, cost, changes))
    return found


def _too_doubtful(field: Field) -> bool:
    """More characters OCR was unsure of than a check digit (and the search) can weigh: two errors can cancel."""
    return sum(weight < UNSURE_BELOW for weight in field.confidence) > MAX_UNSURE_CHANGES


def as_read(field: Field) -> Candidate:
    """The field as read, with only what cannot stand as read changed, and only where it has one look-alike
    (O in a date is 0; S could be 5 or 8, so it stays S and the field fails)."""
    chars, changes = [], []
    for i, (char, kind, weight) in enumerate(zip(field.text, field.kinds, field.confidence, strict=True)):
        options = options_at(char, kind, weight, field.text, i)
        forced = [o for o in options if o.why == NOT_IN_ALPHABET]
        if len(forced) == 1:
            chars.append(forced[0].char)
            changes.append((i, char, forced[0].char, NOT_IN_ALPHABET))
        else:
            chars.append(char)
    return Candidate("".join(chars), sum(CONFUSION_COST for _ in changes), tuple(changes))


def _cheapest(per_position: list[list[Option]], limit: int) -> Iterator[tuple[Option, ...]]:
    """One option per position, in increasing total cost, at most ``limit`` combinations."""
    start = (0,) * len(per_position)

    def cost(indexes: tuple[int, ...]) -> float:
        return sum(options[i].cost for options, i in zip(per_position, indexes, strict=True))

    heap = [(cost(start), start)]
    seen = {start}
    for _ in range(limit):
        if not heap:
            return
        _, indexes = heapq.heappop(heap)
        yield tuple(options[i] for options, i in zip(per_position, indexes, strict=True))
        for position, index in enumerate(indexes):
            if index + 1 < len(per_position[position]):
                following = indexes[:position] + (index + 1,) + indexes[position + 1 :]
                if following not in seen:
                    seen.add(following)
                    heapq.heappush(heap, (cost(following), following))


@dataclass(frozen=True)
class Solution:
    """The zone's protected fields settled: one candidate per field, or the fields left as read."""

    chosen: tuple[Candidate, ...]
    valid: bool
    ambiguous: tuple[str, ...] = ()

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.chosen)


def solve(layout: Layout, lines: Sequence[str], conf: Sequence[Sequence[float]]) -> tuple[list[Field], Solution]:
    """The cheapest readings of the protected fields that satisfy their check digits and the composite as read,
    or the fields as read when there is none or more than one about as good."""
    fields = fields_of(layout, lines, conf)
    fallback = Solution(tuple(as_read(f) for f in fields), False)
    doubted = tuple(f.check.name for f in fields if _too_doubtful(f))
    if doubted:  # even if they read as valid, their check digits cannot vouch for them
        return fields, Solution(fallback.chosen, False, doubted)
    per_field = [field_candidates(f, layout) for f in fields]
    if any(not candidates for candidates in per_field):
        return fields, fallback
    composite = next(c for c in layout.checks if c.name == "composite")
    valid = [
        Solution(tuple(combination), True)
        for combination in sorted(itertools.product(*per_field), key=lambda combo: sum(c.cost for c in combo))
        if _composite_ok(layout, composite, lines, fields, combination)
    ]
    if not valid:
        return fields, fallback
    best = valid[0]
    # A rival is another reading that explains what was read as well: by what OCR doubted (characters that
    # cannot stand, low confidence) and no more look-alike flips. Its cost does not matter: where OCR doubts
    # two characters of a field, its check digit cannot vouch for either (two errors can cancel out).
    flips = sum(c.flips for c in best.chosen)

    def questions_a_doubt(other: Solution) -> bool:  # it reads otherwise a character OCR was unsure of
        return any(
            mine != theirs and weight < UNSURE_BELOW
            for f, a, b in zip(fields, best.chosen, other.chosen, strict=True)
            for mine, theirs, weight in zip(a.text, b.text, f.confidence, strict=True)
        )

    # A reading with no more flips is a rival only if it is about as likely: a letter read among a number's
    # digits (S in U228S2144) turned into its twin digit beats a digit turned into a letter there
    # (``_twin_cost``: 0.21 against 0.6), so where both satisfy the check digit and the composite, the first
    # is the repair. Readings within AMBIGUITY_MARGIN of each other stay a coin toss.
    rivals = [
        s
        for s in valid[1:]
        if questions_a_doubt(s) or (sum(c.flips for c in s.chosen) <= flips and s.cost <= best.cost + AMBIGUITY_MARGIN)
    ]
    if rivals:  # a coin toss: the fields that differ stay exactly as read, so they fail and say so
        differing = tuple(
            sorted(
                {
                    f.check.name
                    for rival in rivals
                    for f, mine, theirs in zip(fields, best.chosen, rival.chosen, strict=True)
                    if mine.text != theirs.text
                }
            )
        )
        chosen = tuple(
            Candidate(f.text, 0.0, ()) if f.check.name in differing else settled
            for f, settled in zip(fields, fallback.chosen, strict=True)
        )
        return fields, Solution(chosen, False, differing)
    return fields, best


def _composite_ok(
    layout: Layout, composite: Check, lines: Sequence[str], fields: list[Field], chosen: Sequence[Candidate]
) -> bool:
    rows = [list(line) for line in lines]
    for f, candidate in zip(fields, chosen, strict=True):
        for (row, column), char in zip(f.positions, candidate.text, strict=True):
            rows[row][column] = char
    row, column = composite.digit
    digit = rows[row][column]
    options = options_at(digit, CHECK, 1.0, "", 0)
    if not options or options[0].char not in DIGITS:
        return False
    data = "".join("".join(rows[line][start:end]) for line, start, end in composite.over)
    for line, start, end in composite.over:
        if any(rows[line][col] not in ALLOWED[_kind(layout, line, col)] for col in range(start, end)):
            return False
    return options[0].char == check_digit(data)


def composite_digit(lines: Sequence[str], layout: Layout) -> Optional[tuple[str, str]]:
    """The composite check digit as read, and as it must be read (a letter as its look-alike digit)."""
    composite = next(c for c in layout.checks if c.name == "composite")
    row, column = composite.digit
    found = lines[row][column]
    options = options_at(found, CHECK, 1.0, "", 0)
    return (found, options[0].char) if options else None
