"""Names in the zone (ICAO 9303 part 3, section 6): how a declared name is printed, and whether a read one is it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Optional

from .layouts import FILLER
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
    for form in name_forms(surname, given_names):
        if read == form:
            return True
        if mrz.name_truncated and read and _truncation_of(form, read):
            return True
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
    read = mrz.name_field
    for form in name_forms(surname, given_names):
        if len(form) < len(read) or (len(form) > len(read) and not mrz.name_truncated):
            continue
        if all(
            mine == theirs or (i in doubts and theirs in doubts[i])
            for i, (mine, theirs) in enumerate(zip(read, form, strict=False))
        ):
            return LOOKALIKE
    return None
