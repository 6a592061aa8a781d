"""ICAO 9303 layouts: the MRZ alphabet, check digits, the TD1/TD2/TD3 field tables, the country codes.

The field tables are the specification written as data (ICAO 9303 parts 4-6),
so they stay readable next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

ALLOWED = {
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


def check_data(check: Check, lines: Sequence[str]) -> str:
    return "".join(lines[line][start:end] for line, start, end in check.over)


def plausible_yymmdd(value: str) -> bool:
    if not value.isdigit():
        return False
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31
