"""OFAC's SDN list in its documented legacy CSV format (``sdn.csv`` + ``alt.csv``).

The format (OFAC's ``dat_spec.txt``): no header row, every field double-quoted
text except the numeric keys, ``-0-`` for an empty field, and the file ends
with a DOS end-of-file character (0x1A).

``sdn.csv``: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
Tonnage, GRT, Vess_flag, Vess_owner, Remarks. ``alt.csv``: ent_num, alt_num,
alt_type, alt_name, alt_remarks.

Only individuals are screened (applicants are people); entities, vessels and
aircraft are counted so a shrinking download is still noticed. Birth dates
and nationalities live in free text in the remarks ("DOB 12 Jan 1960; alt. DOB
1961; nationality Iran;"), so they are read with a tolerant parser: what it
cannot read is simply not used to adjust a score.
"""

from __future__ import annotations

import csv
import io
import re

from .countries import country_code
from .model import OFAC_SDN, BirthDate, ListEntry, ListFormatError, ParsedList, sex_code

NULL = "-0-"
SDN_FIELDS = 12
ALT_FIELDS = 5

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_DOB_RE = re.compile(r"\bDOB\s+([^;]+)", re.IGNORECASE)
_NATIONALITY_RE = re.compile(r"\b(?:nationality|citizen)\s+([^;.()]+)", re.IGNORECASE)
_GENDER_RE = re.compile(r"\bGender\s+([A-Za-z]+)", re.IGNORECASE)
_DATE_RE = re.compile(r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\s+)?(\d{4})")


def _value(text: str) -> str:
    text = text.strip()
    return "" if text == NULL else text


def _rows(text: str, width: int, what: str) -> list[list[str]]:
    text = text.replace("\x1a", "")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise ListFormatError(f"{what} line {number}: {len(row)} fields, expected {width}")
        if not row[0].strip().isdigit():
            raise ListFormatError(f"{what} line {number}: ent_num {row[0]!r} is not a number")
        rows.append(row)
    return rows


def parse_birth_dates(remarks: str) -> tuple[BirthDate, ...]:
    """Every "DOB ..." in the remarks: a day, a month, a year, "circa" a year, or "X to Y"."""
    found = []
    for match in _DOB_RE.finditer(remarks):
        text = match.group(1)
        circa = "circa" in text.lower()
        dates = []
        for day, month, year in _DATE_RE.findall(text):
            month_number = _MONTHS.get(month[:3].lower()) if month else None
            dates.append((int(year), month_number, int(day) if day and month_number else None))
        if not dates:
            continue
        (year_from, month, day), (year_to, _, _) = dates[0], dates[-1]
        if year_to < year_from:
            continue
        if len(dates) > 1:  # a range is only ever used as a range of years
            month = day = None
        found.append(BirthDate(year_from, year_to, month, day, circa))
    return tuple(found)


def parse_nationalities(remarks: str) -> tuple[str, ...]:
    codes = []
    for match in _NATIONALITY_RE.finditer(remarks):
        code = country_code(match.group(1))
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def parse_sex(remarks: str) -> str | None:
    """OFAC's "Gender Male" / "Gender Female" in the remarks."""
    match = _GENDER_RE.search(remarks)
    return sex_code(match.group(1)) if match else None


def parse_sdn(sdn_csv: str, alt_csv: str = "") -> ParsedList:
    """Parse the two files into the individuals to screen; raises ListFormatError on a broken file.

    OFAC publishes the two files separately, so a download can race a list update: an alias
    whose ent_num is not in ``sdn.csv`` is dropped and counted (``dropped_aliases``), never
    attached to another entry.
    """
    sdn_rows = _rows(sdn_csv, SDN_FIELDS, "sdn.csv")
    if not sdn_rows:
        raise ListFormatError("sdn.csv has no records")
    known = {row[0].strip() for row in sdn_rows}
    aliases: dict[str, list[str]] = {}
    dropped = 0
    for row in _rows(alt_csv, ALT_FIELDS, "alt.csv"):
        name = _value(row[3])
        if not name:
            continue
        if row[0].strip() not in known:
            dropped += 1
            continue
        aliases.setdefault(row[0].strip(), []).append(name)
    entries = []
    for row in sdn_rows:
        ent_num, name, sdn_type, program = (row[0].strip(), _value(row[1]), _value(row[2]), _value(row[3]))
        if sdn_type.lower() != "individual" or not name:
            continue
        remarks = _value(row[11])
        programmes = tuple(p.strip(" []") for p in program.split("] [") if p.strip(" []"))
        entries.append(
            ListEntry(
                source=OFAC_SDN,
                entry_id=ent_num,
                name=name,
                aliases=tuple(aliases.get(ent_num, ())),
                programmes=programmes,
                birth_dates=parse_birth_dates(remarks),
                nationalities=parse_nationalities(remarks),
                sex=parse_sex(remarks),
            )
        )
    return ParsedList(source=OFAC_SDN, entries=tuple(entries), record_count=len(sdn_rows), dropped_aliases=dropped)
