"""The UN Security Council consolidated list (XML).

``CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL`` carries FIRST_NAME..FOURTH_NAME,
UN_LIST_TYPE (the sanctions regime), REFERENCE_NUMBER, NATIONALITY/VALUE,
INDIVIDUAL_ALIAS (QUALITY, ALIAS_NAME), NAME_ORIGINAL_SCRIPT and
INDIVIDUAL_DATE_OF_BIRTH (TYPE_OF_DATE EXACT / APPROXIMATELY / BETWEEN with
DATE, YEAR or FROM_YEAR/TO_YEAR). Entities are counted, not screened.

Aliases of "Low" quality are skipped: the UN itself says they are too broad to
identify anyone, and screening them would flag innocent applicants.

Parsed with the standard library; Python's expat refuses entity-expansion
bombs, and the document comes from a URL the operator configured.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .countries import country_code
from .model import UN_SC, BirthDate, ListEntry, ListFormatError, ParsedList

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _birth_date(element: ET.Element) -> BirthDate | None:
    kind = _text(element.find("TYPE_OF_DATE")).upper()
    date = _DATE.match(_text(element.find("DATE")))
    year = _text(element.find("YEAR"))
    year_from, year_to = _text(element.find("FROM_YEAR")), _text(element.find("TO_YEAR"))
    if date:
        y, m, d = (int(g) for g in date.groups())
        return BirthDate(y, y, m, d, circa=kind == "APPROXIMATELY")
    if _YEAR.match(year):
        return BirthDate(int(year), int(year), circa=kind == "APPROXIMATELY")
    if _YEAR.match(year_from) and _YEAR.match(year_to) and int(year_from) <= int(year_to):
        return BirthDate(int(year_from), int(year_to))
    return None


def _individual(element: ET.Element) -> ListEntry | None:
    name = " ".join(p for p in (_text(element.find(tag)) for tag in _NAME_PARTS) if p)
    reference = _text(element.find("REFERENCE_NUMBER")) or _text(element.find("DATAID"))
    if not name or not reference:
        return None
    aliases = []
    for alias in element.findall("INDIVIDUAL_ALIAS"):
        alias_name = _text(alias.find("ALIAS_NAME"))
        if alias_name and _text(alias.find("QUALITY")).lower() != "low" and alias_name not in aliases:
            aliases.append(alias_name)
    original = _text(element.find("NAME_ORIGINAL_SCRIPT"))
    if original and original not in aliases:
        aliases.append(original)
    nationalities: list[str] = []
    for value in element.findall("NATIONALITY/VALUE"):
        code = country_code(_text(value))
        if code and code not in nationalities:
            nationalities.append(code)
    birth_dates = tuple(b for b in map(_birth_date, element.findall("INDIVIDUAL_DATE_OF_BIRTH")) if b)
    programme = _text(element.find("UN_LIST_TYPE"))
    return ListEntry(
        source=UN_SC,
        entry_id=reference,
        name=name,
        aliases=tuple(aliases),
        programmes=(programme,) if programme else (),
        birth_dates=birth_dates,
        nationalities=tuple(nationalities),
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
