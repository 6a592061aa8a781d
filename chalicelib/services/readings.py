"""What OCR read, kept out of the application item (and so out of every later write of it and its indexes).

A page's OCR text is a few KB: every line with its confidence. Kept in the item,
it was rewritten with every transition and into every index projecting it (3.6 KB
items, 2.6-2.9 KB of it OCR). Now the check's details keep the machine-readable
zone as read (what the decision rests on) and a line count; the page's lines go
to the readings store (S3) only when a person will look at them: a check that
did not pass. A passing check keeps no page text (the document itself is kept,
and can be read again). The reviewer's view puts the lines back in.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Optional

from ..domain.checks import IDENTITY, CheckResult, Outcome
from ..domain.workflow.application import Application
from .ports import Readings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def keep_reading(
    readings: Readings, application_id: str, key: str, version: Optional[str], result: CheckResult
) -> CheckResult:
    """``result`` with its page lines moved to the readings store (a non-passing check) or dropped (a pass)."""
    ocr = result.details.get("ocr")
    if not isinstance(ocr, dict) or not isinstance(ocr.get("lines"), list):
        return result
    kept: dict[str, Any] = {"line_count": len(ocr["lines"])}
    if result.outcome is not Outcome.PASS:
        name = _UNSAFE.sub("_", f"{key.rsplit('/', 1)[-1]}-{version or 'latest'}")[:200]
        kept["reading"] = readings.keep(
            application_id, name, {"lines": ocr["lines"], "confidences": ocr.get("confidences", [])}
        )
    return dataclasses.replace(result, details={**result.details, "ocr": kept})


def with_reading(readings: Optional[Readings], app: Application) -> Application:
    """The application with its identity check's page lines put back from the store (for a reviewer)."""
    identity = app.checks.get(IDENTITY)
    details = identity.get("details") if isinstance(identity, dict) else None
    ocr = details.get("ocr") if isinstance(details, dict) else None
    if readings is None or not isinstance(ocr, dict) or not isinstance(ocr.get("reading"), str):
        return app
    assert isinstance(identity, dict) and isinstance(details, dict)  # as checked above
    found = readings.read(ocr["reading"])
    if found is None:  # purged with the document
        return app
    restored = {**identity, "details": {**details, "ocr": {**ocr, **found}}}
    return dataclasses.replace(app, checks={**app.checks, IDENTITY: restored})
