"""ICAO 9303 machine-readable zones (TD1, TD2, TD3): check digits, parsing,
finding the zone among OCR lines, and repairing what OCR got wrong.

Ours, pure Python, because the only packaged parser is GPL-3.0 and
unmaintained, and because reading a *photographed* MRZ needs more than a
parser: OCR confuses characters (0/O, 1/I, 2/Z, 5/S, 8/B, the filler ``<``
read as K, S, C or a space) and drops or adds one. Each field has an alphabet
(digits, letters, both) and most are protected by a check digit, so the
reading that satisfies every check digit with the fewest, most plausible
changes is the right one; every change is reported.

Pure domain code: no I/O, no third-party imports.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

FILLER = "<"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHABET = frozenset(DIGITS + LETTERS + FILLER)
_WEIGHTS = (7, 3, 1)


# --- check digits -------------------------------------------------------------


def char_value(char: str) -> int:
    """ICAO 9303 part 3: digits are themselves, A=10 .. Z=35, the filler 0."""
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise ValueError(f"{char!r} is not an MRZ character")


def check_digit(data: str) -> str:
    """The 7-3-1 weighted sum modulo 10."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


# --- layouts ------------------------------------------------------------------

NUM, ALPHA, ALNUM, NAME, SEX, CHECK = "num", "alpha", "alnum", "name", "sex", "check"

_ALLOWED = {
    NUM: frozenset(DIGITS),
    ALPHA: frozenset(LETTERS + FILLER),
    ALNUM: frozenset(DIGITS + LETTERS + FILLER),
    NAME: frozenset(LETTERS + FILLER),
    SEX: frozenset("MFX<"),
    CHECK: frozenset(DIGITS + FILLER),  # '<' only where the protected field is empty
}


@dataclass(frozen=True)
class Span:
    """A field: ``line`` index, characters ``start:end``, and its alphabet."""

    name: str
    line: int
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Check:
    """A check digit at ``digit`` over the concatenation of ``over`` (line, start, end)."""

    name: str
    over: tuple[tuple[int, int, int], ...]
    digit: tuple[int, int]
    may_be_filler: bool = False  # an unused optional field may carry '<' as its check digit


@dataclass(frozen=True)
class Layout:
    name: str
    lines: int
    width: int
    spans: tuple[Span, ...]
    checks: tuple[Check, ...]

    @property
    def length(self) -> int:
        return self.lines * self.width


TD3 = Layout(
    "TD3",
    2,
    44,
    (
        Span("document_code", 0, 0, 2, ALPHA),
        Span("issuing_state", 0, 2, 5, ALPHA),
        Span("names", 0, 5, 44, NAME),
        Span("document_number", 1, 0, 9, ALNUM),
        Span("document_number_check", 1, 9, 10, CHECK),
        Span("nationality", 1, 10, 13, ALPHA),
        Span("birth_date", 1, 13, 19, NUM),
        Span("birth_date_check", 1, 19, 20, CHECK),
        Span("sex", 1, 20, 21, SEX),
        Span("expiry_date", 1, 21, 27, NUM),
        Span("expiry_date_check", 1, 27, 28, CHECK),
        Span("optional_data", 1, 28, 42, ALNUM),
        Span("optional_data_check", 1, 42, 43, CHECK),
        Span("composite_check", 1, 43, 44, CHECK),
    ),
    (
        Check("document_number", ((1, 0, 9),), (1, 9)),
        Check("birth_date", ((1, 13, 19),), (1, 19)),
        Check("expiry_date", ((1, 21, 27),), (1, 27)),
        Check("optional_data", ((1, 28, 42),), (1, 42), may_be_filler=True),
        Check("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 43)), (1, 43)),
    ),
)

TD2 = Layout(
    "TD2",
    2,
    36,
    (
        Span("document_code", 0, 0, 2, ALPHA),
        Span("issuing_state", 0, 2, 5, ALPHA),
        Span("names", 0, 5, 36, NAME),
        Span("document_number", 1, 0, 9, ALNUM),
        Span("document_number_check", 1, 9, 10, CHECK),
        Span("nationality", 1, 10, 13, ALPHA),
        Span("birth_date", 1, 13, 19, NUM),
        Span("birth_date_check", 1, 19, 20, CHECK),
        Span("sex", 1, 20, 21, SEX),
        Span("expiry_date", 1, 21, 27, NUM),
        Span("expiry_date_check", 1, 27, 28, CHECK),
        Span("optional_data", 1, 28, 35, ALNUM),
        Span("composite_check", 1, 35, 36, CHECK),
    ),
    (
        Check("document_number", ((1, 0, 9),), (1, 9)),
        Check("birth_date", ((1, 13, 19),), (1, 19)),
        Check("expiry_date", ((1, 21, 27),), (1, 27)),
        Check("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 35)), (1, 35)),
    ),
)

TD1 = Layout(
    "TD1",
    3,
    30,
    (
        Span("document_code", 0, 0, 2, ALPHA),
        Span("issuing_state", 0, 2, 5, ALPHA),
        Span("document_number", 0, 5, 14, ALNUM),
        Span("document_number_check", 0, 14, 15, CHECK),
        Span("optional_data", 0, 15, 30, ALNUM),
        Span("birth_date", 1, 0, 6, NUM),
        Span("birth_date_check", 1, 6, 7, CHECK),
        Span("sex", 1, 7, 8, SEX),
        Span("expiry_date", 1, 8, 14, NUM),
        Span("expiry_date_check", 1, 14, 15, CHECK),
        Span("nationality", 1, 15, 18, ALPHA),
        Span("optional_data_2", 1, 18, 29, ALNUM),
        Span("composite_check", 1, 29, 30, CHECK),
        Span("names", 2, 0, 30, NAME),
    ),
    (
        Check(
            "document_number", ((0, 5, 14),), (0, 14), may_be_filler=True
        ),  # '<': the number goes on in optional data
        Check("birth_date", ((1, 0, 6),), (1, 6)),
        Check("expiry_date", ((1, 8, 14),), (1, 14)),
        Check("composite", ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)), (1, 29)),
    ),
)

LAYOUTS = (TD3, TD2, TD1)
BY_NAME = {layout.name: layout for layout in LAYOUTS}


# ICAO 9303 part 3: ISO 3166-1 alpha-3, Germany as 'D', and ICAO's own codes (British
# nationals, UN, stateless, refugees, EU, Kosovo...).
COUNTRY_CODES = frozenset(
    """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR
    BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG
    COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH
    FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY
    HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM
    KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL
    MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR
    NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU
    SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA
    TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB
    VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
    D GBD GBN GBO GBP GBS UNO UNA UNK XBA XIM XCC XCE XCO XEC XPO XES XMP XOM XDC XXA XXB XXC XXX EUE RKS
    """.split()
)


# --- parsed zone --------------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    """One character changed to make the zone valid (``found`` may be '' for an inserted one)."""

    line: int
    column: int
    found: str
    repaired: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "found": self.found, "repaired": self.repaired}


@dataclass(frozen=True)
class Mrz:
    """A zone's fields as printed (dates stay YYMMDD: the century is a rule, not a reading)."""

    layout: str
    lines: tuple[str, ...]
    document_code: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    name_field: str  # SURNAME<<GIVEN<NAMES without the padding
    name_truncated: bool  # no padding left: ICAO truncates long names so
    nationality: str
    birth_date: str
    sex: str
    expiry_date: str
    optional_data: str
    optional_data_2: str
    checks: Mapping[str, bool]

    @property
    def valid(self) -> bool:
        """Every check digit agrees."""
        return all(self.checks.values())

    @property
    def document_type(self) -> str:
        """'P' passport, 'I'/'A'/'C' identity cards, 'V' visa (the code's first letter)."""
        return self.document_code[:1]

    def to_dict(self) -> dict[str, object]:
        return {
            "layout": self.layout,
            "lines": list(self.lines),
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "surname": self.surname,
            "given_names": self.given_names,
            "nationality": self.nationality,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "expiry_date": self.expiry_date,
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
            "checks": dict(self.checks),
        }


def layout_for(lines: Sequence[str]) -> Optional[Layout]:
    """The layout whose shape (line count and width) the lines have exactly."""
    for layout in LAYOUTS:
        if len(lines) == layout.lines and all(len(line) == layout.width for line in lines):
            return layout
    return None


def parse(lines: Sequence[str]) -> Mrz:
    """Split a well-shaped zone into fields; check digits are reported, not enforced."""
    layout = layout_for(lines)
    if layout is None:
        raise ValueError("not an MRZ: expected 2x44 (TD3), 2x36 (TD2) or 3x30 (TD1) characters")
    bad = set("".join(lines)) - ALPHABET
    if bad:
        raise ValueError(f"not MRZ characters: {''.join(sorted(bad))!r}")
    raw = {span.name: lines[span.line][span.start : span.end] for span in layout.spans}
    number = raw["document_number"]
    if layout is TD1 and raw["document_number_check"] == FILLER:
        # ICAO 9303 part 5: a number over 9 characters continues in the optional
        # data, followed by its check digit.
        extension = raw["optional_data"].split(FILLER, 1)[0]
        number = number + extension[:-1]
    name_field = raw["names"]
    names = name_field.rstrip(FILLER)
    surname, _, given = names.partition(FILLER * 2)
    return Mrz(
        layout=layout.name,
        lines=tuple(lines),
        document_code=raw["document_code"].rstrip(FILLER) or FILLER,
        issuing_state=raw["issuing_state"].rstrip(FILLER),
        document_number=number.rstrip(FILLER),
        surname=_words(surname),
        given_names=_words(given),
        name_field=names,
        name_truncated=names == name_field,
        nationality=raw["nationality"].rstrip(FILLER),
        birth_date=raw["birth_date"],
        sex=raw["sex"],
        expiry_date=raw["expiry_date"],
        optional_data=raw["optional_data"].rstrip(FILLER),
        optional_data_2=raw.get("optional_data_2", "").rstrip(FILLER),
        checks={check.name: _check_ok(layout, check, lines) for check in layout.checks},
    )


def _words(text: str) -> str:
    return " ".join(word for word in text.split(FILLER) if word)


def _check_data(check: Check, lines: Sequence[str]) -> str:
    return "".join(lines[line][start:end] for line, start, end in check.over)


def _check_ok(layout: Layout, check: Check, lines: Sequence[str]) -> bool:
    data = _check_data(check, lines)
    found = lines[check.digit[0]][check.digit[1]]
    if found == FILLER:
        if layout is TD1 and check.name == "document_number":
            return _td1_long_number_ok(lines)
        return check.may_be_filler and set(data) <= {FILLER}
    return found == check_digit(data)


def _td1_long_number_ok(lines: Sequence[str]) -> bool:
    extension = lines[0][15:30].split(FILLER, 1)[0]
    if len(extension) < 2:
        return False
    return extension[-1] == check_digit(lines[0][5:14] + extension[:-1])


# --- names (ICAO 9303 part 3, section 6) ----------------------------------------

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


# --- repairing OCR ------------------------------------------------------------

# What OCR-B characters are read as, per target alphabet: found -> (intended, cost).
_TO_DIGIT = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "J": "1",
    "T": "7",
    "Z": "27",
    "S": "58",
    "B": "83",
    "G": "6",
    "A": "4",
    "E": "3",
    "Y": "4",
    "H": "4",
}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T", "3": "B", "9": "G"}
# Digits OCR swaps for each other: the cheaper guesses when a check digit disagrees.
_DIGIT_SWAPS = {
    "0": "869",
    "1": "47",
    "2": "7",
    "3": "85",
    "4": "19",
    "5": "63",
    "6": "508",
    "7": "12",
    "8": "0369",
    "9": "840",
}
_LETTER_SWAPS = {
    "M": "NH",
    "N": "MH",
    "H": "NM",
    "O": "DQ",
    "D": "O",
    "Q": "OG",
    "G": "QC",
    "C": "G",
    "I": "LJT",
    "L": "I",
    "T": "I",
    "E": "F",
    "F": "EP",
    "P": "FR",
    "R": "PB",
    "B": "R",
    "U": "V",
    "V": "U",
}
_FILLER_LOOKALIKES = frozenset("KSCEXLZ")  # '<' as Tesseract reads it in OCR-B

CONFUSION_COST = 0.3  # a known confusion: 0 for O, K for '<'
SWAP_COST = 0.6  # a known digit/letter swap
ANY_COST = 1.0  # any other substitution
INDEL_COST = 1.0  # a character dropped or added


@dataclass(frozen=True)
class Reading:
    """A zone found in OCR output: the repaired ``mrz`` and how it got there."""

    mrz: Mrz
    repairs: tuple[Repair, ...]
    cost: float
    field_confidence: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            **self.mrz.to_dict(),
            "valid": self.mrz.valid,
            "repairs": [r.to_dict() for r in self.repairs],
            "field_confidence": dict(self.field_confidence),
        }


def normalise_line(text: str, spaces_as_fillers: bool = True) -> str:
    """OCR text -> MRZ characters: upper case, guillemets as fillers, spaces as fillers (or dropped), noise dropped."""
    text = text.upper().replace("«", "<<").replace("‹", "<").replace("(", "<").replace("[", "<").strip()
    text = text.replace(" ", FILLER if spaces_as_fillers else "")
    return "".join(c for c in text if c in ALPHABET)


def _prose(raw: str) -> bool:
    """Printed text, not a zone: a zone is all capitals, so a line with many small letters is a label
    ("Date of birth / Date de naissance"), however long it is once normalised."""
    letters = [c for c in raw if c.isalpha()]
    return len(letters) >= 8 and sum(c.islower() for c in letters) * 4 > len(letters)


#: Where a layout has its dates and check digits, at least this share of what was read must be digits or
#: the letters OCR takes OCR-B digits for (O, Q, D for 0; I, L for 1; Z, S, B, G). A zone read however
#: badly has nearly all of them; printed labels of a zone's length ("DATE OF EXPIRY / DATE D'EXPIRATION")
#: have half at most, and repairing them letter by letter into a "valid" zone would both take minutes and
#: compare a label with the declaration.
MIN_DIGIT_SHARE = 0.7
_READ_AS_DIGITS = frozenset(DIGITS + "OQDILZSBG")


def _digits_where_digits_go(group: Sequence[str], layout: Layout) -> bool:
    read = [
        group[span.line][column]
        for span in layout.spans
        if span.kind in (NUM, CHECK)
        for column in range(span.start, min(span.end, len(group[span.line])))
        if group[span.line][column] != FILLER
    ]
    return bool(read) and sum(c in _READ_AS_DIGITS for c in read) >= MIN_DIGIT_SHARE * len(read)


def _mrz_like(line: str) -> bool:
    return len(line) >= 26 and (FILLER in line or sum(c.isdigit() for c in line) >= 6 or line[0] in "PIACV")


def find(lines: Sequence[str], confidences: Optional[Sequence[Sequence[float]]] = None) -> Optional[Reading]:
    """The best zone among all the lines OCR returned (any order of other text around it), or None.

    ``confidences`` (0..1), when given, holds per character or per line values
    (a single value per line is spread over it); low-confidence characters
    are cheaper to change, and each field's confidence is reported.
    """
    best: Optional[Reading] = None
    for layout in LAYOUTS:
        # A space may be a filler read badly or a gap OCR put between groups: the closer fit wins.
        normalised = [
            min((normalise_line(line, spaces) for spaces in (True, False)), key=lambda t: abs(len(t) - layout.width))
            for line in lines
        ]
        conf = [_per_char(confidences[i] if confidences else None, len(t)) for i, t in enumerate(normalised)]
        for first in range(len(normalised) - layout.lines + 1):
            group = normalised[first : first + layout.lines]
            if not all(_mrz_like(line) for line in group) or any(
                _prose(line) for line in lines[first : first + layout.lines]
            ):
                continue
            if not _digits_where_digits_go(group, layout):
                continue
            if not all(abs(len(line) - layout.width) <= 2 for line in group):
                continue
            reading = repair(group, layout, conf[first : first + layout.lines])
            if reading is not None and (best is None or _rank(reading) < _rank(best)):
                best = reading
    return best


def _rank(reading: Reading) -> tuple[bool, float]:
    return (not reading.mrz.valid, reading.cost)


def _per_char(values: Optional[Sequence[float]], length: int) -> list[float]:
    if not values:
        return [1.0] * length
    if len(values) == length:
        return [float(v) for v in values]
    mean = sum(values) / len(values)
    return [mean] * length


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
    conf = [_per_char(confidences[i] if confidences else None, len(line)) for i, line in enumerate(lines)]
    per_line = [_alignments(line, c, layout, index) for index, (line, c) in enumerate(zip(lines, conf, strict=False))]
    if any(not options for options in per_line):
        return None
    best: Optional[Reading] = None
    for combination in _cheapest_combinations(per_line, MAX_ALIGNMENTS):
        aligned = [option[0] for option in combination]
        aligned_conf = [option[1] for option in combination]
        indel_cost = sum(option[2] for option in combination)
        indel_repairs = [r for option in combination for r in option[3]]
        if best is not None and indel_cost >= best.cost and best.mrz.valid:
            break  # cheapest first: nothing after this can beat a valid reading
        reading = _repair_aligned(aligned, aligned_conf, layout, indel_cost, indel_repairs)
        if reading is not None and (best is None or _rank(reading) < _rank(best)):
            best = reading
    return best


_Alignment = tuple[str, list[float], float, list[Repair]]

#: How many ways of fitting the lines to a layout are tried, cheapest first. Three lines each two characters
#: off have over a million; text that only looks like a zone (labels of the length of a TD1 line) would
#: take minutes to rule out, a page's worth of them longer (found when the local engine began returning
#: the page's printed text, as Textract does).
MAX_ALIGNMENTS = 2000


def _cheapest_combinations(per_line: list[list[_Alignment]], limit: int) -> Iterable[tuple[_Alignment, ...]]:
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


@dataclass
class _Candidate:
    text: str
    cost: float
    repairs: list[tuple[int, str, str]]  # (offset in the field, found, repaired)


def _repair_aligned(
    lines: list[str], conf: list[list[float]], layout: Layout, base_cost: float, base_repairs: list[Repair]
) -> Optional[Reading]:
    """Fix each field to its alphabet and its check digit, then the composite over them."""
    chars = [list(line) for line in lines]
    repairs = list(base_repairs)
    cost = base_cost
    # Unprotected fields: map into the alphabet by rule.
    protected = _protected_spans(layout)
    for span in layout.spans:
        if span.name in protected:
            continue
        text = "".join(chars[span.line][span.start : span.end])
        fixed, changes = _fix_unprotected(span, text, layout)
        for offset, found, new in changes:
            chars[span.line][span.start + offset] = new
            repairs.append(Repair(span.line, span.start + offset, found, new))
            cost += CONFUSION_COST
    for span in layout.spans:
        if span.name == "optional_data" and span.name in protected:
            text = "".join(chars[span.line][span.start : span.end])
            for offset, (found, new) in enumerate(zip(text, _fix_optional_fillers(text), strict=False)):
                if found != new:
                    chars[span.line][span.start + offset] = new
                    repairs.append(Repair(span.line, span.start + offset, found, new))
                    cost += CONFUSION_COST
    # Protected fields: candidates per check, joined by the composite.
    groups = [check for check in layout.checks if check.name != "composite"]
    options: list[list[_Candidate]] = []
    for check in groups:
        ((line, start, end),) = check.over
        spans = [s for s in layout.spans if s.line == line and start <= s.start and s.end <= end + 1]
        kinds = [_kind_at(spans, start + i) for i in range(end - start)] + [CHECK]
        text = "".join(chars[line][start:end]) + chars[check.digit[0]][check.digit[1]]
        weights = conf[line][start:end] + [conf[check.digit[0]][check.digit[1]]]
        candidates = _cached_candidates(text, tuple(kinds), tuple(weights), check, layout)
        if not candidates:
            candidates = [_Candidate(_force_alphabet(text, kinds), 10.0, [])]
        options.append(candidates)
    composite = next((c for c in layout.checks if c.name == "composite"), None)
    composite_kinds = _composite_unprotected(layout, groups, composite)
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
            extra = _fix_composite(trial, conf, composite, composite_kinds)
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


def _protected_spans(layout: Layout) -> set[str]:
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


def _kind_at(spans: list[Span], column: int) -> str:
    for span in spans:
        if span.start <= column < span.end:
            return span.kind
    return ALNUM


def _composite_unprotected(
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


def _fix_composite(
    chars: list[list[str]], conf: list[list[float]], composite: Check, free: list[tuple[int, int, str]]
) -> Optional[tuple[float, list[Repair]]]:
    """Satisfy the composite: as is, or by one plausible change at a position no other check protects, or its digit."""
    row, column = composite.digit

    def ok() -> bool:
        return chars[row][column] == check_digit(_check_data(composite, ["".join(r) for r in chars]))

    if chars[row][column] not in DIGITS:
        found = chars[row][column]
        chars[row][column] = check_digit(_check_data(composite, ["".join(r) for r in chars]))
        return (
            _sub_cost(found, chars[row][column], CHECK, conf[row][column]),
            [Repair(row, column, found, chars[row][column])],
        )
    if ok():
        return (0.0, [])
    best: Optional[tuple[float, list[Repair]]] = None
    for line, col, kind in free:
        found = chars[line][col]
        for new, sub_cost in _alternatives(found, kind, conf[line][col]):
            if new == found:
                continue
            chars[line][col] = new
            if ok() and (best is None or sub_cost < best[0]):
                best = (sub_cost, [Repair(line, col, found, new)])
            chars[line][col] = found
    digit_found = chars[row][column]
    expected = check_digit(_check_data(composite, ["".join(r) for r in chars]))
    digit_cost = _sub_cost(digit_found, expected, CHECK, conf[row][column])
    if best is None or digit_cost < best[0]:
        best = (digit_cost, [Repair(row, column, digit_found, expected)])
    if best is not None and best[1][0].column == column and best[1][0].line == row:
        chars[row][column] = expected
    else:
        r = best[1][0]
        chars[r.line][r.column] = r.repaired
    return best


def _sub_cost(found: str, new: str, kind: str, confidence: float) -> float:
    if found == new:
        return 0.0
    if found == "?":
        return ANY_COST * 0.5
    if kind in (NUM, CHECK) and new in _TO_DIGIT.get(found, ""):
        base = CONFUSION_COST * (1.0 if _TO_DIGIT[found][0] == new else 1.5)
    elif kind in (ALPHA, NAME) and _TO_LETTER.get(found) == new:
        base = CONFUSION_COST
    elif new == FILLER and found in _FILLER_LOOKALIKES:
        base = CONFUSION_COST
    elif found == FILLER and new in _FILLER_LOOKALIKES:
        base = SWAP_COST
    elif kind == ALNUM and (new in _TO_DIGIT.get(found, "") or _TO_LETTER.get(found) == new):
        base = CONFUSION_COST
    elif new in _DIGIT_SWAPS.get(found, "") or new in _LETTER_SWAPS.get(found, ""):
        base = SWAP_COST
    else:
        base = ANY_COST
    return base * (0.4 + 0.6 * max(0.0, min(1.0, confidence)))


def _alternatives(found: str, kind: str, confidence: float) -> list[tuple[str, float]]:
    allowed = _ALLOWED[kind]
    return sorted(((new, _sub_cost(found, new, kind, confidence)) for new in allowed), key=lambda item: item[1])


def _force_alphabet(text: str, kinds: list[str]) -> str:
    return "".join(c if c in _ALLOWED[k] else _alternatives(c, k, 1.0)[0][0] for c, k in zip(text, kinds, strict=False))


@functools.lru_cache(maxsize=4096)
def _cached_candidates(
    text: str, kinds: tuple[str, ...], conf: tuple[float, ...], check: Check, layout: Layout
) -> list[_Candidate]:
    """Alignments of a line share most fields: compute each field's candidates once."""
    return _field_candidates(text, list(kinds), list(conf), check, layout)


def _field_candidates(
    text: str, kinds: list[str], conf: list[float], check: Check, layout: Layout, keep: int = 4
) -> list[_Candidate]:
    """Readings of a protected field + its check digit that satisfy it, cheapest first.

    Characters outside their alphabet must change; then up to two more
    changes, the cheapest (known confusions, low-confidence characters) first.
    """
    as_read_valid = _valid_field(text, kinds, check, layout)
    per_position: list[list[tuple[str, float]]] = []
    for index, (char, kind, weight) in enumerate(zip(text, kinds, conf, strict=False)):
        options = _alternatives(char, kind, weight)
        if kind == ALNUM:
            options = sorted(_in_context(options, text, kinds, index), key=lambda item: item[1])
        if char in _ALLOWED[kind]:
            # A field that is valid as read stays as read: 6/G and 1/L weigh the same in the check digit.
            staying = 0.0 if as_read_valid else _keep_cost(text, kinds, index)
            options = [(char, staying)] + [o for o in options if o[0] != char]
        per_position.append(options)
    base = [options[0] for options in per_position]
    results: dict[str, _Candidate] = {}

    def consider(chosen: list[tuple[str, float]]) -> None:
        candidate = "".join(c for c, _ in chosen)
        if not _valid_field(candidate, kinds, check, layout):
            return
        cost = sum(c for _, c in chosen)
        if candidate not in results or cost < results[candidate].cost:
            changes = [(i, text[i], c) for i, (c, _) in enumerate(chosen) if c != text[i]]
            results[candidate] = _Candidate(candidate, cost, changes)

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
    return 0.25 if digits * 3 >= len(field) * 2 and text[index] in _TO_DIGIT else 0.0


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
    if any(c not in _ALLOWED[k] for c, k in zip(candidate, kinds, strict=False)):
        return False
    if check.name in ("birth_date", "expiry_date") and not _plausible_yymmdd(data):
        return False
    if digit == FILLER:
        if layout is TD1 and check.name == "document_number":
            return True  # the long-number form: judged by the composite
        return check.may_be_filler and set(data) <= {FILLER}
    return digit == check_digit(data)


def _plausible_yymmdd(value: str) -> bool:
    if not value.isdigit():
        return False
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def _fix_unprotected(span: Span, text: str, layout: Layout) -> tuple[str, list[tuple[int, str, str]]]:
    """Map a field without a check digit into its alphabet, and fillers by rule."""
    out = list(text)
    allowed = _ALLOWED[span.kind]
    for i, char in enumerate(out):
        if char not in allowed or char == "?":
            out[i] = (
                _TO_LETTER.get(char, FILLER)
                if span.kind in (ALPHA, NAME)
                else _alternatives(char, span.kind, 1.0)[0][0]
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
        if out[1] in _FILLER_LOOKALIKES and out[1] not in "C":
            out[1] = FILLER  # 'PK', 'PS': nobody issues those; 'P<' read badly
    elif span.name.startswith("optional_data"):
        out = list(_fix_optional_fillers("".join(out)))
    elif span.name == "sex":
        out = [{"N": "M", "H": "M", "P": "F", "E": "F"}.get(out[0], out[0])]
        if out[0] in _FILLER_LOOKALIKES:
            out = [FILLER]
    changes = [(i, text[i], new) for i, new in enumerate(out) if new != text[i]]
    return "".join(out), changes


def _fix_country(code: str) -> str:
    """A code ICAO knows, or the one known code a single plausible misreading away."""
    if code.rstrip(FILLER) in COUNTRY_CODES:
        return code
    if code[0] == "D" and all(c in _FILLER_LOOKALIKES | {FILLER} for c in code[1:]):
        return "D" + FILLER * (len(code) - 1)
    ranked = []
    for known in COUNTRY_CODES:
        padded = (known + FILLER * 3)[:3]
        differing = [(found, want) for found, want in zip(code, padded, strict=False) if found != want]
        if len(differing) == 1:
            ranked.append((_sub_cost(differing[0][0], differing[0][1], ALPHA, 1.0), padded))
    ranked.sort()
    if ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0]):
        return ranked[0][1]
    return code


def _fix_optional_fillers(text: str) -> str:
    """Mostly-empty optional data: a filler lookalike between fillers is a filler."""
    if text.count(FILLER) * 2 < len(text):
        return text
    chars = list(text)
    for i, char in enumerate(chars):
        left = chars[i - 1] if i > 0 else FILLER
        right = chars[i + 1] if i + 1 < len(chars) else FILLER
        if char in _FILLER_LOOKALIKES and left == FILLER and right == FILLER:
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
        one_lookalike = len(set(word)) == 1 and word[0] in _FILLER_LOOKALIKES
        after_two = name[max(0, start - 2) : start] == FILLER * 2 and start != separator + 2
        if one_lookalike and ((end == n and len(word) >= 2) or len(word) >= 3 or after_two):
            chars[start:end] = FILLER * len(word)
            continue
        run = re.search(r"([KSCEXLZ])\1{2,}$", word)
        if run:
            chars[start + run.start() : end] = FILLER * (end - start - run.start())
        break
    return "".join(chars)


def _field_confidence(layout: Layout, conf: list[list[float]]) -> dict[str, float]:
    out = {}
    for span in layout.spans:
        values = conf[span.line][span.start : span.end]
        if values:
            out[span.name] = round(min(values), 3)
    return out


def find_in_text(text: str) -> Optional[Reading]:
    """Convenience: the zone in a block of text, one OCR line per text line."""
    return find([line for line in text.splitlines() if line.strip()])


def dates_plausible(values: Iterable[str]) -> bool:
    return all(_plausible_yymmdd(v) for v in values)
