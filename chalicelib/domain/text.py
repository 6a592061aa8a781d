"""What free text a person may declare: printable characters only.

Names and address lines reach reviewers' screens, reports and the MRZ
comparison. Control characters (NUL, ESC, newlines), bidirectional overrides
and isolates (U+202A-U+202E, U+2066-U+2069: they reorder what a reviewer
reads), zero-width and other invisible format characters (U+200B-U+200D,
U+FEFF, the soft hyphen), line and paragraph separators, surrogates and
private-use code points are refused rather than silently stripped: what was
stored is what was typed. So are unassigned code points, characters that draw
nothing although their category says letter or mark (Hangul fillers, the
Braille blank, the combining grapheme joiner: a "name" of them looks empty),
and runs of more than three combining marks on one character.
``printable_pattern()`` says the same, but for the run length, as a regular
expression for the OpenAPI document, so generated clients and fuzzers agree.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

#: Unicode general categories refused: control, format, line/paragraph separators, surrogates, private use,
#: and unassigned code points (Cn: nothing can say what they will be drawn as).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})

#: Characters that draw nothing yet are letters or marks by category, so a "name" made of them looks
#: empty: Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt) beyond the Cf above --
#: the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the combining grapheme joiner U+034F, the Khmer
#: inherent vowels U+17B4-U+17B5, the Mongolian variation selectors U+180B-U+180F, the variation
#: selectors -- and the Braille blank U+2800, drawn as a space.
INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0100, 0xE01EF),
)

#: Combining marks one base character may carry: Vietnamese stacks two on a vowel (NFD), three covers
#: every writing system's need; a longer run ("Zalgo" text) only overwrites the lines around it.
MAX_COMBINING_RUN = 3


def _invisible(cp: int) -> bool:
    return any(start <= cp <= end for start, end in INVISIBLE_RANGES)


def _refused(char: str) -> bool:
    return unicodedata.category(char) in REFUSED_CATEGORIES or _invisible(ord(char))


#: Whitespace controls an address line may carry from a copy-paste: normalisation collapses them.
ADDRESS_WHITESPACE = "\t"


def refused_characters(text: str, allowed: str = "") -> list[str]:
    """The code points of ``text`` that may not be declared, as ``U+XXXX`` (at most five)."""
    found: list[str] = []
    for char in text:
        name = f"U+{ord(char):04X}"
        if char not in allowed and _refused(char) and name not in found:
            found.append(name)
            if len(found) == 5:
                break
    return found


def longest_combining_run(text: str) -> int:
    """The most combining marks in a row, in the decomposed form (what a renderer stacks)."""
    longest = run = 0
    for char in unicodedata.normalize("NFD", text):
        run = run + 1 if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me") else 0
        longest = max(longest, run)
    return longest


def check_printable(text: str, allowed: str = "") -> str:
    """Return ``text`` or raise ValueError naming the refused code points (never the text)."""
    refused = refused_characters(text, allowed)
    if refused:
        raise ValueError(f"contains characters that are not allowed: {', '.join(refused)}")
    if longest_combining_run(text) > MAX_COMBINING_RUN:
        raise ValueError(f"more than {MAX_COMBINING_RUN} combining marks on one character")
    return text


def check_address_line(text: str) -> str:
    return check_printable(text, ADDRESS_WHITESPACE)


def printable_schema(allowed: str = "", *, required: bool = False) -> Callable[[dict[str, Any]], None]:
    """A pydantic ``json_schema_extra`` adding ``printable_pattern(allowed, required)`` when a JSON schema is built.

    Lazily: the pattern scans every code point (a third of a second), which only
    the OpenAPI document needs, never a handler's cold start.
    """

    def add_pattern(schema: dict[str, Any]) -> None:
        schema["pattern"] = printable_pattern(allowed, required)

    return add_pattern


@functools.cache
def printable_pattern(allowed: str = "", required: bool = False) -> str:
    """A regular expression matching exactly the strings a field accepts that is stripped of whitespace and then
    checked by ``check_printable(text, allowed)`` (and, ``required``, must not be left empty).

    The fields strip before they check (``StringConstraints(strip_whitespace=True, ...)``): a tab or a line
    separator at either end is dropped, not refused, and a reason of no-break spaces alone is left empty and
    refused as too short. The document says so, or a client (or a fuzzer) following it is refused what it allows."""
    kept = _complement(_refused_ranges(allowed))
    blanks = _blank_ranges()
    first = _complement(_merged(_refused_ranges(allowed) + blanks))
    # blanks, then what is kept (its first character neither blank nor refused, the rest not refused), then blanks:
    # the kept part's own trailing blanks match either way. The classes list what is accepted, not what is refused:
    # a fuzzer's generator (hypothesis's from_regex) walks every code point a class lists, and the refused ones
    # (unassigned, private use) are six times as many.
    text = f"[{_class(first)}][{_class(kept)}]*"
    return f"^[{_class(blanks)}]*{text if required else f'(?:{text})?'}[{_class(blanks)}]*$"


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points outside ``ranges`` (sorted, merged), surrogates aside: UTF-8 JSON cannot carry them, and
    regular expression dialects disagree on them."""
    out: list[tuple[int, int]] = []
    start = 0
    for a, b in [*_merged([*ranges, (0xD800, 0xDFFF)]), (sys.maxunicode + 1, sys.maxunicode + 1)]:
        if a > start:
            out.append((start, a - 1))
        start = max(start, b + 1)
    return out


@functools.cache
def _blank_ranges() -> list[tuple[int, int]]:
    """The code points the fields strip (``_stripped``), as ranges: the same for every pattern, so looked for once."""
    return _merged([(cp, cp) for cp in range(sys.maxunicode + 1) if _stripped(chr(cp))])


def _stripped(char: str) -> bool:
    """What pydantic's ``strip_whitespace`` strips: Unicode's White_Space (Rust's ``trim``), that is Python's
    ``str.isspace`` but for the information separators U+001C-U+001F."""
    return char.isspace() and not "\x1c" <= char <= "\x1f"


@functools.cache
def _refused_ranges(allowed: str) -> list[tuple[int, int]]:
    """The code points ``check_printable(text, allowed)`` refuses, as ranges (the one slow step: every code point)."""
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(sys.maxunicode + 2):
        # Surrogates are neither refused here nor accepted by the pattern (_complement).
        refused = (
            cp <= sys.maxunicode
            and chr(cp) not in allowed
            and unicodedata.category(chr(cp)) != "Cs"
            and _refused(chr(cp))
        )
        if refused and start is None:
            start = cp
        elif not refused and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return ranges


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _class(ranges: list[tuple[int, int]]) -> str:
    """A regular expression's character class body listing ``ranges``."""
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


def _escape(cp: int) -> str:
    """BMP code points as ``\\uXXXX`` (read alike by Python, ECMA-262 and Rust regex); others as themselves."""
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)
