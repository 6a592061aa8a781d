"""What a sanctions list says about a listed person, independent of its source format."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from dataclasses import dataclass

OFAC_SDN = "OFAC-SDN"
UN_SC = "UN-SC"


class ListFormatError(ValueError):
    """A downloaded list that does not parse: it must never replace the last good one."""


class DateMatch(enum.Enum):
    """How an applicant's birth date compares with what the list says."""

    EXACT = "exact"  # same day
    YEAR = "year"  # inside the listed year or range (the list gives no day)
    NEAR = "near"  # within a year of it: lists are often approximate
    DIFFERENT = "different"  # the list knows the date and it is not this one
    UNKNOWN = "unknown"  # the list has no birth date


_DATE_RE = re.compile(r"^(~?)(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:\.\.(\d{4}))?$")


@dataclass(frozen=True)
class BirthDate:
    """A listed birth date: a day, a month, a year or a range of years, possibly approximate.

    Lists mostly know less than a day ("DOB 1960", "DOB circa 1955", "DOB 1960 to 1962"),
    so the comparison grades how well a real date fits instead of testing equality.
    """

    year_from: int
    year_to: int
    month: int | None = None
    day: int | None = None
    circa: bool = False

    @property
    def is_exact(self) -> bool:
        return self.day is not None and self.month is not None and self.year_from == self.year_to

    def compare(self, date: dt.date) -> DateMatch:
        if self.is_exact:
            if (date.year, date.month, date.day) == (self.year_from, self.month, self.day):
                return DateMatch.EXACT
            # A listed day that is not the applicant's is evidence against; the same year
            # is left neutral since lists sometimes record a day that is only a placeholder.
            return DateMatch.NEAR if date.year == self.year_from else DateMatch.DIFFERENT
        if self.year_from <= date.year <= self.year_to and self.month in (None, date.month):
            return DateMatch.YEAR
        slack = 2 if self.circa else 1
        if self.year_from - slack <= date.year <= self.year_to + slack:
            return DateMatch.NEAR
        return DateMatch.DIFFERENT

    def to_text(self) -> str:
        """Compact form for the serialised index: ``1960-01-12``, ``1960``, ``~1955``, ``1960..1962``."""
        text = f"{'~' if self.circa else ''}{self.year_from:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        if self.year_to != self.year_from:
            text += f"..{self.year_to:04d}"
        return text

    @classmethod
    def from_text(cls, text: str) -> BirthDate:
        match = _DATE_RE.match(text)
        if not match:
            raise ValueError(f"not a birth date: {text!r}")
        circa, year, month, day, year_to = match.groups()
        return cls(
            year_from=int(year),
            year_to=int(year_to or year),
            month=int(month) if month else None,
            day=int(day) if day else None,
            circa=bool(circa),
        )


def sex_code(text: str) -> str | None:
    """ "Male"/"MALE"/"M" -> "M", "Female" -> "F"; anything else (Unknown, blank) -> None."""
    value = text.strip().lower()
    if value in ("male", "m"):
        return "M"
    if value in ("female", "f"):
        return "F"
    return None


def best_date_match(listed: tuple[BirthDate, ...], date: dt.date | None) -> DateMatch:
    """The most favourable reading: a list with several birth dates matches if any does."""
    if date is None or not listed:
        return DateMatch.UNKNOWN
    order = (DateMatch.EXACT, DateMatch.YEAR, DateMatch.NEAR, DateMatch.DIFFERENT)
    found = {b.compare(date) for b in listed}
    return next(m for m in order if m in found)


@dataclass(frozen=True)
class ListEntry:
    """One listed individual: the names to screen and the facts that confirm or refute a match."""

    source: str  # OFAC_SDN or UN_SC
    entry_id: str  # OFAC ent_num or UN REFERENCE_NUMBER
    name: str  # the primary name exactly as listed
    aliases: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    birth_dates: tuple[BirthDate, ...] = ()
    nationalities: tuple[str, ...] = ()  # ISO alpha-3 where the country is recognised
    sex: str | None = None  # "M" or "F" when the list says (OFAC's "Gender Male", the UN's GENDER)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def fingerprint(self) -> str:
        """A hash of what the list says about this entry: a false positive cleared against it holds only
        while it is unchanged (a new alias, birth date or nationality makes it a new question)."""
        content = [
            self.source,
            self.entry_id,
            self.name,
            sorted(self.aliases),
            sorted(self.programmes),
            sorted(b.to_text() for b in self.birth_dates),
            sorted(self.nationalities),
            self.sex,
        ]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ParsedList:
    """A parsed download: the individuals to screen plus counts for validation."""

    source: str
    entries: tuple[ListEntry, ...]
    record_count: int  # every record in the file (individuals, entities, vessels...)
    published: str | None = None  # the list's own date, when the file states it
    fetched_at: str | None = None  # when this copy was downloaded (kept lists keep their own)
    #: aliases that name no entry of the file (OFAC's alt.csv and sdn.csv downloaded on different days)
    dropped_aliases: int = 0
