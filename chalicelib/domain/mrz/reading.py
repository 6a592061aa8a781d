"""What a repair returns: the zone and every character it changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .zone import Mrz


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
