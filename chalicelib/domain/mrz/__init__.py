"""ICAO 9303 machine-readable zones (TD1, TD2, TD3): check digits, parsing,
finding the zone among OCR lines, and repairing what OCR got wrong.

Ours, pure Python, because the only packaged parser is GPL-3.0 and
unmaintained, and because reading a *photographed* MRZ needs more than a
parser: OCR confuses characters (0/O, 1/I, 2/Z, 5/S, 8/B, the filler ``<``
read as K, S, C or a space) and drops or adds one. Each field has an alphabet
(digits, letters, both) and most are protected by a check digit, so the
reading that satisfies every check digit with the fewest, most plausible
changes is the right one; every change is reported.

One module per concern, each importing only the ones before it:

* ``layouts``: the alphabet, check digits, the TD1/TD2/TD3 field tables, country codes;
* ``zone``: ``parse`` a well-shaped zone into an ``Mrz``;
* ``names``: how a declared name is printed in the zone, and whether a read one is it;
* ``confusions``: what OCR reads OCR-B characters as, and what a change costs;
* ``reading``: what a repair returns (``Reading``, ``Repair``, ``Uncertain``);
* ``rules``: fields no check digit of their own protects, fixed by rule (names, codes, padding);
* ``checked``: what check digits protect, repaired honestly (never a check digit changed; see its docstring);
* ``repairing``: repairing a zone (fitting lines to the layout, then every field);
* ``finding``: the zone among everything OCR read on a page.

Import from the package (``from chalicelib.domain import mrz``). Pure domain
code: no I/O, no third-party imports.
"""

from .finding import dates_plausible, find, find_in_text
from .layouts import (
    ALNUM,
    ALPHA,
    ALPHABET,
    BY_NAME,
    CHECK,
    COUNTRY_CODES,
    DIGITS,
    FILLER,
    LAYOUTS,
    LETTERS,
    NAME,
    NUM,
    SEX,
    TD1,
    TD2,
    TD3,
    Check,
    Layout,
    Span,
    char_value,
    check_digit,
)
from .names import (
    LOOKALIKE_LETTERS,
    NameComparison,
    compare_name,
    encode_name,
    name_agreement,
    name_field_matches,
    name_forms,
)
from .reading import Reading, Repair, Uncertain
from .repairing import MAX_ALIGNMENTS, normalise_line, repair
from .zone import Mrz, layout_for, parse

__all__ = [
    "ALNUM",
    "ALPHA",
    "ALPHABET",
    "BY_NAME",
    "CHECK",
    "COUNTRY_CODES",
    "DIGITS",
    "FILLER",
    "LAYOUTS",
    "LETTERS",
    "LOOKALIKE_LETTERS",
    "MAX_ALIGNMENTS",
    "NAME",
    "NUM",
    "SEX",
    "TD1",
    "TD2",
    "TD3",
    "Check",
    "Layout",
    "Mrz",
    "NameComparison",
    "Reading",
    "Repair",
    "Uncertain",
    "Span",
    "char_value",
    "check_digit",
    "compare_name",
    "dates_plausible",
    "encode_name",
    "find",
    "find_in_text",
    "layout_for",
    "name_agreement",
    "name_field_matches",
    "name_forms",
    "normalise_line",
    "parse",
    "repair",
]
