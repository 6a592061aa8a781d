"""Customers re-screened when the lists change: who is screened, against what, and the case a hit raises.

Every approved customer within retention is kept as a small ``CustomerProfile`` (what screening
reads: names, birth date, nationality, sex). Each refresh that adds or changes entries publishes its
delta; every profile is screened against the delta only -- an index of those entries that weighs
name parts as the whole list does -- and a candidate at the review threshold raises a
``ScreeningCase`` for reviewers. A case is keyed by the customer and the entry's version
(``case_id``): however often a refresh, a segment or a message is replayed, a customer is flagged once
per entry version, and again only when the list changes that entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..checks import Outcome
from .index import ScreeningIndex
from .screening import Applicant, ScreeningPolicy, screen

OPEN = "OPEN"
CLEARED = "CLEARED"  # a reviewer found it is not this customer
CONFIRMED = "CONFIRMED"  # a reviewer found it is: the customer is a listed person (escalated outside)
DECISIONS = {"false_positive": CLEARED, "confirmed": CONFIRMED}


@dataclass(frozen=True)
class CustomerProfile:
    """What re-screening reads of one approved customer (one approved application)."""

    application_id: str
    applicant_id: str
    names: tuple[str, ...]
    date_of_birth: Optional[str] = None  # ISO date
    nationality: Optional[str] = None  # ICAO code as declared (and read)
    sex: Optional[str] = None  # "M"/"F" from the document, when it was read
    approved_at: str = ""

    def applicant(self) -> Applicant:
        try:
            born: Optional[dt.date] = dt.date.fromisoformat(self.date_of_birth) if self.date_of_birth else None
        except ValueError:
            born = None
        return Applicant(self.names, born, self.nationality, self.sex)

    def to_dict(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "applicant_id": self.applicant_id,
            "names": list(self.names),
            "date_of_birth": self.date_of_birth,
            "nationality": self.nationality,
            "sex": self.sex,
            "approved_at": self.approved_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerProfile:
        return cls(
            application_id=str(data["application_id"]),
            applicant_id=str(data.get("applicant_id") or ""),
            names=tuple(str(n) for n in data.get("names") or ()),
            date_of_birth=data.get("date_of_birth") or None,
            nationality=data.get("nationality") or None,
            sex=data.get("sex") or None,
            approved_at=str(data.get("approved_at") or ""),
        )


def document_sex(checks: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """The sex printed in the document's machine-readable zone, when the identity check read a valid one."""
    identity = checks.get("identity") or {}
    zone = (identity.get("details") or {}).get("mrz") or {}
    if not isinstance(zone, Mapping) or zone.get("valid") is False:
        return None
    sex = str(zone.get("sex") or "").strip().upper()
    return sex if sex in ("M", "F") else None


def profile_of(
    application_id: str,
    applicant_id: str,
    declared: Mapping[str, Any],
    checks: Mapping[str, Mapping[str, Any]],
    approved_at: str,
) -> CustomerProfile:
    """The profile of an approved application: the declared name, birth date and nationality (the identity
    check made sure the document says the same) and the document's sex."""
    name = declared.get("full_name") or {}
    full = " ".join(p for p in (name.get("given_names"), name.get("surname")) if p)
    return CustomerProfile(
        application_id=application_id,
        applicant_id=applicant_id,
        names=(full,) if full else (),
        date_of_birth=str(declared.get("date_of_birth")) if declared.get("date_of_birth") else None,
        nationality=declared.get("nationality") or None,
        sex=document_sex(checks),
        approved_at=approved_at,
    )


def case_id(application_id: str, source: str, entry_id: str, entry_hash: str) -> str:
    """One case per customer and entry version: the same hit replayed is the same case."""
    digest = hashlib.sha256(json.dumps([application_id, source, entry_id, entry_hash]).encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class ScreeningCase:
    """A customer that a changed list entry may name, for a reviewer to clear or confirm."""

    case_id: str
    application_id: str
    applicant_id: str
    opened_at: str
    index_version: str
    customer: Mapping[str, Any]  # the profile screened (names, birth date, nationality, sex)
    candidate: Mapping[str, Any]  # the matched entry as screening reports it (list, entry, score, why)
    status: str = OPEN
    resolution: Optional[Mapping[str, Any]] = None  # decision, reason, reviewer, at
    #: Four eyes: the first reviewer's word (decision, reason, reviewer, at) while the case awaits a second.
    recommendation: Optional[Mapping[str, Any]] = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entry_key(self) -> tuple[str, str, str]:
        c = self.candidate
        return (str(c.get("list")), str(c.get("entry_id")), str(c.get("entry_hash")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "type": "customer.screening_hit",
            "application_id": self.application_id,
            "applicant_id": self.applicant_id,
            "opened_at": self.opened_at,
            "index_version": self.index_version,
            "customer": dict(self.customer),
            "candidate": dict(self.candidate),
            "status": self.status,
            "resolution": dict(self.resolution) if self.resolution else None,
            "recommendation": dict(self.recommendation) if self.recommendation else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScreeningCase:
        return cls(
            case_id=str(data["case_id"]),
            application_id=str(data["application_id"]),
            applicant_id=str(data.get("applicant_id") or ""),
            opened_at=str(data["opened_at"]),
            index_version=str(data.get("index_version") or ""),
            customer=dict(data.get("customer") or {}),
            candidate=dict(data.get("candidate") or {}),
            status=str(data.get("status") or OPEN),
            resolution=dict(data["resolution"]) if data.get("resolution") else None,
            recommendation=dict(data["recommendation"]) if data.get("recommendation") else None,
        )


def screen_customer(
    delta: ScreeningIndex, profile: CustomerProfile, policy: ScreeningPolicy, index_version: str, now: str
) -> list[ScreeningCase]:
    """The cases one customer's screening against a delta raises: one per candidate at the threshold."""
    if not profile.names:
        return []
    result = screen(delta, profile.applicant(), policy)
    if result.outcome is Outcome.PASS:
        return []
    return [
        ScreeningCase(
            case_id=case_id(profile.application_id, c["list"], c["entry_id"], c.get("entry_hash") or ""),
            application_id=profile.application_id,
            applicant_id=profile.applicant_id,
            opened_at=now,
            index_version=index_version,
            customer=profile.to_dict(),
            candidate={**c, "outcome": result.outcome.value},
        )
        for c in result.details.get("candidates") or ()
    ]


def delta_keys(entries: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    """The pointer's ``delta.entries`` ([list, entry id] pairs) as a set of keys; malformed pairs dropped."""
    keys: set[tuple[str, str]] = set()
    for pair in entries:
        items = list(pair)
        if len(items) == 2:
            keys.add((str(items[0]), str(items[1])))
    return keys
