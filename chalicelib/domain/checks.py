"""Results of the data checks and how they consolidate into a decision."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

IDENTITY = "identity"
ADDRESS = "address"
SANCTIONS = "sanctions"
#: The live selfie against the document's photo (issue 17): it needs the applicant's own evidence
#: (consent and a liveness check), so it may come long after the others, or never.
FACE = "face"
REQUIRED_CHECKS = (IDENTITY, ADDRESS, SANCTIONS, FACE)
#: Checks that wait for something only the applicant can give: a decision the system checks already
#: settle (a FAIL) does not wait for them (see workflow.consolidation.record_check).
AWAITS_APPLICANT = frozenset({FACE})
# Checks whose details only a reviewer may see: a sanctions match names a list entry, a face check names
# other applications with the same face and holds biometric scores; the applicant must never learn them
# (their reasons are written to be shown).
REVIEWER_ONLY_DETAILS = frozenset({SANCTIONS, FACE})


class Outcome(str, enum.Enum):
    """Ordered by severity: a check is as bad as its worst reason."""

    PASS = "PASS"
    REVIEW = "REVIEW"
    FAIL = "FAIL"

    @property
    def severity(self) -> int:
        return {"PASS": 0, "REVIEW": 1, "FAIL": 2}[self.value]


@dataclass(frozen=True)
class Reason:
    """One machine-readable finding, e.g. ``Reason("MRZ_CHECK_DIGIT", ...)``."""

    code: str
    outcome: Outcome
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "outcome": self.outcome.value, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(code=data["code"], outcome=Outcome(data["outcome"]), message=data["message"])


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: its outcome is derived from its reasons."""

    check: str
    reasons: tuple[Reason, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return worst(r.outcome for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "outcome": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            check=data["check"],
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons", ())),
            details=dict(data.get("details") or {}),
        )


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    result = Outcome.PASS
    for outcome in outcomes:
        if outcome.severity > result.severity:
            result = outcome
    return result


def for_applicant(result: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded check as the applicant may see it: reviewer-only details withheld."""
    if result.get("check") in REVIEWER_ONLY_DETAILS:
        return {**result, "details": {}}
    return dict(result)
