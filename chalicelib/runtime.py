"""Adapters wired together once per container, created on first use (cold start stays small)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .repository import ApplicationRepository
from .service import ApplicationService

if TYPE_CHECKING:
    from .verification import VerificationService


@functools.lru_cache(maxsize=None)
def repository() -> ApplicationRepository:
    return ApplicationRepository()


@functools.lru_cache(maxsize=None)
def applications() -> ApplicationService:
    return ApplicationService(repository())


@functools.lru_cache(maxsize=None)
def verification() -> VerificationService:
    from . import settings
    from .verification import VerificationService

    return VerificationService(applications(), settings.policy)
