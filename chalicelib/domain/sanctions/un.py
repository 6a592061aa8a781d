"""The UN Security Council consolidated list (XML).

``CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL`` carries FIRST_NAME..FOURTH_NAME,
UN_LIST_TYPE (the sanctions regime), REFERENCE_NUMBER, NATIONALITY/VALUE,
INDIVIDUAL_ALIAS (QUALITY, ALIAS_NAME), NAME_ORIGINAL_SCRIPT and
INDIVIDUAL_DATE_OF_BIRTH (TYPE_OF_DATE EXACT / APPROXIMATELY / BETWEEN with
DATE, YEAR or FROM_YEAR/TO_YEAR, and sometimes only a NOTE in words: "Nov. 1973",
"Between Aug. and Sep. 1977", "24/06/1402 (Hijri Calendar)", "30-35 years old"
(counted from LISTED_ON), or a month beside a YEAR) and GENDER. Entities are
counted, not screened.

The UN writes names as FIRST_NAME SECOND_NAME... in the person's own order, with
no "SURNAME, Given" structure (FIRST_NAME is the family name of Korean and
Chinese entries, the given name of Arabic ones): the matcher treats the first
and the last part as the ones nobody drops.

One ALIAS_NAME may hold several names and notes ("Mortaza Rezaie; Mortaza Rezai",
"Ezatullah Haqqani (previously listed as)", "..., born in Kandahar on 01 Jan.1967"):
each name becomes an alias of its own (:func:`alias_names`); a name part "na" is the
UN's "not available".

Aliases of "Low" quality are skipped: the UN itself says they are too broad to
identify anyone, and screening them would flag innocent applicants.

Parsed with the standard library; Python's expat refuses entity-expansion
bombs, and the document comes from a URL the operator configured.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from .countries import country_code
from .model import UN_SC, BirthDate, ListEntry, ListFormatError, ParsedList, sex_code

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_NOTE_MONTH_YEAR = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\b")
_NOTE_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_NOTE_HIJRI = re.compile(r"\b(\d{1,2})/(\d{1,2})/(1[34]\d\d)\b.*hijri", re.IGNORECASE)
_NOTE_AGE = re.compile(r"\b(\d{1,2})(?:\s*-\s*(\d{1,2}))?\s+years?\s+old", re.IGNORECASE)
_NOTE_MONTH = re.compile(r"^\s*([A-Za-z]{3})[a-z]*\.?\s*$")
_PARENTHESISED = re.compile(r"\(([^()]*)(?:\)|$)")
_BORN = re.compile(r",?\s*\bborn\b.*$", re.IGNORECASE | re.DOTALL)
_LATIN_WORD = re.compile(r"^[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'\u2019.-]*$")
_SON_OF = re.compile(r"\bson of\b", re.IGNORECASE)
_NOT_AVAILABLE = "na"  # the UN's "not available" in a name part ("FAIZULLAH KHAN NOORZAI na")


def _names_in(text: str) -> bool:
    """Whether a parenthesised part is names ("Hassan Ghul; Hassan Gul", the original script,
    "Abdullah Sindhi"), not a note ("combat name", "previously listed as", "third", "Tigrinya")."""
    words = text.replace(";", " ").split()
    if not words:
        return False
    if any(ch.isalpha() and ord(ch) >= 0x250 for ch in text):
        return True  # the original script
    if not all(_LATIN_WORD.match(w) for w in words):
        return False  # "Oman passport no.03825239"
    return ";" in text or (len(words) >= 2 and all(w[0].isupper() for w in words))


def alias_names(text: str) -> list[str]:
    """The names one ALIAS_NAME holds: the UN writes several in one ("Mortaza Rezaie; Mortaza Rezai",
    "Abdurezak, Abdelrazaq, Abdulrazak"), with notes ("Ezatullah Haqqani (previously listed as)",
    "..., born in Kandahar on 01 Jan.1967") and the original script in parentheses."""
    names: list[str] = []
    inside = [part for part in _PARENTHESISED.findall(text) if _names_in(part)]
    outside = _PARENTHESISED.sub(" ", text)
    for chunk in [outside, *inside]:
        chunk = _SON_OF.sub(" ", _BORN.sub("", chunk))  # "Abdul Haq son of M. Anwar Khan": a patronymic
        parts = chunk.split(";")
        if len(parts) == 1 and chunk.count(",") >= 2:  # "A, B, C": a list; "SURNAME, Given" is one name
            parts = chunk.split(",")
        for part in parts:
            name = " ".join(part.replace('"', " ").split()).strip(" ,.)")
            words = name.split()
            while words and words[-1] == _NOT_AVAILABLE:
                words.pop()
            name = " ".join(words)
            if any(ch.isalpha() for ch in name) and name not in names:
                names.append(name)
    return names


def hijri_to_gregorian(year: int, month: int, day: int) -> dt.date:
    """The tabular Islamic calendar (civil epoch): within a day or two of the observed calendar."""
    days = day + -(-29.5 * (month - 1) // 1) + (year - 1) * 354 + (3 + 11 * year) // 30 + 1948439 - 1
    return dt.date.fromordinal(int(days) - 1721425)


def parse_note(note: str, listed_on: str = "") -> BirthDate | None:
    """A birth date the UN gives only in words (see the module's docstring)."""
    hijri = _NOTE_HIJRI.search(note)
    if hijri:
        day, month, year = (int(g) for g in hijri.groups())
        try:
            born = hijri_to_gregorian(year, month, day)
        except ValueError:
            return None
        return BirthDate(born.year, born.year, born.month, born.day)
    age = _NOTE_AGE.search(note)
    listed = _DATE.match(listed_on)
    if age and listed:
        youngest, oldest = int(age.group(1)), int(age.group(2) or age.group(1))
        year = int(listed.group(1))
        return BirthDate(year - max(youngest, oldest) - 1, year - min(youngest, oldest), circa=True)
    found = _NOTE_MONTH_YEAR.findall(note)
    months = [(_MONTHS[m[:3].lower()], int(y)) for m, y in found if m[:3].lower() in _MONTHS]
    years = [int(y) for y in _NOTE_YEAR.findall(note)]
    if not years:
        return None
    if len(months) == 1 and "between" not in note.lower():
        month, year = months[0]
        return BirthDate(year, year, month)
    return BirthDate(min(years), max(years), circa="approx" in note.lower())


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _birth_date(element: ET.Element, listed_on: str = "") -> BirthDate | None:
    kind = _text(element.find("TYPE_OF_DATE")).upper()
    note = _text(element.find("NOTE"))
    circa = kind == "APPROXIMATELY" or "approx" in note.lower()
    date = _DATE.match(_text(element.find("DATE")))
    year = _text(element.find("YEAR"))
    year_from, year_to = _text(element.find("FROM_YEAR")), _text(element.find("TO_YEAR"))
    if date:
        y, m, d = (int(g) for g in date.groups())
        return BirthDate(y, y, m, d, circa=circa)
    if _YEAR.match(year):
        month = _NOTE_MONTH.match(note)  # "Sep." beside <YEAR>1958</YEAR>
        number = _MONTHS.get(month.group(1)[:3].lower()) if month else None
        return BirthDate(int(year), int(year), number, circa=circa)
    if _YEAR.match(year_from) and _YEAR.match(year_to) and int(year_from) <= int(year_to):
        return BirthDate(int(year_from), int(year_to), circa=circa)
    return parse_note(note, listed_on) if note else None


def _individual(element: ET.Element) -> ListEntry | None:
    name = " ".join(p for p in (_text(element.find(tag)) for tag in _NAME_PARTS) if p and p != _NOT_AVAILABLE)
    reference = _text(element.find("REFERENCE_NUMBER")) or _text(element.find("DATAID"))
    if not name or not reference:
        return None
    aliases = []
    for alias in element.findall("INDIVIDUAL_ALIAS"):
        if _text(alias.find("QUALITY")).lower() == "low":
            continue
        for alias_name in alias_names(_text(alias.find("ALIAS_NAME"))):
            if alias_name != name and alias_name not in aliases:
                aliases.append(alias_name)
    for original in alias_names(_text(element.find("NAME_ORIGINAL_SCRIPT"))):
        if original not in aliases:
            aliases.append(original)
    nationalities: list[str] = []
    for value in element.findall("NATIONALITY/VALUE"):
        code = country_code(_text(value))
        if code and code not in nationalities:
            nationalities.append(code)
    listed_on = _text(element.find("LISTED_ON"))
    birth_dates = tuple(
        b for b in (_birth_date(d, listed_on) for d in element.findall("INDIVIDUAL_DATE_OF_BIRTH")) if b
    )
    programme = _text(element.find("UN_LIST_TYPE"))
    return ListEntry(
        source=UN_SC,
        entry_id=reference,
        name=name,
        aliases=tuple(aliases),
        programmes=(programme,) if programme else (),
        birth_dates=birth_dates,
        nationalities=tuple(nationalities),
        sex=sex_code(_text(element.find("GENDER"))),
    )


def parse_un(xml: bytes) -> ParsedList:
    """Parse the consolidated list; raises ListFormatError when it is not that document."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ListFormatError(f"UN list is not well-formed XML: {exc}") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFormatError(f"UN list root is <{root.tag}>, expected <CONSOLIDATED_LIST>")
    individuals = root.findall("INDIVIDUALS/INDIVIDUAL")
    entities = root.findall("ENTITIES/ENTITY")
    if not individuals and not entities:
        raise ListFormatError("UN list has no records")
    entries = tuple(e for e in map(_individual, individuals) if e)
    return ParsedList(
        source=UN_SC,
        entries=entries,
        record_count=len(individuals) + len(entities),
        published=root.get("dateGenerated"),
    )
