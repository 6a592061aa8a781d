"""Names in the zone (ICAO 9303 part 3, section 6): how a declared name is printed, and whether a read one is it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from .confusions import FILLER_LOOKALIKES, NAME_LOOKALIKE_LETTERS
from .layouts import BY_NAME, FILLER
from .zone import Mrz

# Characters the transliteration table maps to more than one letter; the rest
# lose their diacritics (NFKD). ICAO also allows the single-letter forms
# (Ä -> A), which ``name_forms`` returns too.
_MULTI_LETTER = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ð": "D",
    "Ö": "OE",
    "Ø": "OE",
    "Ü": "UE",
    "ß": "SS",
    "Þ": "TH",
    "Œ": "OE",
    "Ĳ": "IJ",
    "Ł": "L",
    "Đ": "D",
    "Ħ": "H",
    "Ŀ": "L",
    "Ŧ": "T",
    "Ŋ": "N",
    "ı": "I",
}


def encode_name(text: str, *, single_letter: bool = False) -> str:
    """A name as an MRZ prints it: A-Z, words joined by '<'; apostrophes vanish (O'BRIEN -> OBRIEN)."""
    out = []
    for char in text.upper():
        if char in _MULTI_LETTER and not single_letter:
            out.append(_MULTI_LETTER[char])
            continue
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if not base and char in _MULTI_LETTER:
            base = _MULTI_LETTER[char][0]
        out.append("" if char in "'’" else base if base.isalpha() else " ")
    return FILLER.join(word for word in re.split(r"[^A-Z]+", "".join(out)) if word)


def name_forms(surname: str, given_names: str) -> set[str]:
    """Every MRZ spelling ICAO allows for a declared name: SURNAME<<GIVEN<NAMES."""
    forms = set()
    for single in (False, True):
        primary, secondary = encode_name(surname, single_letter=single), encode_name(given_names, single_letter=single)
        forms.add(f"{primary}<<{secondary}" if secondary else primary)
    return forms


def name_field_matches(surname: str, given_names: str, mrz: Mrz) -> bool:
    """The zone's name is one of the declared name's ICAO spellings, possibly truncated to fit its field."""
    read = mrz.name_field
    width = next(s.end - s.start for s in BY_NAME[mrz.layout].spans if s.name == "names")
    for form in name_forms(surname, given_names):
        if read == form:
            return True
        if mrz.name_truncated and read and _truncation_of(form, read):
            return True
        if read and len(form) > width and form[:width].rstrip(FILLER) == read:
            return True  # cut where a word ended: the fillers left over could not hold the next word's letter
    return False


def _truncation_of(full: str, read: str) -> bool:
    """ICAO truncates the secondary identifier first, keeping initials; a prefix is the simplest form."""
    if full.startswith(read):
        return True
    surname, _, given = full.partition("<<")
    read_surname, _, read_given = read.partition("<<")
    if read_surname != surname and not surname.startswith(read_surname):
        return False
    full_words, read_words = given.split(FILLER), [w for w in read_given.split(FILLER) if w]
    return len(read_words) <= len(full_words) and all(
        full_word.startswith(read_word) for full_word, read_word in zip(full_words, read_words, strict=False)
    )


EXACT = "exact"
LOOKALIKE = "lookalike"
LOOKALIKE_LETTERS = "lookalike_letters"
#: At most this share of a name's letters (and never fewer than two) may be look-alike letters read for the
#: declared ones before a person must look: OCR misreads a few; a name mostly made of differences is another name.
MAX_LOOKALIKE_SHARE = 0.25
MIN_LOOKALIKE_ALLOWANCE = 2


@dataclass(frozen=True)
class NameComparison:
    """How a zone's name compares with the declared one.

    ``level``: ``EXACT``, ``LOOKALIKE`` (only where OCR read what cannot stand in a name: a digit), or
    ``LOOKALIKE_LETTERS`` (also letters OCR-B lets an OCR read for each other: G/O, S/B, I/L...; within
    ``MAX_LOOKALIKE_SHARE`` of the letters), or None. ``differences``: (offset in the name field, read,
    declared) where the read name differs from the declared spelling it was compared with; ``too_many``: the
    differences are all look-alikes but more than a misread explains.
    """

    level: Optional[str]
    declared_form: str = ""
    differences: tuple[tuple[int, str, str], ...] = ()
    too_many: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "declared_form": self.declared_form,
            "differences": [{"offset": o, "read": r, "declared": d} for o, r, d in self.differences],
            "too_many": self.too_many,
        }


def name_agreement(
    surname: str, given_names: str, mrz: Mrz, could_be: Optional[Mapping[int, str]] = None
) -> Optional[str]:
    """How the zone's name agrees with the declared one: ``EXACT`` (an ICAO spelling, or its truncation),
    ``LOOKALIKE`` (it would be, read as it could be where OCR read what cannot stand in a name: ``could_be``
    maps an offset in ``mrz.name_field`` to the letters that character may have been), else None.

    A letter read as a letter is never taken for another: a look-alike difference is accepted only where
    OCR itself showed it could not have read right, so another person's name never passes for the declared one.
    """
    if name_field_matches(surname, given_names, mrz):
        return EXACT
    doubts = dict(could_be or {})
    if not doubts:
        return None
    # Compared over the whole field, padding included: a letter the filler rule took for padding is a doubt too.
    width = next(s.end - s.start for s in BY_NAME[mrz.layout].spans if s.name == "names")
    read = mrz.name_field.ljust(width, FILLER)
    for form in name_forms(surname, given_names):
        if len(form) > width and not mrz.name_truncated:
            continue
        declared = form[:width].ljust(width, FILLER)
        if all(
            mine == theirs or (i in doubts and theirs in doubts[i])
            for i, (mine, theirs) in enumerate(zip(read, declared, strict=True))
        ):
            return LOOKALIKE
    return None


def _lookalike(read: str, declared: str) -> bool:
    """May OCR have read ``declared``, printed in OCR-B, as ``read`` (both letters, or a filler and its looks)?"""
    if FILLER in (read, declared):
        other = declared if read == FILLER else read
        return other in FILLER_LOOKALIKES
    return frozenset((read, declared)) in NAME_LOOKALIKE_LETTERS


def compare_name(
    surname: str, given_names: str, mrz: Mrz, could_be: Optional[Mapping[int, str]] = None
) -> NameComparison:
    """Compare the zone's name with the declared one, aware of what OCR confuses -- without rewriting anything.

    A name has no check digit, so no repair can say which of two look-alike letters is printed (G or O, S or B);
    the declared name can. It agrees when each character read is the declared one, or a letter it could have
    been where OCR read what cannot stand in a name (``could_be``), or an OCR-B look-alike of it -- at most
    ``MAX_LOOKALIKE_SHARE`` of the letters (and two) being look-alikes. Every check-digit-protected field is
    compared exactly elsewhere, so a look-alike name passes only on a document whose number, dates and
    nationality are the declared ones.
    """
    agreement = name_agreement(surname, given_names, mrz, could_be)
    if agreement is not None:
        return NameComparison(agreement)
    doubts = dict(could_be or {})
    width = next(s.end - s.start for s in BY_NAME[mrz.layout].spans if s.name == "names")
    read = mrz.name_field.ljust(width, FILLER)
    best: Optional[NameComparison] = None
    for form in sorted(name_forms(surname, given_names)):
        declared = form[:width].ljust(width, FILLER)
        differences = []
        for offset, (mine, theirs) in enumerate(zip(read, declared, strict=True)):
            if mine == theirs or (offset in doubts and theirs in doubts[offset]):
                continue
            if not _lookalike(mine, theirs):
                break
            differences.append((offset, mine, theirs))
        else:
            letters = sum(char != FILLER for char in form)
            allowance = max(MIN_LOOKALIKE_ALLOWANCE, int(letters * MAX_LOOKALIKE_SHARE))
            found = NameComparison(
                LOOKALIKE_LETTERS if len(differences) <= allowance else None,
                form,
                tuple(differences),
                too_many=len(differences) > allowance,
            )
            if best is None or len(found.differences) < len(best.differences):
                best = found
    return best or NameComparison(None)
