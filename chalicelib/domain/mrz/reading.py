"""What a repair returns: the zone, every character it changed and why, and what it could not settle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .layouts import BY_NAME
from .zone import Mrz

#: Why a character was changed (``Repair.why``).
NOT_IN_ALPHABET = "not_in_alphabet"  # a letter where only digits go, a digit in a name: it cannot stand as read
LOOKALIKE = "lookalike"  # a digit/letter twin (0/O, 1/I, 2/Z, 5/S, 8/B, 6/G) in a field that takes both
UNSURE = "unsure"  # a character OCR itself gave a low confidence
FILLER_RULE = "filler"  # '<' read as K, S, C, E... where the layout has padding
COUNTRY_RULE = "country"  # the one ICAO code a single plausible misreading away
LAYOUT_RULE = "layout"  # the document code and sex fields' few values
DROPPED_OR_ADDED = "dropped_or_added"  # a character OCR lost or invented (the line was too short or long)


@dataclass(frozen=True)
class Repair:
    """One character changed (``found`` may be '' for an inserted one, ``repaired`` '' for a dropped one)."""

    line: int
    column: int
    found: str
    repaired: str
    why: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "found": self.found,
            "repaired": self.repaired,
            "why": self.why,
        }


@dataclass(frozen=True)
class Uncertain:
    """A character of a field no check digit protects that OCR could not have read right as it stands (a digit
    in a name): the reading shows ``chosen``; any of ``could_be`` is as likely, so a comparison must accept them."""

    line: int
    column: int
    found: str
    chosen: str
    could_be: str

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "found": self.found,
            "chosen": self.chosen,
            "could_be": self.could_be,
        }


@dataclass(frozen=True)
class Reading:
    """A zone found in OCR output: the repaired ``mrz`` and how it got there.

    ``valid`` holds only when every check digit agrees with what it protects (a repair never makes it so by
    changing a check digit) and no field could as well be read otherwise: ``ambiguous`` names the fields
    where more than one reading satisfies the check digits and explains what was read, or where OCR doubted
    more characters than a check digit can vouch for; they are left as read, since picking one would be a
    guess, and the reading is not valid.
    """

    mrz: Mrz
    repairs: tuple[Repair, ...]
    cost: float
    field_confidence: Mapping[str, float] = field(default_factory=dict)
    uncertain: tuple[Uncertain, ...] = ()
    ambiguous: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.mrz.valid and not self.ambiguous

    def name_doubts(self) -> dict[int, str]:
        """The uncertain characters of the name, by their offset in ``mrz.name_field``: what each could be.

        A letter the filler rule took for padding ('<' read as K, S, C, E...) could also be the letter OCR read
        there: a trailing word of one repeated look-alike (SS, EE, LL) is padding far more often than a name, but
        where the declared name has exactly that letter, OCR read it as printed and the rule guessed wrong.
        """
        span = next(s for s in BY_NAME[self.mrz.layout].spans if s.name == "names")
        doubts = {
            u.column - span.start: u.could_be
            for u in self.uncertain
            if u.line == span.line and span.start <= u.column < span.end
        }
        for r in self.repairs:
            if r.why == FILLER_RULE and r.line == span.line and span.start <= r.column < span.end and r.found:
                offset = r.column - span.start
                doubts[offset] = "".join(dict.fromkeys(doubts.get(offset, "") + r.found))
        return doubts

    @property
    def failed_checks(self) -> tuple[str, ...]:
        """The check digits that disagree with what they protect, in the layout's order."""
        return tuple(name for name, ok in self.mrz.checks.items() if not ok)

    def to_dict(self) -> dict[str, object]:
        return {
            **self.mrz.to_dict(),
            "valid": self.valid,
            "failed_checks": list(self.failed_checks),
            "ambiguous": list(self.ambiguous),
            "repairs": [r.to_dict() for r in self.repairs],
            "uncertain": [u.to_dict() for u in self.uncertain],
            "field_confidence": dict(self.field_confidence),
        }
