"""Request bodies. The application itself is the domain's declaration (domain/declaration.py)."""

from __future__ import annotations

import enum
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, StringConstraints

from ..domain.declaration import ApplicationRequest

__all__ = ["ApplicationRequest", "Decision", "DecisionRequest", "DocumentUploadRequest", "WithdrawRequest"]

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WithdrawRequest(_Strict):
    reason: Optional[Reason] = None


class DocumentUploadRequest(_Strict):
    content_type: Annotated[str, StringConstraints(pattern=r"^(image/jpeg|image/png|application/pdf)$")]


class Decision(str, enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"


class DecisionRequest(_Strict):
    decision: Decision
    reason: Reason
