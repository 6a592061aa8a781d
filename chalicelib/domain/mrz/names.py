"""Names in the zone (ICAO 9303 part 3, section 6): how a declared name is printed, and whether a read one is it."""

from __future__ import annotations

import re
import unicodedata

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
