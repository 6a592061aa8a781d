"""Sanctions screening, pure: list parsers, validation, name normalisation, the index and the matcher.

No AWS here: the scheduled job fetches the lists and stores the index through
ports; the handler loads it and calls :func:`screen`.
"""

from ..checks import SANCTIONS
from .index import FORMAT_VERSION, IndexFormatError, ListInfo, ScreeningIndex
from .model import OFAC_SDN, UN_SC, BirthDate, DateMatch, ListEntry, ListFormatError, ParsedList
from .ofac import parse_sdn
from .screening import (
    SANCTIONS_INDEX_UNAVAILABLE,
    SANCTIONS_MATCH,
    SANCTIONS_POSSIBLE_MATCH,
    Applicant,
    Candidate,
    ScreeningPolicy,
    find_candidates,
    screen,
    unavailable,
)
from .un import parse_un
from .validation import ListRefused, validate

__all__ = [
    "FORMAT_VERSION",
    "OFAC_SDN",
    "SANCTIONS",
    "SANCTIONS_INDEX_UNAVAILABLE",
    "SANCTIONS_MATCH",
    "SANCTIONS_POSSIBLE_MATCH",
    "UN_SC",
    "Applicant",
    "BirthDate",
    "Candidate",
    "DateMatch",
    "IndexFormatError",
    "ListEntry",
    "ListFormatError",
    "ListInfo",
    "ListRefused",
    "ParsedList",
    "ScreeningIndex",
    "ScreeningPolicy",
    "find_candidates",
    "parse_sdn",
    "parse_un",
    "screen",
    "unavailable",
    "validate",
]
